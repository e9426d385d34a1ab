// The gateway's order views against a real redis-server and a Kafka-protocol broker (librdkafka's
// mock cluster, in process): concurrent writers lose no change (compare-and-set, the highest
// revision wins), and the view projection applies snapshots published while Redis was away or
// while no projector ran, and reports ready only once it has caught up.

#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "choreo/orders/v1/events.pb.h"
#include "contracts/topics/topics.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "edges/redis/redis_connection.h"
#include "gateway/event_feed.h"
#include "gateway/order_cache.h"
#include "gateway/view_projector.h"
#include "gtest/gtest.h"
#include "platform/proto_time/proto_time.h"
#include "saga/codec/event_codec.h"
#include "testing/redis_server.h"
#include "testing/wait.h"

namespace choreo::gateway {
namespace {

using orders::v1::OrderSnapshot;
using orders::v1::OrderStatus;

constexpr absl::Duration kWait = absl::Seconds(30);

// Order `order_id` of una at revision 1 (PENDING_VALIDATION) or 2 (PAID), as the order service
// publishes it.
OrderSnapshot Snapshot(const std::string& order_id, OrderStatus status, int64_t at_ms) {
  const bool paid = status == orders::v1::ORDER_STATUS_PAID;
  OrderSnapshot snapshot;
  snapshot.mutable_meta()->set_event_id(absl::StrCat(order_id, "/", status));
  snapshot.mutable_meta()->set_schema_version(1);
  snapshot.mutable_meta()->set_correlation_id("corr-" + order_id);
  snapshot.mutable_meta()->set_producer("order");
  *snapshot.mutable_meta()->mutable_occurred_at() = ToProtoTime(absl::FromUnixMillis(at_ms));
  orders::v1::Order& order = *snapshot.mutable_order();
  order.set_order_id(order_id);
  order.set_username("una");
  order.set_correlation_id("corr-" + order_id);
  orders::v1::PricedItem* item = order.add_items();
  item->set_sku("PEN-004");
  item->set_name("Fountain pen");
  item->set_quantity(1);
  for (OrderStatus step : {orders::v1::ORDER_STATUS_PENDING_VALIDATION, status}) {
    orders::v1::StatusChange* change = order.add_history();
    change->set_previous_status(order.status());
    change->set_status(step);
    order.set_status(step);
    if (!paid) break;
  }
  *order.mutable_created_at() = ToProtoTime(absl::FromUnixMillis(1000));
  *order.mutable_updated_at() = ToProtoTime(absl::FromUnixMillis(at_ms));
  order.set_revision(paid ? 2 : 1);
  return snapshot;
}

class OrderViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    cache_ = std::make_unique<OrderCache>(redis_->ConnectionOptions(), 2);
  }

  // Starts the broker, with orders.snapshots, and a producer to it.
  void StartBroker() {
    auto cluster = kafka::EmbeddedKafkaCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    ASSERT_TRUE(cluster_->CreateTopic(topics::kOrdersSnapshots, 4).ok());
    auto producer = kafka::KafkaProducer::Create(
        kafka::ProducerDefaults(cluster_->bootstrap_servers()));
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
    ASSERT_TRUE(codec_.Register<OrderSnapshot>().ok());
  }

  void Publish(const OrderSnapshot& snapshot) {
    absl::StatusOr<KafkaRecord> record =
        codec_.Encode(snapshot, std::string(topics::kOrdersSnapshots), snapshot.order().order_id());
    ASSERT_TRUE(record.ok()) << record.status();
    ASSERT_TRUE(producer_->ProduceAndWait(*record, absl::Seconds(10)).ok());
  }

  std::unique_ptr<ViewProjector> StartProjector() {
    auto projector = std::make_unique<ViewProjector>(
        ViewProjector::Options{.kafka_brokers = cluster_->bootstrap_servers(),
                               .fetch_max_wait = absl::Milliseconds(10)},
        *cache_, waiters_);
    EXPECT_TRUE(projector->Start().ok());
    return projector;
  }

  // una's CreateOrder step for `initial`, alone.
  absl::Status Claim(const v1::Order& initial, const std::string& request_id) {
    absl::StatusOr<std::vector<absl::StatusOr<OrderCache::Claimed>>> claimed =
        cache_->ClaimOrders({{ids::Username("una"), request_id, "fingerprint", &initial}});
    if (!claimed.ok()) return claimed.status();
    return claimed->front().status();
  }

  std::optional<v1::Order> View(const std::string& order_id) {
    absl::StatusOr<std::optional<v1::Order>> view =
        cache_->Get(ids::Username("una"), ids::OrderId(order_id));
    return view.ok() ? *view : std::nullopt;
  }

  bool Paid(const std::string& order_id) {
    std::optional<v1::Order> view = View(order_id);
    return view.has_value() && view->status() == orders::v1::ORDER_STATUS_PAID &&
           view->history_size() == 2 && view->revision() == 2 &&
           view->items(0).name() == "Fountain pen";
  }

  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<OrderCache> cache_;
  Waiters waiters_{16};
  std::unique_ptr<kafka::EmbeddedKafkaCluster> cluster_;
  std::unique_ptr<kafka::KafkaProducer> producer_;
  codec::EventCodec codec_;
};

TEST_F(OrderViewsTest, ConcurrentWritersOfOneViewLoseNoChange) {
  constexpr int kOrders = 500;
  std::vector<OrderSnapshot> pending, paid;
  for (int i = 0; i < kOrders; ++i) {
    pending.push_back(
        Snapshot(absl::StrCat("o", i), orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000));
    paid.push_back(Snapshot(absl::StrCat("o", i), orders::v1::ORDER_STATUS_PAID, 2000));
  }
  // Two writers (an instance's feed and the projector, say), each with one snapshot of every
  // order, racing: each view must end at the newer.
  auto write = [&](const std::vector<OrderSnapshot>& snapshots) {
    for (const OrderSnapshot& snapshot : snapshots) {
      EXPECT_TRUE(cache_->ApplySnapshots({&snapshot.order()}).ok());
    }
  };
  std::thread first(write, std::cref(pending));
  std::thread second(write, std::cref(paid));
  first.join();
  second.join();
  for (int i = 0; i < kOrders; ++i) EXPECT_TRUE(Paid(absl::StrCat("o", i))) << i;
  // Applying again changes nothing.
  absl::StatusOr<std::vector<std::pair<v1::Order, bool>>> again =
      cache_->ApplySnapshots({&paid[0].order()});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->front().second);
}

// A batch of CreateOrder claims in one round trip, each decided as it would be alone: a new
// order's view is written, the same request again (in the same batch) finds it, the same id
// with another body is refused, an order whose saga already ended is returned as stored, and a
// claim Redis answers with an error fails alone.
TEST_F(OrderViewsTest, ClaimsInOneBatchAreEachDecidedAsAlone) {
  auto order = [](const std::string& id) {
    v1::Order view;
    view.set_order_id(id);
    view.set_request_id("req-" + id);
    *view.mutable_created_at() = ToProtoTime(absl::FromUnixMillis(1000));
    return view;
  };
  const v1::Order b1 = order("b1"), b2 = order("b2"), b3 = order("b3");
  ASSERT_TRUE(
      cache_->ApplySnapshots({&Snapshot("b3", orders::v1::ORDER_STATUS_PAID, 2000).order()}).ok());
  const ids::Username una("una");
  absl::StatusOr<std::vector<absl::StatusOr<OrderCache::Claimed>>> claimed =
      cache_->ClaimOrders({{una, "req-b1", "fp-b1", &b1},
                           {una, "req-b1", "fp-b1", &b1},
                           {una, "req-b1", "another body", &b2},
                           {una, "req-b3", "fp-b3", &b3}});
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 4u);
  ASSERT_TRUE((*claimed)[0].ok()) << (*claimed)[0].status();
  EXPECT_FALSE((*claimed)[0]->existed);
  EXPECT_EQ((*claimed)[0]->view.order_id(), "b1");
  ASSERT_TRUE((*claimed)[1].ok()) << (*claimed)[1].status();
  EXPECT_TRUE((*claimed)[1]->existed) << "the same request again joins the first";
  EXPECT_TRUE(absl::IsInvalidArgument((*claimed)[2].status())) << (*claimed)[2].status();
  ASSERT_TRUE((*claimed)[3].ok()) << (*claimed)[3].status();
  EXPECT_TRUE((*claimed)[3]->existed);
  EXPECT_EQ((*claimed)[3]->view.status(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_EQ(View("b1")->request_id(), "req-b1");
  EXPECT_FALSE(View("b2").has_value()) << "a refused claim writes nothing";

  // One claim that Redis answers with an error (its user's order index is no sorted set) fails
  // alone: the others in its batch are claimed.
  redis::RedisConnection raw(redis_->ConnectionOptions());
  ASSERT_TRUE(raw.Command({"SET", "gw:orders:{broken}", "not a sorted set"}).ok());
  const v1::Order b4 = order("b4"), b5 = order("b5");
  claimed = cache_->ClaimOrders(
      {{ids::Username("broken"), "req-b4", "fp-b4", &b4}, {una, "req-b5", "fp-b5", &b5}});
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_TRUE(absl::IsUnavailable((*claimed)[0].status())) << (*claimed)[0].status();
  ASSERT_TRUE((*claimed)[1].ok()) << (*claimed)[1].status();
  EXPECT_FALSE((*claimed)[1]->existed);
}

// The view write decides in Redis on the stored view's revision (gateway::ApplySnapshot's rule):
// a claim (revision 0) or an older view is replaced, a newer one kept, an equal one replaced only
// by a reprojection that differs; revisions past one varint byte compare as numbers.
TEST_F(OrderViewsTest, TheStoredRevisionDecidesWhatIsWritten) {
  v1::Order claim;
  claim.set_order_id("r1");
  claim.set_request_id("req-r1");
  *claim.mutable_created_at() = ToProtoTime(absl::FromUnixMillis(1000));
  ASSERT_TRUE(Claim(claim, "req-r1").ok());
  auto apply = [&](const OrderSnapshot& snapshot, SnapshotRule rule = SnapshotRule::kNewer) {
    absl::StatusOr<std::vector<std::pair<v1::Order, bool>>> result =
        cache_->ApplySnapshots({&snapshot.order()}, rule);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->front() : std::pair<v1::Order, bool>{};
  };
  OrderSnapshot created = Snapshot("r1", orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000);
  EXPECT_TRUE(apply(created).second) << "a claim gives way to the first snapshot";
  EXPECT_EQ(View("r1")->status(), orders::v1::ORDER_STATUS_PENDING_VALIDATION);

  OrderSnapshot newer = Snapshot("r1", orders::v1::ORDER_STATUS_PAID, 2000);
  newer.mutable_order()->set_revision(300);  // two varint bytes
  OrderSnapshot older = newer;
  older.mutable_order()->set_revision(299);
  older.mutable_order()->set_status(orders::v1::ORDER_STATUS_CANCELLED);
  EXPECT_TRUE(apply(newer).second);
  const std::pair<v1::Order, bool> kept = apply(older);
  EXPECT_FALSE(kept.second) << "an older snapshot never overwrites a newer view";
  EXPECT_EQ(kept.first.revision(), 300) << "the result is the view as stored";
  EXPECT_FALSE(apply(newer).second) << "the same snapshot again changes nothing";

  OrderSnapshot corrected = newer;
  corrected.mutable_order()->set_reason("reprojected");
  EXPECT_FALSE(apply(corrected).second) << "an equal revision is kept, unless reprojecting";
  EXPECT_TRUE(apply(corrected, SnapshotRule::kReproject).second);
  EXPECT_EQ(View("r1")->reason(), "reprojected");
  EXPECT_FALSE(apply(corrected, SnapshotRule::kReproject).second) << "nothing differs";

  // Two snapshots of one order in one batch: one write, each result in order.
  OrderSnapshot next = newer, last = newer;
  next.mutable_order()->set_revision(301);
  last.mutable_order()->set_revision(302);
  absl::StatusOr<std::vector<std::pair<v1::Order, bool>>> batch =
      cache_->ApplySnapshots({&next.order(), &last.order(), &older.order()});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_TRUE((*batch)[0].second);
  EXPECT_EQ((*batch)[0].first.revision(), 301);
  EXPECT_TRUE((*batch)[1].second);
  EXPECT_FALSE((*batch)[2].second);
  EXPECT_EQ((*batch)[2].first.revision(), 302);
  EXPECT_EQ(View("r1")->revision(), 302);
  EXPECT_EQ(View("r1")->request_id(), "") << "the snapshot's view, not the claim's";
}

// MayChange: what this process saw stored needs no second write; another process's writes, a
// newer revision and a claim still do, and a failed Redis call forgets everything.
TEST_F(OrderViewsTest, WhatThisProcessSawStoredNeedsNoSecondWrite) {
  const OrderSnapshot pending = Snapshot("m1", orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000);
  const OrderSnapshot paid = Snapshot("m1", orders::v1::ORDER_STATUS_PAID, 2000);
  const std::vector<const orders::v1::Order*> both = {&pending.order(), &paid.order()};
  using Orders = std::vector<const orders::v1::Order*>;
  EXPECT_EQ(cache_->MayChange(both), both) << "nothing is known yet";

  ASSERT_TRUE(cache_->ApplySnapshots({&pending.order()}).ok());
  EXPECT_EQ(cache_->MayChange(both), Orders{&paid.order()});
  ASSERT_TRUE(cache_->ApplySnapshots({&paid.order()}).ok());
  EXPECT_EQ(cache_->MayChange(both), Orders{});
  // Applying an older snapshot teaches the stored revision too.
  OrderCache other(redis_->ConnectionOptions(), 1);
  EXPECT_EQ(other.MayChange(both), both) << "another process knows nothing of these writes";
  ASSERT_TRUE(other.ApplySnapshots({&pending.order()}).ok());
  EXPECT_EQ(other.MayChange(both), Orders{}) << "it read revision 2 stored";

  // A claim (revision 0) is replaced by every snapshot.
  v1::Order claim;
  claim.set_order_id("m2");
  ASSERT_TRUE(Claim(claim, "req-m2").ok());
  const OrderSnapshot m2 = Snapshot("m2", orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000);
  EXPECT_EQ(cache_->MayChange({&m2.order()}), Orders{&m2.order()});

  // A failed call (Redis away: a failover may have lost writes) forgets what was seen.
  ASSERT_TRUE(redis_->Stop().ok());
  EXPECT_FALSE(cache_->Get(ids::Username("una"), ids::OrderId("m1")).ok());
  ASSERT_TRUE(redis_->Restart().ok());
  EXPECT_EQ(cache_->MayChange(both), both);
}

// The projector does not write again what this process's feed wrote: a view removed behind the
// cache's back after the feed wrote it stays removed, and a second process's projector (which
// did not see it written) puts it back.
TEST_F(OrderViewsTest, TheProjectorDoesNotWriteAgainWhatThisProcessWrote) {
  StartBroker();
  const OrderSnapshot fed = Snapshot("f0", orders::v1::ORDER_STATUS_PAID, 2000);
  ASSERT_TRUE(cache_->ApplySnapshots({&fed.order()}).ok());  // as the feed does
  redis::RedisConnection raw(redis_->ConnectionOptions());
  ASSERT_TRUE(raw.Command({"DEL", "gw:order:{una}:f0"}).ok());
  Publish(fed);
  Publish(Snapshot("f1", orders::v1::ORDER_STATUS_PAID, 2000));
  std::unique_ptr<ViewProjector> projector = StartProjector();
  ASSERT_TRUE(testing::WaitUntil([&] { return projector->Readiness().ok(); }, kWait))
      << projector->Readiness();
  EXPECT_TRUE(Paid("f1")) << "a snapshot this process never wrote is written";
  EXPECT_FALSE(View("f0").has_value()) << "the feed's write was not repeated";
  projector.reset();

  cache_ = std::make_unique<OrderCache>(redis_->ConnectionOptions(), 2);
  auto elsewhere = std::make_unique<ViewProjector>(
      ViewProjector::Options{.kafka_brokers = cluster_->bootstrap_servers(),
                             .group_id = "choreo-gateway-views-elsewhere",
                             .fetch_max_wait = absl::Milliseconds(10)},
      *cache_, waiters_);
  ASSERT_TRUE(elsewhere->Start().ok());
  EXPECT_TRUE(testing::WaitUntil([&] { return Paid("f0"); }, kWait));
  elsewhere->Stop();
}

TEST_F(OrderViewsTest, ChangesMissedWhileRedisOrTheProjectorWasAwayAreApplied) {
  StartBroker();
  std::unique_ptr<ViewProjector> projector = StartProjector();
  ASSERT_TRUE(testing::WaitUntil([&] { return projector->Readiness().ok(); }, kWait))
      << projector->Readiness();

  // Redis goes away while snapshots arrive: they are retried, not dropped.
  ASSERT_TRUE(redis_->Stop().ok());
  for (int i = 0; i < 5; ++i) {
    Publish(Snapshot(absl::StrCat("r", i), orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000));
    Publish(Snapshot(absl::StrCat("r", i), orders::v1::ORDER_STATUS_PAID, 2000));
  }
  ASSERT_TRUE(redis_->Restart().ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(testing::WaitUntil([&] { return Paid(absl::StrCat("r", i)); }, kWait)) << i;
  }

  // No projector runs while snapshots arrive; the next one resumes where the group stopped and
  // is ready only once it applied them.
  projector->Stop();
  projector.reset();
  for (int i = 0; i < 5; ++i) {
    Publish(Snapshot(absl::StrCat("s", i), orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000));
    Publish(Snapshot(absl::StrCat("s", i), orders::v1::ORDER_STATUS_PAID, 2000));
  }
  // A client waiting on one of them (its retry after a gateway crash) gets the order from the
  // projector: this instance's own feed never saw it.
  std::atomic<int> answered{0};
  ASSERT_TRUE(waiters_
                  .Add(OrderWaitKey(ids::OrderId("s0")), absl::Now() + kWait,
                       [&](const v1::Order& view) {
                         if (view.status() != orders::v1::ORDER_STATUS_PAID) return false;
                         ++answered;
                         return true;
                       },
                       [] {})
                  .ok());
  projector = StartProjector();
  ASSERT_TRUE(testing::WaitUntil([&] { return projector->Readiness().ok(); }, kWait))
      << projector->Readiness();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Paid(absl::StrCat("s", i))) << i;
  EXPECT_EQ(answered.load(), 1);
}

// The instance's own feed writes first the views a call may be answered with: a terminal one
// (CreateOrder's answer), and every one of an order a WatchOrder streams. An order's pending
// states, which no call waits for, it only hands over; they are the projector's to write.
TEST_F(OrderViewsTest, TheFeedWritesTheViewsACallMayBeAnsweredWith) {
  StartBroker();
  // The feed's other topics (the producer's start-up metadata request may have made them).
  for (absl::string_view topic : {topics::kOrdersStatus, topics::kBillingAccounts}) {
    absl::Status created = cluster_->CreateTopic(topic, 4);
    ASSERT_TRUE(created.ok() || absl::StrContains(created.message(), "already exists")) << created;
  }
  EventFeed feed({.kafka_brokers = cluster_->bootstrap_servers(), .instance_id = "feed-test"},
                 *cache_, waiters_);
  ASSERT_TRUE(feed.Start(kWait).ok());
  // What the feed hands over, by order: a creating call's waiter sees every status.
  absl::Mutex mu;
  std::map<std::string, std::vector<OrderStatus>> seen;
  const auto listen = [&](const WaitKey<v1::Order>& key, const std::string& order_id) {
    ASSERT_TRUE(waiters_
                    .Add(
                        key, absl::Now() + kWait,
                        [&, order_id](const v1::Order& view) {
                          absl::MutexLock lock(&mu);
                          seen[order_id].push_back(view.status());
                          return IsTerminal(view.status());
                        },
                        [] {})
                    .ok());
  };
  const auto saw = [&](const std::string& order_id, size_t count) {
    return testing::WaitUntil(
        [&] {
          absl::MutexLock lock(&mu);
          return seen[order_id].size() == count;
        },
        kWait);
  };
  listen(OrderWaitKey(ids::OrderId("p0")), "p0");
  listen(WatchWaitKey(ids::OrderId("w0")), "w0");

  Publish(Snapshot("p0", orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000));
  Publish(Snapshot("w0", orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000));
  ASSERT_TRUE(saw("p0", 1));
  ASSERT_TRUE(saw("w0", 1));
  EXPECT_FALSE(View("p0").has_value()) << "a pending view no call is answered with";
  ASSERT_TRUE(View("w0").has_value()) << "a watched order's every view";
  EXPECT_EQ(View("w0")->status(), orders::v1::ORDER_STATUS_PENDING_VALIDATION);

  Publish(Snapshot("p0", orders::v1::ORDER_STATUS_PAID, 2000));
  ASSERT_TRUE(saw("p0", 2));
  EXPECT_TRUE(Paid("p0")) << "written before the call got it";
  feed.Stop();
}

}  // namespace
}  // namespace choreo::gateway
