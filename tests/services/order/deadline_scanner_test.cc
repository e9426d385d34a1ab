// DeadlineScanner on a real redis-server: its report after each pass (the overdue orders alert's
// source) is the due orders it could not publish, 0 once it published them all; an entry of an
// order that has settled is dropped without an event, whatever Kafka does; anything it cannot
// tell settled is published, all of a pass's events together. The events go to a RecordingSink
// that refuses them while Kafka is "down".

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "platform/proto_time/proto_time.h"
#include "saga/publish/publisher.h"
#include "saga/store/redis_aggregate_store.h"
#include "services/order/core/deadline_index.h"
#include "services/order/order_service.h"
#include "testing/redis_server.h"

namespace choreo::order {
namespace {

orders::v1::Order OrderIn(const std::string& order_id, orders::v1::OrderStatus status,
                          absl::Time deadline) {
  orders::v1::Order order;
  order.set_order_id(order_id);
  order.set_correlation_id(absl::StrCat("corr-", order_id));
  order.set_status(status);
  *order.mutable_deadline() = ToProtoTime(deadline);
  return order;
}

// A broker for the scanner's events, as a test scripts it: it refuses the `refuse_nth` record it
// is sent (1-based; 0: none), and holds every acknowledgement until it holds `ack_batch`
// records, then gives them all (1: each at once). A sender that waits for each record's
// acknowledgement before sending the next never gets one when the batch is larger.
class ScriptedBroker final : public publish::RecordSink {
 public:
  struct Script {
    int refuse_nth = 0;
    size_t ack_batch = 1;
  };
  explicit ScriptedBroker(Script script) : script_(script) {}
  absl::Status Send(const KafkaRecord& record, publish::SendCallback done) override {
    std::vector<publish::SendCallback> acks;
    {
      absl::MutexLock lock(&mu_);
      if (++sends_ == script_.refuse_nth) return absl::UnavailableError("refused");
      taken_.push_back(record.key);
      waiting_.push_back(std::move(done));
      if (waiting_.size() == script_.ack_batch) acks.swap(waiting_);
    }
    for (publish::SendCallback& ack : acks) std::move(ack)(absl::OkStatus());
    return absl::OkStatus();
  }
  std::vector<std::string> taken() const {  // the keys of the records it took, in order
    absl::MutexLock lock(&mu_);
    return taken_;
  }

 private:
  const Script script_;
  mutable absl::Mutex mu_;
  int sends_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> taken_ ABSL_GUARDED_BY(mu_);
  std::vector<publish::SendCallback> waiting_ ABSL_GUARDED_BY(mu_);
};

class DeadlineScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.ok()) << redis_.status();
    options_ = (*redis_)->ConnectionOptions();
    connection_ = std::make_unique<redis::RedisConnection>(options_);
    scanner_ = ScannerPublishingTo(publisher_);
  }

  std::unique_ptr<DeadlineScanner> ScannerPublishingTo(const publish::Publisher& publisher) {
    return std::make_unique<DeadlineScanner>(DeadlineScanner::Options{
        .redis = options_, .publisher = &publisher, .after_pass = [this](int overdue) {
          reports_.push_back(overdue);
        }});
  }

  // Writes `order` as the order service commits it (`state` overrides its bytes).
  void Store(const orders::v1::Order& order, std::optional<std::string> state = std::nullopt) {
    store::RedisAggregateStore store(options_);
    absl::StatusOr<store::CommitResult> committed =
        store.Commit(OrderAggregate(order.order_id()), "evt-created", 0,
                     state.value_or(order.SerializeAsString()), "", absl::Hours(1));
    ASSERT_TRUE(committed.ok()) << committed.status();
    ASSERT_EQ(committed->outcome, store::CommitOutcome::kCommitted);
  }

  // Indexes `order` as the order service does after a commit that left it pending.
  void Index(const orders::v1::Order& order) {
    ASSERT_TRUE(connection_
                    ->Command(DeadlineSchedule().AddCommand(order.order_id(), DeadlineScore(order),
                                                            DeadlineMember(order)))
                    .ok());
  }

  // Stores and indexes `pending` pending orders (ord-0, ord-1, ...) and a paid one (ord-paid),
  // all due a second ago.
  void StoreDuePendingAndPaid(int pending) {
    const absl::Time due = absl::Now() - absl::Seconds(1);
    for (int i = 0; i < pending; ++i) {
      const orders::v1::Order order =
          OrderIn(absl::StrCat("ord-", i), orders::v1::ORDER_STATUS_PENDING_VALIDATION, due);
      Store(order);
      Index(order);
    }
    const orders::v1::Order paid = OrderIn("ord-paid", orders::v1::ORDER_STATUS_PAID, due);
    Store(paid);
    Index(paid);
  }

  // The orders the published events are for, sorted.
  std::vector<std::string> PublishedFor() const {
    std::vector<std::string> ids;
    for (const KafkaRecord& record : sink_.sent()) ids.push_back(record.key);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // Entries in the index, over all its keys.
  int64_t IndexSize() {
    int64_t entries = 0;
    for (const std::string& key : DeadlineSchedule().Keys()) {
      absl::StatusOr<redis::RedisReply> size = connection_->Command({"ZCARD", key});
      EXPECT_TRUE(size.ok()) << size.status();
      if (size.ok()) entries += size->integer;
    }
    return entries;
  }

  absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis_ = testing::RedisServer::Start();
  redis::RedisConnection::Options options_;
  std::unique_ptr<redis::RedisConnection> connection_;
  publish::RecordingSink sink_;
  publish::Publisher publisher_{&sink_, {.service = "order"}};
  std::vector<int> reports_;  // each pass's overdue count
  std::unique_ptr<DeadlineScanner> scanner_;
};

// While Kafka refuses, the pending orders stay (and are reported); a settled one is dropped all
// the same, so a long outage does not have the scanner read it again on every pass. The first
// pass after a refusal sends one event, a probe, so that a broker that is down does not queue
// the whole backlog again on every pass.
TEST_F(DeadlineScannerTest, APassReportsTheDueOrdersItCouldNotPublish) {
  const absl::Time now = absl::Now();
  for (int i = 0; i < 3; ++i) {
    const absl::Time due = i < 2 ? now - absl::Minutes(1) : now + absl::Hours(1);
    const orders::v1::Order order =
        OrderIn(absl::StrCat("ord-", i), orders::v1::ORDER_STATUS_PENDING_VALIDATION, due);
    Store(order);
    Index(order);
  }
  const orders::v1::Order paid =
      OrderIn("ord-paid", orders::v1::ORDER_STATUS_PAID, now - absl::Minutes(1));
  Store(paid);
  Index(paid);

  sink_.FailWith(absl::UnavailableError("Kafka is down"));
  EXPECT_FALSE(scanner_->ScanOnce(now).ok());
  EXPECT_EQ(IndexSize(), 3) << "the paid order's entry went, the pending ones stayed";
  sink_.FailWith(absl::OkStatus());
  absl::StatusOr<int> published = scanner_->ScanOnce(now);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(*published, 1) << "after a refused pass, one event probes the broker";
  published = scanner_->ScanOnce(now);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(*published, 1);
  EXPECT_EQ(reports_, (std::vector<int>{2, 1, 0}))
      << "neither the paid order nor the one due in an hour is overdue";
  EXPECT_EQ(PublishedFor(), (std::vector<std::string>{"ord-0", "ord-1"}));
  EXPECT_EQ(IndexSize(), 1) << "the one due in an hour";
}

// A paid or cancelled order keeps its entry (no commit removes it); when it falls due the
// scanner drops it without an event. What it cannot tell settled is published for the handler
// to judge, as before the scanner read states: a pending order, one that is not stored, one
// whose state does not parse, one of a status from a later release.
TEST_F(DeadlineScannerTest, OnlyAnEntryOfASettledOrderIsDroppedWithoutAnEvent) {
  const absl::Time now = absl::Now();
  const absl::Time due = now - absl::Seconds(1);
  const orders::v1::Order paid = OrderIn("ord-paid", orders::v1::ORDER_STATUS_PAID, due);
  const orders::v1::Order cancelled =
      OrderIn("ord-cancelled", orders::v1::ORDER_STATUS_CANCELLED, due);
  const orders::v1::Order pending =
      OrderIn("ord-pending", orders::v1::ORDER_STATUS_PENDING_VALIDATION, due);
  const orders::v1::Order gone =
      OrderIn("ord-gone", orders::v1::ORDER_STATUS_PENDING_VALIDATION, due);
  const orders::v1::Order garbled = OrderIn("ord-garbled", orders::v1::ORDER_STATUS_PAID, due);
  const orders::v1::Order later =
      OrderIn("ord-later", static_cast<orders::v1::OrderStatus>(15), due);  // a reserved number
  for (const orders::v1::Order& order : {paid, cancelled, pending, gone, garbled, later}) {
    Index(order);
  }
  for (const orders::v1::Order& order : {paid, cancelled, pending, later}) Store(order);
  Store(garbled, std::string("\x0a\xff"));  // a length past the end

  absl::StatusOr<int> published = scanner_->ScanOnce(now);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(*published, 4);
  EXPECT_EQ(PublishedFor(),
            (std::vector<std::string>{"ord-garbled", "ord-gone", "ord-later", "ord-pending"}));
  EXPECT_EQ(reports_, (std::vector<int>{0})) << "every due entry was settled or published";
  EXPECT_EQ(IndexSize(), 0) << "every due entry is removed, published or not";
  published = scanner_->ScanOnce(now + absl::Minutes(1));
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(*published, 0);
  EXPECT_EQ(sink_.sent().size(), 4u);
}

// One state that cannot be read fails the pass's read: then every due entry is published, as
// before the scanner read states, so one bad key never stalls expiry.
TEST_F(DeadlineScannerTest, WhenTheStatesCannotBeReadEveryDueEntryIsPublished) {
  const absl::Time due = absl::Now() - absl::Seconds(1);
  const orders::v1::Order paid = OrderIn("ord-paid", orders::v1::ORDER_STATUS_PAID, due);
  const orders::v1::Order odd = OrderIn("ord-odd", orders::v1::ORDER_STATUS_PAID, due);
  Store(paid);
  Index(paid);
  Index(odd);
  ASSERT_TRUE(connection_
                  ->Command({"SET", store::RedisAggregateStore::StateKey(OrderAggregate("ord-odd")),
                             "not a hash"})
                  .ok());

  absl::StatusOr<int> published = scanner_->ScanOnce(absl::Now());
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(*published, 2);
  EXPECT_EQ(PublishedFor(), (std::vector<std::string>{"ord-odd", "ord-paid"}));
  EXPECT_EQ(IndexSize(), 0);
}

// A pass's events go out together and are waited for once: after a Kafka outage a backlog
// drains a batch per round trip to the broker, not an event per round trip.
TEST_F(DeadlineScannerTest, APassSendsItsEventsTogether) {
  constexpr int kPending = 50;
  StoreDuePendingAndPaid(kPending);
  ScriptedBroker broker({.ack_batch = kPending});
  const publish::Publisher publisher(&broker,
                                     {.service = "order", .ack_timeout = absl::Seconds(2)});
  std::unique_ptr<DeadlineScanner> scanner = ScannerPublishingTo(publisher);

  absl::StatusOr<int> published = scanner->ScanOnce(absl::Now());
  ASSERT_TRUE(published.ok()) << published.status() << " (one event at a time never gets an ack)";
  EXPECT_EQ(*published, kPending);
  EXPECT_EQ(broker.taken().size(), static_cast<size_t>(kPending)) << "nothing for the paid order";
  EXPECT_EQ(reports_, (std::vector<int>{0}));
  EXPECT_EQ(IndexSize(), 0);
}

// One refused event fails the pass's publication as a whole: every unsettled entry stays (and
// is reported overdue), a settled one goes; those the broker took are published again later,
// duplicates the handler drops.
TEST_F(DeadlineScannerTest, OneRefusedEventKeepsThePassUnsettledEntriesForTheNext) {
  StoreDuePendingAndPaid(3);
  ScriptedBroker broker({.refuse_nth = 2});
  const publish::Publisher publisher(&broker, {.service = "order"});
  std::unique_ptr<DeadlineScanner> scanner = ScannerPublishingTo(publisher);

  EXPECT_FALSE(scanner->ScanOnce(absl::Now()).ok());
  EXPECT_EQ(broker.taken().size(), 2u) << "the other two were taken";
  EXPECT_EQ(IndexSize(), 3) << "the paid order's entry went, every pending one stayed";
  absl::StatusOr<int> probed = scanner->ScanOnce(absl::Now());
  ASSERT_TRUE(probed.ok()) << probed.status();
  EXPECT_EQ(*probed, 1);
  absl::StatusOr<int> rest = scanner->ScanOnce(absl::Now());
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, 2);
  EXPECT_EQ(reports_, (std::vector<int>{3, 2, 0}));
  EXPECT_EQ(IndexSize(), 0);
  std::vector<std::string> taken = broker.taken();
  std::sort(taken.begin(), taken.end());
  taken.erase(std::unique(taken.begin(), taken.end()), taken.end());
  EXPECT_EQ(taken, (std::vector<std::string>{"ord-0", "ord-1", "ord-2"}));
  EXPECT_EQ(broker.taken().size(), 5u) << "the two taken in the refused pass, sent again";
}

}  // namespace
}  // namespace choreo::order
