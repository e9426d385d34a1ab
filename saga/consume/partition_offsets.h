#pragma once

// PartitionOffsets: which offset of one partition may be committed, when records of that
// partition finish out of order (different keys run in parallel).
//
// Promise: the committable offset (the next offset to consume) never passes a record that was
// started and has not finished; so a crash or a revoke re-delivers every unfinished record.
// Pure; not thread-safe (the consumer loop guards it with the partition's mutex).

#include <cstdint>
#include <optional>
#include <set>

namespace choreo::consume {

class PartitionOffsets {
 public:
  // A record at `offset` was handed to a worker. Offsets must rise.
  void Started(int64_t offset);

  // The record at `offset` is done (handled or dead-lettered). Returns the new committable
  // offset if it moved forward, nullopt otherwise.
  std::optional<int64_t> Finished(int64_t offset);

  size_t in_flight() const { return in_flight_.size(); }
  // The next offset to consume as far as finished work goes, or -1 before any record finished.
  int64_t committable() const { return committable_; }

 private:
  std::set<int64_t> in_flight_;
  int64_t highest_started_ = -1;
  int64_t committable_ = -1;
};

}  // namespace choreo::consume
