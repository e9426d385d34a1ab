#pragma once

// Reading an aggregate's state outside the saga runtime (admin APIs, lookups, services that
// write their own aggregates), parsed as the proto message the runtime stores.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "saga/store/aggregate_store.h"

namespace choreo::store {

template <typename State>
struct VersionedState {
  State state;          // a default State for an aggregate never written
  int64_t version = 0;  // 0: never written
};

// One loaded snapshot of `aggregate` as a `State`; DATA_LOSS when its bytes are not one.
template <typename State>
absl::StatusOr<VersionedState<State>> ParseState(const AggregateRef& aggregate,
                                                 const AggregateSnapshot& snapshot) {
  VersionedState<State> loaded;
  if (!loaded.state.ParseFromString(snapshot.state)) {
    return absl::DataLossError(absl::StrCat("stored ", aggregate.type, " ", aggregate.id,
                                            " is not a ", State::descriptor()->full_name()));
  }
  loaded.version = snapshot.version;
  return loaded;
}

// The aggregate's state and version; DATA_LOSS when the stored bytes are not a `State`;
// the store's UNAVAILABLE when Redis cannot be reached.
template <typename State>
absl::StatusOr<VersionedState<State>> LoadState(AggregateStore& store,
                                                const AggregateRef& aggregate) {
  absl::StatusOr<AggregateSnapshot> snapshot = store.Load(aggregate, "");
  if (!snapshot.ok()) return snapshot.status();
  return ParseState<State>(aggregate, *snapshot);
}

// LoadState of several aggregates in one round trip (the store's LoadMany), in their order.
// One result per aggregate: a stored state that is not a `State` fails alone (DATA_LOSS); the
// store's failure fails the call.
template <typename State>
absl::StatusOr<std::vector<absl::StatusOr<VersionedState<State>>>> LoadStates(
    AggregateStore& store, const std::vector<AggregateRef>& aggregates) {
  std::vector<AggregateEvent> items;
  items.reserve(aggregates.size());
  for (const AggregateRef& aggregate : aggregates) items.push_back({aggregate, ""});
  absl::StatusOr<std::vector<AggregateSnapshot>> snapshots = store.LoadMany(items);
  if (!snapshots.ok()) return snapshots.status();
  std::vector<absl::StatusOr<VersionedState<State>>> loaded;
  loaded.reserve(aggregates.size());
  for (size_t i = 0; i < aggregates.size(); ++i) {
    loaded.push_back(ParseState<State>(aggregates[i], (*snapshots)[i]));
  }
  return loaded;
}

}  // namespace choreo::store
