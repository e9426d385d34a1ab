#pragma once

// RedisAggregateStore: AggregateStore on Redis (standalone or Cluster).
//
// Keys:  state:{<type>:<id>}              hash {v: version, s: serialized state}
//        done:{<type>:<id>}:<event id>    string: the outcome, with PX = retention
//        effect:{<type>:<id>}:<event id>  "1" once the event's after-commit effect completed
// Commit is one Lua script (atomic on the server); Load is one pipelined round trip; LoadMany
// and CommitMany are one round trip for the whole batch.
// Not thread-safe (it owns one connection): one per worker.

#include <memory>

#include "edges/redis/redis_connection.h"
#include "saga/store/aggregate_store.h"

namespace choreo::store {

class RedisAggregateStore final : public AggregateStore {
 public:
  explicit RedisAggregateStore(redis::RedisConnection::Options options);

  absl::StatusOr<AggregateSnapshot> Load(const AggregateRef& aggregate,
                                         absl::string_view event_id) override;
  absl::StatusOr<CommitResult> Commit(const AggregateRef& aggregate, absl::string_view event_id,
                                      int64_t expected_version,
                                      const std::optional<std::string>& new_state,
                                      const std::string& outcome,
                                      absl::Duration retention) override;
  absl::StatusOr<std::vector<AggregateSnapshot>> LoadMany(
      const std::vector<AggregateEvent>& items) override;  // one round trip
  absl::StatusOr<std::vector<CommitResult>> CommitMany(const std::vector<CommitRequest>& commits,
                                                       absl::Duration retention) override;
  absl::StatusOr<bool> EffectDone(const AggregateRef& aggregate,
                                  absl::string_view event_id) override;
  absl::Status MarkEffectDone(const AggregateRef& aggregate, absl::string_view event_id,
                              absl::Duration retention) override;
  // Each in one pipelined round trip.
  absl::StatusOr<std::vector<bool>> EffectsDone(const std::vector<AggregateEvent>& items) override;
  absl::Status MarkEffectsDone(const std::vector<AggregateEvent>& items,
                               absl::Duration retention) override;

  static std::string StateKey(const AggregateRef& aggregate);
  static std::string MarkerKey(const AggregateRef& aggregate, absl::string_view event_id);
  static std::string EffectKey(const AggregateRef& aggregate, absl::string_view event_id);

 private:
  redis::RedisConnection connection_;
};

}  // namespace choreo::store
