#include "services/users/core/user_decisions.h"

#include "platform/proto_time/proto_time.h"
#include "contracts/topics/topics.h"

namespace choreo::users {
namespace {

// Every change of a user goes out whole too: the new record's public profile on
// users.snapshots (compacted, key username), in the same outbox as the change's event.
void AddSnapshot(saga::Reaction<v1::UserRecord>& reaction) {
  v1::ProfileSnapshot snapshot;
  snapshot.set_username(reaction.state->profile().username());
  *snapshot.mutable_profile() = reaction.state->profile();
  *snapshot.mutable_registered_at() = reaction.state->registered_at();
  std::string key = snapshot.username();
  reaction.events.push_back(
      saga::OutgoingEvent::Of(topics::kUsersSnapshots, std::move(key), std::move(snapshot)));
}

}  // namespace

absl::StatusOr<saga::Reaction<v1::UserRecord>> Register(const Registration& registration,
                                                        absl::Time now) {
  if (absl::Status valid = ValidateUsername(registration.username); !valid.ok()) return valid;
  v1::UserRecord user;
  *user.mutable_profile() =
      NewProfile(registration.username, registration.email, registration.display_name, now);
  if (absl::Status valid = ValidateProfile(user.profile()); !valid.ok()) return valid;
  user.set_password_hash(registration.password_hash);
  user.add_roles(kUserRole);
  *user.mutable_registered_at() = ToProtoTime(now);

  v1::UserRegistered event;
  event.set_username(registration.username);
  *event.mutable_profile() = user.profile();
  *event.mutable_registered_at() = user.registered_at();
  saga::Reaction<v1::UserRecord> reaction;
  reaction.state = std::move(user);
  reaction.events.push_back(saga::OutgoingEvent::Of(topics::kUsersRegistered,
                                                    registration.username, std::move(event)));
  AddSnapshot(reaction);
  return reaction;
}

absl::StatusOr<saga::Reaction<v1::UserRecord>> UpdateProfile(
    const v1::UserRecord& user, const v1::Profile& update,
    const google::protobuf::FieldMask& mask, absl::Time now) {
  absl::StatusOr<v1::Profile> profile = ApplyProfileUpdate(user.profile(), update, mask, now);
  if (!profile.ok()) return profile.status();
  v1::ProfileUpdated event;
  event.set_username(user.profile().username());
  *event.mutable_profile() = *profile;
  saga::Reaction<v1::UserRecord> reaction;
  reaction.state = user;
  *reaction.state->mutable_profile() = *std::move(profile);
  reaction.events.push_back(saga::OutgoingEvent::Of(topics::kUsersRegistered,
                                                    user.profile().username(), std::move(event)));
  AddSnapshot(reaction);
  return reaction;
}

saga::Reaction<v1::UserRecord> AnswerProfileRequest(const v1::UserRecord& user,
                                                    const v1::ProfileRequested& request) {
  v1::ProfileResponse response;
  response.set_request_id(request.request_id());
  response.set_username(request.username());
  response.set_found(user.has_profile());
  if (user.has_profile()) *response.mutable_profile() = user.profile();
  saga::Reaction<v1::UserRecord> reaction;
  reaction.events.push_back(saga::OutgoingEvent::Of(topics::kUsersProfileResponse,
                                                    request.username(), std::move(response)));
  return reaction;
}

}  // namespace choreo::users
