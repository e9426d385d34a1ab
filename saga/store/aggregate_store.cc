#include "saga/store/aggregate_store.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace choreo::store {

AggregateRef ServiceAggregate(absl::string_view service, absl::string_view aggregate_type,
                              std::string id) {
  return {absl::StrCat(service, ".", aggregate_type), std::move(id)};
}

absl::StatusOr<std::vector<AggregateSnapshot>> AggregateStore::LoadMany(
    const std::vector<AggregateEvent>& items) {
  std::vector<AggregateSnapshot> snapshots;
  snapshots.reserve(items.size());
  for (const AggregateEvent& item : items) {
    absl::StatusOr<AggregateSnapshot> snapshot = Load(item.aggregate, item.event_id);
    if (!snapshot.ok()) return snapshot.status();
    snapshots.push_back(*std::move(snapshot));
  }
  return snapshots;
}

absl::StatusOr<std::vector<CommitResult>> AggregateStore::CommitMany(
    const std::vector<CommitRequest>& commits, absl::Duration retention) {
  std::vector<CommitResult> results;
  results.reserve(commits.size());
  for (const CommitRequest& commit : commits) {
    absl::StatusOr<CommitResult> result =
        Commit(commit.aggregate, commit.event_id, commit.expected_version, commit.new_state,
               commit.outcome, retention);
    if (!result.ok()) return result.status();
    results.push_back(*std::move(result));
  }
  return results;
}

absl::StatusOr<std::vector<bool>> AggregateStore::EffectsDone(
    const std::vector<AggregateEvent>& items) {
  std::vector<bool> done;
  done.reserve(items.size());
  for (const AggregateEvent& item : items) {
    absl::StatusOr<bool> one = EffectDone(item.aggregate, item.event_id);
    if (!one.ok()) return one.status();
    done.push_back(*one);
  }
  return done;
}

absl::Status AggregateStore::MarkEffectsDone(const std::vector<AggregateEvent>& items,
                                             absl::Duration retention) {
  for (const AggregateEvent& item : items) {
    if (absl::Status marked = MarkEffectDone(item.aggregate, item.event_id, retention);
        !marked.ok()) {
      return marked;
    }
  }
  return absl::OkStatus();
}

}  // namespace choreo::store
