#pragma once

// Reading an aggregate's state outside the saga runtime (admin APIs, lookups, services that
// write their own aggregates), parsed as the proto message the runtime stores.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "saga/store/aggregate_store.h"

namespace choreo::store {

template <typename State>
struct VersionedState {
  State state;          // a default State for an aggregate never written
  int64_t version = 0;  // 0: never written
};

// The aggregate's state and version; DATA_LOSS when the stored bytes are not a `State`;
// the store's UNAVAILABLE when Redis cannot be reached.
template <typename State>
absl::StatusOr<VersionedState<State>> LoadState(AggregateStore& store,
                                                const AggregateRef& aggregate) {
  absl::StatusOr<AggregateSnapshot> snapshot = store.Load(aggregate, "");
  if (!snapshot.ok()) return snapshot.status();
  VersionedState<State> loaded;
  if (!loaded.state.ParseFromString(snapshot->state)) {
    return absl::DataLossError(
        absl::StrCat("stored ", aggregate.type, " ", aggregate.id, " is not a ",
                     State::descriptor()->full_name()));
  }
  loaded.version = snapshot->version;
  return loaded;
}

}  // namespace choreo::store
