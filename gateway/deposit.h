#pragma once

// DepositFlow: the gateway's Deposit. Validates the request, claims its request id for the
// caller (the same id with another body is INVALID_ARGUMENT), listens for billing's
// FundsDeposited, publishes DepositRequested and answers with the balance after it:
// FAILED_PRECONDITION with billing's reason when refused; DEADLINE_EXCEEDED (bounded by the
// client's deadline and `max_wait`) leaves the deposit in progress, and a retry with the same
// request id learns its outcome.
//
// Thread-safe. The reactor never blocks: Redis work runs on the WorkPool (RESOURCE_EXHAUSTED
// when it is full), the wait is a Waiters entry. The dependencies must outlive every call.

#include "absl/time/time.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "gateway/auth.h"
#include "gateway/command_publisher.h"
#include "gateway/order_cache.h"
#include "gateway/waiters.h"
#include "gateway/work_pool.h"
#include "grpcpp/grpcpp.h"

namespace choreo::gateway {

class DepositFlow {
 public:
  struct Deps {
    OrderCache& cache;  // the request id's claim
    Waiters& waiters;
    WorkPool& pool;
    const publish::Publisher& publisher;
    absl::Duration max_wait = absl::Seconds(30);
  };
  explicit DepositFlow(Deps deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* Deposit(grpc::CallbackServerContext* context, const Caller& caller,
                                    const gateway::v1::DepositRequest& request,
                                    gateway::v1::DepositResponse* response);

 private:
  const Deps deps_;
};

}  // namespace choreo::gateway
