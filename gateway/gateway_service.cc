#include "gateway/gateway_service.h"

#include <atomic>
#include <deque>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/users/v1/events.pb.h"
#include "gateway/core/gateway_rules.h"
#include "gateway/event_feed.h"
#include "saga/ids/trace_context.h"
#include "saga/proto_time/proto_time.h"
#include "saga/topics/topics.h"

namespace choreo::gateway {
namespace {

using gateway::v1::Order;

// Finishes a unary reactor exactly once; only the winner writes the response.
class Once {
 public:
  explicit Once(grpc::ServerUnaryReactor* reactor) : reactor_(reactor) {}
  void Finish(const grpc::Status& status) {
    if (!done_.exchange(true)) reactor_->Finish(status);
  }
  template <typename Fill>
  void FinishWith(Fill fill) {
    if (done_.exchange(true)) return;
    fill();
    reactor_->Finish(grpc::Status::OK);
  }

 private:
  grpc::ServerUnaryReactor* reactor_;
  std::atomic<bool> done_{false};
};

google::protobuf::Timestamp Now() { return ToProtoTime(absl::Now()); }

std::string MetadataValue(const grpc::CallbackServerContext& context, absl::string_view key) {
  auto it = context.client_metadata().find(grpc::string_ref(key.data(), key.size()));
  if (it == context.client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// When a wait must end: the client's deadline or the server's limit, whichever comes first.
absl::Time WaitDeadline(const grpc::CallbackServerContext& context, absl::Duration limit) {
  const absl::Time client = absl::FromChrono(context.deadline());
  return std::min(client, absl::Now() + limit);
}

grpc::Status Unavailable(const absl::Status& status) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(status.message()));
}

Order InitialView(const gateway::v1::CreateOrderRequest& request, const SagaIds& ids) {
  Order view;
  view.set_order_id(ids.aggregate_id);
  view.set_request_id(request.request_id());
  for (const orders::v1::OrderItem& item : request.items()) {
    orders::v1::PricedItem* line = view.add_items();
    line->set_sku(item.sku());
    line->set_quantity(item.quantity());
  }
  *view.mutable_delivery_address() = request.delivery_address();
  view.set_payment_method(request.payment_method());
  view.set_correlation_id(ids.correlation_id);
  *view.mutable_created_at() = Now();
  *view.mutable_updated_at() = view.created_at();
  return view;
}

// Streams an order's status changes until a terminal one (or the deadline, or cancellation).
class WatchReactor final : public grpc::ServerWriteReactor<gateway::v1::OrderStatusChange> {
 public:
  WatchReactor(const GatewayDeps& deps, std::string user, std::string order_id, absl::Time deadline)
      : deps_(deps), state_(std::make_shared<State>()) {
    state_->reactor = this;
    if (!deps_.pool->Submit([this, state = state_, user = std::move(user),
                             order_id = std::move(order_id), deadline] {
          Begin(state, user, order_id, deadline);
        })) {
      state_->Close(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "gateway busy"));
    }
  }

  void OnWriteDone(bool ok) override { state_->WriteDone(ok); }
  void OnCancel() override { state_->Close(grpc::Status::CANCELLED); }
  void OnDone() override {
    state_->Detach();
    if (const uint64_t id = state_->waiter.load(); id != 0) deps_.waiters->Remove(id);
    delete this;
  }

 private:
  struct State {
    absl::Mutex mu;
    WatchReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
    std::deque<gateway::v1::OrderStatusChange> queue ABSL_GUARDED_BY(mu);
    gateway::v1::OrderStatusChange current ABSL_GUARDED_BY(mu);
    bool writing ABSL_GUARDED_BY(mu) = false;
    bool finished ABSL_GUARDED_BY(mu) = false;
    std::optional<grpc::Status> finish ABSL_GUARDED_BY(mu);
    std::atomic<uint64_t> waiter{0};

    void Send(gateway::v1::OrderStatusChange change) {
      absl::MutexLock lock(&mu);
      if (reactor == nullptr || finished || finish.has_value()) return;
      const bool terminal = change.terminal();
      queue.push_back(std::move(change));
      if (terminal) finish = grpc::Status::OK;
      Pump();
    }
    void Close(grpc::Status status) {
      absl::MutexLock lock(&mu);
      if (!finish.has_value()) finish = std::move(status);
      Pump();
    }
    void WriteDone(bool ok) {
      absl::MutexLock lock(&mu);
      writing = false;
      if (!ok) {
        queue.clear();
        if (!finish.has_value()) finish = grpc::Status::CANCELLED;
      }
      Pump();
    }
    void Detach() {
      absl::MutexLock lock(&mu);
      reactor = nullptr;
    }
    void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      if (reactor == nullptr || finished || writing) return;
      if (!queue.empty()) {
        current = std::move(queue.front());
        queue.pop_front();
        writing = true;
        reactor->StartWrite(&current);
      } else if (finish.has_value()) {
        finished = true;
        reactor->Finish(*finish);
      }
    }
  };

  void Begin(const std::shared_ptr<State>& state, const std::string& user,
             const std::string& order_id, absl::Time deadline) {
    absl::StatusOr<std::optional<Order>> cached = deps_.cache->Get(user, order_id);
    if (!cached.ok()) return state->Close(Unavailable(cached.status()));
    if (!cached->has_value()) {
      return state->Close(grpc::Status(grpc::StatusCode::NOT_FOUND, "no order " + order_id));
    }
    if (IsTerminal((*cached)->status())) return state->Send(LatestChange(**cached));
    // Listen first, then send the current status: once a client has the first message, no
    // later change can be missed.
    absl::StatusOr<uint64_t> waiter = deps_.waiters->Add(
        OrderWaitKey(order_id), deadline,
        [state](const std::string& payload) {
          Order view;
          if (!view.ParseFromString(payload)) return false;
          state->Send(LatestChange(view));
          return IsTerminal(view.status());
        },
        [state] {
          state->Close(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "watch deadline reached"));
        });
    if (!waiter.ok()) return state->Close(ToGrpc(waiter.status()));
    state->waiter.store(*waiter);
    // The latest view: a change may have landed between the read above and the waiter.
    absl::StatusOr<std::optional<Order>> latest = deps_.cache->Get(user, order_id);
    const Order& view = latest.ok() && latest->has_value() ? **latest : **cached;
    state->Send(LatestChange(view));
    if (IsTerminal(view.status()) && deps_.waiters->Remove(*waiter)) state->waiter.store(0);
  }

  const GatewayDeps deps_;
  std::shared_ptr<State> state_;
};

}  // namespace

absl::StatusOr<std::string> CallerOf(const grpc::CallbackServerContext& context) {
  std::string username = MetadataValue(context, "x-username");
  if (absl::Status valid = ValidateUsername(username); !valid.ok()) return valid;
  return username;
}

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

void CommandPublisher::Publish(google::protobuf::Message& event, absl::string_view topic,
                               std::string key, const std::string& event_id,
                               const std::string& correlation_id,
                               absl::string_view client_traceparent,
                               std::function<void(absl::Status)> on_error) {
  common::v1::EventMeta* meta = codec::MutableMetaOf(&event);
  meta->set_event_id(event_id);
  meta->set_schema_version(codec::CurrentSchemaVersion(*event.GetDescriptor()));
  meta->set_correlation_id(correlation_id);
  {
    absl::MutexLock lock(&random_mu_);
    meta->set_traceparent(ids::ChildTraceparent(client_traceparent, random_));
  }
  *meta->mutable_occurred_at() = Now();
  meta->set_producer("gateway");
  absl::StatusOr<KafkaRecord> record = codec_.Encode(event, topic, std::move(key));
  if (!record.ok()) return on_error(record.status());
  absl::Status queued = producer_->Produce(
      *record, [on_error](absl::StatusOr<kafka::Delivery> delivery) {
        if (!delivery.ok()) {
          on_error(absl::UnavailableError(
              absl::StrCat("cannot publish the request: ", delivery.status().message())));
        }
      });
  if (!queued.ok()) on_error(absl::UnavailableError(queued.message()));
}

grpc::ServerUnaryReactor* OrderServiceImpl::CreateOrder(
    grpc::CallbackServerContext* context, const gateway::v1::CreateOrderRequest* request,
    Order* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  absl::StatusOr<std::string> caller = CallerOf(*context);
  if (!caller.ok()) return once->Finish(ToGrpc(caller.status())), reactor;
  if (absl::Status valid = ValidateCreateOrder(*request); !valid.ok()) {
    return once->Finish(ToGrpc(valid)), reactor;
  }
  const absl::Time deadline = WaitDeadline(*context, deps_.max_wait);
  const std::string traceparent = MetadataValue(*context, "traceparent");
  const bool queued = deps_.pool->Submit([this, once, request, response, user = *caller, deadline,
                                          traceparent] {
    const SagaIds ids = OrderSagaIds(user, *request);
    if (absl::Status claimed =
            deps_.cache->ClaimRequest(user, "order", request->request_id(), ids.fingerprint);
        !claimed.ok()) {
      return once->Finish(ToGrpc(claimed));
    }
    absl::StatusOr<std::optional<Order>> cached = deps_.cache->Get(user, ids.aggregate_id);
    if (!cached.ok()) return once->Finish(Unavailable(cached.status()));
    if (cached->has_value() && IsTerminal((*cached)->status())) {
      return once->FinishWith([&] { *response = **cached; });  // a retry after the saga ended
    }
    absl::StatusOr<uint64_t> waiter = deps_.waiters->Add(
        OrderWaitKey(ids.aggregate_id), deadline,
        [once, response](const std::string& payload) {
          Order view;
          if (!view.ParseFromString(payload) || !IsTerminal(view.status())) return false;
          once->FinishWith([&] { *response = std::move(view); });
          return true;
        },
        [once, order_id = ids.aggregate_id] {
          once->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                    absl::StrCat("order ", order_id,
                                                 " is still in progress; retry with the same "
                                                 "request_id, or GetOrder, to learn its outcome")));
        });
    if (!waiter.ok()) return once->Finish(ToGrpc(waiter.status()));
    if (!cached->has_value()) {
      if (absl::Status added = deps_.cache->AddOrder(user, InitialView(*request, ids)); !added.ok()) {
        deps_.waiters->Remove(*waiter);
        return once->Finish(Unavailable(added));
      }
    }
    orders::v1::OrderCreationRequested event;
    event.set_request_id(request->request_id());
    event.set_username(user);
    *event.mutable_items() = request->items();
    *event.mutable_delivery_address() = request->delivery_address();
    event.set_payment_method(request->payment_method());
    *event.mutable_created_at() = Now();
    publisher_.Publish(event, topics::kOrdersRequests, request->request_id(), ids.event_id,
                       ids.correlation_id, traceparent,
                       [this, once, id = *waiter](absl::Status error) {
                         if (deps_.waiters->Remove(id)) once->Finish(ToGrpc(error));
                       });
    // A status that arrived before the waiter existed is in the cache by now.
    absl::StatusOr<std::optional<Order>> again = deps_.cache->Get(user, ids.aggregate_id);
    if (again.ok() && again->has_value() && IsTerminal((*again)->status()) &&
        deps_.waiters->Remove(*waiter)) {
      once->FinishWith([&] { *response = **again; });
    }
  });
  if (!queued) once->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "gateway busy"));
  return reactor;
}

grpc::ServerUnaryReactor* OrderServiceImpl::GetOrder(grpc::CallbackServerContext* context,
                                                     const gateway::v1::GetOrderRequest* request,
                                                     Order* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  absl::StatusOr<std::string> caller = CallerOf(*context);
  if (!caller.ok()) return once->Finish(ToGrpc(caller.status())), reactor;
  if (request->order_id().empty()) {
    return once->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "order_id: required")),
           reactor;
  }
  if (!deps_.pool->Submit([this, once, request, response, user = *caller] {
        absl::StatusOr<std::optional<Order>> cached = deps_.cache->Get(user, request->order_id());
        if (!cached.ok()) return once->Finish(Unavailable(cached.status()));
        if (!cached->has_value()) {
          // Another user's order is as unknown as a missing one (no existence leak).
          return once->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                           absl::StrCat("no order ", request->order_id())));
        }
        once->FinishWith([&] { *response = **cached; });
      })) {
    once->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "gateway busy"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* OrderServiceImpl::ListOrders(
    grpc::CallbackServerContext* context, const gateway::v1::ListOrdersRequest* request,
    gateway::v1::ListOrdersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  absl::StatusOr<std::string> caller = CallerOf(*context);
  if (!caller.ok()) return once->Finish(ToGrpc(caller.status())), reactor;
  if (request->page_size() < 0 || request->page_size() > 100) {
    return once->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "page_size: must be 0..100")),
           reactor;
  }
  int64_t before = 0;
  if (!request->page_token().empty() &&
      (!absl::SimpleAtoi(request->page_token(), &before) || before <= 0)) {
    return once->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "page_token: not a token from a previous page")),
           reactor;
  }
  const int page_size = request->page_size() == 0 ? 20 : request->page_size();
  if (!deps_.pool->Submit([this, once, request, response, user = *caller, before, page_size] {
        absl::StatusOr<std::vector<std::pair<Order, int64_t>>> views =
            deps_.cache->List(user, before, page_size + 1);
        if (!views.ok()) return once->Finish(Unavailable(views.status()));
        once->FinishWith([&] {
          const bool more = static_cast<int>(views->size()) > page_size;
          if (more) views->resize(page_size);
          for (auto& [view, score] : *views) {
            if (request->status() == orders::v1::ORDER_STATUS_UNSPECIFIED ||
                view.status() == request->status()) {
              *response->add_orders() = std::move(view);
            }
          }
          if (more) response->set_next_page_token(absl::StrCat(views->back().second));
        });
      })) {
    once->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "gateway busy"));
  }
  return reactor;
}

grpc::ServerWriteReactor<gateway::v1::OrderStatusChange>* OrderServiceImpl::WatchOrder(
    grpc::CallbackServerContext* context, const gateway::v1::WatchOrderRequest* request) {
  absl::StatusOr<std::string> caller = CallerOf(*context);
  if (!caller.ok() || request->order_id().empty()) {
    class Refuse final : public grpc::ServerWriteReactor<gateway::v1::OrderStatusChange> {
     public:
      explicit Refuse(grpc::Status status) { Finish(std::move(status)); }
      void OnDone() override { delete this; }
    };
    return new Refuse(!caller.ok() ? ToGrpc(caller.status())
                                   : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                                  "order_id: required"));
  }
  // A watch may outlive CreateOrder's limit: it ends at the client's deadline or after an hour.
  const absl::Time deadline = WaitDeadline(*context, absl::Hours(1));
  return new WatchReactor(deps_, *caller, request->order_id(), deadline);
}

grpc::ServerUnaryReactor* OrderServiceImpl::ListCatalog(
    grpc::CallbackServerContext* context, const gateway::v1::ListCatalogRequest*,
    gateway::v1::ListCatalogResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  struct Call {
    grpc::ClientContext context;
    orders::v1::ListCatalogRequest request;
    orders::v1::ListCatalogResponse response;
  };
  auto call = std::make_shared<Call>();
  call->context.set_deadline(std::min(context->deadline(),
                                      std::chrono::system_clock::now() + std::chrono::seconds(10)));
  deps_.order_admin->async()->ListCatalog(
      &call->context, &call->request, &call->response,
      [call, reactor, response](grpc::Status status) {
        if (status.ok()) *response->mutable_items() = call->response.items();
        reactor->Finish(status);
      });
  return reactor;
}

grpc::ServerUnaryReactor* AccountServiceImpl::Register(grpc::CallbackServerContext* context,
                                                       const gateway::v1::RegisterRequest* request,
                                                       users::v1::Profile* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  if (absl::Status valid = ValidateUsername(request->username()); !valid.ok()) {
    return once->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     absl::StrCat("username: ", valid.message()))),
           reactor;
  }
  const SagaIds ids = RegistrationSagaIds(request->username());
  absl::StatusOr<uint64_t> waiter = deps_.waiters->Add(
      RegistrationWaitKey(ids.correlation_id), WaitDeadline(*context, deps_.max_wait),
      [once, request, response](const std::string&) {
        once->FinishWith([&] {
          response->set_username(request->username());
          response->set_email(request->email());
          response->set_display_name(request->display_name());
        });
        return true;
      },
      [once] {
        once->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                  "the account is not open yet; retry Register"));
      });
  if (!waiter.ok()) return once->Finish(ToGrpc(waiter.status())), reactor;
  users::v1::UserRegistered event;
  event.set_username(request->username());
  event.mutable_profile()->set_username(request->username());
  event.mutable_profile()->set_email(request->email());
  event.mutable_profile()->set_display_name(request->display_name());
  *event.mutable_registered_at() = Now();
  publisher_.Publish(event, topics::kUsersRegistered, request->username(), ids.event_id,
                     ids.correlation_id, MetadataValue(*context, "traceparent"),
                     [this, once, id = *waiter](absl::Status error) {
                       if (deps_.waiters->Remove(id)) once->Finish(ToGrpc(error));
                     });
  return reactor;
}

grpc::ServerUnaryReactor* AccountServiceImpl::GetBalance(grpc::CallbackServerContext* context,
                                                         const gateway::v1::GetBalanceRequest*,
                                                         gateway::v1::Balance* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> caller = CallerOf(*context);
  if (!caller.ok()) return reactor->Finish(ToGrpc(caller.status())), reactor;
  struct Call {
    grpc::ClientContext context;
    billing::v1::GetBalanceRequest request;
    billing::v1::Balance response;
  };
  auto call = std::make_shared<Call>();
  call->request.set_username(*caller);
  call->context.set_deadline(std::min(context->deadline(),
                                      std::chrono::system_clock::now() + std::chrono::seconds(10)));
  deps_.billing_admin->async()->GetBalance(
      &call->context, &call->request, &call->response,
      [call, reactor, response](grpc::Status status) {
        if (status.ok()) {
          response->set_username(call->response.username());
          *response->mutable_balance() = call->response.balance();
        }
        reactor->Finish(status);
      });
  return reactor;
}

grpc::ServerUnaryReactor* AccountServiceImpl::Deposit(grpc::CallbackServerContext* context,
                                                      const gateway::v1::DepositRequest* request,
                                                      gateway::v1::DepositResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  absl::StatusOr<std::string> caller = CallerOf(*context);
  if (!caller.ok()) return once->Finish(ToGrpc(caller.status())), reactor;
  if (absl::Status valid = ValidateDeposit(*request); !valid.ok()) {
    return once->Finish(ToGrpc(valid)), reactor;
  }
  const absl::Time deadline = WaitDeadline(*context, deps_.max_wait);
  const std::string traceparent = MetadataValue(*context, "traceparent");
  if (!deps_.pool->Submit([this, once, request, response, user = *caller, deadline, traceparent] {
        const SagaIds ids = DepositSagaIds(user, *request);
        if (absl::Status claimed = deps_.cache->ClaimRequest(user, "deposit", request->request_id(),
                                                             ids.fingerprint);
            !claimed.ok()) {
          return once->Finish(ToGrpc(claimed));
        }
        absl::StatusOr<uint64_t> waiter = deps_.waiters->Add(
            DepositWaitKey(ids.correlation_id), deadline,
            [once, request, response](const std::string& payload) {
              billing::v1::FundsDeposited result;
              if (!result.ParseFromString(payload)) return false;
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
        event.set_username(user);
        *event.mutable_amount() = request->amount();
        *event.mutable_requested_at() = Now();
        publisher_.Publish(event, topics::kBillingDeposits, user, ids.event_id,
                           ids.correlation_id, traceparent,
                           [this, once, id = *waiter](absl::Status error) {
                             if (deps_.waiters->Remove(id)) once->Finish(ToGrpc(error));
                           });
      })) {
    once->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "gateway busy"));
  }
  return reactor;
}

}  // namespace choreo::gateway
