#pragma once

// ViewProjector: keeps the gateway's order views (OrderCache) equal to the orders after any crash
// or outage: the views are a projection of orders.snapshots (compacted: every order's latest
// state). It reads that topic in the consumer group choreo-gateway-views, shared by every
// gateway instance so that each snapshot is applied by one of them, from the group's committed
// offsets: changes published while no gateway ran, or while Redis was away, are applied when a
// gateway runs again. A new group starts at the earliest offsets (the views are built from every
// order the topic holds); choreo-views rebuilds them on demand (tools/views).
//
// The per-instance EventFeed applies the snapshots it answers its own callers with, before it
// answers (a caller never reads a view older than its answer); the projector is what makes every
// other view converge, and it does not depend on which instance is alive. A snapshot the
// projector is first to apply (its instance's feed missed it: published while the instance was
// down) is handed to this instance's waiters too, so a client's retry after a gateway crash is
// answered once the projector catches up, not at its deadline.
//
// Promises:
// - At-least-once: a snapshot's offset is stored only after its view is written, by the
//   projector or, as this process saw (OrderCache::MayChange), by this instance's feed; a failed
//   write (Redis away) retries the batch with capped backoff, nothing is dropped.
// - Applying a snapshot twice, or in any interleaving with the other writers, loses nothing
//   (OrderCache::ApplySnapshots: the highest revision wins, decided and written in one step).
// - Readiness: UNAVAILABLE until every partition assigned to this member was handled to its end
//   once (ConsumerLoopOptions::ready_once_caught_up; never in the middle of a rebalance, when the
//   member owns nothing yet), so a restarted gateway reports ready only after applying what it
//   missed; after that, it is ready while its consumer is (partitions taken over later from a
//   dead member are caught up while the instance serves).
// Start/Stop from one thread; Readiness and ConsumerLag from any.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gateway/order_cache.h"
#include "gateway/waiters.h"
#include "saga/codec/event_codec.h"
#include "saga/consume/consumer_loop.h"
#include "edges/kafka/statistics.h"

namespace choreo::gateway {

class ViewProjector final {
 public:
  struct Options {
    std::string kafka_brokers;
    std::string group_id = "choreo-gateway-views";
    // Fetches gather snapshots this long (kafka::BatchedFetch): the projector is on no caller's
    // path (each instance's feed writes the views it answers with), so it reads in batches, one
    // broker answer and one Redis round trip per lane for many snapshots.
    absl::Duration fetch_max_wait = absl::Milliseconds(250);
    int lanes = 4;  // by order id: one order's snapshots apply in order
  };
  ViewProjector(Options options, OrderCache& cache, Waiters& waiters);
  ~ViewProjector();

  absl::Status Start();
  void Stop() noexcept;

  absl::Status Readiness() const;
  std::vector<kafka::PartitionLag> ConsumerLag() const;
  const std::string& group_id() const { return options_.group_id; }

 private:
  void ApplyBatch(absl::Span<consume::RecordScope> batch);

  const Options options_;
  OrderCache& cache_;
  Waiters& waiters_;
  codec::EventCodec codec_;
  std::unique_ptr<consume::ConsumerLoop> loop_;
};

}  // namespace choreo::gateway
