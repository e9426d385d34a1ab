#include "services/users/core/user_rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "platform/proto_time/proto_time.h"

namespace choreo::users {
namespace {

bool IsUsernameChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '.' || c == '-';
}

bool HasControlChar(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

absl::Status ValidateEmail(absl::string_view email) {
  if (email.empty()) return absl::OkStatus();
  const std::vector<absl::string_view> parts = absl::StrSplit(email, '@');
  if (email.size() > 254 || parts.size() != 2 || parts[0].empty() || parts[1].size() < 3 ||
      !absl::StrContains(parts[1], '.') || absl::StartsWith(parts[1], ".") ||
      absl::EndsWith(parts[1], ".") || absl::StrContains(email, ' ') || HasControlChar(email)) {
    return absl::InvalidArgumentError("email: not an address like name@example.com");
  }
  return absl::OkStatus();
}

absl::Status ValidatePreferences(const v1::NotificationPreferences& preferences) {
  const std::string& url = preferences.webhook_url();
  if (!url.empty() && (url.size() > 2048 || HasControlChar(url) || absl::StrContains(url, ' ') ||
                       !(absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://")))) {
    return absl::InvalidArgumentError(
        "notification_preferences.webhook_url: must be an http:// or https:// URL");
  }
  if (preferences.webhook_enabled() && url.empty()) {
    return absl::InvalidArgumentError(
        "notification_preferences.webhook_url: required when webhook_enabled");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateUsername(absl::string_view username) {
  if (username.size() < 3 || username.size() > 32) {
    return absl::InvalidArgumentError("username: 3-32 characters");
  }
  if (!absl::ascii_islower(username[0]) && !absl::ascii_isdigit(username[0])) {
    return absl::InvalidArgumentError("username: must start with a-z or 0-9");
  }
  for (char c : username) {
    if (!IsUsernameChar(c)) {
      return absl::InvalidArgumentError("username: only a-z, 0-9, '.', '_' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePassword(absl::string_view password, absl::string_view username) {
  if (password.size() < 10) return absl::InvalidArgumentError("password: at least 10 characters");
  if (password.size() > 128) return absl::InvalidArgumentError("password: at most 128 bytes");
  if (!username.empty() &&
      absl::StrContains(absl::AsciiStrToLower(password), absl::AsciiStrToLower(username))) {
    return absl::InvalidArgumentError("password: must not contain the username");
  }
  if (std::set<char>(password.begin(), password.end()).size() < 5) {
    return absl::InvalidArgumentError("password: at least 5 different characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateProfile(const v1::Profile& profile) {
  if (absl::Status email = ValidateEmail(profile.email()); !email.ok()) return email;
  if (profile.display_name().size() > 64 || HasControlChar(profile.display_name())) {
    return absl::InvalidArgumentError(
        "display_name: at most 64 characters, no control characters");
  }
  return ValidatePreferences(profile.notification_preferences());
}

v1::Profile NewProfile(absl::string_view username, absl::string_view email,
                       absl::string_view display_name, absl::Time now) {
  v1::Profile profile;
  profile.set_username(std::string(username));
  profile.set_email(std::string(email));
  profile.set_display_name(std::string(display_name));
  profile.mutable_notification_preferences()->set_file_enabled(true);
  *profile.mutable_updated_at() = ToProtoTime(now);
  return profile;
}

std::vector<std::string> ImpliedUpdateMask(const v1::Profile& update) {
  std::vector<std::string> paths;
  if (!update.email().empty()) paths.push_back("email");
  if (!update.display_name().empty()) paths.push_back("display_name");
  const v1::NotificationPreferences& preferences = update.notification_preferences();
  if (preferences.file_enabled()) paths.push_back("notification_preferences.file_enabled");
  if (preferences.webhook_enabled()) paths.push_back("notification_preferences.webhook_enabled");
  if (!preferences.webhook_url().empty()) paths.push_back("notification_preferences.webhook_url");
  if (!preferences.muted_types().empty()) paths.push_back("notification_preferences.muted_types");
  return paths;
}

absl::StatusOr<v1::Profile> ApplyProfileUpdate(const v1::Profile& current,
                                               const v1::Profile& update,
                                               const google::protobuf::FieldMask& mask,
                                               absl::Time now) {
  if (!update.username().empty() && update.username() != current.username()) {
    return absl::InvalidArgumentError("profile.username: cannot be changed");
  }
  v1::Profile next = current;
  const v1::NotificationPreferences& from = update.notification_preferences();
  v1::NotificationPreferences* to = next.mutable_notification_preferences();
  std::vector<std::string> paths(mask.paths().begin(), mask.paths().end());
  if (paths.empty()) paths = ImpliedUpdateMask(update);
  if (paths == std::vector<std::string>{"*"})
    paths = {"email", "display_name", "notification_preferences"};
  for (const std::string& path : paths) {
    if (path == "email") {
      next.set_email(update.email());
    } else if (path == "display_name") {
      next.set_display_name(update.display_name());
    } else if (path == "notification_preferences") {
      *to = from;
    } else if (path == "notification_preferences.file_enabled") {
      to->set_file_enabled(from.file_enabled());
    } else if (path == "notification_preferences.webhook_enabled") {
      to->set_webhook_enabled(from.webhook_enabled());
    } else if (path == "notification_preferences.webhook_url") {
      to->set_webhook_url(from.webhook_url());
    } else if (path == "notification_preferences.muted_types") {
      *to->mutable_muted_types() = from.muted_types();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: \"", path, "\" is not a writable profile field"));
    }
  }
  if (absl::Status valid = ValidateProfile(next); !valid.ok()) return valid;
  *next.mutable_updated_at() = ToProtoTime(now);
  return next;
}

std::string AttemptBucket(absl::string_view client_address) {
  const std::string text(client_address);
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return text;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    char v4[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, &v6.s6_addr[12], v4, sizeof v4) != nullptr ? v4 : text;
  }
  std::fill(v6.s6_addr + 8, v6.s6_addr + 16, 0);
  char prefix[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, &v6, prefix, sizeof prefix) == nullptr) return text;
  return absl::StrCat(prefix, "/64");
}

bool AttemptAllowed(int64_t attempt, const AttemptLimit& limit) {
  return attempt >= 1 && attempt <= limit.max_attempts;
}

}  // namespace choreo::users
