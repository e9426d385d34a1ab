#include "testing/local_pki.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "testing/child_process.h"

namespace choreo::testing {
namespace {

absl::Status MakeCerts(const std::string& dir, const std::vector<std::string>& names) {
  std::vector<std::string> argv = {CHOREO_MAKE_CERTS, dir};
  argv.insert(argv.end(), names.begin(), names.end());
  absl::StatusOr<ChildProcess> script = ChildProcess::Start({.argv = argv});
  if (!script.ok()) return script.status();
  absl::StatusOr<int> exit_code = script->Wait(absl::Seconds(60));
  if (!exit_code.ok()) return exit_code.status();
  if (*exit_code != 0) {
    return absl::InternalError(absl::StrCat("make-certs.sh exited with ", *exit_code));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LocalPki> LocalPki::Create(const std::string& dir,
                                          const std::vector<std::string>& names) {
  if (absl::Status made = MakeCerts(dir, names); !made.ok()) return made;
  return LocalPki(dir);
}

absl::Status LocalPki::Add(const std::string& name) const {
  if (std::filesystem::exists(cert(name))) return absl::OkStatus();  // no script to run
  return MakeCerts(dir_, {name});
}

std::vector<std::string> LocalPki::TlsFlags(const std::string& name) const {
  return {"--tls-ca", ca(), "--tls-cert", cert(name), "--tls-key", key(name)};
}

}  // namespace choreo::testing
