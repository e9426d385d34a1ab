#pragma once

// OrderCache: the gateway's Redis state. Keys carry the user's hash tag, so one user's keys
// share a Redis Cluster slot:
//   gw:order:{<user>}:<order id>        the order's view (gateway.v1.Order), kept 30 days
//   gw:orders:{<user>}                  sorted set of the user's order ids, score = creation ms
//   gw:request:{<user>}:<kind>:<id>     fingerprint of a request body (AIP-155 idempotency), 7 days
// Thread-safe: a small pool of connections, one call per connection at a time.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "edges/redis/redis_pool.h"
#include "gateway/core/gateway_rules.h"
#include "platform/ids/named_id.h"

namespace choreo::gateway {

class OrderCache {
 public:
  OrderCache(redis::RedisConnection::Options options, int connections);

  // The view of `order_id` if `username` owns it.
  absl::StatusOr<std::optional<gateway::v1::Order>> Get(const ids::Username& username,
                                                        const ids::OrderId& order_id);

  // Records the request body's fingerprint for (user, kind, request id). OK if it is new or the
  // same as before; INVALID_ARGUMENT if the id was used with another body.
  absl::Status ClaimRequest(const ids::Username& username, const std::string& kind,
                            const std::string& request_id, const std::string& fingerprint);

  // A CreateOrder's one step in Redis, atomic (one Lua script, the user's slot): claims the
  // request id for this body (INVALID_ARGUMENT if it was used with another) and, unless the
  // order's view exists, writes `initial` and indexes it for ListOrders. Its result is the view
  // as it is after that, and whether it existed before (a retry, or a status applied first).
  struct Claimed {
    gateway::v1::Order view;
    bool existed = false;
  };
  struct OrderClaim {
    ids::Username username;
    std::string request_id;
    std::string fingerprint;
    const gateway::v1::Order* initial = nullptr;  // must live until ClaimOrders returns
  };
  // Several CreateOrders' steps, each atomic on its own, pipelined in one round trip. One
  // result per claim, in the order given (INVALID_ARGUMENT for a refused one, UNAVAILABLE for
  // one Redis answered with an error); UNAVAILABLE for all when the round trip failed (on a
  // Redis Cluster, also when any master of the batch's keys failed it).
  absl::StatusOr<std::vector<absl::StatusOr<Claimed>>> ClaimOrders(
      const std::vector<OrderClaim>& claims);

  // Applies order snapshots (OrderSnapshot.order) to their users' views (gateway::ApplySnapshot):
  // one round trip for the batch, each view read, decided on its stored revision and written in
  // one atomic step, so concurrent writers lose nothing and applying a snapshot twice changes
  // nothing. One result per snapshot, in the order given: the view after it, and whether it
  // changed the view.
  absl::StatusOr<std::vector<std::pair<gateway::v1::Order, bool>>> ApplySnapshots(
      const std::vector<const orders::v1::Order*>& orders,
      SnapshotRule rule = SnapshotRule::kNewer);

  // The snapshots among `orders` that may still change their views: all but those whose view
  // this process saw stored, by ApplySnapshots, at their revision or a later one (which
  // ApplySnapshots under kNewer would leave as they are). So the view projector skips what this
  // instance's feed wrote a moment before. Only a memory, and ignoring it is never wrong: it
  // holds at most kRememberedViews views (forgotten all at once when full) and is forgotten
  // whenever a Redis call fails (a failover may have lost a write), as is what a write saw
  // while another call failed. In the order given.
  std::vector<const orders::v1::Order*> MayChange(
      const std::vector<const orders::v1::Order*>& orders);
  static constexpr size_t kRememberedViews = 16384;

  // Indexes the orders for their users' ListOrders (score = creation ms), unless indexed
  // already: one pipelined round trip. For a rebuild, whose views may have outlived their index.
  absl::Status Index(const std::vector<const orders::v1::Order*>& orders);

  // Up to `limit` of the user's order views, newest first, created before `before_ms`
  // (exclusive; 0 = from the newest). Also returns each one's index score.
  absl::StatusOr<std::vector<std::pair<gateway::v1::Order, int64_t>>> List(
      const ids::Username& username, int64_t before_ms, int limit);

 private:
  // The status, after forgetting every stored revision if it is an error.
  absl::Status Noted(absl::Status status);
  // Counts the failures Noted saw: what a call saw stored is remembered only if none came
  // between its start and its end (a failover while it ran may have lost its write).
  uint64_t Failures();
  // Remembers each (view key, revision) seen stored, under one lock for a whole batch.
  void RememberStored(const std::vector<std::pair<std::string, int64_t>>& revisions,
                      uint64_t failures_before);

  redis::RedisPool pool_;
  absl::Mutex mu_;
  // View key -> the highest revision this process saw stored (MayChange).
  absl::flat_hash_map<std::string, int64_t> stored_ ABSL_GUARDED_BY(mu_);
  uint64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace choreo::gateway
