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
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "platform/ids/named_id.h"
#include "edges/redis/redis_pool.h"

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

  // ClaimRequest for an order and Get of its view, in one round trip.
  absl::StatusOr<std::optional<gateway::v1::Order>> ClaimOrder(const ids::Username& username,
                                                               const std::string& request_id,
                                                               const std::string& fingerprint,
                                                               const ids::OrderId& order_id);

  // Writes the view of a new order (unless one exists) and indexes it for ListOrders; returns
  // the view as it is after that (a status may already have been applied to it).
  absl::StatusOr<gateway::v1::Order> AddOrder(const ids::Username& username,
                                              const gateway::v1::Order& view);

  // Applies a status event to the user's view of the order; returns the view after it, and
  // whether it changed.
  absl::StatusOr<std::pair<gateway::v1::Order, bool>> ApplyStatus(
      const orders::v1::OrderStatusUpdated& update, const ids::CorrelationId& correlation_id);

  // Up to `limit` of the user's order views, newest first, created before `before_ms`
  // (exclusive; 0 = from the newest). Also returns each one's index score.
  absl::StatusOr<std::vector<std::pair<gateway::v1::Order, int64_t>>> List(
      const ids::Username& username, int64_t before_ms, int limit);

 private:
  redis::RedisPool pool_;
};

}  // namespace choreo::gateway
