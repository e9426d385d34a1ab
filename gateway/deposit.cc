#include "gateway/deposit.h"

#include <memory>
#include <string>

#include "choreo/billing/v1/events.pb.h"
#include "gateway/client_call.h"
#include "gateway/core/gateway_rules.h"
#include "gateway/event_feed.h"
#include "gateway/grpc_status.h"
#include "gateway/reactor_once.h"
#include "platform/proto_time/proto_time.h"
#include "saga/service/grpc_metadata.h"
#include "contracts/topics/topics.h"

namespace choreo::gateway {

grpc::ServerUnaryReactor* DepositFlow::Deposit(grpc::CallbackServerContext* context,
                                               const Caller& caller,
                                               const gateway::v1::DepositRequest& request,
                                               gateway::v1::DepositResponse* response) {
  if (absl::Status valid = ValidateDeposit(request); !valid.ok()) {
    return Refuse(context, ToGrpc(valid));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  const absl::Time deadline = WaitDeadline(*context, deps_.max_wait);
  const std::string traceparent = service::MetadataValue(*context, "traceparent");
  // The work owns a copy of the request: the call can end (its deadline) while the work runs.
  if (!deps_.pool.Submit([this, once, request = std::make_shared<const gateway::v1::DepositRequest>(request),
                          response, user = caller.username, deadline, traceparent] {
        const SagaIds<ids::Username> saga = DepositSagaIds(user, *request);
        if (absl::Status claimed = deps_.cache.ClaimRequest(user, "deposit", request->request_id(),
                                                            saga.fingerprint);
            !claimed.ok()) {
          return once->Finish(ToGrpc(claimed));
        }
        absl::StatusOr<uint64_t> waiter = deps_.waiters.Add(
            DepositWaitKey(saga.correlation_id), deadline,
            [once, request, response](const billing::v1::FundsDeposited& result) {
              if (!result.success()) {
                once->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                          result.failure_reason()));
              } else {
                once->FinishWith([&] {
                  response->set_request_id(request->request_id());
                  *response->mutable_balance() = result.balance_after();
                });
              }
              return true;
            },
            [once] {
              once->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                        "the deposit is still in progress; retry with the same "
                                        "request_id to learn its outcome"));
            });
        if (!waiter.ok()) return once->Finish(ToGrpc(waiter.status()));
        billing::v1::DepositRequested event;
        event.set_request_id(request->request_id());
        event.set_username(user.value());
        *event.mutable_amount() = request->amount();
        *event.mutable_requested_at() = ToProtoTime(absl::Now());
        publish::Origin origin = publish::Origin::Command(saga.correlation_id, traceparent);
        origin.event_id = saga.event_id;
        PublishCommand(deps_.publisher, event, topics::kBillingDeposits, user.value(), origin,
                       [waiters = &deps_.waiters, once, id = *waiter](absl::Status error) {
                         if (waiters->Remove(id)) once->Finish(ToGrpc(error));
                       });
      })) {
    once->Finish(Busy());
  }
  return reactor;
}

}  // namespace choreo::gateway
