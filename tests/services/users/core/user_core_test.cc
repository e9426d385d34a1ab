#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "contracts/topics/topics.h"
#include "services/users/core/user_decisions.h"
#include "services/users/core/user_rules.h"

namespace choreo::users {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(UsernameRules, AcceptsLowerCaseNamesAndNamesTheRuleOtherwise) {
  for (const std::string good : {"bob", "alice_1.b-c", "007", "a234567890123456789012345678901b"}) {
    EXPECT_TRUE(ValidateUsername(good).ok()) << good;
  }
  for (const char* bad : {"", "ab", "Bob", "bob smith", "_bob", "-bob", "bob@x", "bøb"}) {
    const absl::Status status = ValidateUsername(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(status.message().substr(0, 9), "username:") << bad;
  }
  EXPECT_FALSE(ValidateUsername(std::string(33, 'a')).ok());
}

TEST(PasswordRules, LengthDistinctCharactersAndNoUsername) {
  EXPECT_TRUE(ValidatePassword("correct horse battery", "bob").ok());
  EXPECT_TRUE(ValidatePassword("pässwörd-ünïcode", "bob").ok());
  EXPECT_EQ(ValidatePassword("short1!", "bob").message(), "password: at least 10 characters");
  EXPECT_EQ(ValidatePassword(std::string(129, 'x'), "bob").message(),
            "password: at most 128 bytes");
  EXPECT_EQ(ValidatePassword("my-BOB-is-great", "bob").message(),
            "password: must not contain the username");
  EXPECT_EQ(ValidatePassword("aaaabbbbaaaabbbb", "bob").message(),
            "password: at least 5 different characters");
}

TEST(ProfileRules, EmailDisplayNameAndWebhook) {
  v1::Profile profile = NewProfile("bob", "bob@example.com", "Bob", kNow);
  EXPECT_TRUE(ValidateProfile(profile).ok());
  EXPECT_TRUE(profile.notification_preferences().file_enabled());
  for (const char* bad : {"bob", "@example.com", "bob@", "bob@example", "b ob@example.com",
                          "bob@.com", "a@b@c.com"}) {
    profile.set_email(bad);
    EXPECT_EQ(ValidateProfile(profile).message().substr(0, 6), "email:") << bad;
  }
  profile.set_email("");
  EXPECT_TRUE(ValidateProfile(profile).ok()) << "email is optional";
  profile.set_display_name(std::string(65, 'x'));
  EXPECT_FALSE(ValidateProfile(profile).ok());
  profile.set_display_name("Bob\n");
  EXPECT_FALSE(ValidateProfile(profile).ok());
  profile.set_display_name("Bob");
  profile.mutable_notification_preferences()->set_webhook_enabled(true);
  EXPECT_EQ(ValidateProfile(profile).message(),
            "notification_preferences.webhook_url: required when webhook_enabled");
  profile.mutable_notification_preferences()->set_webhook_url("ftp://example.com/hook");
  EXPECT_FALSE(ValidateProfile(profile).ok());
  profile.mutable_notification_preferences()->set_webhook_url("https://example.com/hook");
  EXPECT_TRUE(ValidateProfile(profile).ok());
}

TEST(ProfileUpdate, MaskPicksFieldsAndWithoutOneOnlyTheFieldsSentChange) {
  const v1::Profile current = NewProfile("bob", "bob@example.com", "Bob", kNow);
  v1::Profile update;
  update.set_display_name("Robert");
  update.set_email("ignored@example.com");
  google::protobuf::FieldMask mask;
  mask.add_paths("display_name");
  absl::StatusOr<v1::Profile> next = ApplyProfileUpdate(current, update, mask, kNow + absl::Seconds(5));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->display_name(), "Robert");
  EXPECT_EQ(next->email(), "bob@example.com");
  EXPECT_EQ(next->username(), "bob");
  EXPECT_EQ(next->updated_at().seconds(), absl::ToUnixSeconds(kNow) + 5);

  mask.Clear();
  mask.add_paths("notification_preferences.webhook_url");
  mask.add_paths("notification_preferences.webhook_enabled");
  update.mutable_notification_preferences()->set_webhook_enabled(true);
  update.mutable_notification_preferences()->set_webhook_url("http://127.0.0.1:1/hook");
  next = ApplyProfileUpdate(current, update, mask, kNow);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE(next->notification_preferences().webhook_enabled());
  EXPECT_TRUE(next->notification_preferences().file_enabled()) << "not in the mask";

  // No mask (AIP-134): the fields the update populates, and nothing the client did not send.
  v1::Profile only_name;
  only_name.set_display_name("Rob");
  next = ApplyProfileUpdate(current, only_name, google::protobuf::FieldMask(), kNow);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->display_name(), "Rob");
  EXPECT_EQ(next->email(), "bob@example.com") << "not sent: kept";
  EXPECT_TRUE(next->notification_preferences().file_enabled()) << "not sent: kept";
  next = ApplyProfileUpdate(current, update, google::protobuf::FieldMask(), kNow);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->email(), "ignored@example.com");
  EXPECT_TRUE(next->notification_preferences().webhook_enabled());
  EXPECT_TRUE(next->notification_preferences().file_enabled()) << "false is not sent: kept";

  // "*": every writable field replaced, unsent ones cleared.
  mask.Clear();
  mask.add_paths("*");
  next = ApplyProfileUpdate(current, update, mask, kNow);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->display_name(), "Robert");
  EXPECT_FALSE(next->notification_preferences().file_enabled()) << "replaced as a whole";
}

TEST(ProfileUpdate, TheImpliedMaskNamesThePopulatedFields) {
  v1::Profile update;
  EXPECT_TRUE(ImpliedUpdateMask(update).empty());
  update.set_email("a@example.com");
  update.mutable_notification_preferences()->set_webhook_url("https://example.com/h");
  update.mutable_notification_preferences()->add_muted_types("ORDER_CREATED");
  EXPECT_EQ(ImpliedUpdateMask(update),
            (std::vector<std::string>{"email", "notification_preferences.webhook_url",
                                      "notification_preferences.muted_types"}));
}

TEST(ProfileUpdate, RefusesUnknownPathsUsernameChangesAndInvalidResults) {
  const v1::Profile current = NewProfile("bob", "", "Bob", kNow);
  v1::Profile update;
  google::protobuf::FieldMask mask;
  mask.add_paths("password_hash");
  EXPECT_EQ(ApplyProfileUpdate(current, update, mask, kNow).status().message(),
            "update_mask: \"password_hash\" is not a writable profile field");
  update.set_username("alice");
  EXPECT_EQ(ApplyProfileUpdate(current, update, {}, kNow).status().message(),
            "profile.username: cannot be changed");
  update.set_username("bob");
  update.set_email("not-an-email");
  EXPECT_EQ(ApplyProfileUpdate(current, update, {}, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AttemptLimit, IPv6ClientsCountByTheirSlash64) {
  EXPECT_EQ(AttemptBucket("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(AttemptBucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(AttemptBucket("2001:db8:1:2::1"), AttemptBucket("2001:db8:1:2:ffff::9"));
  EXPECT_NE(AttemptBucket("2001:db8:1:2::1"), AttemptBucket("2001:db8:1:3::1"));
  EXPECT_EQ(AttemptBucket("::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(AttemptBucket("inproc"), "inproc");
}

TEST(AttemptLimit, AllowsUpToTheLimitPerWindow) {
  const AttemptLimit limit{.max_attempts = 3, .window = absl::Minutes(1)};
  EXPECT_TRUE(AttemptAllowed(1, limit));
  EXPECT_TRUE(AttemptAllowed(3, limit));
  EXPECT_FALSE(AttemptAllowed(4, limit));
  EXPECT_FALSE(AttemptAllowed(0, limit));
}

TEST(UserDecisions, RegisterMakesARecordWithRolesAndOneUserRegistered) {
  absl::StatusOr<saga::Reaction<v1::UserRecord>> reaction =
      Register({.username = "bob", .email = "bob@example.com", .display_name = "Bob",
                .password_hash = "$argon2id$fake"},
               kNow);
  ASSERT_TRUE(reaction.ok()) << reaction.status();
  ASSERT_TRUE(reaction->state.has_value());
  EXPECT_EQ(reaction->state->password_hash(), "$argon2id$fake");
  ASSERT_EQ(reaction->state->roles_size(), 1);
  EXPECT_EQ(reaction->state->roles(0), "user");
  ASSERT_EQ(reaction->events.size(), 2u);
  EXPECT_EQ(reaction->events[0].topic, topics::kUsersRegistered);
  EXPECT_EQ(reaction->events[0].key, "bob");
  const auto& event = static_cast<const v1::UserRegistered&>(*reaction->events[0].event);
  EXPECT_EQ(event.profile().email(), "bob@example.com");
  EXPECT_TRUE(event.profile().notification_preferences().file_enabled());
  // Then the user's whole public profile, for the views (never the password hash).
  EXPECT_EQ(reaction->events[1].topic, topics::kUsersSnapshots);
  EXPECT_EQ(reaction->events[1].key, "bob");
  const auto& snapshot = static_cast<const v1::ProfileSnapshot&>(*reaction->events[1].event);
  EXPECT_EQ(snapshot.profile().SerializeAsString(), reaction->state->profile().SerializeAsString());
  EXPECT_EQ(snapshot.registered_at().seconds(), reaction->state->registered_at().seconds());
  EXPECT_EQ(snapshot.SerializeAsString().find("$argon2id$fake"), std::string::npos);

  EXPECT_FALSE(Register({.username = "Bob"}, kNow).ok());
  EXPECT_FALSE(Register({.username = "bob", .email = "nope"}, kNow).ok());
}

TEST(UserDecisions, UpdateProfileEmitsProfileUpdatedAndKeepsTheHash) {
  v1::UserRecord user = *Register({.username = "bob", .password_hash = "h"}, kNow)->state;
  v1::Profile update;
  update.set_display_name("Bobby");
  google::protobuf::FieldMask mask;
  mask.add_paths("display_name");
  absl::StatusOr<saga::Reaction<v1::UserRecord>> reaction = UpdateProfile(user, update, mask, kNow);
  ASSERT_TRUE(reaction.ok()) << reaction.status();
  EXPECT_EQ(reaction->state->password_hash(), "h");
  EXPECT_EQ(reaction->state->profile().display_name(), "Bobby");
  ASSERT_EQ(reaction->events.size(), 2u);
  EXPECT_EQ(static_cast<const v1::ProfileUpdated&>(*reaction->events[0].event).profile().display_name(),
            "Bobby");
  EXPECT_EQ(
      static_cast<const v1::ProfileSnapshot&>(*reaction->events[1].event).profile().display_name(),
      "Bobby");
  mask.set_paths(0, "roles");
  EXPECT_EQ(UpdateProfile(user, update, mask, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(UserDecisions, AnswersProfileRequestsFoundOrNot) {
  v1::ProfileRequested request;
  request.set_request_id("r1");
  request.set_username("bob");
  saga::Reaction<v1::UserRecord> missing = AnswerProfileRequest(v1::UserRecord(), request);
  EXPECT_FALSE(missing.state.has_value()) << "answering changes nothing";
  ASSERT_EQ(missing.events.size(), 1u);
  EXPECT_EQ(missing.events[0].topic, topics::kUsersProfileResponse);
  const auto& no = static_cast<const v1::ProfileResponse&>(*missing.events[0].event);
  EXPECT_FALSE(no.found());
  EXPECT_EQ(no.request_id(), "r1");

  const v1::UserRecord user = *Register({.username = "bob", .password_hash = "h"}, kNow)->state;
  saga::Reaction<v1::UserRecord> found = AnswerProfileRequest(user, request);
  const auto& yes = static_cast<const v1::ProfileResponse&>(*found.events[0].event);
  EXPECT_TRUE(yes.found());
  EXPECT_EQ(yes.profile().username(), "bob");
}

}  // namespace
}  // namespace choreo::users
