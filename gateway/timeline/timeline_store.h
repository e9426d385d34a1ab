#pragma once

// TimelineStore: the saga timeline in Redis. Keys (one hash tag per saga, per order, per user,
// so it runs on Redis Cluster unchanged):
//   tl:hops:{<correlation id>}   hash "<topic>/<partition>/<offset>" -> IndexedHop bytes, without
//                                the correlation id (the key names it; read back with it)
//   tl:order:{<order id>}        the correlation id of the saga that created the order
//   tl:user:{<username>}         sorted set of the user's correlation ids, score = the saga's
//                                first event's time (ms), written from that event (the hop
//                                with no cause); only the newest `max_sagas_per_user` kept
// Every key expires `retention` after its last write: that is the timeline's retention limit.
// Writes are idempotent (a record indexed twice changes nothing). Thread-safe.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "choreo/gateway/v1/timeline_index.pb.h"
#include "edges/redis/redis_pool.h"

namespace choreo::gateway::timeline {

struct TimelineStoreOptions {
  absl::Duration retention = absl::Hours(24 * 7);
  int max_sagas_per_user = 200;
};

class TimelineStore {
 public:
  TimelineStore(redis::RedisPool& pool, TimelineStoreOptions options)
      : pool_(pool), options_(options) {}

  // Indexes the hops in one round trip, one write per key touched.
  absl::Status Add(const std::vector<v1::IndexedHop>& hops);
  // The commands Add sends (for tests).
  std::vector<std::vector<std::string>> AddCommands(const std::vector<v1::IndexedHop>& hops) const;

  // The indexed hops of one saga (empty when it is unknown or expired).
  absl::StatusOr<std::vector<v1::IndexedHop>> Hops(const std::string& correlation_id);
  // The same for several sagas, in one round trip; one list per id, in order.
  absl::StatusOr<std::vector<std::vector<v1::IndexedHop>>> HopsOfMany(
      const std::vector<std::string>& correlation_ids);
  // The correlation id of the saga that created `order_id`; empty when unknown.
  absl::StatusOr<std::string> SagaOfOrder(const std::string& order_id);
  // Up to `limit` of the user's correlation ids, newest first, skipping `offset`.
  absl::StatusOr<std::vector<std::string>> SagasOfUser(const std::string& username, int offset,
                                                       int limit);

 private:
  redis::RedisPool& pool_;
  const TimelineStoreOptions options_;
};

}  // namespace choreo::gateway::timeline
