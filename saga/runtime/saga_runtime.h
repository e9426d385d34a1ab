#pragma once

// SagaRuntime: the one loop every service reaction runs in (ARCHITECTURE.md §3; see
// saga/README.md for the guarantees on one page).
//
//   poll a record -> decode (+upcast) -> already handled for this aggregate? re-publish the
//   stored events -> else load state, decide, commit state + handled marker in one Lua step ->
//   publish the outgoing events through the Publisher and wait for the broker's acks -> run the
//   route's effect after the commit, if any and not yet completed -> store the record's offset.
//
// Recent states: the lanes remember the aggregates they last loaded or committed and decide the
// next event of one on what they remember, without a load; the commit's version check and marker
// catch a stale guess or a duplicate, and the record is then decided again on the stored state.
//
// Batches: a lane takes up to max_batch queued records at once. A run of them with distinct
// aggregates and keys goes through those steps together: one pipelined load, the decisions,
// one pipelined commit (each record's commit still atomic on its own), one send of all their
// events and one wait for the acks, then each record's effect and offset in order (an effect with
// a batch form, AfterCommitStep::run_many, runs once for all of them first). A record the
// batch cannot finish the plain way (a duplicate, a failed decision, a version conflict, a
// failed publish, an effect alone, an undecodable record) is handled alone after the others of
// its run, with its retries and dead letter; one that was committed in the batch is then found
// handled and its stored events go out again. The records of one aggregate or key never share
// a run, so per-key order is kept, except for the records of one effect alone with a batch form,
// which it takes in their order (RunPlanner).
//
// Promises:
// - At-least-once delivery, exactly-once state changes: a re-delivered or duplicated record
//   changes nothing and re-publishes the events of its first handling, byte for byte (same ids).
// - Effects after the commit (HandlerRegistry::AfterCommit) run with the committed state, after
//   the reaction's events are acknowledged, never on a version-conflict retry of the decision.
//   Their completion is recorded next to the handled marker; a re-delivered record whose effect
//   did not complete (a crash, a dead-lettered effect replayed) runs it again on the current
//   state. At least once: an effect must be idempotent.
// - Reading is a consume::ConsumerLoop with `workers` lanes, which owns per-key order, offsets,
//   pausing, revocation and draining (its promises, consumer_loop.h). A record is finished (its
//   offset may be stored) only once its state change is committed, its events acknowledged and
//   its after-commit effect completed.
// - Transient failures (UNAVAILABLE, DEADLINE_EXCEEDED, version conflicts...) retry the same
//   step (the decision, or the effect alone once the decision is committed) with capped
//   exponential backoff and jitter while its partition is paused; nothing is skipped. Permanent
//   failures copy the record untouched to dlq.<service> with failure headers and the partition
//   moves on.
// - Stop(): the loop's stop (drain up to drain_timeout, commit, leave the group), then the
//   producer is flushed. Idempotent, noexcept.
// Thread-safety: Start and Stop from one owning thread; everything else is internal.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka/statistics.h"
#include "platform/tracing/tracer.h"
#include "saga/consume/consumer_loop.h"
#include "saga/publish/publisher.h"
#include "saga/runtime/handler_registry.h"
#include "saga/runtime/retry_policy.h"
#include "saga/store/aggregate_store.h"
#include "saga/store/handled_outcome.h"
#include "saga/store/recent_states.h"

namespace choreo::saga {

// Hooks for metrics (the observability issue exposes them). Called from worker threads;
// implementations must be thread-safe and must not block.
class SagaObserver {
 public:
  enum class Outcome {
    kHandled,       // decided, committed, published
    kDuplicate,     // already handled: stored events re-published
    kDeadLettered,  // copied to dlq.<service>
    kIgnored,       // a type the service registered as ignored
  };
  // "handled", "duplicate", "dead_lettered", "ignored".
  static absl::string_view OutcomeName(Outcome outcome);
  virtual ~SagaObserver() = default;
  // `handling` runs from the worker taking the record to its offset being stored (decode, Redis,
  // decision, publish and acknowledgement, retries included); `queued` is the wait before that.
  virtual void OnRecordDone(const KafkaRecord& /*record*/, absl::string_view /*event_type*/,
                            Outcome /*outcome*/, absl::Duration /*handling*/,
                            absl::Duration /*queued*/) {}
  // A failed attempt that is retried: of the decision, or of the effect after the commit (its
  // error then starts with "effect <name>: ").
  virtual void OnRetry(const KafkaRecord& /*record*/, const absl::Status& /*error*/,
                       int /*attempt*/) {}
  // A record the broker acknowledged: an outgoing event (the reaction's, or one an effect
  // published), or a dead letter.
  virtual void OnPublished(const KafkaRecord& /*record*/) {}
};

// Where a test may simulate a crash (crash_hook returns true): the record's work stops there,
// its offset is never stored, and the runtime stops handling anything. kAfterPublishBeforeEffect
// is reached only by records whose route has an effect after the commit still to run. In a batch
// (see above) kAfterCommitBeforePublish is asked once, with the run's first committed record,
// after the whole run is committed and before any of it is published; the other two are asked
// per record, so a crash can fall mid-batch.
enum class CrashPoint {
  kAfterCommitBeforePublish,
  kAfterPublishBeforeEffect,
  kAfterPublishBeforeOffsetStore,
};

struct SagaRuntimeOptions {
  std::string service;        // "billing": group choreo-billing, dlq.billing, meta.producer
  std::string kafka_brokers;  // bootstrap servers
  std::string group_id;       // default "choreo-<service>"
  std::vector<std::string> topics;
  kafka::KafkaConfig consumer_overrides;  // applied over ConsumerDefaults (e.g. fetch.wait.max.ms)
  kafka::KafkaConfig producer_overrides;  // applied over ProducerDefaults
  std::string redis_address;              // host:port
  int workers = 4;
  absl::Duration marker_retention = absl::Hours(24 * 7);
  // Which headers a handled marker keeps of each record (store::MarkerHeaders).
  store::MarkerHeaders marker_headers = store::MarkerHeaders::kDerived;
  // Whether a handled marker keeps a snapshot's state (store::MarkerSnapshots).
  store::MarkerSnapshots marker_snapshots = store::MarkerSnapshots::kByState;
  BackoffPolicy backoff;
  int max_attempts_unclassified = 10;
  int max_in_flight_per_partition = 1000;  // the partition pauses beyond this
  int max_batch = 64;                      // records a lane handles together (1: one by one)
  // Aggregates the lanes remember together (store::RecentStates) to decide without loading them
  // (0: load every time).
  int recent_states = 16384;
  // After a lane's first record, how long it waits for more to batch (0: takes what is queued).
  absl::Duration batch_window = absl::ZeroDuration();
  absl::Duration drain_timeout = absl::Seconds(10);
  // For a group that builds a view: not ready until caught up once (ConsumerLoopOptions).
  bool ready_once_caught_up = false;
  absl::Duration publish_timeout = absl::Seconds(30);  // the Publisher's ack_timeout
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  SagaObserver* observer = nullptr;  // not owned; must outlive the runtime
  // Spans "process <topic>" per record and "send <topic>" per outgoing event (whose context
  // the event carries). Not owned; null: no spans (trace context still propagates).
  const tracing::Tracer* tracer = nullptr;
  // Tests only.
  std::function<bool(CrashPoint, const KafkaRecord&)> crash_hook;
  std::function<std::unique_ptr<store::AggregateStore>()> store_factory;  // default: Redis
};

class SagaRuntime final {
 public:
  // Validates the options (INVALID_ARGUMENT naming the bad one); connects nothing yet.
  static absl::StatusOr<std::unique_ptr<SagaRuntime>> Create(SagaRuntimeOptions options,
                                                             HandlerRegistry registry);
  ~SagaRuntime();

  // Creates the Kafka clients, subscribes and starts the poll and worker threads.
  absl::Status Start();
  void Stop() noexcept;

  bool crashed() const;
  // The consumer lag per partition, from librdkafka's statistics (empty until the first ones,
  // statistics.interval.ms after Start).
  std::vector<kafka::PartitionLag> ConsumerLag() const;
  // OK when the runtime can do its work: started and not stopping, its consumer has an
  // assignment from the group, a Kafka broker is reachable and its producer has its producer id
  // (librdkafka's statistics).
  // UNAVAILABLE saying which is missing otherwise.
  absl::Status Readiness() const;
  const std::string& group_id() const { return options_.group_id; }

 private:
  struct Lane;
  struct PendingEffect;
  enum class Finish { kDone, kAbandon };
  enum class StepEnd { kOk, kDeadLettered, kAbandon };

  SagaRuntime(SagaRuntimeOptions options, HandlerRegistry registry);

  struct Batched;

  // A lane's batch: in runs (RunPlanner; each run together, RunTogether), the records that
  // cannot join one alone.
  void HandleBatch(Lane& lane, absl::Span<consume::RecordScope> batch);
  // One run: load, decide, commit, publish together; effects and offsets per record; what it
  // cannot finish the plain way, alone after. Returns false when the runtime crashed.
  bool RunTogether(Lane& lane, std::vector<Batched>& run);
  // The effects of a run's records that have a batch form (AfterCommitStep::run_many), once per
  // effect for all of them; those that succeed are marked ran, and their completions recorded
  // in one round trip. False when the runtime crashed.
  bool RunEffectsTogether(Lane& lane, std::vector<Batched>& run,
                          std::vector<std::unique_ptr<PendingEffect>>& effects);
  // Asks in one round trip whether the effects alone of a run that record their completion
  // completed before (those that did are duplicates) and moves them into `run`; all of them to
  // `alone` when the store fails.
  void AskCompletions(Lane& lane, std::vector<Batched>& effects_alone, std::vector<Batched>& run,
                      std::vector<Batched>& alone);
  // Load, decide and commit of a run: the records committed (in run order) stay in `run`, the
  // others are moved to `alone`.
  void CommitTogether(Lane& lane, std::vector<Batched>& run, std::vector<Batched>& alone);
  // One record on its lane: decide, commit, publish, effect; kDone lets its offset be stored.
  Finish Handle(Lane& lane, consume::RecordScope& scope, tracing::Span span, absl::Time started);
  // The record finished (done, ignored, duplicate or dead-lettered): observer, debug log.
  void Report(const consume::RecordScope& scope, absl::string_view event_type,
              SagaObserver::Outcome outcome, absl::Time started);
  // Runs `step` until it succeeds: transient failures back off and retry it, permanent ones
  // dead-letter the record. kAbandon, without a first attempt, for a record already given up.
  StepEnd RunStep(Lane& lane, consume::RecordScope& scope, tracing::Span& span,
                  const std::function<absl::Status()>& step);
  // Decide, commit, publish. Leaves in `effect` the route's effect after the commit, when it has
  // one that has not completed for this record.
  absl::Status HandleOnce(Lane& lane, const KafkaRecord& record, const tracing::Span& process,
                          SagaObserver::Outcome& outcome, std::string& event_type,
                          std::unique_ptr<PendingEffect>& effect);
  // What deciding and committing one record left to do.
  struct Committed {
    bool duplicate = false;                       // handled before: `stored` goes out again
    std::vector<publish::StampedEvent> decided;   // this handling's events
    std::vector<KafkaRecord> stored;              // the first handling's records
    std::string state;                            // as committed (or found), for the effect
  };
  // Load, decide (again on a version conflict), commit state + marker; or find the record
  // handled before.
  absl::StatusOr<Committed> DecideAndCommit(Lane& lane, const KafkaRecord& record,
                                            const HandlerRegistry::Dispatch& dispatch,
                                            const store::AggregateRef& aggregate,
                                            const tracing::Span& process);
  // What the lane remembers of the aggregate, else a new aggregate's state if `presume_new`
  // (both guesses: `remembered`, no marker was read), else the stored state and the record's
  // marker, then remembered.
  absl::StatusOr<store::AggregateSnapshot> RecentOrLoad(Lane& lane,
                                                        const store::AggregateRef& aggregate,
                                                        absl::string_view event_id,
                                                        bool presume_new, bool& remembered);
  // A decision on `state`, its events stamped (origin: caused by the event, a child of
  // `process`): what to commit and send. On an error, nothing stamped is left open.
  struct Decision {
    std::optional<std::string> state;             // nullopt: unchanged
    std::vector<publish::StampedEvent> stamped;
    std::vector<KafkaRecord> records;             // the stamped records, for the marker
    std::vector<bool> carries_state;              // per record: OutgoingEvent::carries_state
  };
  // The handled marker of `decision`, made on `state_before` (the aggregate's stored state).
  std::string MarkerOf(const Decision& decision, const std::string& state_before) const;
  absl::StatusOr<Decision> Decide(const HandlerRegistry::Dispatch& dispatch,
                                  const KafkaRecord& record, const std::string& state,
                                  const tracing::Span& process) const;
  // Whether the route's effect is still to run for this record: always after a first handling
  // (an effect runs after its commit), and for a record handled before unless its completion
  // was recorded (a lookup only for effects that record it).
  absl::StatusOr<bool> EffectPending(Lane& lane, const Route& route,
                                     const store::AggregateRef& aggregate,
                                     absl::string_view event_id, bool handled_before);
  // Runs the test hook of `point`; true when it says to crash here (the runtime then halts).
  bool CrashAt(CrashPoint point, const KafkaRecord& record);
  absl::Status RunEffect(Lane& lane, const KafkaRecord& record, const tracing::Span& process,
                         PendingEffect& effect);
  absl::Status DeadLetter(const KafkaRecord& record, const absl::Status& error, int attempts);
  void Crash();  // a test's crash point: the loop halts

  const SagaRuntimeOptions options_;
  const HandlerRegistry registry_;
  // Every record this runtime publishes goes through it (its producer learns the topics the
  // service writes).
  std::unique_ptr<publish::KafkaPublisher> publisher_;
  store::RecentStates recent_;                // the aggregates the lanes remember, together
  std::vector<std::unique_ptr<Lane>> lanes_;  // lane i of the loop works with lanes_[i]
  std::unique_ptr<consume::ConsumerLoop> loop_;

  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace choreo::saga
