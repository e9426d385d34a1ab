#pragma once

// TimelineIndexer: reads every mission topic (dead-letter topics included) in the consumer group
// choreo-timeline, shared by all gateway instances so that each record is indexed once, and
// writes each record's hop (timeline_rules.h) to the TimelineStore.
//
// Promises: at-least-once: a record's offset is stored only after its hop is in Redis; a Redis
// failure retries the same batch with capped backoff (nothing is skipped); re-indexing is
// harmless. A record with no correlation id is not part of a saga and is skipped (counted).
// A new group starts from the earliest offsets, so history already on the topics is indexed.
// Runs on a consume::ConsumerLoop with one lane that hands out batches. Start/Stop from one
// thread; the rest is internal.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gateway/timeline/timeline_store.h"
#include "saga/consume/consumer_loop.h"
#include "edges/kafka/statistics.h"
#include "platform/metrics/metrics.h"

namespace choreo::gateway::timeline {

class TimelineIndexer final {
 public:
  struct Options {
    std::string kafka_brokers;
    std::string group_id = "choreo-timeline";
    // Fetches gather records this long (kafka::BatchedFetch): the timeline is on no saga's path.
    absl::Duration fetch_max_wait = absl::Milliseconds(250);
    int max_batch = 2000;
    // A batch gathers what arrives this long after its first record: a saga's hops come close
    // together (tens of ms), and one batch writes each Redis key once. 200 ms: most sagas'
    // hops share a batch (at 200 orders/s, 50 ms left about 9.4 Redis commands per order, most
    // sagas split over two batches; see tests/bench/README.md). A timeline lags that much more.
    absl::Duration batch_window = absl::Milliseconds(200);
  };
  TimelineIndexer(Options options, TimelineStore& store, metrics::Metrics& metrics);
  ~TimelineIndexer();

  absl::Status Start();
  void Stop() noexcept;

  // OK once the group assigned this member and a broker is reachable.
  absl::Status Readiness() const;
  std::vector<kafka::PartitionLag> ConsumerLag() const;
  const std::string& group_id() const { return options_.group_id; }

 private:
  void IndexBatch(absl::Span<consume::RecordScope> batch);

  const Options options_;
  TimelineStore& store_;
  metrics::Family<prometheus::Counter>& indexed_;
  std::unique_ptr<consume::ConsumerLoop> loop_;
};

}  // namespace choreo::gateway::timeline
