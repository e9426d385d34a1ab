#pragma once

// FlagSet: a process's configuration as flags bound to the fields of its typed config struct.
//
// Every flag `--some-name` can also be set through the environment as `CHOREO_SOME_NAME`; the
// command line wins over the environment, both over the struct's defaults. Forms: `--name=value`,
// `--name value`, and for booleans `--name` / `--name=false`. `--help` prints Usage().
// Unknown flags, stray arguments and unparsable values are INVALID_ARGUMENT naming the flag.
//
// Not thread-safe; use during start-up. The bound fields must outlive the FlagSet.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace choreo::config {

class FlagSet {
 public:
  FlagSet(std::string program, std::string summary);

  FlagSet& Add(std::string name, std::string* field, std::string help);
  FlagSet& Add(std::string name, int* field, std::string help);
  FlagSet& Add(std::string name, int64_t* field, std::string help);
  FlagSet& Add(std::string name, bool* field, std::string help);
  FlagSet& Add(std::string name, absl::Duration* field, std::string help);  // "250ms", "30s"

  // Applies the environment (`environ`), then argv[1..].
  absl::Status Parse(int argc, const char* const* argv);
  bool help_requested() const { return help_requested_; }

  // "usage: program [flags]", the summary, and one line per flag with its environment variable
  // and default.
  std::string Usage() const;

  // "CHOREO_" + upper-cased name with '-' as '_'.
  static std::string EnvName(const std::string& name);

 private:
  using Field = std::variant<std::string*, int*, int64_t*, bool*, absl::Duration*>;
  struct Flag {
    std::string name;
    Field field;
    std::string help;
    std::string default_text;
  };
  absl::Status Set(const Flag& flag, const std::string& value, const std::string& source);
  const Flag* Find(const std::string& name) const;

  std::string program_;
  std::string summary_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
};

// For a main(): parses `flags`; on --help prints usage to stdout and exits 0; on a bad flag, or
// when `validate` (run after parsing) fails, prints the error and a usage hint to stderr and
// exits 2. Returns only when the configuration is valid.
void ParseOrExit(FlagSet& flags, int argc, const char* const* argv,
                 const std::function<absl::Status()>& validate = nullptr);

// For a main(): a process's typed configuration from argv. `Config` binds its fields with
// `void AddFlags(FlagSet&)` and checks them with `absl::Status Validate() const`; exits as
// ParseOrExit does. Returns only a valid configuration.
template <typename Config>
Config ParseConfigOrExit(std::string program, std::string summary, int argc,
                         const char* const* argv) {
  Config config;
  FlagSet flags(std::move(program), std::move(summary));
  config.AddFlags(flags);
  ParseOrExit(flags, argc, argv, [&config] { return config.Validate(); });
  return config;
}

}  // namespace choreo::config
