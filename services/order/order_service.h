#pragma once

// The order service's wiring: its decisions (core/) registered with the saga runtime, the
// deadline index written after each commit, its admin gRPC API, and the deadline scanner that
// expires orders nobody paid for.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "choreo/orders/v1/admin.grpc.pb.h"
#include "edges/redis/redis_connection.h"
#include "edges/redis/redis_pool.h"
#include "edges/redis/sharded_schedule.h"
#include "saga/publish/publisher.h"
#include "saga/runtime/handler_registry.h"
#include "saga/runtime/saga_runtime.h"
#include "saga/store/redis_aggregate_store.h"
#include "services/order/core/catalog.h"
#include "services/order/core/deadline_index.h"
#include "services/order/core/order_decisions.h"

namespace choreo::order {

inline constexpr char kService[] = "order";
inline constexpr char kAggregate[] = "order";  // Redis: state:{order.order:<order id>}
// The order `order_id` in the store (its type is "<service>.<aggregate>").
store::AggregateRef OrderAggregate(const std::string& order_id);

// orders.requests, billing.payments, orders.deadlines, orders.cancellations.
std::vector<std::string> OrderTopics();

// The deadlines of pending orders: a schedule sharded by order id over 16 sorted sets
// "order:deadlines:{order:deadlines:<n>}", member "<order id> <correlation id> <traceparent>",
// score = deadline in ms (core/deadline_index.h); the unsharded "order:deadlines" of earlier
// releases is still scanned.
redis::ShardedSchedule DeadlineSchedule();

// DeadlineIndex: adds the orders that await their deadline (core/deadline_index.h) to
// DeadlineSchedule(). Apply() is called with each order as committed: a pending order is added,
// its member (DeadlineMember) the same whatever the order's state; any other order costs
// nothing (its entry, if any, is the scanner's to drop when due). Idempotent, so the runtime
// repeats it freely; Redis failures are UNAVAILABLE, for the runtime to retry. Thread-safe.
class DeadlineIndex {
 public:
  DeadlineIndex(redis::RedisConnection::Options redis, int connections);
  // Adds each order that awaits its deadline, in one round trip (none when no order does);
  // set-like, so repeating it is harmless.
  absl::Status Apply(const std::vector<orders::v1::Order>& orders);

 private:
  redis::RedisPool pool_;
  const redis::ShardedSchedule schedule_;
};

// The handlers of every event the order service consumes; after each commit the order's entry in
// `index` is brought up to date (the runtime retries it until it is). `catalog` and `index` must
// outlive the registry.
absl::StatusOr<saga::HandlerRegistry> OrderRegistry(const Catalog& catalog, OrderPolicy policy,
                                                    DeadlineIndex* index);

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

// DeadlineScanner: every `interval`, reads the orders of the deadline index's members past due
// (one round trip). It publishes OrderDeadlinePassed for each order that has not settled
// (SettledBeforeDeadline: pending, missing, unreadable, or of a status it does not know; every
// one when the states cannot be read), all of a pass's events together with one wait for their
// acknowledgements, then removes the members it is done with in one round trip: those published
// and those of settled orders. When Kafka refuses any of a pass's events, all its unsettled
// orders wait for the next pass (published again: duplicates); settled ones are still removed;
// the next pass then sends one event only, a probe, and the one after it the rest. The
// handler, not the scanner, decides whether an order expires: the scanner only spares settled
// orders an event. The event id is derived from the order id, so several scanners or a restart
// produce duplicates the runtime dedupes; it joins the order's saga (correlation id) and trace
// (the member's traceparent, when it has one).
class DeadlineScanner {
 public:
  struct Options {
    redis::RedisConnection::Options redis;
    const publish::Publisher* publisher = nullptr;  // not owned
    absl::Duration interval = absl::Milliseconds(250);
    std::function<absl::Time()> clock = [] { return absl::Now(); };  // what "due" is judged by
    // After every pass: how many orders past their deadline it left in the index (due, not
    // settled, and not confirmed published by the pass, as when Kafka refuses or the pass only
    // probes); 0 after a pass that published all,
    // and on an instance that does not hold the lease. Null: not told.
    std::function<void(int overdue)> after_pass;
  };
  explicit DeadlineScanner(Options options);
  ~DeadlineScanner();

  absl::Status Start();
  void Stop() noexcept;

  // One pass: publishes OrderDeadlinePassed for every member due at `now` whose order has not
  // settled, and drops the rest, if this instance holds the schedule's lease (one order service
  // instance scans at a time). Returns how many it published.
  absl::StatusOr<int> ScanOnce(absl::Time now);

 private:
  // ScanOnce, but the lease kept on failure; `*overdue`: the due entries of orders that had not
  // settled and were not confirmed published.
  absl::StatusOr<int> PublishDue(absl::Time now, int* overdue);
  // For each entry, whether its order is stored and settled (SettledBeforeDeadline), from one
  // round trip; all false when the states cannot be read.
  std::vector<bool> SettledOrders(const std::vector<DeadlineEntry>& entries);
  // The entry's OrderDeadlinePassed, stamped for the pass's one send.
  absl::StatusOr<publish::StampedEvent> DeadlinePassed(const DeadlineEntry& entry) const;
  const Options options_;
  redis::RedisConnection scan_;        // scanner thread only
  store::RedisAggregateStore orders_;  // scanner thread only: the due orders' states
  const redis::ShardedSchedule schedule_;
  const std::string holder_;  // this instance, to the schedule's lease
  bool last_pass_refused_ = false;  // scanner thread only: the next pass probes with one event
  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread thread_;
};

}  // namespace choreo::order
