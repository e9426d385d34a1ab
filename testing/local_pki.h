#pragma once

// LocalPki: the certificates of a test's processes, made in `dir` by the project's own
// deploy/local/make-certs.sh (a CA, and one certificate per name whose common name is the name).
// What a process needs to take part in choreo's mutual TLS: TlsFlags(name).

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace choreo::testing {

class LocalPki {
 public:
  // Makes the CA and a certificate for each of `names` (and later Add()s) in `dir`.
  static absl::StatusOr<LocalPki> Create(const std::string& dir,
                                         const std::vector<std::string>& names);

  // A certificate for one more name (no-op when it exists).
  absl::Status Add(const std::string& name) const;

  // --tls-ca, --tls-cert and --tls-key of the process named `name`.
  std::vector<std::string> TlsFlags(const std::string& name) const;
  std::string ca() const { return dir_ + "/ca.pem"; }
  std::string cert(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string key(const std::string& name) const { return dir_ + "/" + name + ".key"; }

 private:
  explicit LocalPki(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace choreo::testing
