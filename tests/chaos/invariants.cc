#include "tests/chaos/invariants.h"

#include "absl/strings/str_cat.h"
#include "choreo/orders/v1/order.pb.h"
#include "contracts/orders/orders.h"
#include "services/order/core/order_decisions.h"

namespace choreo::chaos {
namespace {

using orders::v1::OrderStatus;

std::string Name(int status) { return orders::v1::OrderStatus_Name(static_cast<OrderStatus>(status)); }

bool Terminal(int status) { return contracts::IsTerminal(static_cast<OrderStatus>(status)); }

// I7: refunds only of debits, once, for orders that ended without their payment.
template <typename Report>
void CheckCompensation(const OrderFacts& order, const Report& violation) {
  const int status = order.truth_status;
  const bool cancelled = status == orders::v1::ORDER_STATUS_CANCELLED;
  const bool refunded = status == orders::v1::ORDER_STATUS_REFUNDED;
  if (order.refunds > 1) violation("I7", absl::StrCat(order.refunds, " refunds"));
  if (order.refunded > order.debited || order.refunds > order.successful_debits) {
    violation("I7", absl::StrCat(order.refunded, " refunded of ", order.debited, " debited"));
  }
  if (order.refunds > 0 && !cancelled && !refunded && status != orders::v1::ORDER_STATUS_EXPIRED) {
    violation("I7", absl::StrCat("a refund of a ", Name(status), " order"));
  }
  if (refunded && (order.refunds != 1 || order.refunded != order.total)) {
    violation("I7", absl::StrCat("REFUNDED with ", order.refunds, " refund(s) of ", order.refunded,
                                 " for a total of ", order.total));
  }
  if ((cancelled || refunded) && !order.cancel_on_topic) {
    violation("I7", absl::StrCat(Name(status), " without its cancellation on orders.cancellations"));
  }
}

void CheckOrder(const std::string& id, const OrderFacts& order, std::vector<Violation>& out) {
  auto violation = [&](const char* invariant, std::string detail) {
    out.push_back({invariant, id, std::move(detail)});
  };
  const bool paid = order.truth_status == orders::v1::ORDER_STATUS_PAID;
  // I1: terminal, and the view agrees.
  if (!Terminal(order.truth_status)) {
    violation("I1", absl::StrCat("not terminal: ", Name(order.truth_status)));
  }
  if (order.view_status != order.truth_status) {
    violation("I1", absl::StrCat("the view shows ", Name(order.view_status),
                                 ", the order service ", Name(order.truth_status)));
  }
  if (order.view_status != 0) {
    int at = orders::v1::ORDER_STATUS_UNSPECIFIED;
    for (const auto& [previous, status] : order.view_history) {
      if (previous != at || !order::IsValidTransition(static_cast<OrderStatus>(at),
                                                      static_cast<OrderStatus>(status))) {
        violation("I1", absl::StrCat("the view's history goes from ", Name(previous), " to ",
                                     Name(status), " after ", Name(at)));
      }
      at = status;
    }
    if (at != order.view_status) {
      violation("I1", absl::StrCat("the view's history ends in ", Name(at), ", its status is ",
                                   Name(order.view_status)));
    }
  }
  // I2: at most one debit.
  if (order.successful_debits > 1) {
    violation("I2", absl::StrCat(order.successful_debits, " successful debits"));
  }
  // I4: a PAID order has its debit, of its total.
  if (paid && (order.successful_debits == 0 || order.debited - order.refunded != order.total)) {
    violation("I4", absl::StrCat("PAID with ", order.successful_debits, " debit(s) of ",
                                 order.debited, " for a total of ", order.total));
  }
  // A debit of an order that did not end PAID must be handed back (part of I3).
  if (!paid && order.debited != order.refunded) {
    violation("I3", absl::StrCat(Name(order.truth_status), " with ", order.debited,
                                 " debited and ", order.refunded, " refunded"));
  }
  // I5: no hop lost.
  if (!order.requested_on_topic) violation("I5", "no OrderCreationRequested on orders.requests");
  if (paid && !order.created_on_topic) violation("I5", "PAID without OrderCreated on orders.created");
  if (Terminal(order.truth_status) && !order.statuses_on_topic.contains(order.truth_status)) {
    violation("I5", absl::StrCat("no ", Name(order.truth_status), " on orders.status"));
  }
  // I6: one notification per terminal status the order went through, and its outcome.
  std::set<int> reached = order.truth_history;
  reached.insert(order.truth_status);
  for (const auto& [status, ids] : order.notifications_requested) {
    if (!reached.contains(status)) {
      violation("I6", absl::StrCat("a notification for ", Name(status), ", a status it never had"));
    }
  }
  for (int status : reached) {
    if (!Terminal(status)) continue;
    auto requested = order.notifications_requested.find(status);
    const size_t count = requested == order.notifications_requested.end() ? 0 : requested->second.size();
    if (count != 1) {
      violation("I6", absl::StrCat(count, " notifications requested for ", Name(status)));
    } else if (!order.notifications_sent.contains(*requested->second.begin())) {
      violation("I6", absl::StrCat("the notification for ", Name(status),
                                   " has no outcome on notifications.sent"));
    }
  }
  CheckCompensation(order, violation);
}

}  // namespace

const std::vector<std::string>& InvariantNames() {
  static const std::vector<std::string> names = {"I1", "I2", "I3", "I4", "I5", "I6", "I7"};
  return names;
}

std::vector<Violation> CheckInvariants(const RunFacts& facts) {
  std::vector<Violation> out;
  std::map<std::string, int64_t> paid_totals;  // by user
  for (const auto& [id, order] : facts.orders) {
    if (!order.accepted) continue;  // its client never got it to the order service
    CheckOrder(id, order, out);
    if (order.truth_status == orders::v1::ORDER_STATUS_PAID) paid_totals[order.user] += order.total;
  }
  // I3: each balance = deposits - PAID totals.
  for (const auto& [user, deposited] : facts.deposited) {
    auto balance = facts.balances.find(user);
    const int64_t expected = deposited - paid_totals[user];
    if (balance == facts.balances.end()) {
      out.push_back({"I3", user, "no balance found"});
    } else if (balance->second != expected) {
      out.push_back({"I3", user, absl::StrCat("balance ", balance->second, ", expected ", expected,
                                              " (deposits ", deposited, " - PAID ",
                                              paid_totals[user], ")")});
    }
  }
  return out;
}

}  // namespace choreo::chaos
