#pragma once

// The user service's pure decisions on one user (the aggregate users.user:<username>): what a
// registration, a profile change and a profile request produce. No I/O, no clock of their own;
// the password is hashed by the caller (the hash is just data here).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "choreo/users/v1/events.pb.h"
#include "choreo/users/v1/state.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "saga/reaction/reaction.h"
#include "services/users/core/user_rules.h"

namespace choreo::users {

inline constexpr char kUserRole[] = "user";

struct Registration {
  std::string username;
  std::string email;
  std::string display_name;
  std::string password_hash;
};

// A new user's record and its UserRegistered (on users.registered, key username), then its
// ProfileSnapshot (users.snapshots, key username). The fields
// must already be valid (ValidateUsername, ValidatePassword before hashing, and the profile
// rules, which this checks again).
absl::StatusOr<saga::Reaction<v1::UserRecord>> Register(const Registration& registration,
                                                        absl::Time now);

// The profile change and its ProfileUpdated (users.registered, key username), then its
// ProfileSnapshot (users.snapshots), or the rule the
// update breaks. An update that changes nothing still emits (clients asked for it).
absl::StatusOr<saga::Reaction<v1::UserRecord>> UpdateProfile(
    const v1::UserRecord& user, const v1::Profile& update,
    const google::protobuf::FieldMask& mask, absl::Time now);

// The answer to a ProfileRequested (users.profile.response, key username): found with the
// profile when the user exists (a registered user has a profile), not found otherwise.
saga::Reaction<v1::UserRecord> AnswerProfileRequest(const v1::UserRecord& user,
                                                    const v1::ProfileRequested& request);

}  // namespace choreo::users
