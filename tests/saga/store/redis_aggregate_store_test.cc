// RedisAggregateStore against a real redis-server: the Lua commit's three outcomes, marker
// retention, hash tags, and recovery when Redis goes away and comes back.

#include "saga/store/redis_aggregate_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "edges/redis/redis_connection.h"
#include "testing/redis_server.h"

namespace choreo::store {
namespace {

using ::testing::Optional;

class RedisAggregateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = testing::RedisServer::Start({.appendfsync = "everysec"});
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    store_ = std::make_unique<RedisAggregateStore>(Connection());
  }
  redis::RedisConnection::Options Connection() const {
    return {.address = {redis_->host(), redis_->port()},
            .connect_timeout = absl::Milliseconds(500),
            .command_timeout = absl::Seconds(1)};
  }

  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<RedisAggregateStore> store_;
  const AggregateRef account_{"billing.account", "alice"};
};

TEST_F(RedisAggregateStoreTest, CommitsOnceThenReportsHandledAndConflicts) {
  absl::StatusOr<AggregateSnapshot> fresh = store_->Load(account_, "e1");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->version, 0);
  EXPECT_EQ(fresh->state, "");
  EXPECT_EQ(fresh->handled_outcome, std::nullopt);

  auto first = store_->Commit(account_, "e1", 0, std::string("s1"), "out1", absl::Hours(1));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->outcome, CommitOutcome::kCommitted);
  EXPECT_EQ(first->version, 1);

  // The same event again: nothing changes, the first outcome comes back.
  auto again = store_->Commit(account_, "e1", 1, std::string("s-other"), "out-other", absl::Hours(1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, CommitOutcome::kAlreadyHandled);
  EXPECT_EQ(again->handled_outcome, "out1");
  auto loaded = store_->Load(account_, "e1");
  ASSERT_TRUE(loaded.ok());
  EXPECT_THAT(loaded->handled_outcome, Optional(std::string("out1")));
  EXPECT_EQ(loaded->state, "s1");
  EXPECT_EQ(loaded->version, 1);

  // Another event decided on a stale version: conflict, nothing written.
  auto stale = store_->Commit(account_, "e2", 0, std::string("s2"), "out2", absl::Hours(1));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->outcome, CommitOutcome::kVersionConflict);
  EXPECT_EQ(stale->version, 1);
  EXPECT_EQ(store_->Load(account_, "e2")->handled_outcome, std::nullopt);

  // An event that leaves the state alone still gets its marker, and the version stays.
  auto unchanged = store_->Commit(account_, "e3", 1, std::nullopt, "out3", absl::Hours(1));
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->outcome, CommitOutcome::kCommitted);
  EXPECT_EQ(unchanged->version, 1);
  EXPECT_EQ(store_->Load(account_, "e3")->state, "s1");
}

// A batch: one round trip each way, and every commit's outcome on its own (the same three
// outcomes as Commit, side by side; a failed one does not hold the others back).
TEST_F(RedisAggregateStoreTest, ManyAtOnceGiveEachItsOwnOutcome) {
  const AggregateRef bob{"billing.account", "bob"};
  const AggregateRef carol{"billing.account", "carol"};
  ASSERT_TRUE(store_->Commit(bob, "b1", 0, std::string("bob-1"), "out-b1", absl::Hours(1)).ok());
  ASSERT_TRUE(store_->Commit(carol, "c1", 0, std::string("carol-1"), "out-c1", absl::Hours(1)).ok());

  absl::StatusOr<std::vector<AggregateSnapshot>> loaded =
      store_->LoadMany({{account_, "a1"}, {bob, "b1"}, {carol, "c2"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 3u);
  EXPECT_EQ((*loaded)[0].version, 0);
  EXPECT_EQ((*loaded)[1].version, 1);
  EXPECT_THAT((*loaded)[1].handled_outcome, Optional(std::string("out-b1")));
  EXPECT_EQ((*loaded)[2].state, "carol-1");
  EXPECT_EQ((*loaded)[2].handled_outcome, std::nullopt);

  absl::StatusOr<std::vector<CommitResult>> committed = store_->CommitMany(
      {{account_, "a1", 0, std::string("alice-1"), "out-a1"},   // new: committed
       {bob, "b1", 1, std::string("bob-again"), "out-again"},   // handled before
       {carol, "c2", 0, std::string("carol-stale"), "out-c2"},  // stale version
       {bob, "b2", 1, std::nullopt, "out-b2"}},                  // marker only
      absl::Hours(1));
  ASSERT_TRUE(committed.ok()) << committed.status();
  ASSERT_EQ(committed->size(), 4u);
  EXPECT_EQ((*committed)[0].outcome, CommitOutcome::kCommitted);
  EXPECT_EQ((*committed)[0].version, 1);
  EXPECT_EQ((*committed)[1].outcome, CommitOutcome::kAlreadyHandled);
  EXPECT_EQ((*committed)[1].handled_outcome, "out-b1");
  EXPECT_EQ((*committed)[2].outcome, CommitOutcome::kVersionConflict);
  EXPECT_EQ((*committed)[2].version, 1);
  EXPECT_EQ((*committed)[3].outcome, CommitOutcome::kCommitted);
  EXPECT_EQ((*committed)[3].version, 1);  // no state change: the version stays

  absl::StatusOr<std::vector<AggregateSnapshot>> after =
      store_->LoadMany({{account_, "a1"}, {bob, "b2"}, {carol, "c2"}});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)[0].state, "alice-1");
  EXPECT_THAT((*after)[0].handled_outcome, Optional(std::string("out-a1")));
  EXPECT_EQ((*after)[1].state, "bob-1");
  EXPECT_THAT((*after)[1].handled_outcome, Optional(std::string("out-b2")));
  EXPECT_EQ((*after)[2].state, "carol-1");
  EXPECT_EQ((*after)[2].handled_outcome, std::nullopt);

  // Effect completions, many at once: each asked for and recorded on its own key.
  ASSERT_TRUE(store_->MarkEffectDone(bob, "b1", absl::Hours(1)).ok());
  absl::StatusOr<std::vector<bool>> done = store_->EffectsDone({{account_, "a1"}, {bob, "b1"}});
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, (std::vector<bool>{false, true}));
  ASSERT_TRUE(store_->MarkEffectsDone({{account_, "a1"}, {carol, "c2"}}, absl::Hours(1)).ok());
  done = store_->EffectsDone({{account_, "a1"}, {bob, "b2"}, {carol, "c2"}});
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, (std::vector<bool>{true, false, true}));
}

TEST_F(RedisAggregateStoreTest, MarkersExpireAfterTheRetentionAndKeysShareAHashTag) {
  ASSERT_TRUE(store_->Commit(account_, "e1", 0, std::string("s"), "o", absl::Seconds(90)).ok());
  redis::RedisConnection connection(Connection());
  const std::string marker = RedisAggregateStore::MarkerKey(account_, "e1");
  auto ttl = connection.Command({"PTTL", marker});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 80000);
  EXPECT_LE(ttl->integer, 90000);
  auto state_ttl = connection.Command({"PTTL", RedisAggregateStore::StateKey(account_)});
  EXPECT_EQ(state_ttl->integer, -1);  // state never expires
  EXPECT_EQ(RedisAggregateStore::StateKey(account_), "state:{billing.account:alice}");
  EXPECT_EQ(marker, "done:{billing.account:alice}:e1");
}

TEST_F(RedisAggregateStoreTest, RedisAwayIsUnavailableAndTheStoreRecoversWithItsScript) {
  ASSERT_TRUE(store_->Commit(account_, "e1", 0, std::string("s1"), "o1", absl::Hours(1)).ok());
  ASSERT_TRUE(redis_->Stop().ok());
  auto down = store_->Commit(account_, "e2", 1, std::string("s2"), "o2", absl::Hours(1));
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->Load(account_, "e2").status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(redis_->Restart().ok());  // a new server: its script cache is empty
  auto up = store_->Commit(account_, "e2", 1, std::string("s2"), "o2", absl::Hours(1));
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->outcome, CommitOutcome::kCommitted);
  EXPECT_EQ(up->version, 2);

  redis::RedisConnection admin(Connection());
  ASSERT_TRUE(admin.Command({"SCRIPT", "FLUSH"}).ok());  // NOSCRIPT on the next EVALSHA
  auto after_flush = store_->Commit(account_, "e3", 2, std::string("s3"), "o3", absl::Hours(1));
  ASSERT_TRUE(after_flush.ok()) << after_flush.status();
  EXPECT_EQ(after_flush->version, 3);
}

TEST(RedisAddressTest, ParsesHostAndPort) {
  auto address = redis::ParseRedisAddress("127.0.0.1:6380");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 6380);
  for (const char* bad : {"", "host", ":6379", "host:", "host:0", "host:70000", "host:x"}) {
    EXPECT_FALSE(redis::ParseRedisAddress(bad).ok()) << bad;
  }
}

// The check a round trip that fails as a whole makes of its replies: the first error names it.
TEST(RedisReplyTest, AnyErrorReplyIsUnavailableAndTheFirstIsNamed) {
  redis::RedisReply ok{.type = redis::RedisReply::Type::kStatus, .str = "OK"};
  redis::RedisReply refused{.type = redis::RedisReply::Type::kError, .str = "WRONGTYPE a"};
  redis::RedisReply denied{.type = redis::RedisReply::Type::kError, .str = "NOPERM b"};
  EXPECT_TRUE(redis::NoErrorReply({}, "redis").ok());
  EXPECT_TRUE(redis::NoErrorReply({ok, ok}, "redis").ok());
  const absl::Status status = redis::NoErrorReply({ok, refused, denied}, "redis ZREM");
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_EQ(status.message(), "redis ZREM: WRONGTYPE a");
}

}  // namespace
}  // namespace choreo::store
