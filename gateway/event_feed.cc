#include "gateway/event_feed.h"

#include "absl/strings/str_cat.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "gateway/core/gateway_rules.h"
#include "platform/logging/logger.h"
#include "contracts/topics/topics.h"
#include "platform/tracing/messaging.h"

namespace choreo::gateway {

WaitKey<gateway::v1::Order> OrderWaitKey(const ids::OrderId& order_id) {
  return {"order:" + order_id.value()};
}
WaitKey<gateway::v1::Order> WatchWaitKey(const ids::OrderId& order_id) {
  return {"watch:" + order_id.value()};
}
WaitKey<CancelOutcome> CancelWaitKey(const ids::OrderId& order_id, absl::string_view request_id) {
  return {absl::StrCat("cancel:", order_id.value(), ":", request_id)};
}

void NotifyView(Waiters& waiters, const orders::v1::Order& order, const gateway::v1::Order& view) {
  const ids::OrderId order_id(order.order_id());
  waiters.Notify(OrderWaitKey(order_id), view);
  waiters.Notify(WatchWaitKey(order_id), view);
  if (!order.cancel_request_id().empty()) {
    waiters.Notify(CancelWaitKey(order_id, order.cancel_request_id()), CancelOutcome{view, {}});
  }
}

WaitKey<billing::v1::FundsDeposited> DepositWaitKey(const ids::CorrelationId& correlation_id) {
  return {"deposit:" + correlation_id.value()};
}
WaitKey<billing::v1::AccountOpened> RegistrationWaitKey(const ids::CorrelationId& correlation_id) {
  return {"register:" + correlation_id.value()};
}

EventFeed::EventFeed(Options options, OrderCache& cache, Waiters& waiters)
    : options_(std::move(options)), cache_(cache), waiters_(waiters) {
  static_cast<void>(codec_.Register<orders::v1::OrderSnapshot>());
  static_cast<void>(codec_.Register<orders::v1::OrderCancellationRefused>());
  static_cast<void>(codec_.Register<billing::v1::FundsDeposited>());
  static_cast<void>(codec_.Register<billing::v1::AccountOpened>());
}

EventFeed::~EventFeed() { Stop(); }

std::string EventFeed::group_id() const { return absl::StrCat("choreo-gateway-", options_.instance_id); }

std::string EventFeed::refusals_group_id() const { return absl::StrCat(group_id(), "-refusals"); }

absl::Status EventFeed::Readiness() const {
  if (loop_ == nullptr) return absl::UnavailableError("event feed: not running");
  return loop_->Readiness();
}

absl::Status EventFeed::RefusalsReadiness() const {
  if (refusals_loop_ == nullptr) return absl::UnavailableError("event feed: not running");
  return refusals_loop_->Readiness();
}

std::vector<kafka::PartitionLag> EventFeed::ConsumerLag() const {
  return loop_ != nullptr ? loop_->Lag() : std::vector<kafka::PartitionLag>{};
}

std::vector<kafka::PartitionLag> EventFeed::RefusalsLag() const {
  return refusals_loop_ != nullptr ? refusals_loop_->Lag() : std::vector<kafka::PartitionLag>{};
}

absl::Status EventFeed::Start(absl::Duration timeout) {
  // Both groups start at the latest offsets and hand their records to HandleBatch.
  auto loop_of = [this](kafka::KafkaConfig config, std::vector<std::string> topics, int lanes,
                        std::string group) {
    config.emplace_back("auto.offset.reset", "latest");
    return std::make_unique<consume::ConsumerLoop>(
        consume::ConsumerLoopOptions{.consumer = std::move(config),
                                     .topics = std::move(topics),
                                     .lanes = lanes,
                                     .max_batch = 64,
                                     .name = group},
        [this, group](int /*lane*/, absl::Span<consume::RecordScope> batch) {
          HandleBatch(batch, group);
        });
  };
  loop_ = loop_of(kafka::Merged(kafka::ConsumerDefaults(options_.kafka_brokers, group_id()),
                                {{"fetch.wait.max.ms", absl::StrCat(options_.fetch_wait_max_ms)}}),
                  {std::string(topics::kOrdersSnapshots), std::string(topics::kBillingAccounts)},
                  std::max(1, options_.lanes), group_id());
  refusals_loop_ =
      loop_of(kafka::Merged(kafka::ConsumerDefaults(options_.kafka_brokers, refusals_group_id()),
                            kafka::BatchedFetch(options_.refusals_fetch_max_wait)),
              {std::string(topics::kOrdersStatus)}, 1, refusals_group_id());
  for (consume::ConsumerLoop* loop : {loop_.get(), refusals_loop_.get()}) {
    if (absl::Status started = loop->Start(); !started.ok()) return started;
  }
  const absl::Time deadline = absl::Now() + timeout;  // for both
  for (consume::ConsumerLoop* loop : {loop_.get(), refusals_loop_.get()}) {
    if (!loop->WaitForAssignment(deadline - absl::Now()).ok()) {
      return absl::UnavailableError("the gateway's event feed got no partitions in time");
    }
  }
  return absl::OkStatus();
}

void EventFeed::Stop() noexcept {
  for (consume::ConsumerLoop* loop : {loop_.get(), refusals_loop_.get()}) {
    if (loop != nullptr) loop->Stop();
  }
}

bool EventFeed::MayAnswerWith(const orders::v1::Order& order) const {
  return contracts::IsTerminal(order.status()) ||
         waiters_.Waiting(WatchWaitKey(ids::OrderId(order.order_id())));
}

void EventFeed::HandleBatch(absl::Span<consume::RecordScope> batch, const std::string& group) {
  struct Item {
    tracing::Span span;
    codec::DecodedEvent event;
    const orders::v1::Order* order = nullptr;  // of an OrderSnapshot
    bool written = false;                      // its view is written here (ApplySnapshots)
  };
  std::vector<Item> items;
  std::vector<const orders::v1::Order*> snapshots;
  for (consume::RecordScope& scope : batch) {
    const KafkaRecord& record = scope.record();
    tracing::Span span =
        tracing::StartProcessSpan(tracing::TracerOr(options_.tracer), record, group);
    absl::StatusOr<codec::DecodedEvent> decoded = codec_.Decode(record);
    if (!decoded.ok()) continue;  // not ours to judge: the services dead-letter bad records
    Item& item = items.emplace_back(Item{std::move(span), *std::move(decoded)});
    if (const auto* snapshot =
            dynamic_cast<const orders::v1::OrderSnapshot*>(item.event.message.get())) {
      item.order = &snapshot->order();
      item.written = MayAnswerWith(*item.order);
      if (item.written) snapshots.push_back(item.order);
    }
  }
  absl::StatusOr<std::vector<std::pair<gateway::v1::Order, bool>>> applied =
      snapshots.empty() ? std::vector<std::pair<gateway::v1::Order, bool>>{}
                        : cache_.ApplySnapshots(snapshots);
  if (!applied.ok()) {
    logging::Warn(absl::StrCat("order views: ", applied.status().message()),
                  {{"snapshots", absl::StrCat(snapshots.size())}});
  }
  size_t snapshot = 0;
  for (Item& item : items) {
    const ids::CorrelationId correlation(item.event.meta().correlation_id());
    const google::protobuf::Message* message = item.event.message.get();
    if (item.order != nullptr) {
      // Not written here, or Redis is away: the waiters get the news from the snapshot alone.
      const gateway::v1::Order view = item.written && applied.ok()
                                          ? std::move((*applied)[snapshot].first)
                                          : ViewOfOrder(*item.order);
      if (item.written) ++snapshot;
      NotifyView(waiters_, *item.order, view);
    } else if (const auto* refused =
                   dynamic_cast<const orders::v1::OrderCancellationRefused*>(message)) {
      waiters_.Notify(CancelWaitKey(ids::OrderId(refused->order_id()), refused->request_id()),
                      CancelOutcome{{}, refused->reason()});
    } else if (const auto* deposited = dynamic_cast<const billing::v1::FundsDeposited*>(message)) {
      waiters_.Notify(DepositWaitKey(correlation), *deposited);
    } else if (const auto* opened = dynamic_cast<const billing::v1::AccountOpened*>(message)) {
      waiters_.Notify(RegistrationWaitKey(correlation), *opened);
    }
  }
  for (consume::RecordScope& scope : batch) scope.Done();  // applied and handed over
}

}  // namespace choreo::gateway
