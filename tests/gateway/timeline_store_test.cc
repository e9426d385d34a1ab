// The timeline's Redis store against a real redis-server: what a batch writes (one write per
// key, expiries and orders' keys left out when written lately), reading a saga, an order's saga
// and a user's newest sagas back, the per-user cap, retention and idempotence.

#include "gateway/timeline/timeline_store.h"

#include "gtest/gtest.h"
#include "platform/proto_time/proto_time.h"
#include "edges/redis/redis_connection.h"
#include "testing/redis_server.h"

namespace choreo::gateway::timeline {
namespace {

v1::IndexedHop Hop(const std::string& correlation_id, int64_t offset, int64_t at_ms,
                   const std::string& order_id = "", const std::string& user = "") {
  v1::IndexedHop hop;
  hop.set_correlation_id(correlation_id);
  hop.set_order_id(order_id);
  hop.set_username(user);
  hop.mutable_hop()->set_topic("orders.created");
  hop.mutable_hop()->set_partition(0);
  hop.mutable_hop()->set_offset(offset);
  *hop.mutable_hop()->mutable_occurred_at() = ToProtoTime(absl::FromUnixMillis(at_ms));
  return hop;
}

class TimelineStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis = testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    pool_ = std::make_unique<redis::RedisPool>(redis_->ConnectionOptions(), 2);
  }

  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<redis::RedisPool> pool_;
};

TEST_F(TimelineStoreTest, ABatchWritesEachKeyOnceAndReadsBack) {
  TimelineStore store(*pool_, {.retention = absl::Hours(1), .max_sagas_per_user = 2});
  std::vector<v1::IndexedHop> saga;
  for (int i = 0; i < 7; ++i) saga.push_back(Hop("c1", i, 1000 + i, i > 0 ? "ord-1" : "", "ann"));
  // Seven hops of one saga: one HSET and one EXPIRE, one SET, ZADD + trim + EXPIRE.
  EXPECT_EQ(store.AddCommands(saga).size(), 6u);
  ASSERT_TRUE(store.Add(saga).ok());
  ASSERT_TRUE(store.Add(saga).ok()) << "indexing twice is harmless";
  absl::StatusOr<std::vector<v1::IndexedHop>> hops = store.Hops("c1");
  ASSERT_TRUE(hops.ok());
  EXPECT_EQ(hops->size(), 7u);
  for (const v1::IndexedHop& hop : *hops) EXPECT_EQ(hop.correlation_id(), "c1");
  EXPECT_EQ(*store.SagaOfOrder("ord-1"), "c1");
  EXPECT_EQ(*store.SagaOfOrder("ord-unknown"), "");
  EXPECT_TRUE(store.Hops("nope")->empty());

  // Newest first by each saga's earliest event, whatever order hops arrive in; at most 2 kept.
  ASSERT_TRUE(store.Add({Hop("c3", 0, 3000, "", "ann")}).ok());
  ASSERT_TRUE(store.Add({Hop("c2", 1, 2500, "", "ann"), Hop("c2", 0, 2000, "", "ann")}).ok());
  EXPECT_EQ(*store.SagasOfUser("ann", 0, 10), std::vector<std::string>({"c3", "c2"}));
  EXPECT_EQ(*store.SagasOfUser("ann", 1, 10), std::vector<std::string>({"c2"}));
  EXPECT_TRUE(store.SagasOfUser("bob", 0, 10)->empty());

  // Every key expires after the retention.
  redis::RedisConnection connection(redis_->ConnectionOptions());
  for (const char* key : {"tl:hops:{c1}", "tl:order:{ord-1}", "tl:user:{ann}"}) {
    absl::StatusOr<redis::RedisReply> ttl = connection.Command({"TTL", key});
    ASSERT_TRUE(ttl.ok());
    EXPECT_GT(ttl->integer, 3500) << key;
    EXPECT_LE(ttl->integer, 3600) << key;
  }
}

TEST_F(TimelineStoreTest, ASagasLaterBatchesWriteTheirHopsAndLittleElse) {
  TimelineStore store(*pool_, {.retention = absl::Hours(1), .max_sagas_per_user = 2});
  ASSERT_TRUE(store.Add({Hop("c1", 0, 1000, "ord-1", "ann")}).ok());
  // The saga's next batch: its hops alone, the expiries and the order's key written a moment ago.
  std::vector<v1::IndexedHop> later = {Hop("c1", 1, 1001, "ord-1"), Hop("c1", 2, 1002, "ord-1")};
  for (v1::IndexedHop& hop : later) hop.mutable_hop()->set_causation_id("e0");
  const std::vector<std::vector<std::string>> commands = store.AddCommands(later);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0][0], "HSET");
  ASSERT_TRUE(store.Add(later).ok());
  EXPECT_EQ(store.Hops("c1")->size(), 3u);

  // Another saga naming the order (a cancellation) moves the order's key; the user's next saga
  // is listed without a trim.
  EXPECT_EQ(store.AddCommands({Hop("c2", 3, 1003, "ord-1")}).size(), 3u);  // HSET, EXPIRE, SET
  ASSERT_TRUE(store.Add({Hop("c2", 3, 1003, "ord-1")}).ok());
  EXPECT_EQ(*store.SagaOfOrder("ord-1"), "c2");
  ASSERT_TRUE(store.Add({Hop("c3", 4, 1004, "", "ann"), Hop("c4", 5, 1005, "", "ann")}).ok());

  // Reads show the newest max_sagas_per_user, though the set holds one more until its trim.
  redis::RedisConnection connection(redis_->ConnectionOptions());
  EXPECT_EQ(connection.Command({"ZCARD", "tl:user:{ann}"})->integer, 3);
  EXPECT_EQ(*store.SagasOfUser("ann", 0, 10), std::vector<std::string>({"c4", "c3"}));
  EXPECT_EQ(*store.SagasOfUser("ann", 1, 10), std::vector<std::string>({"c3"}));
  EXPECT_TRUE(store.SagasOfUser("ann", 2, 10)->empty());
  for (const char* key : {"tl:hops:{c1}", "tl:order:{ord-1}", "tl:user:{ann}"}) {
    EXPECT_GT(connection.Command({"TTL", key})->integer, 3500) << key;
  }
}

TEST_F(TimelineStoreTest, AFailedRoundTripForgetsWhatWasWrittenAndZeroRemembersNothing) {
  const std::vector<v1::IndexedHop> first = {Hop("c1", 0, 1000, "ord-1", "ann")};
  const std::vector<v1::IndexedHop> second = {Hop("c1", 1, 1001, "ord-1")};
  TimelineStore every_batch(*pool_,
                            {.max_sagas_per_user = 2, .rewrite_interval = absl::ZeroDuration()});
  ASSERT_TRUE(every_batch.Add(first).ok());
  EXPECT_EQ(every_batch.AddCommands(first).size(), 6u);
  // With every batch trimming, the user's set keeps the newest two.
  ASSERT_TRUE(every_batch.Add({Hop("c2", 1, 2000, "", "ann")}).ok());
  ASSERT_TRUE(every_batch.Add({Hop("c3", 2, 3000, "", "ann")}).ok());
  redis::RedisConnection connection(redis_->ConnectionOptions());
  EXPECT_EQ(connection.Command({"ZCARD", "tl:user:{ann}"})->integer, 2);
  EXPECT_EQ(*every_batch.SagasOfUser("ann", 0, 10), std::vector<std::string>({"c3", "c2"}));
  EXPECT_TRUE(every_batch.SagasOfUser("ann", -1, 10)->empty());

  TimelineStore store(*pool_, {});
  ASSERT_TRUE(store.Add(first).ok());
  EXPECT_EQ(store.AddCommands(second).size(), 1u);
  ASSERT_TRUE(redis_->Stop().ok());
  EXPECT_FALSE(store.Add(second).ok());
  EXPECT_EQ(store.AddCommands(second).size(), 3u) << "HSET, EXPIRE and SET again";

  // A failed read forgets too: reads and writes share the pool's connections.
  ASSERT_TRUE(redis_->Restart().ok());
  redis::RedisPool fresh_pool(redis_->ConnectionOptions(), 1);
  TimelineStore reader(fresh_pool, {});
  ASSERT_TRUE(reader.Add(first).ok());
  EXPECT_EQ(reader.AddCommands(second).size(), 1u);
  ASSERT_TRUE(redis_->Stop().ok());
  EXPECT_FALSE(reader.Hops("c1").ok());
  EXPECT_EQ(reader.AddCommands(second).size(), 3u);
}

TEST_F(TimelineStoreTest, AHopIsStoredWithoutTheCorrelationIdItsKeyNames) {
  TimelineStore store(*pool_, {});
  const v1::IndexedHop hop = Hop("c1", 4, 1000, "ord-1", "ann");
  ASSERT_TRUE(store.Add({hop}).ok());
  redis::RedisConnection connection(redis_->ConnectionOptions());
  absl::StatusOr<redis::RedisReply> stored =
      connection.Command({"HGET", "tl:hops:{c1}", "orders.created/0/4"});
  ASSERT_TRUE(stored.ok());
  v1::IndexedHop held;
  ASSERT_TRUE(held.ParseFromString(stored->str));
  EXPECT_EQ(held.correlation_id(), "");
  EXPECT_EQ(held.order_id(), "ord-1");

  // A hop stored with it (before 2026-12-04) reads the same.
  ASSERT_TRUE(connection
                  .Command({"HSET", "tl:hops:{c1}", "orders.created/0/5",
                            Hop("c1", 5, 1001).SerializeAsString()})
                  .ok());
  absl::StatusOr<std::vector<v1::IndexedHop>> hops = store.Hops("c1");
  ASSERT_TRUE(hops.ok());
  ASSERT_EQ(hops->size(), 2u);
  for (const v1::IndexedHop& read : *hops) EXPECT_EQ(read.correlation_id(), "c1");
}

TEST_F(TimelineStoreTest, RedisAwayIsUnavailable) {
  TimelineStore store(*pool_, {});
  ASSERT_TRUE(redis_->Stop().ok());
  EXPECT_TRUE(absl::IsUnavailable(store.Add({Hop("c1", 0, 1)})));
  EXPECT_TRUE(absl::IsUnavailable(store.Hops("c1").status()));
}

}  // namespace
}  // namespace choreo::gateway::timeline
