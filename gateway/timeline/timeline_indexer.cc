#include "gateway/timeline/timeline_indexer.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/timeline/core/timeline_rules.h"
#include "saga/logging/logger.h"
#include "saga/topics/topics.h"

namespace choreo::gateway::timeline {

TimelineIndexer::TimelineIndexer(Options options, TimelineStore& store, metrics::Metrics& metrics)
    : options_(std::move(options)),
      store_(store),
      indexed_(metrics.Counter("choreo_timeline_records_total",
                               "Records the timeline indexer read, by topic and outcome "
                               "(indexed, or skipped: no correlation id).")) {}

TimelineIndexer::~TimelineIndexer() { Stop(); }

absl::Status TimelineIndexer::Start() {
  kafka::KafkaConfig config = kafka::ConsumerDefaults(options_.kafka_brokers, options_.group_id);
  config.emplace_back("auto.offset.reset", "earliest");
  config.emplace_back("fetch.wait.max.ms", absl::StrCat(options_.fetch_wait_max_ms));
  absl::StatusOr<std::unique_ptr<kafka::KafkaConsumer>> consumer =
      kafka::KafkaConsumer::Create(config, this);
  if (!consumer.ok()) return consumer.status();
  consumer_ = *std::move(consumer);
  if (absl::Status subscribed = consumer_->Subscribe(topics::MissionTopics()); !subscribed.ok()) {
    return subscribed;
  }
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void TimelineIndexer::Stop() noexcept {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  if (consumer_ != nullptr) consumer_->Close();
}

absl::Status TimelineIndexer::Readiness() const {
  if (consumer_ == nullptr || stopping_.load()) {
    return absl::UnavailableError(absl::StrCat(options_.group_id, ": not running"));
  }
  return consumer_->Readiness();
}

std::vector<kafka::PartitionLag> TimelineIndexer::ConsumerLag() const {
  return consumer_ != nullptr ? consumer_->Lag() : std::vector<kafka::PartitionLag>{};
}

void TimelineIndexer::Loop() {
  std::vector<KafkaRecord> batch;
  absl::Time batch_ends;
  int errors = 0;
  while (!stopping_.load()) {
    // Wait for a first record, then gather until the window closes or the batch is full.
    const absl::Duration wait = batch.empty() ? absl::Milliseconds(100)
                                              : std::max(absl::ZeroDuration(), batch_ends - absl::Now());
    absl::StatusOr<std::optional<KafkaRecord>> polled = consumer_->Poll(wait);
    if (polled.ok() && polled->has_value()) {
      if (batch.empty()) batch_ends = absl::Now() + options_.batch_window;
      batch.push_back(**std::move(polled));
      if (static_cast<int>(batch.size()) < options_.max_batch && absl::Now() < batch_ends) continue;
    } else if (!polled.ok() && errors++ % 50 == 0) {
      logging::Warn(absl::StrCat("timeline poll: ", polled.status().ToString()));
    }
    if (!batch.empty() && (absl::Now() >= batch_ends || static_cast<int>(batch.size()) >= options_.max_batch)) {
      IndexBatch(batch);
    }
  }
}

void TimelineIndexer::IndexBatch(std::vector<KafkaRecord>& batch) {
  std::vector<v1::IndexedHop> hops;
  for (const KafkaRecord& record : batch) {
    absl::StatusOr<v1::IndexedHop> hop = IndexRecord(record);
    indexed_.Add({{"topic", record.topic}, {"outcome", hop.ok() ? "indexed" : "skipped"}})
        .Increment();
    if (hop.ok()) hops.push_back(*std::move(hop));
  }
  absl::Duration backoff = absl::Milliseconds(50);
  bool done = false;
  for (int attempt = 1; !done && !stopping_.load(); ++attempt) {
    absl::Status written = store_.Add(hops);
    done = written.ok();
    if (done) break;
    if (attempt == 1 || attempt % 20 == 0) {
      logging::Warn(absl::StrCat("timeline: indexing ", hops.size(), " hops failed, retrying: ",
                                 written.ToString()));
    }
    absl::SleepFor(backoff);  // paced retry of a failed Redis write, not a wait for a condition
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
  if (!done) return;  // stopping: unwritten records stay uncommitted; the group reads them again
  // One store per partition: the offset after its last record in the batch.
  absl::flat_hash_map<kafka::TopicPartition, int64_t> next;
  for (const KafkaRecord& record : batch) {
    int64_t& offset = next[kafka::TopicPartition{record.topic, record.partition}];
    offset = std::max(offset, record.offset + 1);
  }
  for (const auto& [partition, offset] : next) {
    static_cast<void>(consumer_->StoreOffset(partition, offset));
  }
  batch.clear();
}

}  // namespace choreo::gateway::timeline
