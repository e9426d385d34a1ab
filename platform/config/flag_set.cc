#include "platform/config/flag_set.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace choreo::config {
namespace {

std::string DefaultText(const auto& field) {
  using T = std::decay_t<decltype(*field)>;
  if constexpr (std::is_same_v<T, std::string>) {
    return field->empty() ? "\"\"" : *field;
  } else if constexpr (std::is_same_v<T, bool>) {
    return *field ? "true" : "false";
  } else if constexpr (std::is_same_v<T, absl::Duration>) {
    return absl::FormatDuration(*field);
  } else {
    return absl::StrCat(*field);
  }
}

}  // namespace

FlagSet::FlagSet(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

#define CHOREO_FLAGSET_ADD(Type)                                                    \
  FlagSet& FlagSet::Add(std::string name, Type* field, std::string help) {          \
    flags_.push_back({std::move(name), field, std::move(help), DefaultText(field)}); \
    return *this;                                                                   \
  }
CHOREO_FLAGSET_ADD(std::string)
CHOREO_FLAGSET_ADD(int)
CHOREO_FLAGSET_ADD(int64_t)
CHOREO_FLAGSET_ADD(bool)
CHOREO_FLAGSET_ADD(absl::Duration)
#undef CHOREO_FLAGSET_ADD

std::string FlagSet::EnvName(const std::string& name) {
  return "CHOREO_" + absl::AsciiStrToUpper(absl::StrReplaceAll(name, {{"-", "_"}}));
}

const FlagSet::Flag* FlagSet::Find(const std::string& name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

absl::Status FlagSet::Set(const Flag& flag, const std::string& value, const std::string& source) {
  auto bad = [&](absl::string_view want) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": '", value, "' is not ", want));
  };
  return std::visit(
      [&](auto* field) -> absl::Status {
        using T = std::decay_t<decltype(*field)>;
        if constexpr (std::is_same_v<T, std::string>) {
          *field = value;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (value == "true" || value == "1") {
            *field = true;
          } else if (value == "false" || value == "0") {
            *field = false;
          } else {
            return bad("true or false");
          }
        } else if constexpr (std::is_same_v<T, absl::Duration>) {
          if (!absl::ParseDuration(value, field)) return bad("a duration such as 250ms or 30s");
        } else {
          if (!absl::SimpleAtoi(value, field)) return bad("an integer");
        }
        return absl::OkStatus();
      },
      flag.field);
}

absl::Status FlagSet::Parse(int argc, const char* const* argv) {
  for (const Flag& flag : flags_) {
    const std::string env = EnvName(flag.name);
    if (const char* value = std::getenv(env.c_str()); value != nullptr) {
      if (absl::Status set = Set(flag, value, env); !set.ok()) return set;
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const Flag* flag = Find(name);
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    if (!value) {
      if (std::holds_alternative<bool*>(flag->field)) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      }
    }
    if (absl::Status set = Set(*flag, *value, "--" + name); !set.ok()) return set;
  }
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  std::string out = absl::StrCat("usage: ", program_, " [flags]\n\n", summary_, "\n\nflags:\n");
  for (const Flag& flag : flags_) {
    absl::StrAppendFormat(&out, "  --%s\n      %s\n      env %s, default %s\n", flag.name,
                          flag.help, EnvName(flag.name), flag.default_text);
  }
  absl::StrAppend(&out, "  --help\n      print this help\n");
  return out;
}

void ParseOrExit(FlagSet& flags, int argc, const char* const* argv,
                 const std::function<absl::Status()>& validate) {
  absl::Status status = flags.Parse(argc, argv);
  if (status.ok() && flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    std::exit(0);
  }
  if (status.ok() && validate) status = validate();
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n(see --help)\n", argv[0], std::string(status.message()).c_str());
    std::exit(2);
  }
}

}  // namespace choreo::config
