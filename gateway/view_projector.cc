#include "gateway/view_projector.h"

#include "absl/strings/str_cat.h"
#include "choreo/orders/v1/events.pb.h"
#include "contracts/topics/topics.h"
#include "gateway/event_feed.h"

namespace choreo::gateway {

ViewProjector::ViewProjector(Options options, OrderCache& cache, Waiters& waiters)
    : options_(std::move(options)), cache_(cache), waiters_(waiters) {
  static_cast<void>(codec_.Register<orders::v1::OrderSnapshot>());
}

ViewProjector::~ViewProjector() { Stop(); }

absl::Status ViewProjector::Start() {
  kafka::KafkaConfig config =
      kafka::Merged(kafka::ConsumerDefaults(options_.kafka_brokers, options_.group_id),
                    kafka::BatchedFetch(options_.fetch_max_wait));
  config.emplace_back("auto.offset.reset", "earliest");
  loop_ = std::make_unique<consume::ConsumerLoop>(
      consume::ConsumerLoopOptions{.consumer = std::move(config),
                                   .topics = {std::string(topics::kOrdersSnapshots)},
                                   .lanes = std::max(1, options_.lanes),
                                   .max_batch = 64,
                                   .name = options_.group_id,
                                   .ready_once_caught_up = true},
      [this](int /*lane*/, absl::Span<consume::RecordScope> batch) { ApplyBatch(batch); });
  return loop_->Start();
}

void ViewProjector::Stop() noexcept {
  if (loop_ != nullptr) loop_->Stop();
}

absl::Status ViewProjector::Readiness() const {
  if (loop_ == nullptr) return absl::UnavailableError(absl::StrCat(options_.group_id, ": not running"));
  return loop_->Readiness();
}

std::vector<kafka::PartitionLag> ViewProjector::ConsumerLag() const {
  return loop_ != nullptr ? loop_->Lag() : std::vector<kafka::PartitionLag>{};
}

void ViewProjector::ApplyBatch(absl::Span<consume::RecordScope> batch) {
  std::vector<codec::DecodedEvent> decoded;
  std::vector<const orders::v1::Order*> snapshots;
  decoded.reserve(batch.size());
  for (const consume::RecordScope& scope : batch) {
    absl::StatusOr<codec::DecodedEvent> event = codec_.Decode(scope.record());
    if (!event.ok()) continue;  // not ours to judge: the services dead-letter bad records
    decoded.push_back(*std::move(event));
  }
  for (const codec::DecodedEvent& event : decoded) {
    const auto* snapshot = dynamic_cast<const orders::v1::OrderSnapshot*>(event.message.get());
    if (snapshot != nullptr) snapshots.push_back(&snapshot->order());
  }
  // What this instance's feed wrote a moment ago is not written again.
  snapshots = cache_.MayChange(snapshots);
  std::vector<std::pair<gateway::v1::Order, bool>> applied;
  if (!snapshots.empty() &&
      !consume::RetryBatch(
          batch, absl::StrCat("order views: applying ", snapshots.size(), " snapshots"), [&] {
            absl::StatusOr<std::vector<std::pair<gateway::v1::Order, bool>>> views =
                cache_.ApplySnapshots(snapshots);
            if (views.ok()) applied = *std::move(views);
            return views.status();
          })) {
    return;  // stopping: the snapshots stay uncommitted and are read again
  }
  for (size_t i = 0; i < applied.size(); ++i) {
    const auto& [view, changed] = applied[i];
    if (changed) NotifyView(waiters_, *snapshots[i], view);
  }
  for (consume::RecordScope& scope : batch) scope.Done();
}

}  // namespace choreo::gateway
