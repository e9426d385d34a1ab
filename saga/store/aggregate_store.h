#pragma once

// AggregateStore: where the saga runtime keeps each aggregate's state and version, and the
// "handled" markers that make re-delivered events harmless (ARCHITECTURE.md §3 steps 2-5).
//
// Promises of every implementation:
// - Commit is atomic: either the version matched and the new state and the marker were both
//   written, or nothing changed.
// - A marker, once written for (aggregate, event id), makes every later Commit for that pair
//   return kAlreadyHandled with the stored outcome, until the marker's retention runs out.
// - Effect markers are independent of the handled marker: MarkEffectDone only adds a fact that
//   Load reports; Commit ignores it.
// - Transport failures are UNAVAILABLE or DEADLINE_EXCEEDED (retry); nothing else is retryable.
// Instances are not thread-safe: one per worker thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace choreo::store {

// One aggregate: its type ("billing.account") and id ("alice"). All keys of one aggregate
// share the Redis Cluster hash tag {type:id}.
struct AggregateRef {
  std::string type;
  std::string id;
};

// The aggregate `id` of `aggregate_type` as `service` stores it: type "<service>.<type>" (the
// runtime's rule for every route; a service reading its own aggregates outside the runtime uses
// it too).
AggregateRef ServiceAggregate(absl::string_view service, absl::string_view aggregate_type,
                              std::string id);

struct AggregateSnapshot {
  std::string state;    // serialized state; empty for an aggregate never written
  int64_t version = 0;  // 0 for an aggregate never written; +1 per state change
  // Set when the event was already handled for this aggregate: the stored outcome.
  std::optional<std::string> handled_outcome;
};

enum class CommitOutcome { kCommitted, kAlreadyHandled, kVersionConflict };

struct CommitResult {
  CommitOutcome outcome = CommitOutcome::kCommitted;
  int64_t version = 0;          // the aggregate's version after the call
  std::string handled_outcome;  // kAlreadyHandled: the outcome stored by the first handling
};

// One event on one aggregate: what LoadMany looks up.
struct AggregateEvent {
  AggregateRef aggregate;
  std::string event_id;
};

// One commit of a CommitMany: the arguments of Commit.
struct CommitRequest {
  AggregateRef aggregate;
  std::string event_id;
  int64_t expected_version = 0;
  std::optional<std::string> new_state;
  std::string outcome;
};

class AggregateStore {
 public:
  virtual ~AggregateStore() = default;

  // The aggregate's state and version, and whether `event_id` was already handled for it (an
  // empty `event_id`: the state alone, no marker looked up).
  virtual absl::StatusOr<AggregateSnapshot> Load(const AggregateRef& aggregate,
                                                 absl::string_view event_id) = 0;

  // If `event_id` is already handled: kAlreadyHandled. Else if the version is not
  // `expected_version`: kVersionConflict. Else writes `new_state` (when set; the version then
  // rises by one) and the marker holding `outcome`, kept for `retention`: kCommitted.
  virtual absl::StatusOr<CommitResult> Commit(const AggregateRef& aggregate,
                                              absl::string_view event_id,
                                              int64_t expected_version,
                                              const std::optional<std::string>& new_state,
                                              const std::string& outcome,
                                              absl::Duration retention) = 0;

  // Load and Commit of several aggregates (distinct ones: the caller's promise) at once: one
  // result per item, in order; each commit is atomic on its own, as Commit's. A store that can
  // pipeline does each in one round trip; by default they run one by one. An error means some
  // of the commits may have happened (each is still all or nothing): the caller finds out by
  // committing again (kAlreadyHandled).
  virtual absl::StatusOr<std::vector<AggregateSnapshot>> LoadMany(
      const std::vector<AggregateEvent>& items);
  virtual absl::StatusOr<std::vector<CommitResult>> CommitMany(
      const std::vector<CommitRequest>& commits, absl::Duration retention);

  // Whether the after-commit effect of `event_id` on the aggregate completed (MarkEffectDone).
  virtual absl::StatusOr<bool> EffectDone(const AggregateRef& aggregate,
                                          absl::string_view event_id) = 0;

  // Records that the after-commit effect of `event_id` on the aggregate completed, so that a
  // re-delivered record does not run it again; kept for `retention`. Idempotent.
  virtual absl::Status MarkEffectDone(const AggregateRef& aggregate, absl::string_view event_id,
                                      absl::Duration retention) = 0;

  // EffectDone and MarkEffectDone of several effects at once: one answer per item, in order. A
  // store that can pipeline does each in one round trip; by default they run one by one.
  virtual absl::StatusOr<std::vector<bool>> EffectsDone(const std::vector<AggregateEvent>& items);
  virtual absl::Status MarkEffectsDone(const std::vector<AggregateEvent>& items,
                                       absl::Duration retention);
};

}  // namespace choreo::store
