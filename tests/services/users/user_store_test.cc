// The user service's store and outbox against a real redis-server and a Kafka-protocol broker:
// a committed change is published even when the request that made it died before publishing,
// with the same bytes; a taken username and a lost race are told apart; login attempts count
// per username within a window.

#include "absl/time/clock.h"
#include "choreo/users/v1/events.pb.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "testing/redis_server.h"
#include "testing/topic_reader.h"
#include "contracts/topics/topics.h"
#include "services/users/user_store.h"

namespace choreo::users {
namespace {

class UserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    auto kafka = kafka::EmbeddedKafkaCluster::Start();
    ASSERT_TRUE(kafka.ok()) << kafka.status();
    kafka_ = *std::move(kafka);
    ASSERT_TRUE(kafka_->CreateMissionTopics(1).ok());
    auto producer = kafka::KafkaProducer::Create(kafka::ProducerDefaults(kafka_->bootstrap_servers()));
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
    sink_ = std::make_unique<publish::KafkaSink>(producer_.get());
    publisher_ = std::make_unique<publish::Publisher>(sink_.get(),
                                                      publish::Publisher::Options{.service = "users"});
    store_ = std::make_unique<UserStore>(redis_->ConnectionOptions());
  }

  // A UserRegistered record for `username`, as the service would encode it.
  KafkaRecord Registered(const std::string& username, const std::string& event_id) {
    v1::UserRegistered event;
    event.set_username(username);
    auto* meta = event.mutable_meta();
    meta->set_event_id(event_id);
    meta->set_schema_version(1);
    meta->set_correlation_id("corr-" + username);
    meta->set_producer("users");
    meta->mutable_occurred_at()->set_seconds(1);
    absl::StatusOr<KafkaRecord> record =
        codec::EventCodec().Encode(event, topics::kUsersRegistered, username);
    EXPECT_TRUE(record.ok()) << record.status();
    return *record;
  }

  std::vector<KafkaRecord> Published() {
    absl::StatusOr<std::vector<KafkaRecord>> records = testing::ReadTopicToEnd(
        kafka_->bootstrap_servers(), std::string(topics::kUsersRegistered));
    EXPECT_TRUE(records.ok()) << records.status();
    return records.value_or(std::vector<KafkaRecord>{});
  }

  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<kafka::EmbeddedKafkaCluster> kafka_;
  std::unique_ptr<kafka::KafkaProducer> producer_;
  std::unique_ptr<publish::KafkaSink> sink_;
  std::unique_ptr<publish::Publisher> publisher_;
  std::unique_ptr<UserStore> store_;
};

TEST_F(UserStoreTest, ACommittedChangeIsRelayedWhenItsRequestDiedBeforePublishing) {
  v1::UserRecord record;
  record.mutable_profile()->set_username("bob");
  const KafkaRecord event = Registered("bob", "e1");
  const absl::Time now = absl::Now();
  ASSERT_TRUE(store_->Commit("bob", 0, record, "e1", {event}, now).ok());
  // The request "crashed" here: nothing was published.
  Outbox outbox(store_.get(), publisher_.get(), {.grace = absl::Seconds(5)});
  absl::StatusOr<int> early = outbox.RelayOnce(now + absl::Seconds(1));
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(*early, 0) << "a young change is left to its request";
  EXPECT_TRUE(Published().empty());

  absl::StatusOr<int> relayed = outbox.RelayOnce(now + absl::Seconds(6));
  ASSERT_TRUE(relayed.ok()) << relayed.status();
  EXPECT_EQ(*relayed, 1);
  std::vector<KafkaRecord> published = Published();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].value, event.value) << "the stored bytes, same event id";
  EXPECT_EQ(published[0].key, "bob");
  // Published once: the index entry is gone.
  EXPECT_EQ(*outbox.RelayOnce(now + absl::Seconds(60)), 0);
  EXPECT_EQ(Published().size(), 1u);
}

// Several user service instances relay one outbox: one at a time, under its lease, so each
// change left behind is published once, not once per instance. One that gives the lease up
// (its pass failed) lets another relay at once.
TEST_F(UserStoreTest, SeveralInstancesRelayEachChangeOnce) {
  const redis::RedisConnection::Options redis = redis_->ConnectionOptions();
  std::vector<std::unique_ptr<UserStore>> stores;
  std::vector<std::unique_ptr<Outbox>> relays;
  for (int i = 0; i < 3; ++i) {
    stores.push_back(std::make_unique<UserStore>(redis));
    relays.push_back(std::make_unique<Outbox>(stores.back().get(), publisher_.get(),
                                              Outbox::Options{.grace = absl::Seconds(5)}));
  }
  const absl::Time now = absl::Now();
  for (int u = 0; u < 20; ++u) {  // committed, never published: their requests died
    const std::string user = absl::StrCat("user", u);
    v1::UserRecord record;
    record.mutable_profile()->set_username(user);
    ASSERT_TRUE(stores[u % 3]->Commit(user, 0, record, "e1", {Registered(user, "e1")}, now).ok());
  }
  int relayed = 0;
  for (const auto& relay : relays) {  // each instance's pass, as their timers fire
    absl::StatusOr<int> one = relay->RelayOnce(now + absl::Seconds(6));
    ASSERT_TRUE(one.ok()) << one.status();
    relayed += *one;
  }
  EXPECT_EQ(relayed, 20);
  EXPECT_EQ(Published().size(), 20u) << "each change once";

  v1::UserRecord late;
  late.mutable_profile()->set_username("late");
  ASSERT_TRUE(stores[0]->Commit("late", 0, late, "e1", {Registered("late", "e1")}, now).ok());
  // The first pass took the lease: the others wait while it holds it...
  EXPECT_EQ(*relays[1]->RelayOnce(now + absl::Seconds(6)), 0);
  // ...and relay at once when it gives it up.
  ASSERT_TRUE(stores[0]->ReleaseRelay().ok() && stores[1]->ReleaseRelay().ok() &&
              stores[2]->ReleaseRelay().ok());
  EXPECT_EQ(*relays[1]->RelayOnce(now + absl::Seconds(6)), 1);
  EXPECT_EQ(Published().size(), 21u);
}

TEST_F(UserStoreTest, PublishMarksTheChangeAndAnEntryWithoutACommitIsDropped) {
  v1::UserRecord record;
  record.mutable_profile()->set_username("ann");
  const KafkaRecord event = Registered("ann", "e1");
  const absl::Time now = absl::Now();
  ASSERT_TRUE(store_->Commit("ann", 0, record, "e1", {event}, now).ok());
  Outbox outbox(store_.get(), publisher_.get(), {});
  ASSERT_TRUE(outbox.Publish({"ann", "e1"}, {event}).ok());
  EXPECT_TRUE(store_->PendingSince(now + absl::Hours(1), 10)->empty());

  // A second registration of "ann" loses: ALREADY_EXISTS, and its index entry is withdrawn.
  EXPECT_EQ(store_->Commit("ann", 0, record, "e2", {Registered("ann", "e2")}, now).code(),
            absl::StatusCode::kAlreadyExists);
  // An update that raced another one: ABORTED (reload and retry).
  EXPECT_EQ(store_->Commit("ann", 7, record, "e3", {Registered("ann", "e3")}, now).code(),
            absl::StatusCode::kAborted);
  EXPECT_TRUE(store_->PendingSince(now + absl::Hours(1), 10)->empty());
  EXPECT_EQ(Published().size(), 1u);
}

TEST_F(UserStoreTest, AttemptsCountPerClientAndKindWithinTheWindow) {
  const absl::Duration minute = absl::Minutes(1);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(*store_->CountAttempt("login", "10.0.0.1", minute), i);
  EXPECT_EQ(*store_->CountAttempt("login", "10.0.0.2", minute), 1) << "per client";
  EXPECT_EQ(*store_->CountAttempt("register", "10.0.0.1", minute), 1) << "per kind";
  // A short window ends by itself (Redis expiry); wait for it on a condition, not a sleep.
  EXPECT_EQ(*store_->CountAttempt("login", "10.0.0.3", absl::Milliseconds(50)), 1);
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  int64_t attempt = 2;
  while (absl::Now() < give_up) {
    attempt = *store_->CountAttempt("login", "10.0.0.3", absl::Milliseconds(50));
    if (attempt == 1) break;
  }
  EXPECT_EQ(attempt, 1) << "a new window starts counting again";
}

}  // namespace
}  // namespace choreo::users
