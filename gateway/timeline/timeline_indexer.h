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
    // Bounds the records held at once: at 1,000 orders/s (7 records each) it ends a batch after
    // about 0.3 s. 8,000 (a whole second) saved 2 more Redis commands per order there, and
    // cost the gateway 16 MB more peak RSS (tests/bench/README.md).
    int max_batch = 2000;
    // A batch gathers what arrives this long after its first record, and writes each Redis key
    // once. A saga's own hops come within tens of ms, its notifications' up to half a second
    // later (that service's fetches gather 250 ms per hop), so 200 ms splits most sagas over two
    // or three batches; the store leaves a saga's expiry and order's key out of the later ones
    // (TimelineStoreOptions::rewrite_interval). 1 s saved Redis commands before the store did
    // (32.6-33.1 per order at 200 orders/s against 36.3-36.4) but writes in one burst a second,
    // and the saga's latency looked worse with it (tests/bench/README.md): 200 ms stays the
    // default, --timeline-batch-window sets it.
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
