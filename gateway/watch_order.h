#pragma once

// WatchOrderFlow: the gateway's WatchOrder. Streams the order's current status, then each change,
// and ends after a terminal status, at the client's deadline (at most an hour:
// DEADLINE_EXCEEDED), or when the client cancels. Another user's order is NOT_FOUND.
//
// Thread-safe. The stream's reactor never blocks (Redis reads run on the WorkPool,
// RESOURCE_EXHAUSTED when it is full) and is deleted by gRPC once done, after dropping its
// waiter. The dependencies must outlive every stream.

#include "choreo/gateway/v1/gateway.pb.h"
#include "gateway/auth.h"
#include "gateway/order_cache.h"
#include "gateway/waiters.h"
#include "gateway/work_pool.h"
#include "grpcpp/grpcpp.h"

namespace choreo::gateway {

class WatchOrderFlow {
 public:
  struct Deps {
    OrderCache& cache;
    Waiters& waiters;
    WorkPool& pool;
  };
  explicit WatchOrderFlow(Deps deps) : deps_(deps) {}

  grpc::ServerWriteReactor<gateway::v1::OrderStatusChange>* WatchOrder(
      grpc::CallbackServerContext* context, const Caller& caller,
      const gateway::v1::WatchOrderRequest& request);

 private:
  const Deps deps_;
};

}  // namespace choreo::gateway
