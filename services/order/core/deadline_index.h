#pragma once

// The deadline index's pure rules: what the index of pending orders' deadlines (Redis sorted set
// order:deadlines, score = deadline in Unix ms) should hold for an order as committed, and how
// one member is written and read. No I/O; services/order applies them after the commit.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "choreo/orders/v1/order.pb.h"

namespace choreo::order {

// One order in the index.
struct DeadlineEntry {
  std::string order_id;
  std::string correlation_id;  // the order's saga
  std::string traceparent;     // the order's trace; empty in members written before it was kept
};

// "<order id> <correlation id> <traceparent>". Ids hold no spaces.
std::string EncodeDeadlineMember(const DeadlineEntry& entry);
// The member of `order`: the same for every state of the order, so that adding it again is a
// no-op and removing it needs nothing but the order.
std::string DeadlineMember(const orders::v1::Order& order);
// Reads a member, including the older "<order id> <correlation id>" and "<order id>" forms; an
// empty correlation id reads as the order id.
DeadlineEntry ParseDeadlineMember(absl::string_view member);

// What the index must do for an order as committed: a pending order with a deadline is in it
// (added once, whatever happens again), a terminal one is not; anything else leaves it alone.
enum class DeadlineIndexAction { kNone, kAdd, kRemove };
DeadlineIndexAction DeadlineIndexActionFor(const orders::v1::Order& order);

// The order's deadline as the index's score, in Unix milliseconds.
int64_t DeadlineScore(const orders::v1::Order& order);

}  // namespace choreo::order
