#pragma once

// CreateOrderFlow: the gateway's CreateOrder. Validates the request, claims its request id in the
// cache, listens for the order's status, publishes OrderCreationRequested and answers with the
// saga's terminal status, bounded by the client's deadline and `max_wait` (DEADLINE_EXCEEDED
// then leaves the saga running). A retry with the same request id joins the same saga; a retry
// after its end is answered from the cache; the same id with another body is INVALID_ARGUMENT.
//
// Thread-safe. The reactor never blocks: Redis work runs on the WorkPool (RESOURCE_EXHAUSTED
// when it is full), the wait is a Waiters entry. Calls are claimed in batches (PoolBatches):
// those that queued while the pool's threads were busy share one Redis round trip. The dependencies
// must outlive every call.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "gateway/auth.h"
#include "gateway/command_publisher.h"
#include "gateway/order_cache.h"
#include "gateway/pool_batches.h"
#include "gateway/waiters.h"
#include "gateway/work_pool.h"
#include "grpcpp/grpcpp.h"
#include "platform/metrics/metrics.h"

namespace choreo::gateway {

// The gateway's view of whole sagas, from CreateOrder's side (each saga counted once, by the
// instance its client called):
//   choreo_sagas_completed_total{outcome}   outcome: the terminal status (paid,
//                                           insufficient_funds, rejected, expired, cancelled)
//                                           or timeout
//   choreo_saga_duration_seconds{outcome}   from CreateOrder's arrival to the terminal status
// Thread-safe.
class SagaOutcomeMetrics {
 public:
  explicit SagaOutcomeMetrics(metrics::Metrics& metrics);
  void Record(absl::string_view outcome, absl::Duration took);

 private:
  metrics::Family<prometheus::Counter>& completed_;
  metrics::Family<prometheus::Histogram>& duration_;
};

class CreateOrderFlow {
 public:
  struct Deps {
    OrderCache& cache;
    Waiters& waiters;
    WorkPool& pool;
    const publish::Publisher& publisher;
    SagaOutcomeMetrics* saga_metrics = nullptr;  // null: outcomes are not recorded
    absl::Duration max_wait = absl::Seconds(30);  // the server's limit on the wait
  };
  explicit CreateOrderFlow(Deps deps)
      : deps_(deps),
        claims_(deps.pool, kMaxClaimBatch,
                [this](std::vector<std::shared_ptr<const Call>>& calls) { Run(calls); }) {}

  // Answers on the returned reactor; `response` must live until it finishes (gRPC's promise).
  grpc::ServerUnaryReactor* CreateOrder(grpc::CallbackServerContext* context, const Caller& caller,
                                        const gateway::v1::CreateOrderRequest& request,
                                        gateway::v1::Order* response);

 private:
  struct Call;
  // The most calls whose claims share one Redis round trip.
  static constexpr size_t kMaxClaimBatch = 64;
  // Claims a batch of calls (PoolBatches), then continues each.
  void Run(std::vector<std::shared_ptr<const Call>>& calls);
  absl::StatusOr<uint64_t> Listen(const std::shared_ptr<const Call>& call);
  // After its claim: answers a refused, failed or finished call, publishes the others.
  void Continue(const Call& call, uint64_t waiter, absl::StatusOr<OrderCache::Claimed> claimed);
  void Publish(const Call& call, uint64_t waiter);

  const Deps deps_;
  PoolBatches<std::shared_ptr<const Call>> claims_;
};

}  // namespace choreo::gateway
