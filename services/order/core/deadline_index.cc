#include "services/order/core/deadline_index.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "contracts/orders/orders.h"
#include "platform/proto_time/proto_time.h"

namespace choreo::order {

std::string EncodeDeadlineMember(const DeadlineEntry& entry) {
  return absl::StrCat(entry.order_id, " ", entry.correlation_id, " ", entry.traceparent);
}

DeadlineEntry ParseDeadlineMember(absl::string_view member) {
  std::vector<std::string> parts = absl::StrSplit(member, absl::MaxSplits(' ', 2));
  DeadlineEntry entry;
  entry.order_id = parts[0];
  entry.correlation_id = parts.size() > 1 && !parts[1].empty() ? parts[1] : parts[0];
  if (parts.size() > 2) entry.traceparent = parts[2];
  return entry;
}

std::string DeadlineMember(const orders::v1::Order& order) {
  return EncodeDeadlineMember({order.order_id(), order.correlation_id(), order.traceparent()});
}

bool AwaitsDeadline(const orders::v1::Order& order) {
  return !order.order_id().empty() &&
         order.status() == orders::v1::ORDER_STATUS_PENDING_VALIDATION && order.has_deadline();
}

bool SettledBeforeDeadline(const orders::v1::Order& order) {
  return !order.order_id().empty() &&
         contracts::StatusStage(order.status()) >
             contracts::StatusStage(orders::v1::ORDER_STATUS_PENDING_VALIDATION);
}

int64_t DeadlineScore(const orders::v1::Order& order) {
  return absl::ToUnixMillis(FromProtoTime(order.deadline()));
}

}  // namespace choreo::order
