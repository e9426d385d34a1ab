#pragma once

// TimelineStore: the saga timeline in Redis. Keys (one hash tag per saga, per order, per user,
// so it runs on Redis Cluster unchanged):
//   tl:hops:{<correlation id>}   hash "<topic>/<partition>/<offset>" -> IndexedHop bytes, without
//                                the correlation id (the key names it; read back with it)
//   tl:order:{<order id>}        the correlation id of the saga that created the order
//   tl:user:{<username>}         sorted set of the user's correlation ids, score = the saga's
//                                first event's time (ms), written from that event (the hop
//                                with no cause); only the newest `max_sagas_per_user` kept
// Every key expires `retention` after its last write (to within `rewrite_interval`): that is the
// timeline's retention limit. Writes are idempotent (a record indexed twice changes nothing).
// A saga's hops come in two or three batches; the store remembers (RecentWrites) the expiries,
// the orders' keys and the users' trims it wrote within `rewrite_interval` and leaves them out
// of the next batches:
// - a saga's, an order's and a user's key may expire up to that much sooner;
// - a user's set may hold the sagas added within an interval after its last trim beyond the
//   newest `max_sagas_per_user`, until its next trim (reads never show more);
// - a failed round trip, read or write, forgets what the store remembered (Redis may have been
//   restarted or replaced);
// - a key deleted while remembered (a wipe without a rebuild, a Redis restored from an older
//   copy) is written again by the next batches without its expiry; the rebuild (choreo-views)
//   runs with a zero interval and writes every expiry again.
// Thread-safe.

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "choreo/gateway/v1/timeline_index.pb.h"
#include "edges/redis/redis_pool.h"
#include "gateway/timeline/core/recent_writes.h"

namespace choreo::gateway::timeline {

struct TimelineStoreOptions {
  absl::Duration retention = absl::Hours(24 * 7);
  int max_sagas_per_user = 200;
  // How long an expiry, an order's key or a user's trim this store wrote is not written again
  // (zero: every batch writes them).
  absl::Duration rewrite_interval = absl::Seconds(5);
};

class TimelineStore {
 public:
  TimelineStore(redis::RedisPool& pool, TimelineStoreOptions options)
      : pool_(pool), options_(options), recent_(options.rewrite_interval) {}

  // Indexes the hops in one round trip, one write per key touched (a user's set: its ZADD, and
  // its trim and expiry when not written lately).
  absl::Status Add(const std::vector<v1::IndexedHop>& hops);
  // The commands Add would send now (for tests).
  std::vector<std::vector<std::string>> AddCommands(const std::vector<v1::IndexedHop>& hops);

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
  // pool_.Run, forgetting what recent_ holds when the round trip fails.
  absl::StatusOr<std::vector<redis::RedisReply>> Run(
      const std::vector<std::vector<std::string>>& commands);
  // What Add sends, and what it remembers once Redis took it.
  struct Plan {
    std::vector<std::vector<std::string>> commands;
    std::vector<std::pair<std::string, std::string>> written;  // key, value for recent_
  };
  Plan PlanAdd(const std::vector<v1::IndexedHop>& hops, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  redis::RedisPool& pool_;
  const TimelineStoreOptions options_;
  absl::Mutex mu_;
  RecentWrites recent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace choreo::gateway::timeline
