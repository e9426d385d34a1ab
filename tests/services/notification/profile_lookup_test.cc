// ProfileLookup against a real redis-server: a batch's recipients are read together, a profile
// the view holds is returned as stored, and only a user the view lacks is asked for.

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "choreo/notifications/v1/state.pb.h"
#include "contracts/topics/topics.h"
#include "gtest/gtest.h"
#include "saga/store/redis_aggregate_store.h"
#include "services/notification/notification_service.h"
#include "testing/redis_server.h"

namespace choreo::notification {
namespace {

// Acknowledges every record at once and keeps it.
class AcknowledgingSink final : public publish::RecordSink {
 public:
  absl::Status Send(const KafkaRecord& record, publish::SendCallback done) override {
    {
      absl::MutexLock lock(&mu_);
      sent_.push_back(record);
    }
    std::move(done)(absl::OkStatus());
    return absl::OkStatus();
  }
  std::vector<KafkaRecord> sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }

 private:
  absl::Mutex mu_;
  std::vector<KafkaRecord> sent_ ABSL_GUARDED_BY(mu_);
};

class ProfileLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis = testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    options_ = redis_->ConnectionOptions();
  }

  // Stores `username`'s view as the profile view's handlers would.
  void StoreProfile(const std::string& username, const std::string& email) {
    notifications::v1::ProfileView view;
    view.set_known(true);
    view.mutable_profile()->set_username(username);
    view.mutable_profile()->set_email(email);
    store::RedisAggregateStore store(options_);
    ASSERT_TRUE(store
                    .Commit({"notification.profile", username}, "e-" + username, 0,
                            view.SerializeAsString(), "", absl::Hours(1))
                    .ok());
  }

  std::unique_ptr<testing::RedisServer> redis_;
  redis::RedisConnection::Options options_;
};

TEST_F(ProfileLookupTest, ABatchReadsEveryStoredProfileAndAsksOnlyForTheMissingOne) {
  StoreProfile("ann", "ann@example.com");
  StoreProfile("cid", "cid@example.com");
  ProfileLookup lookup(
      {.redis = options_, .wait = absl::Milliseconds(100), .recheck = absl::Milliseconds(20)});
  AcknowledgingSink sink;
  publish::Publisher publisher(&sink, {.service = "notification"});
  const publish::Origin origin =
      publish::Origin::Command(ids::CorrelationId("saga-1"), /*traceparent=*/"");

  const std::vector<absl::StatusOr<users::v1::Profile>> profiles =
      lookup.GetMany({"ann", "bob", "cid", "ann"}, {&origin, &origin, &origin, &origin}, publisher);

  ASSERT_EQ(profiles.size(), 4u);
  ASSERT_TRUE(profiles[0].ok()) << profiles[0].status();
  EXPECT_EQ(profiles[0]->email(), "ann@example.com");
  EXPECT_EQ(profiles[1].status().code(), absl::StatusCode::kUnavailable) << profiles[1].status();
  ASSERT_TRUE(profiles[2].ok()) << profiles[2].status();
  EXPECT_EQ(profiles[2]->email(), "cid@example.com");
  ASSERT_TRUE(profiles[3].ok()) << profiles[3].status();
  EXPECT_EQ(profiles[3]->email(), "ann@example.com");
  // Only bob was asked for, once, in the batch's saga.
  const std::vector<KafkaRecord> sent = sink.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, topics::kUsersProfile);
  EXPECT_EQ(sent[0].key, "bob");
  // Get, one at a time, answers the same.
  absl::StatusOr<users::v1::Profile> one = lookup.Get("cid", origin, publisher);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->email(), "cid@example.com");
}

TEST_F(ProfileLookupTest, AStoredViewThatIsNotAProfileFailsAloneAndRedisDownFailsAll) {
  StoreProfile("ann", "ann@example.com");
  store::RedisAggregateStore store(options_);
  ASSERT_TRUE(store
                  .Commit({"notification.profile", "bad"}, "e-bad", 0, std::string("\xff\xff"), "",
                          absl::Hours(1))
                  .ok());
  ProfileLookup lookup({.redis = options_, .wait = absl::Milliseconds(50)});
  AcknowledgingSink sink;
  publish::Publisher publisher(&sink, {.service = "notification"});
  const publish::Origin origin = publish::Origin::Command(ids::CorrelationId("saga-2"), "");
  std::vector<absl::StatusOr<users::v1::Profile>> profiles =
      lookup.GetMany({"bad", "ann"}, {&origin, &origin}, publisher);
  ASSERT_EQ(profiles.size(), 2u);
  EXPECT_EQ(profiles[0].status().code(), absl::StatusCode::kDataLoss) << profiles[0].status();
  EXPECT_TRUE(profiles[1].ok()) << profiles[1].status();
  EXPECT_TRUE(sink.sent().empty());

  redis_.reset();  // Redis gone: every result is the store's failure, nothing is asked
  profiles = lookup.GetMany({"ann", "bob"}, {&origin, &origin}, publisher);
  ASSERT_EQ(profiles.size(), 2u);
  EXPECT_EQ(profiles[0].status().code(), absl::StatusCode::kUnavailable) << profiles[0].status();
  EXPECT_EQ(profiles[1].status().code(), absl::StatusCode::kUnavailable) << profiles[1].status();
  EXPECT_TRUE(sink.sent().empty());
}

}  // namespace
}  // namespace choreo::notification
