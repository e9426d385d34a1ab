#pragma once

// The deadline index's pure rules: which orders the index of deadlines (Redis sorted sets
// order:deadlines, score = deadline in Unix ms) is for, and how one member is written and read.
// No I/O; services/order adds an order after the commit and its scanner reads the index.
//
// The index is added to, never trimmed by a commit: an order that is paid, cancelled or refused
// keeps its entry until its deadline, when the scanner finds it settled and drops it without
// publishing. That spares every settled order a write of its own (a Redis round trip and an
// fsync); the scanner reads a pass's orders and drops their entries in a round trip each.

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

// Whether `order`, as committed, awaits its deadline: a pending order with one. Such an order is
// added to the index (again, whatever happens again: a no-op).
bool AwaitsDeadline(const orders::v1::Order& order);

// Whether a stored `order` has settled, so that its deadline can change nothing: it has left
// PENDING_VALIDATION for a status this release knows comes after it (a payment's outcome,
// expired, cancelled, refund pending, refunded). When its entry falls due the scanner drops it
// without an event; for anything else (pending, a status from a later release) it publishes
// OrderDeadlinePassed and the handler judges.
bool SettledBeforeDeadline(const orders::v1::Order& order);

// The order's deadline as the index's score, in Unix milliseconds.
int64_t DeadlineScore(const orders::v1::Order& order);

}  // namespace choreo::order
