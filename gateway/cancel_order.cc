#include "gateway/cancel_order.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "choreo/orders/v1/events.pb.h"
#include "contracts/topics/topics.h"
#include "gateway/client_call.h"
#include "gateway/core/gateway_rules.h"
#include "gateway/event_feed.h"
#include "gateway/grpc_status.h"
#include "gateway/reactor_once.h"
#include "platform/proto_time/proto_time.h"
#include "saga/service/grpc_metadata.h"

namespace choreo::gateway {

// One CancelOrder call, from the pool's thread to its answer. It owns a copy of the request: the
// call can end (its deadline) while the work runs.
struct CancelOrderFlow::Call {
  std::shared_ptr<Once> once;
  gateway::v1::CancelOrderRequest request;
  gateway::v1::Order* response;
  Caller caller;
  absl::Time deadline;
  std::string traceparent;
};

grpc::ServerUnaryReactor* CancelOrderFlow::CancelOrder(
    grpc::CallbackServerContext* context, const Caller& caller,
    const gateway::v1::CancelOrderRequest& request, gateway::v1::Order* response) {
  if (absl::Status valid = ValidateCancelOrder(request); !valid.ok()) {
    return Refuse(context, ToGrpc(valid));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto call = std::make_shared<const Call>(
      Call{.once = std::make_shared<Once>(reactor),
           .request = request,
           .response = response,
           .caller = caller,
           .deadline = WaitDeadline(*context, deps_.max_wait),
           .traceparent = service::MetadataValue(*context, "traceparent")});
  if (!deps_.pool.Submit([this, context, call] {
        deps_.queries.FindOrder(
            *context, call->caller.username, call->request.order_id(),
            [this, call](absl::StatusOr<gateway::v1::Order> found) {
              if (!found.ok()) return call->once->Finish(ToGrpc(found.status()));
              if (found->status() == orders::v1::ORDER_STATUS_UNSPECIFIED) {
                return call->once->Finish(grpc::Status(
                    grpc::StatusCode::FAILED_PRECONDITION,
                    absl::StrCat("order ", found->order_id(),
                                 " has no status yet (its creation is on its way to the order "
                                 "service): cancel it once GetOrder shows PENDING_VALIDATION")));
              }
              // FindOrder may answer on a gRPC thread; what follows reads Redis.
              if (!deps_.pool.Submit([this, call, order = *std::move(found)] { Cancel(call, order); })) {
                call->once->Finish(Busy());
              }
            });
      })) {
    call->once->Finish(Busy());
  }
  return reactor;
}

void CancelOrderFlow::Cancel(const std::shared_ptr<const Call>& call,
                             const gateway::v1::Order& order) {
  const ids::Username& user = call->caller.username;
  const SagaIds<ids::OrderId> saga =
      CancelSagaIds(user, call->request, ids::CorrelationId(order.correlation_id()));
  if (absl::Status claimed = deps_.cache.ClaimRequest(user, "cancel", call->request.request_id(),
                                                      saga.fingerprint);
      !claimed.ok()) {
    return call->once->Finish(ToGrpc(claimed));
  }
  absl::StatusOr<uint64_t> waiter = deps_.waiters.Add(
      CancelWaitKey(saga.aggregate_id, call->request.request_id()), call->deadline,
      [call](const CancelOutcome& outcome) {
        if (outcome.refusal.has_value()) {
          call->once->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, *outcome.refusal));
          return true;
        }
        if (!IsTerminal(outcome.view.status())) return false;  // REFUND_PENDING: not yet
        call->once->FinishWith([&] { *call->response = outcome.view; });
        return true;
      },
      [call] {
        call->once->Finish(grpc::Status(
            grpc::StatusCode::DEADLINE_EXCEEDED,
            absl::StrCat("the cancellation of order ", call->request.order_id(),
                         " is still in progress; retry with the same request_id, or GetOrder, "
                         "to learn its outcome")));
      });
  if (!waiter.ok()) return call->once->Finish(ToGrpc(waiter.status()));
  orders::v1::OrderCancellationRequested event;
  event.set_order_id(call->request.order_id());
  event.set_username(user.value());
  event.set_request_id(call->request.request_id());
  event.set_reason(call->request.reason());
  *event.mutable_requested_at() = ToProtoTime(absl::Now());
  publish::Origin origin = publish::Origin::Command(saga.correlation_id, call->traceparent);
  origin.event_id = saga.event_id;
  PublishCommand(deps_.publisher, event, topics::kOrdersCancellations, call->request.order_id(),
                 origin, [waiters = &deps_.waiters, once = call->once, id = *waiter](absl::Status error) {
                   if (waiters->Remove(id)) once->Finish(ToGrpc(error));
                 });
}

}  // namespace choreo::gateway
