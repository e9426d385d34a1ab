#include "gateway/view_projector.h"

#include "absl/strings/str_cat.h"
#include "choreo/orders/v1/events.pb.h"
#include "contracts/topics/topics.h"
#include "gateway/event_feed.h"

namespace choreo::gateway {

ViewProjector::ViewProjector(Options options, OrderCache& cache, Waiters& waiters)
    : options_(std::move(options)), cache_(cache), waiters_(waiters) {
  static_cast<void>(codec_.Register<orders::v1::OrderStatusUpdated>());
}

ViewProjector::~ViewProjector() { Stop(); }

absl::Status ViewProjector::Start() {
  kafka::KafkaConfig config = kafka::ConsumerDefaults(options_.kafka_brokers, options_.group_id);
  config.emplace_back("auto.offset.reset", "earliest");
  config.emplace_back("fetch.wait.max.ms", absl::StrCat(options_.fetch_wait_max_ms));
  loop_ = std::make_unique<consume::ConsumerLoop>(
      consume::ConsumerLoopOptions{.consumer = std::move(config),
                                   .topics = {std::string(topics::kOrdersStatus)},
                                   .lanes = std::max(1, options_.lanes),
                                   .max_batch = 64,
                                   .name = options_.group_id},
      [this](int /*lane*/, absl::Span<consume::RecordScope> batch) { ApplyBatch(batch); });
  return loop_->Start();
}

void ViewProjector::Stop() noexcept {
  if (loop_ != nullptr) loop_->Stop();
}

absl::Status ViewProjector::Readiness() const {
  if (loop_ == nullptr) return absl::UnavailableError(absl::StrCat(options_.group_id, ": not running"));
  if (caught_up_.load()) return loop_->Readiness();
  absl::Status caught_up = loop_->CaughtUp();
  if (!caught_up.ok()) {
    return absl::UnavailableError(
        absl::StrCat("order views are catching up: ", caught_up.message()));
  }
  caught_up_.store(true);
  return absl::OkStatus();
}

std::vector<kafka::PartitionLag> ViewProjector::ConsumerLag() const {
  return loop_ != nullptr ? loop_->Lag() : std::vector<kafka::PartitionLag>{};
}

void ViewProjector::ApplyBatch(absl::Span<consume::RecordScope> batch) {
  std::vector<codec::DecodedEvent> decoded;
  std::vector<OrderCache::StatusEvent> statuses;
  decoded.reserve(batch.size());
  for (const consume::RecordScope& scope : batch) {
    absl::StatusOr<codec::DecodedEvent> event = codec_.Decode(scope.record());
    if (!event.ok()) continue;  // not ours to judge: the services dead-letter bad records
    decoded.push_back(*std::move(event));
  }
  for (const codec::DecodedEvent& event : decoded) {
    const auto* update = dynamic_cast<const orders::v1::OrderStatusUpdated*>(event.message.get());
    if (update != nullptr) {
      statuses.push_back({update, ids::CorrelationId(event.meta().correlation_id())});
    }
  }
  std::vector<std::pair<gateway::v1::Order, bool>> applied;
  if (!statuses.empty() &&
      !consume::RetryBatch(batch, absl::StrCat("order views: applying ", statuses.size(), " statuses"),
                           [&] {
                             absl::StatusOr<std::vector<std::pair<gateway::v1::Order, bool>>> views =
                                 cache_.ApplyStatuses(statuses);
                             if (views.ok()) applied = *std::move(views);
                             return views.status();
                           })) {
    return;  // stopping: the statuses stay uncommitted and are read again
  }
  for (size_t i = 0; i < applied.size(); ++i) {
    const auto& [view, changed] = applied[i];
    if (changed) NotifyStatus(waiters_, *statuses[i].update, view);
  }
  for (consume::RecordScope& scope : batch) scope.Done();
}

}  // namespace choreo::gateway
