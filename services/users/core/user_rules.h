#pragma once

// The user service's pure rules: what a valid username, password and profile are, how a profile
// update applies, and when a login attempt is allowed. No I/O, no clock of their own.
//
// Every refusal is INVALID_ARGUMENT whose message starts with the field it is about
// ("password: at least 10 characters"), so clients can show it next to the field.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "choreo/users/v1/user.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace choreo::users {

// 3-32 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit. Lower case only,
// so that "Bob" and "bob" can never be two users.
absl::Status ValidateUsername(absl::string_view username);

// NIST SP 800-63B style: 10-128 bytes, any characters (spaces and Unicode welcome), not
// containing the username, and at least 5 distinct characters. No composition rules.
absl::Status ValidatePassword(absl::string_view password, absl::string_view username);

// email: empty or local@domain.tld, at most 254 characters, no spaces.
// display_name: at most 64 characters, no control characters.
// notification_preferences.webhook_url: empty or an http(s) URL of at most 2048 characters,
// required when webhook_enabled.
absl::Status ValidateProfile(const v1::Profile& profile);

// The profile of a newly registered user: the given email and display name, notifications to
// the file channel on.
v1::Profile NewProfile(absl::string_view username, absl::string_view email,
                       absl::string_view display_name, absl::Time now);

// The fields an update without a mask changes (AIP-134): those it populates, i.e. with a
// non-empty value. Such an update cannot clear a field or set one to false; a mask can.
std::vector<std::string> ImpliedUpdateMask(const v1::Profile& update);

// Applies the fields of `update` named by `mask` to `current`, per AIP-134: an empty mask is
// ImpliedUpdateMask(update), fields the client did not send are kept; "*" replaces every
// writable field. Writable paths: email, display_name, notification_preferences and its fields
// (notification_preferences.file_enabled, .webhook_enabled, .webhook_url, .muted_types).
// The username cannot change: a non-empty, different update.username is refused. The result is
// validated; updated_at becomes `now`.
absl::StatusOr<v1::Profile> ApplyProfileUpdate(const v1::Profile& current,
                                               const v1::Profile& update,
                                               const google::protobuf::FieldMask& mask,
                                               absl::Time now);

// A limit on attempts (logins, registrations) from one client address: at most `max_attempts`
// in each `window` (a fixed window that starts at the first attempt). Attempts are counted
// before any password is hashed, so the limit also bounds the hashing work one client can
// cause. It is per address, never per username: a limit per username would let anyone lock a
// user out.
struct AttemptLimit {
  int max_attempts = 20;
  absl::Duration window = absl::Minutes(1);
};
// Whose attempts `client_address` counts with: an IPv4 address alone; an IPv6 address with its
// whole /64 ("2001:db8:1:2::/64"; one client commonly holds a /64), or the IPv4 address it maps
// (::ffff:a.b.c.d); anything else as it is.
std::string AttemptBucket(absl::string_view client_address);
// Whether the `attempt`-th attempt (1-based) of the current window may proceed.
bool AttemptAllowed(int64_t attempt, const AttemptLimit& limit);

}  // namespace choreo::users
