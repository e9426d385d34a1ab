#include "tests/chaos/facts.h"

#include "absl/strings/str_cat.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "choreo/notifications/v1/events.pb.h"
#include "choreo/orders/v1/admin.grpc.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "contracts/orders/orders.h"
#include "contracts/topics/topics.h"
#include "grpcpp/grpcpp.h"
#include "platform/ids/stable_id.h"
#include "saga/codec/event_codec.h"
#include "testing/topic_reader.h"
#include "testing/wait.h"

namespace choreo::chaos {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(10);

std::unique_ptr<grpc::ClientContext> Context(const e2e::TestUsers* users, const std::string& user) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (users != nullptr) users->Authorize(user, *context);
  context->set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  return context;
}

// The order service's truth and the gateway's view of every placed order, and the balances.
absl::Status AskServices(const SystemAddresses& system, const e2e::TestUsers& users,
                         const std::vector<PlacedOrder>& placed, RunFacts& facts) {
  auto admin = orders::v1::OrderAdmin::NewStub(system.order_admin);
  auto gateway_channel = grpc::CreateChannel(system.gateway, grpc::InsecureChannelCredentials());
  auto gateway_orders = gateway::v1::OrderService::NewStub(gateway_channel);
  auto gateway_accounts = gateway::v1::AccountService::NewStub(gateway_channel);
  for (const PlacedOrder& p : placed) {
    const std::string id = contracts::OrderIdFor(ids::Username(p.user), p.request_id).value();
    OrderFacts& order = facts.orders[id];
    order.user = p.user;
    orders::v1::GetOrderRequest get;
    get.set_order_id(id);
    orders::v1::Order truth;
    grpc::Status status = admin->GetOrder(Context(nullptr, "").get(), get, &truth);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) continue;  // never accepted
    if (!status.ok()) return absl::UnavailableError(absl::StrCat("OrderAdmin.GetOrder: ", status.error_message()));
    order.accepted = true;
    order.truth_status = truth.status();
    for (const orders::v1::StatusChange& change : truth.history()) {
      order.truth_history.insert(change.status());
    }
    order.total = truth.total().minor_units();
    gateway::v1::GetOrderRequest view_request;
    view_request.set_order_id(id);
    gateway::v1::Order view;
    if (gateway_orders->GetOrder(Context(&users, p.user).get(), view_request, &view).ok()) {
      order.view_status = view.status();
      for (const orders::v1::StatusChange& change : view.history()) {
        order.view_history.emplace_back(change.previous_status(), change.status());
      }
    }
  }
  for (const auto& [user, amount] : facts.deposited) {
    gateway::v1::Balance balance;
    grpc::Status status = gateway_accounts->GetBalance(Context(&users, user).get(), {}, &balance);
    if (!status.ok()) return absl::UnavailableError(absl::StrCat("GetBalance: ", status.error_message()));
    facts.balances[user] = balance.balance().minor_units();
  }
  return absl::OkStatus();
}

// What one record on a saga topic says about its order.
void Note(const google::protobuf::Message& message, const std::string& event_id, RunFacts& facts,
          std::set<std::string>& payments_seen) {
  auto order_of = [&facts](const std::string& id) -> OrderFacts* {
    auto it = facts.orders.find(id);
    return it == facts.orders.end() ? nullptr : &it->second;
  };
  if (const auto* e = dynamic_cast<const orders::v1::OrderCreationRequested*>(&message)) {
    if (OrderFacts* o = order_of(contracts::OrderIdFor(ids::Username(e->username()), e->request_id()).value())) {
      o->requested_on_topic = true;
    }
  } else if (const auto* e = dynamic_cast<const orders::v1::OrderCancellationRequested*>(&message)) {
    if (OrderFacts* o = order_of(e->order_id())) o->cancel_on_topic = true;
  } else if (const auto* e = dynamic_cast<const orders::v1::OrderCreated*>(&message)) {
    if (OrderFacts* o = order_of(e->order_id())) o->created_on_topic = true;
  } else if (const auto* e = dynamic_cast<const orders::v1::OrderStatusUpdated*>(&message)) {
    if (OrderFacts* o = order_of(e->order_id())) o->statuses_on_topic.insert(e->status());
  } else if (const auto* e = dynamic_cast<const billing::v1::PaymentProcessed*>(&message)) {
    OrderFacts* o = order_of(e->order_id());
    if (o != nullptr && e->success() && payments_seen.insert(event_id).second) {
      ++o->successful_debits;
      o->debited += e->amount().minor_units();
    }
  } else if (const auto* e = dynamic_cast<const billing::v1::PaymentRefunded*>(&message)) {
    OrderFacts* o = order_of(e->order_id());
    if (o != nullptr && payments_seen.insert(event_id).second) {
      ++o->refunds;
      o->refunded += e->amount().minor_units();
    }
  } else if (const auto* e = dynamic_cast<const notifications::v1::NotificationRequested*>(&message)) {
    OrderFacts* o = order_of(e->order_id());
    if (o == nullptr) return;
    // A notification's id derives from (order, status): find the status it reports.
    for (int status = orders::v1::OrderStatus_MIN; status <= orders::v1::OrderStatus_MAX; ++status) {
      if (!orders::v1::OrderStatus_IsValid(status)) continue;
      const std::string name = orders::v1::OrderStatus_Name(static_cast<orders::v1::OrderStatus>(status));
      if (ids::StableId("notification", {e->order_id(), name}) == e->notification_id()) {
        o->notifications_requested[status].insert(e->notification_id());
      }
    }
  } else if (const auto* e = dynamic_cast<const notifications::v1::NotificationSent*>(&message)) {
    if (OrderFacts* o = order_of(e->order_id())) o->notifications_sent.insert(e->notification_id());
  }
}

absl::Status ReadTopics(const SystemAddresses& system, RunFacts& facts) {
  codec::EventCodec codec;
  for (absl::Status registered :
       {codec.Register<orders::v1::OrderCreationRequested>(), codec.Register<orders::v1::OrderCreated>(),
        codec.Register<orders::v1::OrderStatusUpdated>(), codec.Register<billing::v1::PaymentProcessed>(),
        codec.Register<orders::v1::OrderCancellationRequested>(),
        codec.Register<billing::v1::PaymentRefunded>(),
        codec.Register<notifications::v1::NotificationRequested>(),
        codec.Register<notifications::v1::NotificationSent>()}) {
    if (!registered.ok()) return registered;
  }
  std::set<std::string> payments_seen;  // event ids: a re-published event counts once
  for (absl::string_view topic :
       {topics::kOrdersRequests, topics::kOrdersCreated, topics::kOrdersStatus,
        topics::kOrdersCancellations, topics::kBillingPayments, topics::kNotificationsRequested,
        topics::kNotificationsSent}) {
    absl::StatusOr<std::vector<KafkaRecord>> records =
        testing::ReadTopicToEnd(system.kafka, std::string(topic), absl::Seconds(60));
    if (!records.ok()) return records.status();
    for (const KafkaRecord& record : *records) {
      absl::StatusOr<codec::DecodedEvent> decoded = codec.Decode(record);
      if (!decoded.ok()) continue;  // another type on the topic: not an invariant's business
      Note(*decoded->message, decoded->meta().event_id(), facts, payments_seen);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RunFacts> GatherFacts(const SystemAddresses& system, const e2e::TestUsers& users,
                                     const std::vector<PlacedOrder>& placed,
                                     const std::map<std::string, int64_t>& deposited) {
  RunFacts facts;
  facts.deposited = deposited;
  if (absl::Status asked = AskServices(system, users, placed, facts); !asked.ok()) return asked;
  if (absl::Status read = ReadTopics(system, facts); !read.ok()) return read;
  return facts;
}

}  // namespace choreo::chaos

namespace choreo::chaos {

std::vector<Violation> SettledViolations(const SystemAddresses& system, const e2e::TestUsers& users,
                                         const std::vector<PlacedOrder>& placed,
                                         const std::map<std::string, int64_t>& deposited,
                                         absl::Duration settle, RunFacts* last) {
  std::vector<Violation> violations;
  bool gathered_once = false;
  absl::Status last_failure;
  const bool settled = testing::WaitUntil(
      [&] {
        absl::StatusOr<RunFacts> facts = GatherFacts(system, users, placed, deposited);
        if (!facts.ok()) {
          last_failure = facts.status();
          return false;
        }
        gathered_once = true;
        violations = CheckInvariants(*facts);
        if (last != nullptr) *last = *std::move(facts);
        return violations.empty();
      },
      settle);
  if (!settled && !gathered_once) {
    violations.push_back(
        {"facts", "-",
         absl::StrCat("the system's facts could not be gathered: ", last_failure.ToString())});
  }
  return violations;
}

}  // namespace choreo::chaos
