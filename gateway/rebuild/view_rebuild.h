#pragma once

// Rebuilding the gateway's views from the log, online (what `choreo-views` runs): after a Redis
// loss, for a new region's Redis, or after a fix to a projection. Each rebuild reads its topics
// from their start to their end as of its start (no consumer group, nothing committed) and
// writes with the live writers' own rules, so it runs while gateways serve: every view stays
// readable throughout and is replaced by its rebuilt copy in one write, and a view the live
// writers moved on meanwhile is never moved back.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/topic_reader.h"
#include "gateway/order_cache.h"
#include "gateway/timeline/timeline_store.h"

namespace choreo::gateway {

// Where a rebuild is: the topic it reads, how far, and the views it wrote so far.
struct RebuildProgress {
  std::string topic;
  kafka::ReadProgress read;
  int64_t written = 0;
};
using RebuildProgressFn = std::function<void(const RebuildProgress&)>;

struct RebuildOptions {
  kafka::KafkaConfig kafka;                    // bootstrap.servers and the login
  absl::Duration timeout = absl::Minutes(30);  // per topic
  int batch = 256;                             // records written in one round trip
  RebuildProgressFn progress;                  // optional; called after each batch
};

// The order views and the ListOrders indexes, from orders.snapshots (every order's latest
// snapshot, compacted): each projected again (SnapshotRule::kReproject) and indexed unless it
// is. Returns the views written (a view equal to its rebuilt copy is not).
absl::StatusOr<int64_t> RebuildOrderViews(const RebuildOptions& options, OrderCache& cache);

// The saga timelines, from every saga topic (topics::SagaTopics) as far back as it retains.
// Returns the hops indexed.
absl::StatusOr<int64_t> RebuildTimelines(const RebuildOptions& options,
                                         timeline::TimelineStore& store);

}  // namespace choreo::gateway
