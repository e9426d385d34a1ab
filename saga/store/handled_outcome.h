#pragma once

// The bytes a "handled" marker holds (ARCHITECTURE.md §3 step 5): the exact records a reaction
// published, so that a re-delivered event, or an outbox relay, re-publishes them byte for byte
// with the same event ids. A record whose headers are the CloudEvents headers EventCodec derives
// from its value (codec::EventHeaders) may be stored with only its ce_specversion and ce_type
// (MarkerHeaders::kDerived), the rest derived again on reading: the same bytes as long as the
// codec's header rules stay the same.
//
// A record whose event carries the aggregate's state as its last field and whose readers need
// only the newest state (a snapshot: saga::OutgoingEvent::carries_state) may be stored without
// that state (MarkerSnapshots::kByState), since the commit that writes the marker leaves the
// same bytes as the aggregate's state (it writes them, or checks the version that holds them).
// Reading the marker appends the state the aggregate has then: the same bytes while no later
// commit changed the aggregate, else its newer state under the first handling's event id and
// meta.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "platform/record/record.h"

namespace choreo::store {

// Which headers a marker stores of a record whose headers the codec derives from its value.
enum class MarkerHeaders {
  // Only ce_specversion and ce_type, about 340 bytes a record less. A release of before
  // 2026-12-04 cannot derive the rest: re-publishing from such a marker, it would send the record
  // with those two alone (its consumers decode it, but without its ids and trace context in the
  // headers their traces, logs and dead-letter entries lose them).
  kDerived,
  // Every header, as releases of before 2026-12-04 stored them: for a rolling upgrade from such a
  // release and while a rollback to it stays possible (--full-marker-headers).
  kAll,
};

// Whether a marker keeps a snapshot's state.
enum class MarkerSnapshots {
  // Without it, about 330 bytes an order snapshot less. A release of before 2026-12-05 reads
  // such a record as its value stands: it would re-publish the snapshot without its state.
  kByState,
  // With it, as releases of before 2026-12-05 stored it: while a rolling upgrade from such a
  // release runs, and while a rollback to it stays possible (--full-marker-snapshots).
  kWhole,
};

// What a marker keeps of snapshots: `carries_state[i]` says whether records[i] is a snapshot of
// the aggregate, and `state` is the aggregate's state as the marker's commit leaves it. A
// snapshot is stored without its state only when the bytes before its last field and `state`
// give its value back exactly; else it is stored whole.
struct SnapshotsOfState {
  MarkerSnapshots keep = MarkerSnapshots::kWhole;
  std::vector<bool> carries_state;
  absl::string_view state;
};

std::string EncodeHandledOutcome(const std::vector<KafkaRecord>& records,
                                 MarkerHeaders headers = MarkerHeaders::kDerived,
                                 const SnapshotsOfState& snapshots = {});

// The records EncodeHandledOutcome was given, headers included; a snapshot stored without its
// state gets `state`, the aggregate's state now (nullopt: the aggregate has none, never written
// or gone). DATA_LOSS when `bytes` is not an encoded outcome, a record stored without its
// headers has a value they cannot be derived from, or a snapshot stored without its state finds
// no state to fill in.
absl::StatusOr<std::vector<KafkaRecord>> DecodeHandledOutcome(
    const std::string& bytes, std::optional<absl::string_view> state);

}  // namespace choreo::store
