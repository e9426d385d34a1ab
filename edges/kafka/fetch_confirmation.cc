#include "edges/kafka/fetch_confirmation.h"

#include <algorithm>

namespace choreo::kafka {
namespace {

// Removes from `from` every partition that is in `these`.
void EraseEach(std::vector<TopicPartition>& from, const std::vector<TopicPartition>& these) {
  std::erase_if(from, [&these](const TopicPartition& partition) {
    return std::find(these.begin(), these.end(), partition) != these.end();
  });
}

}  // namespace

void FetchConfirmation::Assigned(const std::vector<TopicPartition>& partitions) {
  EraseEach(unconfirmed_, partitions);  // a partition given back is listed once
  unconfirmed_.insert(unconfirmed_.end(), partitions.begin(), partitions.end());
  assigned_at_ = statistics_delivered_;
}

void FetchConfirmation::Revoked(const std::vector<TopicPartition>& partitions) {
  EraseEach(unconfirmed_, partitions);
}

FetchConfirmation::Pending FetchConfirmation::Unconfirmed() const {
  return {.partitions = unconfirmed_,
          .assigned_at = assigned_at_,
          .statistics_since = statistics_delivered_ > assigned_at_};
}

absl::Status FetchConfirmation::Check(const Pending& pending, absl::string_view statistics) {
  if (pending.partitions.empty()) return absl::OkStatus();
  if (!pending.statistics_since) {
    return absl::UnavailableError("waiting for statistics taken after its assignment");
  }
  return CheckFetching(statistics, pending.partitions);
}

void FetchConfirmation::Confirm(const Pending& checked) {
  if (checked.assigned_at == assigned_at_) EraseEach(unconfirmed_, checked.partitions);
}

}  // namespace choreo::kafka
