#pragma once

// The invariants a run of choreo must keep, whatever fault it met, checked over facts gathered
// at the run's end (facts.h gathers them; this part is pure). Every violation is reported, not
// only the first:
//   I1 every accepted order is terminal at the order service, and the gateway's view of it
//      (GetOrder) shows the same status, with a history that is a valid path to it
//   I2 at most one successful debit per order
//   I3 each balance = deposits - the totals of its PAID orders (a debit of an order that did not
//      end PAID is refunded)
//   I4 no PAID order without its debit, of its total
//   I5 no event lost on any hop: an accepted order's OrderCreationRequested, and its terminal
//      status, are on their topics; a PAID order's OrderCreated too
//   I6 exactly one notification per terminal status the order went through (PAID, then REFUNDED
//      when cancelled after payment): one notification id requested, and its outcome published;
//      none for a status the order never had
//   I7 compensation: at most one refund per order, never more than was debited, only for an
//      order that ended EXPIRED, CANCELLED or REFUNDED; a REFUNDED order was refunded exactly
//      its total; a CANCELLED or REFUNDED order's cancellation is on orders.cancellations

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace choreo::chaos {

// One order as the run and the system know it. Statuses are orders.v1.OrderStatus values.
struct OrderFacts {
  std::string user;
  bool accepted = false;     // the order service holds it (its client's call got that far)
  int truth_status = 0;      // at the order service (OrderAdmin.GetOrder)
  std::set<int> truth_history;  // every status in the order service's history of it
  int view_status = 0;       // through the gateway (GetOrder); 0 if it found none
  std::vector<std::pair<int, int>> view_history;  // the view's (previous, status) changes
  int64_t total = 0;         // minor units, at the order service
  int successful_debits = 0;  // distinct PaymentProcessed{success} event ids
  int64_t debited = 0;        // their amounts
  int refunds = 0;            // distinct PaymentRefunded event ids
  int64_t refunded = 0;
  bool requested_on_topic = false;  // OrderCreationRequested on orders.requests
  bool created_on_topic = false;    // OrderCreated on orders.created
  std::set<int> statuses_on_topic;  // OrderStatusUpdated statuses on orders.status
  bool cancel_on_topic = false;     // an OrderCancellationRequested on orders.cancellations
  // Notification ids requested (NotificationRequested) per status, and those with an outcome.
  std::map<int, std::set<std::string>> notifications_requested;
  std::set<std::string> notifications_sent;
};

struct RunFacts {
  std::map<std::string, OrderFacts> orders;  // by order id
  std::map<std::string, int64_t> deposited;  // by user
  std::map<std::string, int64_t> balances;   // by user, as billing holds them
};

struct Violation {
  std::string invariant;  // "I1".."I7"
  std::string subject;    // the order id or user
  std::string detail;
};

std::vector<Violation> CheckInvariants(const RunFacts& facts);

// The invariants' names, in order ("I1".."I7").
const std::vector<std::string>& InvariantNames();

}  // namespace choreo::chaos
