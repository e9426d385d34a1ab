#pragma once

// RunPlanner: which run of a lane's batch each record joins (SagaRuntime::HandleBatch). Pure:
// it sees names, not records.
//
// A batch's records that share round trips go in runs, one after another. A record joins the
// run after the latest one that holds a record of its key or of its aggregate (the first run if
// none does), so records of one key or aggregate keep their order and a repeated key holds back
// only its own later records. One exception: the records of an effect alone with a batch form
// may share a run with the earlier records of their key and aggregate when the latest of those
// is of that same effect, because the runtime hands a run's records of one effect to its batch
// form in their order (and, when the batch form fails, runs them alone in that order). Two
// records of one event (the same event id for the same aggregate) never share a run, so the
// second one finds the first one's completion.
//
// Promises: Place returns a run index at most one past the largest it returned before (a new
// run then); for one key or aggregate, the indices never go down.
// Thread-safety: none; one per batch.

#include <cstddef>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace choreo::saga {

struct AfterCommitStep;  // handler_registry.h; only its address is used here

class RunPlanner {
 public:
  // `key` is the record's Kafka key, `aggregate` names its aggregate, `event_id` its event;
  // `effect` is the effect when the record is an effect alone with a batch form, else nullptr
  // (a decision).
  size_t Place(absl::string_view key, absl::string_view aggregate, absl::string_view event_id,
               const AfterCommitStep* effect);

 private:
  struct Latest {
    size_t run;
    const AfterCommitStep* effect;  // of the latest record placed under this name; null: a decision
  };
  absl::flat_hash_map<std::string, Latest> latest_;  // "k:<key>" or "a:<aggregate>"
  absl::flat_hash_map<std::string, size_t> events_;  // "<aggregate>\n<event id>" -> its run
};

}  // namespace choreo::saga
