#pragma once

// CancelOrderFlow: the gateway's CancelOrder. Validates the request, finds the caller's order
// (OrderQueries::FindOrder: NOT_FOUND for none or another user's), claims the request id for the
// caller (the same id with another order or reason is INVALID_ARGUMENT), listens for the
// cancellation's outcome, publishes OrderCancellationRequested on orders.cancellations (key: the
// order id; correlation id: the order's saga) and answers:
//   - the order's view once the cancellation reached a terminal status: CANCELLED (it was
//     pending) or REFUNDED (it was paid, and billing credited its total back);
//   - FAILED_PRECONDITION with the order service's reason when it refused (the order's status
//     cannot be cancelled, or another request cancelled it), or at once when the order has no
//     status yet (its creation is still on its way to the order service);
//   - DEADLINE_EXCEEDED (bounded by the client's deadline and `max_wait`), leaving the
//     cancellation running.
// The order aggregate decides; the gateway only checks ownership, so that no cancellation of
// another user's order is ever published. A retry with the same request id publishes the same
// event again: the order service's de-duplication re-publishes the outcome it stored, which
// answers the retry and moves no money.
//
// Thread-safe. The reactor never blocks: Redis work runs on the WorkPool (RESOURCE_EXHAUSTED
// when it is full), the wait is a Waiters entry. The dependencies must outlive every call.

#include <memory>

#include "absl/time/time.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "gateway/auth.h"
#include "gateway/command_publisher.h"
#include "gateway/order_cache.h"
#include "gateway/order_queries.h"
#include "gateway/waiters.h"
#include "gateway/work_pool.h"
#include "grpcpp/grpcpp.h"

namespace choreo::gateway {

class CancelOrderFlow {
 public:
  struct Deps {
    OrderCache& cache;  // the request id's claim
    OrderQueries& queries;
    Waiters& waiters;
    WorkPool& pool;
    const publish::Publisher& publisher;
    absl::Duration max_wait = absl::Seconds(30);
  };
  explicit CancelOrderFlow(Deps deps) : deps_(deps) {}

  // Answers on the returned reactor; `response` must live until it finishes (gRPC's promise).
  grpc::ServerUnaryReactor* CancelOrder(grpc::CallbackServerContext* context, const Caller& caller,
                                        const gateway::v1::CancelOrderRequest& request,
                                        gateway::v1::Order* response);

 private:
  struct Call;
  // After the order was found: claims, listens, publishes. Runs on the WorkPool.
  void Cancel(const std::shared_ptr<const Call>& call, const gateway::v1::Order& order);

  const Deps deps_;
};

}  // namespace choreo::gateway
