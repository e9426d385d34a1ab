#include "gateway/timeline/timeline_indexer.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/timeline/core/timeline_rules.h"
#include "platform/logging/logger.h"
#include "contracts/topics/topics.h"

namespace choreo::gateway::timeline {

TimelineIndexer::TimelineIndexer(Options options, TimelineStore& store, metrics::Metrics& metrics)
    : options_(std::move(options)),
      store_(store),
      indexed_(metrics.Counter("choreo_timeline_records_total",
                               "Records the timeline indexer read, by topic and outcome "
                               "(indexed, or skipped: no correlation id).",
                               {"topic", "outcome"})) {}

TimelineIndexer::~TimelineIndexer() { Stop(); }

absl::Status TimelineIndexer::Start() {
  kafka::KafkaConfig config = kafka::Merged(
      kafka::ConsumerDefaults(options_.kafka_brokers, options_.group_id),
      kafka::BatchedFetch(options_.fetch_max_wait));
  config.emplace_back("auto.offset.reset", "earliest");
  loop_ = std::make_unique<consume::ConsumerLoop>(
      consume::ConsumerLoopOptions{.consumer = std::move(config),
                                   .topics = topics::SagaTopics(),
                                   .lanes = 1,
                                   .max_batch = options_.max_batch,
                                   .batch_window = options_.batch_window,
                                   .name = options_.group_id},
      [this](int /*lane*/, absl::Span<consume::RecordScope> batch) { IndexBatch(batch); });
  return loop_->Start();
}

void TimelineIndexer::Stop() noexcept {
  if (loop_ != nullptr) loop_->Stop();
}

absl::Status TimelineIndexer::Readiness() const {
  if (loop_ == nullptr) return absl::UnavailableError(absl::StrCat(options_.group_id, ": not running"));
  return loop_->Readiness();
}

std::vector<kafka::PartitionLag> TimelineIndexer::ConsumerLag() const {
  return loop_ != nullptr ? loop_->Lag() : std::vector<kafka::PartitionLag>{};
}

void TimelineIndexer::IndexBatch(absl::Span<consume::RecordScope> batch) {
  std::vector<v1::IndexedHop> hops;
  for (const consume::RecordScope& scope : batch) {
    const KafkaRecord& record = scope.record();
    absl::StatusOr<v1::IndexedHop> hop = IndexRecord(record);
    indexed_.With({record.topic, hop.ok() ? "indexed" : "skipped"}).Increment();
    if (hop.ok()) hops.push_back(*std::move(hop));
  }
  // Stopping: unwritten records stay uncommitted; the group reads them again.
  if (!consume::RetryBatch(batch, absl::StrCat("timeline: indexing ", hops.size(), " hops"),
                           [&] { return store_.Add(hops); })) {
    return;
  }
  for (consume::RecordScope& scope : batch) scope.Done();
}

}  // namespace choreo::gateway::timeline
