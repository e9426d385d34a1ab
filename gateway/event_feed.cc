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
WaitKey<billing::v1::FundsDeposited> DepositWaitKey(const ids::CorrelationId& correlation_id) {
  return {"deposit:" + correlation_id.value()};
}
WaitKey<billing::v1::AccountOpened> RegistrationWaitKey(const ids::CorrelationId& correlation_id) {
  return {"register:" + correlation_id.value()};
}

EventFeed::EventFeed(Options options, OrderCache& cache, Waiters& waiters)
    : options_(std::move(options)), cache_(cache), waiters_(waiters) {
  static_cast<void>(codec_.Register<orders::v1::OrderStatusUpdated>());
  static_cast<void>(codec_.Register<billing::v1::FundsDeposited>());
  static_cast<void>(codec_.Register<billing::v1::AccountOpened>());
}

EventFeed::~EventFeed() { Stop(); }

std::string EventFeed::group_id() const { return absl::StrCat("choreo-gateway-", options_.instance_id); }

absl::Status EventFeed::Readiness() const {
  if (loop_ == nullptr) return absl::UnavailableError("event feed: not running");
  return loop_->Readiness();
}

std::vector<kafka::PartitionLag> EventFeed::ConsumerLag() const {
  return loop_ != nullptr ? loop_->Lag() : std::vector<kafka::PartitionLag>{};
}

absl::Status EventFeed::Start(absl::Duration timeout) {
  kafka::KafkaConfig config = kafka::ConsumerDefaults(options_.kafka_brokers, group_id());
  config.emplace_back("auto.offset.reset", "latest");
  config.emplace_back("fetch.wait.max.ms", absl::StrCat(options_.fetch_wait_max_ms));
  loop_ = std::make_unique<consume::ConsumerLoop>(
      consume::ConsumerLoopOptions{
          .consumer = std::move(config),
          .topics = {std::string(topics::kOrdersStatus), std::string(topics::kBillingAccounts)},
          .lanes = std::max(1, options_.lanes),
          .name = group_id()},
      [this](int /*lane*/, absl::Span<consume::RecordScope> batch) {
        for (consume::RecordScope& scope : batch) {
          Handle(scope.record());
          scope.Done();
        }
      });
  if (absl::Status started = loop_->Start(); !started.ok()) return started;
  if (!loop_->WaitForAssignment(timeout).ok()) {
    return absl::UnavailableError("the gateway's event feed got no partitions in time");
  }
  return absl::OkStatus();
}

void EventFeed::Stop() noexcept {
  if (loop_ != nullptr) loop_->Stop();
}

void EventFeed::Handle(const KafkaRecord& record) {
  tracing::Span span =
      tracing::StartProcessSpan(tracing::TracerOr(options_.tracer), record, group_id());
  absl::StatusOr<codec::DecodedEvent> decoded = codec_.Decode(record);
  if (!decoded.ok()) return;  // not ours to judge: the services dead-letter bad records
  const ids::CorrelationId correlation(decoded->meta().correlation_id());
  if (const auto* update = dynamic_cast<const orders::v1::OrderStatusUpdated*>(decoded->message.get())) {
    absl::StatusOr<std::pair<gateway::v1::Order, bool>> applied = cache_.ApplyStatus(*update, correlation);
    gateway::v1::Order view;
    if (applied.ok()) {
      view = std::move(applied->first);
    } else {
      // Redis is away: the waiters still get the news, from the event alone.
      logging::Fields fields = logging::EventFields(record);
      logging::Warn(absl::StrCat("status cache: ", applied.status().message()), fields);
      ApplyStatus(*update, correlation.value(), view);
    }
    waiters_.Notify(OrderWaitKey(ids::OrderId(update->order_id())), view);
  } else if (const auto* deposited =
                 dynamic_cast<const billing::v1::FundsDeposited*>(decoded->message.get())) {
    waiters_.Notify(DepositWaitKey(correlation), *deposited);
  } else if (const auto* opened =
                 dynamic_cast<const billing::v1::AccountOpened*>(decoded->message.get())) {
    waiters_.Notify(RegistrationWaitKey(correlation), *opened);
  }
}

}  // namespace choreo::gateway
