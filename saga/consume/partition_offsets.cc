#include "saga/consume/partition_offsets.h"

namespace choreo::consume {

void PartitionOffsets::Started(int64_t offset) {
  in_flight_.insert(offset);
  if (offset > highest_started_) highest_started_ = offset;
}

std::optional<int64_t> PartitionOffsets::Finished(int64_t offset) {
  if (in_flight_.erase(offset) == 0) return std::nullopt;
  const int64_t next = in_flight_.empty() ? highest_started_ + 1 : *in_flight_.begin();
  if (next <= committable_) return std::nullopt;
  committable_ = next;
  return next;
}

}  // namespace choreo::consume
