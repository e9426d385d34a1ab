#pragma once

// The order service's wiring: its decisions (core/) registered with the saga runtime, its
// admin gRPC API, and the deadline scanner that expires orders nobody paid for.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "choreo/orders/v1/admin.grpc.pb.h"
#include "saga/kafka/kafka_producer.h"
#include "saga/redis/redis_connection.h"
#include "saga/runtime/handler_registry.h"
#include "saga/runtime/saga_runtime.h"
#include "saga/store/redis_aggregate_store.h"
#include "services/order/core/catalog.h"
#include "services/order/core/order_decisions.h"

namespace choreo::order {

inline constexpr char kService[] = "order";
inline constexpr char kAggregate[] = "order";  // Redis: state:{order.order:<order id>}

// orders.requests, billing.payments, orders.deadlines.
std::vector<std::string> OrderTopics();

// The handlers of every event the order service consumes. `catalog` must outlive the registry.
absl::StatusOr<saga::HandlerRegistry> OrderRegistry(const Catalog& catalog, OrderPolicy policy);

// OrderAdmin: GetOrder reads the aggregate from Redis; ListCatalog returns the catalog.
// Sync gRPC API: its handlers block on Redis on gRPC's sync thread pool, one connection, guarded.
class OrderAdminService final : public orders::v1::OrderAdmin::Service {
 public:
  OrderAdminService(const Catalog& catalog, redis::RedisConnection::Options redis);
  grpc::Status GetOrder(grpc::ServerContext* context, const orders::v1::GetOrderRequest* request,
                        orders::v1::Order* response) override;
  grpc::Status ListCatalog(grpc::ServerContext* context,
                           const orders::v1::ListCatalogRequest* request,
                           orders::v1::ListCatalogResponse* response) override;

 private:
  const Catalog& catalog_;
  absl::Mutex mu_;
  store::RedisAggregateStore store_ ABSL_GUARDED_BY(mu_);
};

// DeadlineScanner: keeps the deadlines of pending orders in a Redis sorted set
// (order:deadlines, member "<order id> <correlation id>", score = deadline in ms): added when an
// order's OrderCreated is published, removed when its terminal status is. Every `interval` it
// publishes OrderDeadlinePassed (event id derived from the order id, so several scanners or a
// restart produce duplicates the runtime dedupes) for members past due, then removes them.
// It is the runtime's SagaObserver; OnPublished is thread-safe.
class DeadlineScanner final : public saga::SagaObserver {
 public:
  struct Options {
    redis::RedisConnection::Options redis;
    std::string kafka_brokers;
    absl::Duration expiry = absl::Seconds(30);
    absl::Duration interval = absl::Milliseconds(250);
  };
  explicit DeadlineScanner(Options options);
  ~DeadlineScanner() override;

  absl::Status Start();
  void Stop() noexcept;
  void OnPublished(const KafkaRecord& record) override;

  // One pass: publishes OrderDeadlinePassed for every member due at `now`. Returns how many.
  absl::StatusOr<int> ScanOnce(absl::Time now);

 private:
  const Options options_;
  absl::Mutex index_mu_;
  redis::RedisConnection index_ ABSL_GUARDED_BY(index_mu_);
  redis::RedisConnection scan_;  // scanner thread only
  std::unique_ptr<kafka::KafkaProducer> producer_;
  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread thread_;
};

}  // namespace choreo::order
