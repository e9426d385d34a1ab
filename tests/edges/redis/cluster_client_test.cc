// RedisConnection on a real Redis Cluster (three masters, a replica each, on loopback): commands
// and pipelines reach the master of each key's slot, scripts run on every master, MOVED and ASK
// are followed, and a master killed mid-run is replaced by its replica without losing a write
// the client was told is done.

#include <signal.h>

#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "edges/redis/redis_connection.h"
#include "edges/redis/sharded_schedule.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/redis_cluster.h"
#include "testing/wait.h"

namespace choreo::redis {
namespace {

using ::testing::HasSubstr;

class RedisClusterClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = testing::RedisCluster::Start({});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }

  // A client that knows one node only: it learns the others.
  RedisConnection Client() const { return RedisConnection(cluster_->node(0).ConnectionOptions()); }

  int64_t Integer(const std::string& text) const {
    int64_t value = -1;
    EXPECT_TRUE(absl::SimpleAtoi(text, &value)) << text;
    return value;
  }

  std::unique_ptr<testing::RedisCluster> cluster_;
};

std::string Key(int i) { return absl::StrCat("k:{", i, "}"); }

TEST_F(RedisClusterClientTest, EveryCommandReachesTheMasterOfItsSlot) {
  RedisConnection client = Client();
  ASSERT_EQ(client.IsCluster().value_or(false), true);
  constexpr int kKeys = 300;
  std::vector<std::vector<std::string>> writes;
  std::vector<std::vector<std::string>> reads;
  for (int i = 0; i < kKeys; ++i) {
    writes.push_back({"SET", Key(i), absl::StrCat("v", i)});
    reads.push_back({"GET", Key(i)});
  }
  absl::StatusOr<std::vector<RedisReply>> written = client.Pipeline(writes);
  ASSERT_TRUE(written.ok()) << written.status();
  for (const RedisReply& reply : *written) ASSERT_EQ(reply.str, "OK");
  absl::StatusOr<std::vector<RedisReply>> read = client.Pipeline(reads);
  ASSERT_TRUE(read.ok()) << read.status();
  for (int i = 0; i < kKeys; ++i) EXPECT_EQ((*read)[i].str, absl::StrCat("v", i)) << Key(i);

  // Our slot of each key is Redis's, and every master holds its share.
  for (int i = 0; i < kKeys; i += 7) {
    absl::StatusOr<std::string> slot = cluster_->Ask(0, {"CLUSTER", "KEYSLOT", Key(i)});
    ASSERT_TRUE(slot.ok()) << slot.status();
    EXPECT_EQ(Integer(*slot), KeySlot(Key(i))) << Key(i);
  }
  absl::StatusOr<std::vector<RedisAddress>> masters = client.Masters();
  ASSERT_TRUE(masters.ok()) << masters.status();
  ASSERT_EQ(masters->size(), 3u);
  int64_t total = 0;
  for (const RedisAddress& master : *masters) {
    absl::StatusOr<RedisReply> size = client.CommandOn(master, {"DBSIZE"});
    ASSERT_TRUE(size.ok()) << size.status();
    EXPECT_GT(size->integer, kKeys / 6) << master.ToString();
    total += size->integer;
  }
  EXPECT_EQ(total, kKeys);

  // A script on keys of every master: loaded where it is missing, run once per call.
  std::vector<RedisConnection::ScriptCall> calls;
  for (int i = 0; i < 30; ++i) calls.push_back({{Key(i)}, {"x"}});
  const std::string append = "return redis.call('APPEND', KEYS[1], ARGV[1])";
  absl::StatusOr<std::vector<RedisReply>> ran = client.EvalMany(append, calls);
  ASSERT_TRUE(ran.ok()) << ran.status();
  for (int i = 0; i < 30; ++i) {
    ASSERT_FALSE((*ran)[i].is_error()) << (*ran)[i].str;
    EXPECT_EQ((*ran)[i].integer, static_cast<int64_t>(absl::StrCat("v", i, "x").size()));
  }
  // A command over two slots is Redis's to refuse, with a reply the caller sees.
  absl::StatusOr<RedisReply> cross = client.Command({"MGET", Key(1), Key(2)});
  ASSERT_TRUE(cross.ok()) << cross.status();
  EXPECT_THAT(cross->str, HasSubstr("CROSSSLOT"));
}

TEST_F(RedisClusterClientTest, AMovedSlotIsFollowed) {
  RedisConnection client = Client();
  ASSERT_TRUE(client.Command({"SET", Key(1), "before"}).ok());
  absl::StatusOr<int> master = cluster_->MasterOf(Key(1));
  ASSERT_TRUE(master.ok()) << master.status();
  absl::StatusOr<int> replica = cluster_->ReplicaOf(*master);
  ASSERT_TRUE(replica.ok()) << replica.status();
  // A manual failover: the replica becomes the master, the master its replica, which answers
  // MOVED to the client that still sends there.
  ASSERT_TRUE(cluster_->Ask(*replica, {"CLUSTER", "FAILOVER"}).ok());
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return cluster_->MasterOf(Key(1)).value_or(-1) == *replica; }, absl::Seconds(30)));
  ASSERT_TRUE(cluster_->WaitHealthy(1, absl::Seconds(30)).ok());
  EXPECT_THAT(cluster_->Ask(*master, {"GET", Key(1)}).status().message(), HasSubstr("MOVED"))
      << "the old master redirects";
  // A write first: its WAIT went to the old master too, which, a replica now, refuses it.
  absl::StatusOr<RedisReply> written = client.Command({"SET", Key(1), "after"});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->str, "OK");
  absl::StatusOr<RedisReply> read = client.Command({"GET", Key(1)});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->str, "after");
  absl::StatusOr<std::string> there = cluster_->Ask(*replica, {"GET", Key(1)});
  ASSERT_TRUE(there.ok()) << there.status();
  EXPECT_EQ(*there, "after");
}

TEST_F(RedisClusterClientTest, AnAskRedirectIsFollowedDuringASlotMigration) {
  RedisConnection client = Client();
  ASSERT_TRUE(client.Command({"PING"}).ok());  // learns the slot table
  const std::string key = "{migrating}new";
  const int slot = KeySlot(key);
  absl::StatusOr<int> source = cluster_->MasterOf(key);
  ASSERT_TRUE(source.ok()) << source.status();
  int target = -1;
  for (int i = 0; i < cluster_->size() && target < 0; ++i) {
    absl::StatusOr<std::string> role = cluster_->Ask(i, {"ROLE"});
    if (i != *source && role.ok() && role->rfind("master", 0) == 0) target = i;
  }
  ASSERT_GE(target, 0);
  absl::StatusOr<std::string> source_id = cluster_->Ask(*source, {"CLUSTER", "MYID"});
  absl::StatusOr<std::string> target_id = cluster_->Ask(target, {"CLUSTER", "MYID"});
  ASSERT_TRUE(source_id.ok() && target_id.ok());
  ASSERT_TRUE(
      cluster_->Ask(target, {"CLUSTER", "SETSLOT", absl::StrCat(slot), "IMPORTING", *source_id})
          .ok());
  ASSERT_TRUE(
      cluster_->Ask(*source, {"CLUSTER", "SETSLOT", absl::StrCat(slot), "MIGRATING", *target_id})
          .ok());
  // The key is not on the source: it answers ASK, and the write goes to the target.
  absl::StatusOr<RedisReply> written = client.Command({"SET", key, "v"});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->str, "OK");
  absl::StatusOr<std::string> on_target =
      cluster_->Ask(target, {"CLUSTER", "COUNTKEYSINSLOT", absl::StrCat(slot)});
  ASSERT_TRUE(on_target.ok()) << on_target.status();
  EXPECT_EQ(*on_target, "1");
  absl::StatusOr<std::string> on_source =
      cluster_->Ask(*source, {"CLUSTER", "COUNTKEYSINSLOT", absl::StrCat(slot)});
  ASSERT_TRUE(on_source.ok()) << on_source.status();
  EXPECT_EQ(*on_source, "0");
}

// A write counts once the master's replica has it: with the replica stopped, it is UNAVAILABLE
// after the replication timeout (and ran on the master; the caller retries), and once the
// replica is back it succeeds.
TEST_F(RedisClusterClientTest, AWriteIsNotAcknowledgedBeforeItsReplicaHasIt) {
  // The client waits for a replica only where node 0's CLUSTER NODES names one; wait until it
  // names all three (news of a replica reaches the other masters by gossip, which can lag the
  // cluster's start on a loaded machine: then the write below went unwaited and succeeded).
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        absl::StatusOr<std::string> nodes = cluster_->Ask(0, {"CLUSTER", "NODES"});
        int replicas = 0;
        for (size_t at = nodes.ok() ? nodes->find("slave ") : std::string::npos;
             at != std::string::npos; at = nodes->find("slave ", at + 1)) {
          ++replicas;
        }
        return replicas == cluster_->size() / 2;
      },
      absl::Seconds(30)))
      << "node 0 has not heard of every replica";
  RedisConnection::Options options = cluster_->node(0).ConnectionOptions();
  options.replication_timeout = absl::Milliseconds(300);
  RedisConnection client(options);
  // With the replica running a write is acknowledged; on a loaded machine one WAIT of 300 ms
  // can still miss the replica's answer (a fresh-clone run failed so), so the writes made with
  // the replica running are tried until one is.
  absl::Status last = absl::UnknownError("not tried");
  auto acknowledged_in_time = [&](const char* value) {
    return testing::WaitUntil(
        [&] {
          absl::StatusOr<RedisReply> written = client.Command({"SET", Key(7), value});
          last = written.ok() && written->str != "OK"
                     ? absl::InternalError(absl::StrCat("SET answered ", written->str))
                     : written.status();
          return last.ok();
        },
        absl::Seconds(30));
  };
  ASSERT_TRUE(acknowledged_in_time("one")) << last;
  absl::StatusOr<int> master = cluster_->MasterOf(Key(7));
  ASSERT_TRUE(master.ok()) << master.status();
  absl::StatusOr<int> replica = cluster_->ReplicaOf(*master);
  ASSERT_TRUE(replica.ok()) << replica.status();
  ASSERT_EQ(::kill(cluster_->node(*replica).pid(), SIGSTOP), 0);
  absl::StatusOr<RedisReply> written = client.Command({"SET", Key(7), "two"});
  EXPECT_TRUE(absl::IsUnavailable(written.status())) << written.status();
  EXPECT_THAT(written.status().message(), HasSubstr("not on its replica"));
  absl::StatusOr<RedisReply> read = client.Command({"GET", Key(7)});  // reads do not wait
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->str, "two") << "it ran on the master";
  ASSERT_EQ(::kill(cluster_->node(*replica).pid(), SIGCONT), 0);
  EXPECT_TRUE(acknowledged_in_time("three")) << last;
}

// A schedule that was one sorted set (a hot key on one master) is spread over every master.
TEST_F(RedisClusterClientTest, AShardedScheduleSpreadsOverEveryMaster) {
  RedisConnection client = Client();
  const ShardedSchedule schedule({.name = "order:deadlines", .shards = 16});
  std::vector<std::vector<std::string>> adds;
  for (int i = 0; i < 100; ++i) {
    const std::string owner = absl::StrCat("order-", i);
    adds.push_back(schedule.AddCommand(owner, 1, owner));
  }
  absl::StatusOr<std::vector<RedisReply>> added = client.Pipeline(adds);
  ASSERT_TRUE(added.ok()) << added.status();
  absl::StatusOr<std::vector<RedisAddress>> masters = client.Masters();
  ASSERT_TRUE(masters.ok()) << masters.status();
  for (const RedisAddress& master : *masters) {
    absl::StatusOr<RedisReply> keys = client.CommandOn(master, {"DBSIZE"});
    ASSERT_TRUE(keys.ok()) << keys.status();
    EXPECT_GT(keys->integer, 0) << master.ToString() << " holds no shard";
  }
  absl::StatusOr<std::vector<ShardedSchedule::Entry>> due =
      schedule.Due(client, "scanner", absl::Now(), 1000);
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(due->size(), 100u);
}

// appendfsync always on every node, and a write counts only once its master's replica has it
// (WAIT): a master SIGKILLed mid-run loses nothing its client was told is written.
TEST_F(RedisClusterClientTest, AKilledMasterIsReplacedAndNoAcknowledgedWriteIsLost) {
  RedisConnection client = Client();
  constexpr int kBatches = 300;
  constexpr int kPerBatch = 10;
  std::map<std::string, std::string> acknowledged;
  int failed_calls = 0;
  absl::Time killed_at;
  absl::Duration outage;
  for (int b = 0; b < kBatches; ++b) {
    if (b == kBatches / 3) {
      absl::StatusOr<int> master = cluster_->MasterOf(Key(0));
      ASSERT_TRUE(master.ok()) << master.status();
      ASSERT_TRUE(cluster_->node(*master).Kill().ok());
      killed_at = absl::Now();
    }
    std::vector<std::vector<std::string>> batch;
    for (int k = 0; k < kPerBatch; ++k) {
      const std::string key = Key(b * kPerBatch + k);
      batch.push_back({"SET", key, absl::StrCat("value-", b)});
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    absl::StatusOr<std::vector<RedisReply>> written = client.Pipeline(batch);
    while (!written.ok() && absl::Now() < deadline) {
      EXPECT_TRUE(absl::IsUnavailable(written.status())) << written.status();
      ++failed_calls;
      absl::SleepFor(absl::Milliseconds(50));  // a retry's backoff, not a wait for a condition
      written = client.Pipeline(batch);
    }
    ASSERT_TRUE(written.ok())
        << "batch " << b << ": " << written.status() << "\n"
        << cluster_->Ask((*cluster_->MasterOf(Key(1)) + 1) % 6, {"CLUSTER", "NODES"}).value_or("");
    if (killed_at != absl::Time() && outage == absl::Duration() && failed_calls > 0) {
      outage = absl::Now() - killed_at;
    }
    for (size_t k = 0; k < batch.size(); ++k) {
      ASSERT_EQ((*written)[k].str, "OK") << batch[k][1];
      acknowledged[batch[k][1]] = batch[k][2];
    }
  }
  EXPECT_GT(failed_calls, 0) << "the kill was noticed";
  ASSERT_TRUE(cluster_->WaitHealthy(std::nullopt, absl::Seconds(30)).ok());
  std::vector<std::vector<std::string>> reads;
  std::vector<std::string> keys;
  for (const auto& [key, value] : acknowledged) {
    reads.push_back({"GET", key});
    keys.push_back(key);
  }
  absl::StatusOr<std::vector<RedisReply>> read = client.Pipeline(reads);
  ASSERT_TRUE(read.ok()) << read.status();
  int lost = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if ((*read)[i].str != acknowledged[keys[i]]) ++lost;
  }
  EXPECT_EQ(lost, 0) << "of " << keys.size() << " acknowledged writes";
  std::printf(
      "cluster failover: %zu writes acknowledged, %d calls failed meanwhile, writes "
      "resumed %.1f s after the SIGKILL, %d lost\n",
      keys.size(), failed_calls, absl::ToDoubleSeconds(outage), lost);
}

}  // namespace
}  // namespace choreo::redis
