#include "gateway/gateway_service.h"

#include <atomic>
#include <deque>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/users/v1/events.pb.h"
#include "gateway/core/gateway_rules.h"
#include "gateway/event_feed.h"
#include "gateway/reactor_once.h"
#include "saga/ids/trace_context.h"
#include "saga/service/grpc_metadata.h"
#include "saga/proto_time/proto_time.h"
#include "saga/topics/topics.h"
#include "saga/tracing/messaging.h"

namespace choreo::gateway {
namespace {

using gateway::v1::Order;

google::protobuf::Timestamp Now() { return ToProtoTime(absl::Now()); }

// "paid", "insufficient_funds", ...: the status's name without its prefix, lowercase.
std::string SagaOutcomeName(orders::v1::OrderStatus status) {
  std::string name = absl::AsciiStrToLower(orders::v1::OrderStatus_Name(status));
  absl::string_view prefix = "order_status_";
  return absl::StartsWith(name, prefix) ? name.substr(prefix.size()) : name;
}

using service::MetadataValue;

// Calls one unary method of a service for the client: the client's deadline (at most 10 s), the
// caller's identity when there is one, the client's trace context. `fill` copies the service's
// answer into the client's response; the service's status goes back as it is.
template <typename Request, typename Response>
struct ServiceCall {
  grpc::ClientContext context;
  Request request;
  Response response;
};
template <typename Response, typename Request, typename Invoke, typename Fill>
void CallService(const grpc::CallbackServerContext& client, grpc::ServerUnaryReactor* reactor,
                 const Caller* caller, Request request, Invoke invoke, Fill fill) {
  auto call = std::make_shared<ServiceCall<Request, Response>>();
  call->request = std::move(request);
  call->context.set_deadline(
      std::min(client.deadline(), std::chrono::system_clock::now() + std::chrono::seconds(10)));
  if (caller != nullptr) ForwardCaller(*caller, call->context);
  if (std::string traceparent = MetadataValue(client, "traceparent"); !traceparent.empty()) {
    call->context.AddMetadata("traceparent", traceparent);
  }
  invoke(&call->context, &call->request, &call->response,
         [call, reactor, fill = std::move(fill)](grpc::Status status) {
           if (status.ok()) fill(call->response);
           reactor->Finish(status);
         });
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
        [state](const Order& view) {
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

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

SagaOutcomeMetrics::SagaOutcomeMetrics(metrics::Metrics& metrics)
    : completed_(metrics.Counter("choreo_sagas_completed_total",
                                 "Order sagas a CreateOrder waited for, by outcome.")),
      duration_(metrics.Histogram("choreo_saga_duration_seconds",
                                  "From CreateOrder's arrival to the saga's terminal status.")) {}

void SagaOutcomeMetrics::Record(absl::string_view outcome, absl::Duration took) {
  completed_.Add({{"outcome", std::string(outcome)}}).Increment();
  duration_.Add({{"outcome", std::string(outcome)}}, metrics::SagaBuckets())
      .Observe(metrics::Seconds(took));
}

void CommandPublisher::Publish(google::protobuf::Message& event, absl::string_view topic,
                               std::string key, const std::string& event_id,
                               const std::string& correlation_id,
                               absl::string_view client_traceparent,
                               std::function<void(absl::Status)> on_error) {
  auto span = std::make_shared<tracing::Span>(
      tracing::StartSendSpan(tracer_, topic, client_traceparent));
  {
    absl::MutexLock lock(&random_mu_);
    codec::StampMeta(event,
                     {.event_id = event_id,
                      .correlation_id = correlation_id,
                      .traceparent = span->traceparent(),
                      .producer = "gateway",
                      .occurred_at = absl::Now()},
                     random_);
  }
  absl::StatusOr<KafkaRecord> record = codec_.Encode(event, topic, std::move(key));
  if (!record.ok()) {
    span->SetError(record.status().ToString());
    return on_error(record.status());
  }
  tracing::SetSendAttributes(*span, *record);
  absl::Status queued = producer_->Produce(
      *record, [on_error, span](absl::StatusOr<kafka::Delivery> delivery) {
        if (!delivery.ok()) {
          span->SetError(delivery.status().ToString());
          on_error(absl::UnavailableError(
              absl::StrCat("cannot publish the request: ", delivery.status().message())));
        }
        span->End();
      });
  if (!queued.ok()) {
    span->SetError(queued.ToString());
    on_error(absl::UnavailableError(queued.message()));
  }
}

grpc::ServerUnaryReactor* OrderServiceImpl::CreateOrder(
    grpc::CallbackServerContext* context, const gateway::v1::CreateOrderRequest* request,
    Order* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  absl::StatusOr<Caller> caller = deps_.auth->Authenticate(*context);
  if (!caller.ok()) return once->Finish(ToGrpc(caller.status())), reactor;
  if (absl::Status valid = ValidateCreateOrder(*request); !valid.ok()) {
    return once->Finish(ToGrpc(valid)), reactor;
  }
  const absl::Time arrived = absl::Now();
  const absl::Time deadline = WaitDeadline(*context, deps_.max_wait);
  const std::string traceparent = MetadataValue(*context, "traceparent");
  // The work owns a copy of the request: the call can end (its deadline) while the work runs.
  const bool queued = deps_.pool->Submit([this, once, request = std::make_shared<const gateway::v1::CreateOrderRequest>(*request),
                                          response, caller = *caller, deadline, traceparent, arrived] {
    const std::string& user = caller.username;
    const SagaIds ids = OrderSagaIds(user, *request);
    // Claim the request id (and read the order's view) first, so that a reused id with another
    // body is refused before anything can answer it. Then listen, then read again (for a new
    // order: in the same round trip that writes its view): a status applied before that read
    // is in it, one applied after reaches the waiter. Two round trips to Redis in all.
    absl::StatusOr<std::optional<Order>> cached =
        deps_.cache->ClaimOrder(user, request->request_id(), ids.fingerprint, ids.aggregate_id);
    if (!cached.ok()) {
      return once->Finish(absl::IsInvalidArgument(cached.status()) ? ToGrpc(cached.status())
                                                                   : Unavailable(cached.status()));
    }
    if (cached->has_value() && IsTerminal((*cached)->status())) {
      return once->FinishWith([&] { *response = **cached; });  // a retry after the saga ended
    }
    SagaOutcomeMetrics* saga_metrics = deps_.saga_metrics;
    absl::StatusOr<uint64_t> waiter = deps_.waiters->Add(
        OrderWaitKey(ids.aggregate_id), deadline,
        [once, response, saga_metrics, arrived](const Order& view) {
          if (!IsTerminal(view.status())) return false;
          if (saga_metrics != nullptr) {
            saga_metrics->Record(SagaOutcomeName(view.status()), absl::Now() - arrived);
          }
          once->FinishWith([&] { *response = view; });
          return true;
        },
        [once, order_id = ids.aggregate_id, saga_metrics, arrived, deadline] {
          // Also called when the gateway shuts down: only a passed deadline is a timeout.
          if (saga_metrics != nullptr && absl::Now() >= deadline) {
            saga_metrics->Record("timeout", absl::Now() - arrived);
          }
          once->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                    absl::StrCat("order ", order_id,
                                                 " is still in progress; retry with the same "
                                                 "request_id, or GetOrder, to learn its outcome")));
        });
    if (!waiter.ok()) return once->Finish(ToGrpc(waiter.status()));
    absl::StatusOr<Order> latest;
    if (cached->has_value()) {
      absl::StatusOr<std::optional<Order>> again = deps_.cache->Get(user, ids.aggregate_id);
      if (!again.ok()) {
        latest = again.status();
      } else {
        latest = again->value_or(**cached);
      }
    } else {
      latest = deps_.cache->AddOrder(user, InitialView(*request, ids));
    }
    if (!latest.ok()) {
      deps_.waiters->Remove(*waiter);
      return once->Finish(Unavailable(latest.status()));
    }
    if (IsTerminal(latest->status())) {
      if (deps_.waiters->Remove(*waiter)) {
        if (saga_metrics != nullptr) {
          saga_metrics->Record(SagaOutcomeName(latest->status()), absl::Now() - arrived);
        }
        once->FinishWith([&] { *response = *latest; });
      }
      return;
    }
    orders::v1::OrderCreationRequested event;
    event.set_request_id(request->request_id());
    event.set_username(user);
    *event.mutable_roles() = {caller.roles.begin(), caller.roles.end()};
    *event.mutable_items() = request->items();
    *event.mutable_delivery_address() = request->delivery_address();
    event.set_payment_method(request->payment_method());
    *event.mutable_created_at() = Now();
    publisher_.Publish(event, topics::kOrdersRequests, request->request_id(), ids.event_id,
                       ids.correlation_id, traceparent,
                       [this, once, id = *waiter](absl::Status error) {
                         if (deps_.waiters->Remove(id)) once->Finish(ToGrpc(error));
                       });
  });
  if (!queued) once->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "gateway busy"));
  return reactor;
}

grpc::ServerUnaryReactor* OrderServiceImpl::GetOrder(grpc::CallbackServerContext* context,
                                                     const gateway::v1::GetOrderRequest* request,
                                                     Order* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  absl::StatusOr<Caller> caller = deps_.auth->Authenticate(*context);
  if (!caller.ok()) return once->Finish(ToGrpc(caller.status())), reactor;
  if (request->order_id().empty()) {
    return once->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "order_id: required")),
           reactor;
  }
  if (!deps_.pool->Submit([this, once, request, response, user = caller->username] {
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
  absl::StatusOr<Caller> caller = deps_.auth->Authenticate(*context);
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
  if (!deps_.pool->Submit([this, once, request, response, user = caller->username, before,
                           page_size] {
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
  absl::StatusOr<Caller> caller = deps_.auth->Authenticate(*context);
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
  return new WatchReactor(deps_, caller->username, request->order_id(), deadline);
}

grpc::ServerUnaryReactor* OrderServiceImpl::ListCatalog(
    grpc::CallbackServerContext* context, const gateway::v1::ListCatalogRequest*,
    gateway::v1::ListCatalogResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  CallService<orders::v1::ListCatalogResponse>(
      *context, reactor, nullptr, orders::v1::ListCatalogRequest(),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.order_admin->async()->ListCatalog(call, request, answer, std::move(done));
      },
      [response](orders::v1::ListCatalogResponse& answer) {
        *response->mutable_items() = std::move(*answer.mutable_items());
      });
  return reactor;
}

grpc::ServerUnaryReactor* AccountServiceImpl::Register(grpc::CallbackServerContext* context,
                                                       const gateway::v1::RegisterRequest* request,
                                                       users::v1::Profile* response) {
  // The user service creates the user; the call ends once billing has opened the account
  // (AccountOpened carries the registration's correlation id), so that a Deposit right after
  // Register finds it.
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  const SagaIds ids = RegistrationSagaIds(request->username());
  auto profile = std::make_shared<users::v1::Profile>();
  struct Progress {
    std::atomic<int> left{2};  // the user service's answer and the account opening
  };
  auto progress = std::make_shared<Progress>();
  auto step_done = [once, progress, profile, response] {
    if (progress->left.fetch_sub(1) == 1) once->FinishWith([&] { *response = *profile; });
  };
  absl::StatusOr<uint64_t> waiter = deps_.waiters->Add(
      RegistrationWaitKey(ids.correlation_id), WaitDeadline(*context, deps_.max_wait),
      [step_done](const billing::v1::AccountOpened&) {
        step_done();
        return true;
      },
      [once] {
        once->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                  "the user exists but their account is not open yet; Login "
                                  "works, and the account opens shortly"));
      });
  if (!waiter.ok()) return once->Finish(ToGrpc(waiter.status())), reactor;

  auto call = std::make_shared<ServiceCall<users::v1::RegisterRequest, users::v1::RegisterResponse>>();
  call->request.set_username(request->username());
  call->request.set_password(request->password());
  call->request.set_email(request->email());
  call->request.set_display_name(request->display_name());
  call->context.set_deadline(
      std::min(context->deadline(), std::chrono::system_clock::now() + std::chrono::seconds(10)));
  call->context.AddMetadata("x-correlation-id", ids.correlation_id);
  if (std::string traceparent = MetadataValue(*context, "traceparent"); !traceparent.empty()) {
    call->context.AddMetadata("traceparent", traceparent);
  }
  deps_.users->async()->Register(
      &call->context, &call->request, &call->response,
      [this, call, once, profile, step_done, id = *waiter](grpc::Status status) {
        if (!status.ok()) {
          if (deps_.waiters->Remove(id)) once->Finish(status);
          return;
        }
        *profile = call->response.profile();
        step_done();
      });
  return reactor;
}

grpc::ServerUnaryReactor* AccountServiceImpl::Login(grpc::CallbackServerContext* context,
                                                    const gateway::v1::LoginRequest* request,
                                                    gateway::v1::LoginResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  users::v1::LoginRequest login;
  login.set_username(request->username());
  login.set_password(request->password());
  CallService<users::v1::LoginResponse>(
      *context, reactor, nullptr, std::move(login),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.users->async()->Login(call, request, answer, std::move(done));
      },
      [response](users::v1::LoginResponse& answer) {
        response->set_access_token(std::move(*answer.mutable_access_token()));
        response->set_token_type(answer.token_type());
        *response->mutable_expires_at() = answer.expires_at();
      });
  return reactor;
}

grpc::ServerUnaryReactor* AccountServiceImpl::GetProfile(grpc::CallbackServerContext* context,
                                                         const gateway::v1::GetProfileRequest*,
                                                         users::v1::Profile* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = deps_.auth->Authenticate(*context);
  if (!caller.ok()) return reactor->Finish(ToGrpc(caller.status())), reactor;
  users::v1::GetProfileRequest get;
  get.set_username(caller->username);
  CallService<users::v1::Profile>(
      *context, reactor, &*caller, std::move(get),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.users->async()->GetProfile(call, request, answer, std::move(done));
      },
      [response](users::v1::Profile& answer) { *response = std::move(answer); });
  return reactor;
}

grpc::ServerUnaryReactor* AccountServiceImpl::UpdateProfile(
    grpc::CallbackServerContext* context, const gateway::v1::UpdateProfileRequest* request,
    users::v1::Profile* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = deps_.auth->Authenticate(*context);
  if (!caller.ok()) return reactor->Finish(ToGrpc(caller.status())), reactor;
  if (!request->profile().username().empty() && request->profile().username() != caller->username) {
    // Naming someone else is refused outright: a profile has no id to guess, so there is
    // nothing to hide by pretending it does not exist.
    return reactor->Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                        "a user may change only their own profile")),
           reactor;
  }
  users::v1::UpdateProfileRequest update;
  *update.mutable_profile() = request->profile();
  update.mutable_profile()->set_username(caller->username);
  *update.mutable_update_mask() = request->update_mask();
  CallService<users::v1::Profile>(
      *context, reactor, &*caller, std::move(update),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.users->async()->UpdateProfile(call, request, answer, std::move(done));
      },
      [response](users::v1::Profile& answer) { *response = std::move(answer); });
  return reactor;
}

grpc::ServerUnaryReactor* AccountServiceImpl::ListNotifications(
    grpc::CallbackServerContext* context, const gateway::v1::ListNotificationsRequest* request,
    gateway::v1::ListNotificationsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = deps_.auth->Authenticate(*context);
  if (!caller.ok()) return reactor->Finish(ToGrpc(caller.status())), reactor;
  notifications::v1::ListNotificationsRequest list;
  list.set_username(caller->username);
  list.set_page_size(request->page_size());
  list.set_page_token(request->page_token());
  CallService<notifications::v1::ListNotificationsResponse>(
      *context, reactor, &*caller, std::move(list),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.notifications->async()->ListNotifications(call, request, answer, std::move(done));
      },
      [response](notifications::v1::ListNotificationsResponse& answer) {
        for (const notifications::v1::NotificationRecord& record : answer.notifications()) {
          gateway::v1::Notification* out = response->add_notifications();
          out->set_notification_id(record.notification_id());
          out->set_order_id(record.order_id());
          out->set_type(record.type());
          out->set_channel(record.channel());
          out->set_subject(record.subject());
          out->set_body(record.body());
          out->set_delivered(record.delivered());
          out->set_attempts(record.attempts());
          out->set_failure_reason(record.failure_reason());
          *out->mutable_requested_at() = record.requested_at();
          *out->mutable_sent_at() = record.sent_at();
          out->set_correlation_id(record.correlation_id());
        }
        response->set_next_page_token(answer.next_page_token());
      });
  return reactor;
}

grpc::ServerUnaryReactor* AccountServiceImpl::GetBalance(grpc::CallbackServerContext* context,
                                                         const gateway::v1::GetBalanceRequest*,
                                                         gateway::v1::Balance* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = deps_.auth->Authenticate(*context);
  if (!caller.ok()) return reactor->Finish(ToGrpc(caller.status())), reactor;
  billing::v1::GetBalanceRequest get;
  get.set_username(caller->username);
  CallService<billing::v1::Balance>(
      *context, reactor, &*caller, std::move(get),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.billing_admin->async()->GetBalance(call, request, answer, std::move(done));
      },
      [response](billing::v1::Balance& answer) {
        response->set_username(answer.username());
        *response->mutable_balance() = answer.balance();
      });
  return reactor;
}

grpc::ServerUnaryReactor* AccountServiceImpl::Deposit(grpc::CallbackServerContext* context,
                                                      const gateway::v1::DepositRequest* request,
                                                      gateway::v1::DepositResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  absl::StatusOr<Caller> caller = deps_.auth->Authenticate(*context);
  if (!caller.ok()) return once->Finish(ToGrpc(caller.status())), reactor;
  if (absl::Status valid = ValidateDeposit(*request); !valid.ok()) {
    return once->Finish(ToGrpc(valid)), reactor;
  }
  const absl::Time deadline = WaitDeadline(*context, deps_.max_wait);
  const std::string traceparent = MetadataValue(*context, "traceparent");
  // The work owns a copy of the request: the call can end (its deadline) while the work runs.
  if (!deps_.pool->Submit([this, once, request = std::make_shared<const gateway::v1::DepositRequest>(*request),
                           response, user = caller->username, deadline, traceparent] {
        const SagaIds ids = DepositSagaIds(user, *request);
        if (absl::Status claimed = deps_.cache->ClaimRequest(user, "deposit", request->request_id(),
                                                             ids.fingerprint);
            !claimed.ok()) {
          return once->Finish(ToGrpc(claimed));
        }
        absl::StatusOr<uint64_t> waiter = deps_.waiters->Add(
            DepositWaitKey(ids.correlation_id), deadline,
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
