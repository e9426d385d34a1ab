#include "gateway/create_order.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "choreo/orders/v1/events.pb.h"
#include "gateway/client_call.h"
#include "gateway/core/gateway_rules.h"
#include "gateway/event_feed.h"
#include "gateway/grpc_status.h"
#include "gateway/reactor_once.h"
#include "platform/proto_time/proto_time.h"
#include "saga/service/grpc_metadata.h"
#include "contracts/topics/topics.h"

namespace choreo::gateway {
namespace {

using gateway::v1::Order;

// "paid", "insufficient_funds", ...: the status's name without its prefix, lowercase.
std::string SagaOutcomeName(orders::v1::OrderStatus status) {
  return absl::AsciiStrToLower(contracts::StatusName(status));
}

Order InitialView(const gateway::v1::CreateOrderRequest& request,
                  const SagaIds<ids::OrderId>& saga) {
  Order view;
  view.set_order_id(saga.aggregate_id.value());
  view.set_request_id(request.request_id());
  for (const orders::v1::OrderItem& item : request.items()) {
    orders::v1::PricedItem* line = view.add_items();
    line->set_sku(item.sku());
    line->set_quantity(item.quantity());
  }
  *view.mutable_delivery_address() = request.delivery_address();
  view.set_payment_method(request.payment_method());
  view.set_correlation_id(saga.correlation_id.value());
  *view.mutable_created_at() = ToProtoTime(absl::Now());
  *view.mutable_updated_at() = view.created_at();
  return view;
}

void RecordOutcome(SagaOutcomeMetrics* metrics, absl::string_view outcome, absl::Time arrived) {
  if (metrics != nullptr) metrics->Record(outcome, absl::Now() - arrived);
}

}  // namespace

SagaOutcomeMetrics::SagaOutcomeMetrics(metrics::Metrics& metrics)
    : completed_(metrics.Counter("choreo_sagas_completed_total",
                                 "Order sagas a CreateOrder waited for, by outcome.", {"outcome"})),
      duration_(metrics.Histogram("choreo_saga_duration_seconds",
                                  "From CreateOrder's arrival to the saga's terminal status.",
                                  {"outcome"}, metrics::SagaBuckets())) {}

void SagaOutcomeMetrics::Record(absl::string_view outcome, absl::Duration took) {
  completed_.With({outcome}).Increment();
  duration_.With({outcome}).Observe(metrics::Seconds(took));
}

// One CreateOrder call, from the pool's thread to its answer. It owns a copy of the request: the
// call can end (its deadline) while the work runs.
struct CreateOrderFlow::Call {
  std::shared_ptr<Once> once;
  gateway::v1::CreateOrderRequest request;
  gateway::v1::Order* response;
  Caller caller;
  SagaIds<ids::OrderId> ids;
  absl::Time arrived;
  absl::Time deadline;
  std::string traceparent;
};

grpc::ServerUnaryReactor* CreateOrderFlow::CreateOrder(
    grpc::CallbackServerContext* context, const Caller& caller,
    const gateway::v1::CreateOrderRequest& request, Order* response) {
  if (absl::Status valid = ValidateCreateOrder(request); !valid.ok()) {
    return Refuse(context, ToGrpc(valid));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time arrived = absl::Now();
  auto call = std::make_shared<const Call>(Call{
      .once = std::make_shared<Once>(reactor),
      .request = request,
      .response = response,
      .caller = caller,
      .ids = OrderSagaIds(caller.username, request),
      .arrived = arrived,
      .deadline = WaitDeadline(*context, deps_.max_wait),
      .traceparent = service::MetadataValue(*context, "traceparent")});
  std::shared_ptr<Once> once = call->once;
  if (!claims_.Add(std::move(call))) once->Finish(Busy());
  return reactor;
}

void CreateOrderFlow::Run(std::vector<std::shared_ptr<const Call>>& calls) {
  // Listen first, then claim the request id and write a new order's view in one atomic step
  // per call, the batch's steps in one round trip: a reused id with another body is refused
  // before anything can answer it, a status applied before the step is in the view it returns,
  // one applied after reaches the waiter.
  std::vector<std::pair<const Call*, uint64_t>> listening;  // each call with its waiter
  std::vector<Order> initial;
  listening.reserve(calls.size());
  initial.reserve(calls.size());
  for (const std::shared_ptr<const Call>& call : calls) {
    absl::StatusOr<uint64_t> waiter = Listen(call);
    if (!waiter.ok()) {
      call->once->Finish(ToGrpc(waiter.status()));
      continue;
    }
    listening.emplace_back(call.get(), *waiter);
    initial.push_back(InitialView(call->request, call->ids));
  }
  std::vector<OrderCache::OrderClaim> claims;
  claims.reserve(listening.size());
  for (size_t i = 0; i < listening.size(); ++i) {
    const Call& call = *listening[i].first;
    claims.push_back(
        {call.caller.username, call.request.request_id(), call.ids.fingerprint, &initial[i]});
  }
  absl::StatusOr<std::vector<absl::StatusOr<OrderCache::Claimed>>> claimed =
      claims.empty() ? std::vector<absl::StatusOr<OrderCache::Claimed>>{}
                     : deps_.cache.ClaimOrders(claims);
  for (size_t i = 0; i < listening.size(); ++i) {
    const auto [call, waiter] = listening[i];
    Continue(*call, waiter,
             claimed.ok() ? std::move((*claimed)[i])
                          : absl::StatusOr<OrderCache::Claimed>(claimed.status()));
  }
}

void CreateOrderFlow::Continue(const Call& call, uint64_t waiter,
                               absl::StatusOr<OrderCache::Claimed> claimed) {
  if (!claimed.ok()) {
    if (deps_.waiters.Remove(waiter)) {
      call.once->Finish(absl::IsInvalidArgument(claimed.status()) ? ToGrpc(claimed.status())
                                                                  : Unavailable(claimed.status()));
    }
    return;
  }
  if (IsTerminal(claimed->view.status())) {
    if (deps_.waiters.Remove(waiter)) {
      // A retry after the end was counted when its saga ended.
      if (!claimed->existed) {
        RecordOutcome(deps_.saga_metrics, SagaOutcomeName(claimed->view.status()), call.arrived);
      }
      call.once->FinishWith([&] { *call.response = claimed->view; });
    }
    return;
  }
  Publish(call, waiter);
}

absl::StatusOr<uint64_t> CreateOrderFlow::Listen(const std::shared_ptr<const Call>& call) {
  return deps_.waiters.Add(
      OrderWaitKey(call->ids.aggregate_id), call->deadline,
      [metrics = deps_.saga_metrics, call](const Order& view) {
        if (!IsTerminal(view.status())) return false;
        RecordOutcome(metrics, SagaOutcomeName(view.status()), call->arrived);
        call->once->FinishWith([&] { *call->response = view; });
        return true;
      },
      [metrics = deps_.saga_metrics, call] {
        // Also called when the gateway shuts down: only a passed deadline is a timeout.
        if (absl::Now() >= call->deadline) RecordOutcome(metrics, "timeout", call->arrived);
        call->once->Finish(grpc::Status(
            grpc::StatusCode::DEADLINE_EXCEEDED,
            absl::StrCat("order ", call->ids.aggregate_id.value(),
                         " is still in progress; retry with the same request_id, or GetOrder, "
                         "to learn its outcome")));
      });
}

void CreateOrderFlow::Publish(const Call& call, uint64_t waiter) {
  orders::v1::OrderCreationRequested event;
  event.set_request_id(call.request.request_id());
  event.set_username(call.caller.username.value());
  *event.mutable_roles() = {call.caller.roles.begin(), call.caller.roles.end()};
  *event.mutable_items() = call.request.items();
  *event.mutable_delivery_address() = call.request.delivery_address();
  event.set_payment_method(call.request.payment_method());
  *event.mutable_created_at() = ToProtoTime(absl::Now());
  publish::Origin origin = publish::Origin::Command(call.ids.correlation_id, call.traceparent);
  origin.event_id = call.ids.event_id;
  PublishCommand(deps_.publisher, event, topics::kOrdersRequests, call.request.request_id(),
                 origin,
                 [waiters = &deps_.waiters, once = call.once, waiter](absl::Status error) {
                   if (waiters->Remove(waiter)) once->Finish(ToGrpc(error));
                 });
}

}  // namespace choreo::gateway
