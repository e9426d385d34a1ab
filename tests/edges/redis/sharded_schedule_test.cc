// ShardedSchedule on a real redis-server: entries spread over the shards by owner, only what is
// due is returned, the legacy key is still read, and one scanning instance at a time holds the
// lease until it stops renewing it.

#include "edges/redis/sharded_schedule.h"

#include <cstdlib>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "testing/redis_server.h"
#include "testing/wait.h"

namespace choreo::redis {
namespace {

class ShardedScheduleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::RedisServer::Start({.appendfsync = "no"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    redis_ = std::make_unique<RedisConnection>(
        RedisConnection::Options{.address = {server_->host(), server_->port()}});
  }

  // How many ZREM commands the server has run (INFO commandstats).
  int64_t ZremCalls() {
    absl::StatusOr<RedisReply> info = redis_->Command({"INFO", "commandstats"});
    if (!info.ok()) return -1;
    const size_t at = info->str.find("cmdstat_zrem:calls=");
    if (at == std::string::npos) return 0;
    return std::strtoll(info->str.c_str() + at + std::strlen("cmdstat_zrem:calls="), nullptr, 10);
  }

  std::unique_ptr<testing::RedisServer> server_;
  std::unique_ptr<RedisConnection> redis_;
};

TEST_F(ShardedScheduleTest, EntriesSpreadOverTheShardsAndOnlyDueOnesAreReturned) {
  const ShardedSchedule schedule({.name = "work", .shards = 16, .legacy_key = "work"});
  constexpr int kOwners = 200;
  const absl::Time now = absl::FromUnixMillis(1'000'000);
  for (int i = 0; i < kOwners; ++i) {
    const int64_t due = absl::ToUnixMillis(now) + (i % 2 == 0 ? -1 : 60'000);  // half due
    const std::string owner = absl::StrCat("owner-", i);
    ASSERT_TRUE(redis_->Command(schedule.AddCommand(owner, due, owner + "|x")).ok());
  }
  // Written by an earlier release, into the one key it had.
  ASSERT_TRUE(redis_->Command({"ZADD", "work", "1", "legacy|y"}).ok());
  std::set<std::string> used;
  for (const std::string& key : schedule.Keys()) {
    absl::StatusOr<RedisReply> size = redis_->Command({"ZCARD", key});
    ASSERT_TRUE(size.ok()) << size.status();
    if (size->integer > 0) used.insert(key);
  }
  EXPECT_EQ(used.size(), 17u) << "every shard, and the legacy key";

  absl::StatusOr<std::vector<ShardedSchedule::Entry>> due = schedule.Due(*redis_, "me", now, 1000);
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(due->size(), kOwners / 2 + 1);
  std::set<std::string> due_keys;
  for (const ShardedSchedule::Entry& entry : *due) due_keys.insert(entry.key);
  const int64_t zrem_before = ZremCalls();
  ASSERT_TRUE(schedule.Remove(*redis_, *due).ok());
  EXPECT_EQ(ZremCalls() - zrem_before, static_cast<int64_t>(due_keys.size()))
      << "one ZREM per key, whatever the entries in it (" << due->size() << ")";
  ASSERT_TRUE(schedule.Remove(*redis_, *due).ok()) << "removing again is harmless";
  ASSERT_TRUE(schedule.Remove(*redis_, {}).ok());
  due = schedule.Due(*redis_, "me", now, 1000);
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_TRUE(due->empty());
  due = schedule.Due(*redis_, "me", now + absl::Minutes(2), 1000);
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(due->size(), kOwners / 2);
  // Removing by owner reaches the same shard as adding did.
  ASSERT_TRUE(redis_->Command(schedule.RemoveCommand("owner-1", "owner-1|x")).ok());
  due = schedule.Due(*redis_, "me", now + absl::Minutes(2), 1000);
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(due->size(), kOwners / 2 - 1);
}

TEST_F(ShardedScheduleTest, OneInstanceScansAtATimeAndAnotherTakesOverWhenItStops) {
  const ShardedSchedule schedule({.name = "work", .shards = 4, .lease = absl::Milliseconds(300)});
  const absl::Time now = absl::Now();
  ASSERT_TRUE(redis_->Command(schedule.AddCommand("ann", 1, "ann|1")).ok());
  absl::StatusOr<std::vector<ShardedSchedule::Entry>> first = schedule.Due(*redis_, "a", now, 10);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 1u);
  absl::StatusOr<std::vector<ShardedSchedule::Entry>> second = schedule.Due(*redis_, "b", now, 10);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->empty()) << "a holds the lease";
  first = schedule.Due(*redis_, "a", now, 10);  // renews it
  ASSERT_TRUE(first.ok() && first->size() == 1u);
  // "a" stops scanning (a crash): its lease runs out and "b" takes over.
  const absl::Time stopped = absl::Now();
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        absl::StatusOr<std::vector<ShardedSchedule::Entry>> got =
            schedule.Due(*redis_, "b", now, 10);
        return got.ok() && got->size() == 1u;
      },
      absl::Seconds(5)));
  EXPECT_GE(absl::Now() - stopped, absl::Milliseconds(200));
}

}  // namespace
}  // namespace choreo::redis
