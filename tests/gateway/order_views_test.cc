// The gateway's order views against a real redis-server and a Kafka-protocol broker (librdkafka's
// mock cluster, in process): concurrent writers lose no status (compare-and-set), and the view
// projection applies statuses published while Redis was away or while no projector ran, and
// reports ready only once it has caught up.

#include <atomic>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "choreo/orders/v1/events.pb.h"
#include "contracts/topics/topics.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "gateway/order_cache.h"
#include "gateway/event_feed.h"
#include "gateway/view_projector.h"
#include "gtest/gtest.h"
#include "platform/proto_time/proto_time.h"
#include "saga/codec/event_codec.h"
#include "testing/redis_server.h"
#include "testing/wait.h"

namespace choreo::gateway {
namespace {

using orders::v1::OrderStatus;
using orders::v1::OrderStatusUpdated;

constexpr absl::Duration kWait = absl::Seconds(30);

OrderStatusUpdated Status(const std::string& order_id, OrderStatus status, int64_t at_ms) {
  OrderStatusUpdated update;
  update.mutable_meta()->set_event_id(absl::StrCat(order_id, "/", status));
  update.mutable_meta()->set_schema_version(1);
  update.mutable_meta()->set_correlation_id("corr-" + order_id);
  update.mutable_meta()->set_producer("order");
  *update.mutable_meta()->mutable_occurred_at() = ToProtoTime(absl::FromUnixMillis(at_ms));
  update.set_order_id(order_id);
  update.set_username("una");
  update.set_status(status);
  update.set_previous_status(status == orders::v1::ORDER_STATUS_PENDING_VALIDATION
                                 ? orders::v1::ORDER_STATUS_UNSPECIFIED
                                 : orders::v1::ORDER_STATUS_PENDING_VALIDATION);
  *update.mutable_updated_at() = ToProtoTime(absl::FromUnixMillis(at_ms));
  return update;
}

class OrderViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    cache_ = std::make_unique<OrderCache>(
        redis::RedisConnection::Options{.address = *redis::ParseRedisAddress(redis_->address())},
        2);
  }

  // Starts the broker, with orders.status, and a producer to it.
  void StartBroker() {
    auto cluster = kafka::EmbeddedKafkaCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    ASSERT_TRUE(cluster_->CreateTopic(topics::kOrdersStatus, 4).ok());
    auto producer = kafka::KafkaProducer::Create(
        kafka::ProducerDefaults(cluster_->bootstrap_servers()));
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
    ASSERT_TRUE(codec_.Register<OrderStatusUpdated>().ok());
  }

  void Publish(const OrderStatusUpdated& update) {
    absl::StatusOr<KafkaRecord> record =
        codec_.Encode(update, std::string(topics::kOrdersStatus), update.order_id());
    ASSERT_TRUE(record.ok()) << record.status();
    ASSERT_TRUE(producer_->ProduceAndWait(*record, absl::Seconds(10)).ok());
  }

  std::unique_ptr<ViewProjector> StartProjector() {
    auto projector = std::make_unique<ViewProjector>(
        ViewProjector::Options{.kafka_brokers = cluster_->bootstrap_servers(),
                               .fetch_wait_max_ms = 10},
        *cache_, waiters_);
    EXPECT_TRUE(projector->Start().ok());
    return projector;
  }

  std::optional<v1::Order> View(const std::string& order_id) {
    absl::StatusOr<std::optional<v1::Order>> view =
        cache_->Get(ids::Username("una"), ids::OrderId(order_id));
    return view.ok() ? *view : std::nullopt;
  }

  bool Paid(const std::string& order_id) {
    std::optional<v1::Order> view = View(order_id);
    return view.has_value() && view->status() == orders::v1::ORDER_STATUS_PAID &&
           view->history_size() == 2;
  }

  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<OrderCache> cache_;
  Waiters waiters_{16};
  std::unique_ptr<kafka::EmbeddedKafkaCluster> cluster_;
  std::unique_ptr<kafka::KafkaProducer> producer_;
  codec::EventCodec codec_;
};

TEST_F(OrderViewsTest, ConcurrentWritersOfOneViewLoseNoStatus) {
  constexpr int kOrders = 500;
  std::vector<OrderStatusUpdated> pending, paid;
  for (int i = 0; i < kOrders; ++i) {
    pending.push_back(Status(absl::StrCat("o", i), orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000));
    paid.push_back(Status(absl::StrCat("o", i), orders::v1::ORDER_STATUS_PAID, 2000));
  }
  // Two writers (an instance's feed and the projector, say), each with one status of every
  // order, racing: each view must end with both.
  auto write = [&](const std::vector<OrderStatusUpdated>& updates) {
    for (const OrderStatusUpdated& update : updates) {
      EXPECT_TRUE(cache_->ApplyStatuses({{&update, ids::CorrelationId("c")}}).ok());
    }
  };
  std::thread first(write, std::cref(pending));
  std::thread second(write, std::cref(paid));
  first.join();
  second.join();
  for (int i = 0; i < kOrders; ++i) EXPECT_TRUE(Paid(absl::StrCat("o", i))) << i;
  // Applying again changes nothing.
  absl::StatusOr<std::vector<std::pair<v1::Order, bool>>> again =
      cache_->ApplyStatuses({{&paid[0], ids::CorrelationId("c")}});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->front().second);
}

TEST_F(OrderViewsTest, StatusesMissedWhileRedisOrTheProjectorWasAwayAreApplied) {
  StartBroker();
  std::unique_ptr<ViewProjector> projector = StartProjector();
  ASSERT_TRUE(testing::WaitUntil([&] { return projector->Readiness().ok(); }, kWait))
      << projector->Readiness();

  // Redis goes away while statuses arrive: they are retried, not dropped.
  ASSERT_TRUE(redis_->Stop().ok());
  for (int i = 0; i < 5; ++i) {
    Publish(Status(absl::StrCat("r", i), orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000));
    Publish(Status(absl::StrCat("r", i), orders::v1::ORDER_STATUS_PAID, 2000));
  }
  ASSERT_TRUE(redis_->Restart().ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(testing::WaitUntil([&] { return Paid(absl::StrCat("r", i)); }, kWait)) << i;
  }

  // No projector runs while statuses arrive; the next one resumes where the group stopped and
  // is ready only once it applied them.
  projector->Stop();
  projector.reset();
  for (int i = 0; i < 5; ++i) {
    Publish(Status(absl::StrCat("s", i), orders::v1::ORDER_STATUS_PENDING_VALIDATION, 1000));
    Publish(Status(absl::StrCat("s", i), orders::v1::ORDER_STATUS_PAID, 2000));
  }
  // A client waiting on one of them (its retry after a gateway crash) gets the status from the
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

}  // namespace
}  // namespace choreo::gateway
