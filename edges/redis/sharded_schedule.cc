#include "edges/redis/sharded_schedule.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "edges/redis/cluster_slots.h"

namespace choreo::redis {
namespace {

// KEYS[1] the lease. ARGV[1] the holder, ARGV[2] the lease in ms. 1 if the holder has it now
// (taken, or renewed), 0 if another does.
constexpr char kLeaseScript[] = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
)lua";

// KEYS[1] the lease. ARGV[1] the holder. Deletes the lease if the holder has it.
constexpr char kReleaseScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

}  // namespace

ShardedSchedule::ShardedSchedule(Options options) : options_(std::move(options)) {}

std::vector<std::string> ShardedSchedule::Keys() const {
  std::vector<std::string> keys;
  for (int n = 0; n < std::max(1, options_.shards); ++n) keys.push_back(KeyOf(n));
  if (!options_.legacy_key.empty()) keys.push_back(options_.legacy_key);
  return keys;
}

std::string ShardedSchedule::KeyOf(int shard) const {
  return absl::StrCat(options_.name, ":{", options_.name, ":", shard, "}");
}

std::string ShardedSchedule::ShardKey(absl::string_view owner) const {
  return KeyOf(Crc16(owner) % std::max(1, options_.shards));
}

std::vector<std::string> ShardedSchedule::AddCommand(absl::string_view owner, int64_t due_ms,
                                                     const std::string& member) const {
  return {"ZADD", ShardKey(owner), absl::StrCat(due_ms), member};
}

std::vector<std::string> ShardedSchedule::RemoveCommand(absl::string_view owner,
                                                        const std::string& member) const {
  return {"ZREM", ShardKey(owner), member};
}

absl::StatusOr<std::vector<ShardedSchedule::Entry>> ShardedSchedule::Due(RedisConnection& redis,
                                                                         const std::string& holder,
                                                                         absl::Time cutoff,
                                                                         int limit) const {
  std::vector<Entry> due;
  absl::StatusOr<RedisReply> lease =
      redis.Eval(kLeaseScript, {LeaseKey()},
                 {holder, absl::StrCat(absl::ToInt64Milliseconds(options_.lease))});
  if (!lease.ok()) return lease.status();
  if (lease->is_error()) return absl::UnavailableError(absl::StrCat("redis lease: ", lease->str));
  if (lease->integer != 1) return due;  // another instance scans
  const std::vector<std::string> keys = Keys();
  std::vector<std::vector<std::string>> reads;
  for (const std::string& key : keys) {
    reads.push_back({"ZRANGEBYSCORE", key, "-inf", absl::StrCat(absl::ToUnixMillis(cutoff)),
                     "LIMIT", "0", absl::StrCat(limit)});
  }
  absl::StatusOr<std::vector<RedisReply>> members = redis.Pipeline(reads);
  if (!members.ok()) return members.status();
  for (size_t k = 0; k < keys.size(); ++k) {
    const RedisReply& reply = (*members)[k];
    if (reply.is_error()) {
      return absl::UnavailableError(absl::StrCat("redis ZRANGEBYSCORE: ", reply.str));
    }
    for (const RedisReply& member : reply.elements) due.push_back({keys[k], member.str});
  }
  return due;
}

absl::Status ShardedSchedule::Remove(RedisConnection& redis,
                                     const std::vector<Entry>& entries) const {
  std::vector<std::vector<std::string>> removals;  // one ZREM per shard, in first-seen order
  absl::flat_hash_map<absl::string_view, size_t> by_key;
  for (const Entry& entry : entries) {
    auto [it, added] = by_key.try_emplace(entry.key, removals.size());
    if (added) removals.push_back({"ZREM", entry.key});
    removals[it->second].push_back(entry.member);
  }
  if (removals.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<RedisReply>> removed = redis.Pipeline(removals);
  if (!removed.ok()) return removed.status();
  return NoErrorReply(*removed, "redis ZREM");
}

std::string ShardedSchedule::LeaseKey() const {
  return absl::StrCat(options_.name, ":{", options_.name, "}:lease");
}

absl::Status ShardedSchedule::Release(RedisConnection& redis, const std::string& holder) const {
  absl::StatusOr<RedisReply> released = redis.Eval(kReleaseScript, {LeaseKey()}, {holder});
  if (!released.ok()) return released.status();
  if (released->is_error()) {
    return absl::UnavailableError(absl::StrCat("redis lease release: ", released->str));
  }
  return absl::OkStatus();
}

std::string NewLeaseHolder() {
  absl::BitGen random;
  return absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(random), absl::kZeroPad16));
}

}  // namespace choreo::redis
