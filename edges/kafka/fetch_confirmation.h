#pragma once

// FetchConfirmation: which of a consumer's assigned partitions its readiness has not yet seen
// fetching, as the rebalances and statistics of one consumer come. Pure bookkeeping, no I/O and
// no lock (KafkaConsumer holds its own around each call).
//
// A partition counts as confirmed only by statistics delivered after its assignment: statistics
// taken before it show nothing of it, or (an eager rebalance handing a member back a partition
// it held) show it "active" from before. The statistics are parsed only while something is
// unconfirmed: at start and after a rebalance.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "edges/kafka/statistics.h"

namespace choreo::kafka {

class FetchConfirmation {
 public:
  // What is still to confirm, as of one moment: checked (outside any lock) against the
  // statistics of that same moment, then handed back to Confirm.
  struct Pending {
    std::vector<TopicPartition> partitions;
    uint64_t assigned_at = 0;       // statistics delivered before the latest assignment
    bool statistics_since = false;  // some were delivered after it
  };

  void Assigned(const std::vector<TopicPartition>& partitions);
  void Revoked(const std::vector<TopicPartition>& partitions);
  void StatisticsDelivered() { ++statistics_delivered_; }

  Pending Unconfirmed() const;
  // OK when nothing is pending, or `statistics` (delivered after the assignment) show each
  // pending partition fetching (CheckFetching); UNAVAILABLE saying what is awaited otherwise.
  static absl::Status Check(const Pending& pending, absl::string_view statistics);
  // Marks `checked`'s partitions confirmed (after Check passed), unless an assignment came
  // since Unconfirmed: its partitions, old or new, wait for statistics delivered after it.
  void Confirm(const Pending& checked);

 private:
  std::vector<TopicPartition> unconfirmed_;
  uint64_t statistics_delivered_ = 0;
  uint64_t assigned_at_ = 0;
};

}  // namespace choreo::kafka
