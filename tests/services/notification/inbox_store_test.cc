// The notification inbox's Redis store against a real redis-server: newest first, bounded, each
// outcome once however often it is recorded, O(1) writes, pages, and inboxes of the earlier
// layout (one aggregate holding every record) still read.

#include "services/notification/inbox_store.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "edges/redis/redis_connection.h"
#include "gtest/gtest.h"
#include "saga/store/redis_aggregate_store.h"
#include "testing/redis_server.h"

namespace choreo::notification {
namespace {

using notifications::v1::NotificationRecord;

NotificationRecord Record(const std::string& id) {
  NotificationRecord record;
  record.set_notification_id(id);
  record.set_subject(absl::StrCat("Subject ", id));
  record.set_body(std::string(200, 'b'));
  return record;
}

std::vector<std::string> Ids(const std::vector<NotificationRecord>& records) {
  std::vector<std::string> ids;
  for (const NotificationRecord& record : records) ids.push_back(record.notification_id());
  return ids;
}

class InboxStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis = testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    options_ = redis_->ConnectionOptions();
    pool_ = std::make_unique<redis::RedisPool>(options_, 2);
  }

  redis::RedisReply Command(const std::vector<std::string>& argv) {
    redis::RedisConnection connection(options_);
    absl::StatusOr<redis::RedisReply> reply = connection.Command(argv);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : redis::RedisReply{};
  }

  std::unique_ptr<testing::RedisServer> redis_;
  redis::RedisConnection::Options options_;
  std::unique_ptr<redis::RedisPool> pool_;
};

TEST_F(InboxStoreTest, KeepsTheNewestFirstEachOnceAndBounded) {
  InboxStore inbox(*pool_, {.keep = 3, .marker_retention = absl::Hours(1)});
  for (const char* id : {"n1", "n2", "n3", "n4"}) {
    absl::StatusOr<bool> recorded = inbox.Record("ann", Record(id));
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    EXPECT_TRUE(*recorded) << id;
  }
  // A re-delivered outcome, even of one trimmed away already, is not recorded again.
  for (const char* id : {"n4", "n1"}) {
    absl::StatusOr<bool> again = inbox.Record("ann", Record(id));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE(*again) << id;
  }
  absl::StatusOr<InboxStore::Page> page = inbox.List("ann", 0, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(Ids(page->records), (std::vector<std::string>{"n4", "n3", "n2"}));
  EXPECT_FALSE(page->more);
  EXPECT_EQ(page->records[0].subject(), "Subject n4");
  // The list holds exactly the kept records; each marker expires with the retention.
  EXPECT_EQ(Command({"LLEN", InboxStore::ListKey("ann")}).integer, 3);
  const int64_t ttl = Command({"PTTL", InboxStore::MarkerKey("ann", "n1")}).integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 3600 * 1000);
  // Another user's inbox is apart.
  page = inbox.List("bob", 0, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->records.empty());
}

TEST_F(InboxStoreTest, AnOutcomeWritesItsOwnRecordWhateverTheInboxHolds) {
  // The cost of recording does not grow with the inbox: the bytes sent to Redis per outcome
  // (and so written to the append-only file) are the record's, not the inbox's.
  InboxStore inbox(*pool_, {.keep = 100});
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(inbox.Record("ann", Record(absl::StrCat("n", i))).ok());
  const auto aof_bytes = [&] {
    const std::string info = Command({"INFO", "persistence"}).str;
    const size_t at = info.find("aof_current_size:");
    return at == std::string::npos
               ? int64_t{-1}
               : std::stoll(info.substr(at + std::string("aof_current_size:").size()));
  };
  const int64_t full = aof_bytes();
  ASSERT_GE(full, 0) << "appendonly is on";
  ASSERT_TRUE(inbox.Record("ann", Record("n100")).ok());
  const int64_t one = aof_bytes() - full;
  EXPECT_GT(one, static_cast<int64_t>(Record("n100").ByteSizeLong()));
  EXPECT_LT(one, 4 * static_cast<int64_t>(Record("n100").ByteSizeLong()))
      << "one outcome into a full inbox appended " << one << " bytes";
}

TEST_F(InboxStoreTest, PagesFollowOneAnother) {
  InboxStore inbox(*pool_, {.keep = 100});
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(inbox.Record("ann", Record(absl::StrCat("n", i))).ok());
  absl::StatusOr<InboxStore::Page> first = inbox.List("ann", 0, 2);
  absl::StatusOr<InboxStore::Page> second = inbox.List("ann", 2, 2);
  absl::StatusOr<InboxStore::Page> last = inbox.List("ann", 4, 2);
  ASSERT_TRUE(first.ok() && second.ok() && last.ok());
  EXPECT_EQ(Ids(first->records), (std::vector<std::string>{"n5", "n4"}));
  EXPECT_TRUE(first->more);
  EXPECT_EQ(Ids(second->records), (std::vector<std::string>{"n3", "n2"}));
  EXPECT_TRUE(second->more);
  EXPECT_EQ(Ids(last->records), (std::vector<std::string>{"n1"}));
  EXPECT_FALSE(last->more);
  // A position past the end (any token a caller makes up) is an empty last page.
  absl::StatusOr<InboxStore::Page> past = inbox.List("ann", std::numeric_limits<int>::max(), 100);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->records.empty());
  EXPECT_FALSE(past->more);
}

TEST_F(InboxStoreTest, AnInboxOfTheEarlierLayoutIsStillRead) {
  // Before this store, the inbox was one aggregate holding every record, newest first.
  notifications::v1::Inbox older;
  for (const char* id : {"o3", "o2", "o1"}) *older.add_records() = Record(id);
  Command({"HSET", store::RedisAggregateStore::StateKey({"notification.inbox", "ann"}), "v", "3",
           "s", older.SerializeAsString()});
  InboxStore inbox(*pool_, {.keep = 4});
  absl::StatusOr<InboxStore::Page> page = inbox.List("ann", 0, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(Ids(page->records), (std::vector<std::string>{"o3", "o2", "o1"}));
  // New outcomes come first; the older ones follow, up to `keep` in all, without repeats.
  ASSERT_TRUE(inbox.Record("ann", Record("n1")).ok());
  ASSERT_TRUE(inbox.Record("ann", Record("o3")).ok());  // recorded in both layouts: once
  ASSERT_TRUE(inbox.Record("ann", Record("n2")).ok());
  page = inbox.List("ann", 0, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(Ids(page->records), (std::vector<std::string>{"n2", "o3", "n1", "o2"}));
}

TEST_F(InboxStoreTest, ManyOutcomesOfSeveralUsersAreRecordedInTheirOrderEachOnce) {
  InboxStore inbox(*pool_, {.keep = 3, .marker_retention = absl::Hours(1)});
  ASSERT_TRUE(inbox.Record("ann", Record("a1")).ok());
  // ann's and bob's outcomes interleaved, ann's a1 seen before and a3 twice in the batch, and
  // more of ann's than her inbox keeps.
  const std::vector<InboxStore::Entry> entries = {
      {"ann", Record("a1")}, {"ann", Record("a2")}, {"bob", Record("b1")}, {"ann", Record("a3")},
      {"bob", Record("b2")}, {"ann", Record("a3")}, {"ann", Record("a4")}};
  absl::StatusOr<std::vector<bool>> recorded = inbox.RecordMany(entries);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(*recorded, (std::vector<bool>{false, true, true, true, true, false, true}));
  absl::StatusOr<InboxStore::Page> ann = inbox.List("ann", 0, 10);
  ASSERT_TRUE(ann.ok()) << ann.status();
  EXPECT_EQ(Ids(ann->records), (std::vector<std::string>{"a4", "a3", "a2"}));
  absl::StatusOr<InboxStore::Page> bob = inbox.List("bob", 0, 10);
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_EQ(Ids(bob->records), (std::vector<std::string>{"b2", "b1"}));
  // One Lua step per user, which trims once: ann's first record, then ann's and bob's batches
  // (a step each per record would have trimmed 1 + 5 times).
  const std::string stats = Command({"INFO", "commandstats"}).str;
  const size_t at = stats.find("cmdstat_ltrim:calls=");
  ASSERT_NE(at, std::string::npos) << stats;
  EXPECT_EQ(std::stoll(stats.substr(at + std::string("cmdstat_ltrim:calls=").size())), 1 + 2);
}

TEST_F(InboxStoreTest, ARecordThatIsNotOneIsDataLoss) {
  Command({"LPUSH", InboxStore::ListKey("ann"), "\xff\xff not a record"});
  InboxStore inbox(*pool_, {});
  absl::StatusOr<InboxStore::Page> page = inbox.List("ann", 0, 10);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kDataLoss) << page.status();
}

}  // namespace
}  // namespace choreo::notification
