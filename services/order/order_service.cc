#include "services/order/order_service.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "contracts/payments/payments.h"
#include "contracts/topics/topics.h"
#include "platform/ids/stable_id.h"
#include "platform/logging/logger.h"
#include "platform/process/thread_name.h"
#include "saga/service/peer_auth.h"
#include "services/order/core/deadline_index.h"

namespace choreo::order {
namespace {

// The order route of `Event`: keeps the deadline index in line with the committed order (for a
// batch of orders, in one round trip).
template <typename Event>
absl::Status IndexDeadlineAfterCommit(saga::HandlerRegistry& registry, DeadlineIndex* index) {
  return registry.AfterCommit<Event, orders::v1::Order>(
      "deadline index",
      [index](const orders::v1::Order& order, const Event&, const saga::EffectContext&) {
        return index->Apply({order});
      },
      [index](const std::vector<orders::v1::Order>& orders, const std::vector<const Event*>&,
              const std::vector<const saga::EffectContext*>&) {
        return index->Apply(orders);
      },
      saga::HandlerRegistry::Repeats::kFreely);
}

// `decide` (one of core/'s decisions, as a registry handler) with its changes published whole
// (WithSnapshot).
template <typename Event, typename Decide>
auto Snapshotting(Decide decide) {
  return [decide](const orders::v1::Order& state, const Event& event,
                  const saga::EventContext& context) -> absl::StatusOr<OrderReaction> {
    absl::StatusOr<OrderReaction> reaction = decide(state, event, context);
    if (!reaction.ok()) return reaction;
    return WithSnapshot(state, *std::move(reaction));
  };
}

}  // namespace

store::AggregateRef OrderAggregate(const std::string& order_id) {
  return store::ServiceAggregate(kService, kAggregate, order_id);
}

redis::ShardedSchedule DeadlineSchedule() {
  // Before the schedule was sharded (0.x), the one key "order:deadlines" held every deadline.
  return redis::ShardedSchedule(
      {.name = "order:deadlines", .shards = 16, .legacy_key = "order:deadlines"});
}

DeadlineIndex::DeadlineIndex(redis::RedisConnection::Options redis, int connections)
    : pool_(std::move(redis), connections), schedule_(DeadlineSchedule()) {}

absl::Status DeadlineIndex::Apply(const std::vector<orders::v1::Order>& orders) {
  std::vector<std::vector<std::string>> commands;
  for (const orders::v1::Order& order : orders) {
    // The same member and score again is a no-op; a settled order's entry waits for the scanner.
    if (AwaitsDeadline(order)) {
      commands.push_back(
          schedule_.AddCommand(order.order_id(), DeadlineScore(order), DeadlineMember(order)));
    }
  }
  if (commands.empty()) return absl::OkStatus();
  return pool_.Run(commands).status();  // an error reply is UNAVAILABLE (RedisPool::Run)
}

std::vector<std::string> OrderTopics() {
  return {std::string(topics::kOrdersRequests), std::string(topics::kBillingPayments),
          std::string(topics::kOrdersDeadlines), std::string(topics::kOrdersCancellations)};
}

absl::StatusOr<saga::HandlerRegistry> OrderRegistry(const Catalog& catalog, OrderPolicy policy,
                                                    DeadlineIndex* index) {
  using orders::v1::Order;
  saga::HandlerRegistry registry;
  absl::Status status = registry.On<orders::v1::OrderCreationRequested, Order>(
      kAggregate,
      [](const orders::v1::OrderCreationRequested& e) {
        return e.username().empty() || e.request_id().empty()
                   ? std::string()
                   : OrderIdFor(ids::Username(e.username()), e.request_id()).value();
      },
      Snapshotting<orders::v1::OrderCreationRequested>(
          [&catalog, policy](const Order& state, const orders::v1::OrderCreationRequested& request,
                             const saga::EventContext& context) {
            return OnOrderRequested(state, request, catalog, policy, context.now);
          }));
  // An order id is new with its request (a retry of the request finds its order: loaded then).
  if (status.ok()) status = registry.StartsAggregate<orders::v1::OrderCreationRequested>();
  if (status.ok()) {
    status = registry.On<billing::v1::PaymentProcessed, Order>(
        kAggregate, [](const billing::v1::PaymentProcessed& e) { return e.order_id(); },
        Snapshotting<billing::v1::PaymentProcessed>([](const Order& state,
                                                       const billing::v1::PaymentProcessed& payment,
                                                       const saga::EventContext& context) {
          return OnPaymentProcessed(state, payment, context.now);
        }));
  }
  if (status.ok()) {
    status = registry.On<billing::v1::PaymentRefunded, Order>(
        kAggregate, [](const billing::v1::PaymentRefunded& e) { return e.order_id(); },
        Snapshotting<billing::v1::PaymentRefunded>([](const Order& state,
                                                      const billing::v1::PaymentRefunded& refund,
                                                      const saga::EventContext& context) {
          return OnPaymentRefunded(state, refund, context.now);
        }));
  }
  if (status.ok()) {
    status = registry.On<orders::v1::OrderDeadlinePassed, Order>(
        kAggregate, [](const orders::v1::OrderDeadlinePassed& e) { return e.order_id(); },
        Snapshotting<orders::v1::OrderDeadlinePassed>(
            [](const Order& state, const orders::v1::OrderDeadlinePassed& deadline,
               const saga::EventContext& context) {
              return OnDeadlinePassed(state, deadline, context.now);
            }));
  }
  if (status.ok()) {
    status = registry.On<orders::v1::OrderCancellationRequested, Order>(
        kAggregate, [](const orders::v1::OrderCancellationRequested& e) { return e.order_id(); },
        Snapshotting<orders::v1::OrderCancellationRequested>(
            [](const Order& state, const orders::v1::OrderCancellationRequested& cancel,
               const saga::EventContext& context) {
              return OnCancellationRequested(state, cancel, context.now);
            }));
  }
  // PaymentProcessed of revision 1 (a billing not yet upgraded) has no outcome.
  if (status.ok()) {
    status =
        registry.Upcast<billing::v1::PaymentProcessed>(1, contracts::UpcastPaymentProcessedFromV1);
  }
  using AddEffect = absl::Status (*)(saga::HandlerRegistry&, DeadlineIndex*);
  for (AddEffect add : {&IndexDeadlineAfterCommit<orders::v1::OrderCreationRequested>,
                        &IndexDeadlineAfterCommit<billing::v1::PaymentProcessed>,
                        &IndexDeadlineAfterCommit<billing::v1::PaymentRefunded>,
                        &IndexDeadlineAfterCommit<orders::v1::OrderDeadlinePassed>,
                        &IndexDeadlineAfterCommit<orders::v1::OrderCancellationRequested>}) {
    if (status.ok()) status = add(registry, index);
  }
  if (!status.ok()) return status;
  return registry;
}

OrderAdminService::OrderAdminService(const Catalog& catalog, redis::RedisConnection::Options redis)
    : catalog_(catalog), store_(std::move(redis)) {}

grpc::Status OrderAdminService::GetOrder(grpc::ServerContext* context,
                                         const orders::v1::GetOrderRequest* request,
                                         orders::v1::Order* response) {
  if (grpc::Status denied = service::RequirePeer(*context, service::kAdminReaders); !denied.ok()) {
    return denied;
  }
  if (request->order_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "order_id: required");
  }
  absl::StatusOr<store::AggregateSnapshot> snapshot;
  {
    absl::MutexLock lock(&mu_);
    snapshot = store_.Load(OrderAggregate(request->order_id()), "");
  }
  if (!snapshot.ok()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(snapshot.status().message()));
  }
  if (snapshot->version == 0 || !response->ParseFromString(snapshot->state)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no order ", request->order_id()));
  }
  return grpc::Status::OK;
}

grpc::Status OrderAdminService::ListCatalog(grpc::ServerContext* context,
                                            const orders::v1::ListCatalogRequest*,
                                            orders::v1::ListCatalogResponse* response) {
  if (grpc::Status denied = service::RequirePeer(*context, service::kAdminReaders); !denied.ok()) {
    return denied;
  }
  for (const orders::v1::CatalogItem& item : catalog_.items()) *response->add_items() = item;
  return grpc::Status::OK;
}

DeadlineScanner::DeadlineScanner(Options options)
    : options_(std::move(options)),
      scan_(options_.redis),
      orders_(options_.redis),
      schedule_(DeadlineSchedule()),
      holder_(redis::NewLeaseHolder()) {}

DeadlineScanner::~DeadlineScanner() { Stop(); }

absl::Status DeadlineScanner::Start() {
  if (options_.publisher == nullptr) {
    return absl::FailedPreconditionError("deadline scanner: no publisher");
  }
  thread_ = process::NamedThread("deadlines", [this] {
    while (true) {
      {
        absl::MutexLock lock(&stop_mu_);
        auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stop_mu_) { return stopping_; };
        if (stop_mu_.AwaitWithTimeout(absl::Condition(&stopping), options_.interval)) return;
      }
      absl::StatusOr<int> scanned = ScanOnce(options_.clock());
      if (!scanned.ok()) {
        logging::Warn(absl::StrCat("deadline scan: ", scanned.status().message()));
      }
    }
  });
  return absl::OkStatus();
}

void DeadlineScanner::Stop() noexcept {
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) {
    thread_.join();
    static_cast<void>(schedule_.Release(scan_, holder_));  // another instance scans at once
  }
}

absl::StatusOr<int> DeadlineScanner::ScanOnce(absl::Time now) {
  int overdue = 0;
  absl::StatusOr<int> published = PublishDue(now, &overdue);
  if (options_.after_pass) options_.after_pass(overdue);
  if (!published.ok()) {
    // Another instance may publish what this one cannot: let it scan at once.
    static_cast<void>(schedule_.Release(scan_, holder_));
  }
  return published;
}

absl::StatusOr<int> DeadlineScanner::PublishDue(absl::Time now, int* overdue) {
  absl::StatusOr<std::vector<redis::ShardedSchedule::Entry>> due =
      schedule_.Due(scan_, holder_, now, 500);
  if (!due.ok()) return due.status();
  if (due->empty()) {
    *overdue = 0;
    return 0;
  }
  std::vector<DeadlineEntry> entries;
  for (const redis::ShardedSchedule::Entry& due_entry : *due) {
    entries.push_back(ParseDeadlineMember(due_entry.member));
  }
  const std::vector<bool> settled = SettledOrders(entries);
  std::vector<redis::ShardedSchedule::Entry> done;       // settled, then those published
  std::vector<redis::ShardedSchedule::Entry> announced;  // to publish
  std::vector<publish::StampedEvent> events;
  // After a refused pass, one event probes the broker first: a broker that is down queues what
  // it is given, and a whole backlog handed over on every pass would all arrive at once later.
  const size_t most = last_pass_refused_ ? 1 : due->size();
  absl::Status publish_error;
  for (size_t i = 0; i < due->size(); ++i) {
    if (settled[i]) {
      done.push_back((*due)[i]);
      continue;
    }
    if (!publish_error.ok() || events.size() == most) continue;
    absl::StatusOr<publish::StampedEvent> event = DeadlinePassed(entries[i]);
    if (!event.ok()) {
      publish_error = event.status();
      continue;
    }
    announced.push_back((*due)[i]);
    events.push_back(*std::move(event));
  }
  // The pass's events go out together, with one wait for all their acknowledgements: a backlog
  // (after a Kafka outage) drains a batch per round trip to the broker, not an event. If any is
  // refused, none of them counts as published: those the broker did take are published again
  // next pass, duplicates the handler drops.
  if (publish_error.ok()) {
    publish_error = options_.publisher->SendAndWait(std::move(events));
  } else {
    for (publish::StampedEvent& unsent : events) unsent.send.Discard();
  }
  last_pass_refused_ = !publish_error.ok();
  if (publish_error.ok()) done.insert(done.end(), announced.begin(), announced.end());
  *overdue = static_cast<int>(due->size() - done.size());
  // What was published is dropped only now: a crash in between publishes it again, a duplicate.
  const absl::Status removed = schedule_.Remove(scan_, done);
  if (!publish_error.ok()) {
    if (!removed.ok()) logging::Warn(absl::StrCat("deadline scan: ", removed.message()));
    return publish_error;
  }
  if (!removed.ok()) return removed;
  return static_cast<int>(announced.size());  // all published
}

std::vector<bool> DeadlineScanner::SettledOrders(const std::vector<DeadlineEntry>& entries) {
  std::vector<store::AggregateEvent> refs;  // the states alone (no event id)
  for (const DeadlineEntry& entry : entries) refs.push_back({OrderAggregate(entry.order_id), ""});
  std::vector<bool> settled(entries.size(), false);
  absl::StatusOr<std::vector<store::AggregateSnapshot>> states = orders_.LoadMany(refs);
  if (!states.ok()) {
    // One state that cannot be read (a version that is not a number, a key of another type)
    // fails them all: every entry is published, as before states were read, and its handler
    // judges (and dead-letters what it cannot read), so expiry never stalls on one order.
    logging::Warn(
        absl::StrCat("deadline scan: the due orders' states: ", states.status().message()),
        {{"orders", absl::StrCat(entries.size())}});
    return settled;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    orders::v1::Order order;
    // Only a stored order that parses and has settled is dropped unannounced; one missing or
    // unreadable is published, for the handler to judge.
    settled[i] = (*states)[i].version > 0 && order.ParseFromString((*states)[i].state) &&
                 SettledBeforeDeadline(order);
  }
  return settled;
}

absl::StatusOr<publish::StampedEvent> DeadlineScanner::DeadlinePassed(
    const DeadlineEntry& entry) const {
  orders::v1::OrderDeadlinePassed event;
  event.set_order_id(entry.order_id);
  publish::Origin origin =
      publish::Origin::Command(ids::CorrelationId(entry.correlation_id), entry.traceparent);
  origin.event_id = ids::EventId(ids::StableId("deadline", {entry.order_id}));
  return options_.publisher->Stamp(event, topics::kOrdersDeadlines, entry.order_id, origin);
}

}  // namespace choreo::order
