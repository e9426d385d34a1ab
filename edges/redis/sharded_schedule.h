#pragma once

// ShardedSchedule: work due at a time (a deadline, a change to publish), kept in Redis sorted
// sets (score = Unix ms) split over `shards` keys, "<name>:{<name>:<n>}". Each shard has its own
// hash tag, so the schedule spreads over a Redis Cluster's masters and no one key is hot. An
// entry's shard follows from its owner (an order id, a username): the same owner's entries
// always go to the same key.
//
// Many instances may scan one schedule; one at a time does. Due() takes or renews the schedule's
// lease first ("<name>:{<name>}:lease", held for `lease`) and reads nothing without it, so
// instances do not repeat each other's work, and a crashed holder's role passes to another
// instance within `lease`. (A pass is cheap: the shards spread the keys, not the scanning.)
// Entries are removed by whoever handled them (Remove), after the work is done: a crash in
// between repeats the work, never loses it. A pass that fails gives the lease up (Release).
//
// `legacy_key` (the one key an earlier release wrote, if any) is scanned as one more shard, so
// its entries are still handled after an upgrade; nothing is added to it, nor removed from it
// but by the scanning caller's Remove, like any other shard's entries.
//
// Thread-safe (no state but the names); the connection passed in is the caller's.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "edges/redis/redis_connection.h"

namespace choreo::redis {

class ShardedSchedule {
 public:
  struct Options {
    std::string name;        // "order:deadlines"
    int shards = 16;         // spread over up to this many masters
    std::string legacy_key;  // empty: none
    absl::Duration lease = absl::Seconds(2);
  };
  explicit ShardedSchedule(Options options);

  // An entry due at `due` (Unix ms), its shard chosen by `owner`.
  std::vector<std::string> AddCommand(absl::string_view owner, int64_t due_ms,
                                      const std::string& member) const;
  std::vector<std::string> RemoveCommand(absl::string_view owner, const std::string& member) const;

  struct Entry {
    std::string key;  // the shard it is in
    std::string member;
  };
  // The entries due by `cutoff`, at most `limit` per shard, if `holder` (one id per scanning
  // instance) takes or holds the lease; none if another instance holds it.
  absl::StatusOr<std::vector<Entry>> Due(RedisConnection& redis, const std::string& holder,
                                         absl::Time cutoff, int limit) const;
  // Removes entries Due returned, in one round trip (one ZREM per shard); idempotent.
  absl::Status Remove(RedisConnection& redis, const std::vector<Entry>& entries) const;
  // Gives the lease up if `holder` has it: a scanner whose pass failed (it cannot publish, say)
  // lets another instance try at once rather than keep the lease and the work.
  absl::Status Release(RedisConnection& redis, const std::string& holder) const;

  // Every key scanned: the shards, then the legacy key.
  std::vector<std::string> Keys() const;

 private:
  std::string KeyOf(int shard) const;
  std::string ShardKey(absl::string_view owner) const;  // `owner`'s shard
  std::string LeaseKey() const;

  const Options options_;
};

// A random id for one scanning instance (hex), for Due's `holder`.
std::string NewLeaseHolder();

}  // namespace choreo::redis
