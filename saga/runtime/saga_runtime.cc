#include "saga/runtime/saga_runtime.h"

#include <algorithm>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "edges/kafka/statistics.h"
#include "edges/redis/redis_connection.h"
#include "platform/logging/logger.h"
#include "platform/tracing/messaging.h"
#include "saga/dlq/dead_letter.h"
#include "saga/runtime/run_planner.h"
#include "saga/store/handled_outcome.h"
#include "saga/store/recent_states.h"
#include "saga/store/redis_aggregate_store.h"

namespace choreo::saga {

// What one lane of the consumer loop works with: its own Redis connection and randomness.
struct SagaRuntime::Lane {
  std::unique_ptr<store::AggregateStore> store;
  absl::BitGen random;
};

namespace {


void LogRecord(logging::Level level, absl::string_view message, const KafkaRecord& record) {
  if (logging::Enabled(level)) logging::Log(level, message, logging::EventFields(record));
}

}  // namespace

absl::string_view SagaObserver::OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kHandled: return "handled";
    case Outcome::kDuplicate: return "duplicate";
    case Outcome::kDeadLettered: return "dead_lettered";
    case Outcome::kIgnored: return "ignored";
  }
  return "handled";
}

absl::StatusOr<std::unique_ptr<SagaRuntime>> SagaRuntime::Create(SagaRuntimeOptions options,
                                                                 HandlerRegistry registry) {
  if (options.service.empty()) return absl::InvalidArgumentError("saga runtime: service is empty");
  if (options.kafka_brokers.empty()) {
    return absl::InvalidArgumentError("saga runtime: kafka brokers are empty");
  }
  if (options.topics.empty()) return absl::InvalidArgumentError("saga runtime: no topics");
  if (registry.empty()) return absl::InvalidArgumentError("saga runtime: no handlers");
  if (options.max_batch < 1 || options.max_batch > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("saga runtime: max_batch must be 1..10000, got ", options.max_batch));
  }
  if (options.recent_states < 0) {
    return absl::InvalidArgumentError("saga runtime: recent_states must be >= 0");
  }
  if (options.workers < 1 || options.workers > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("saga runtime: workers must be 1..256, got ", options.workers));
  }
  if (!options.store_factory) {
    if (absl::Status parsed = redis::RedisConnection::OptionsFor(options.redis_address).status();
        !parsed.ok()) {
      return parsed;
    }
  }
  if (options.group_id.empty()) options.group_id = absl::StrCat("choreo-", options.service);
  return std::unique_ptr<SagaRuntime>(new SagaRuntime(std::move(options), std::move(registry)));
}

SagaRuntime::SagaRuntime(SagaRuntimeOptions options, HandlerRegistry registry)
    : options_(std::move(options)),
      registry_(std::move(registry)),
      recent_(static_cast<size_t>(options_.recent_states)) {}

SagaRuntime::~SagaRuntime() { Stop(); }

absl::Status SagaRuntime::Start() {
  if (started_.exchange(true)) return absl::FailedPreconditionError("saga runtime already started");
  publish::Publisher::Options publishing{.service = options_.service,
                                         .tracer = options_.tracer,
                                         .clock = options_.clock,
                                         .ack_timeout = options_.publish_timeout};
  if (options_.observer != nullptr) {
    publishing.on_published = [observer = options_.observer](const KafkaRecord& record) {
      observer->OnPublished(record);
    };
  }
  absl::StatusOr<std::unique_ptr<publish::KafkaPublisher>> publisher =
      publish::KafkaPublisher::Create(kafka::Merged(kafka::ProducerDefaults(options_.kafka_brokers),
                                                    options_.producer_overrides),
                                      std::move(publishing), options_.publish_timeout);
  if (!publisher.ok()) return publisher.status();
  publisher_ = *std::move(publisher);

  for (int i = 0; i < options_.workers; ++i) {
    auto lane = std::make_unique<Lane>();
    if (options_.store_factory) {
      lane->store = options_.store_factory();
    } else {
      lane->store = std::make_unique<store::RedisAggregateStore>(
          *redis::RedisConnection::OptionsFor(options_.redis_address));
    }
    lanes_.push_back(std::move(lane));
  }
  loop_ = std::make_unique<consume::ConsumerLoop>(
      consume::ConsumerLoopOptions{
          .consumer =
              kafka::Merged(kafka::ConsumerDefaults(options_.kafka_brokers, options_.group_id),
                            options_.consumer_overrides),
          .topics = options_.topics,
          .lanes = options_.workers,
          .max_batch = options_.max_batch,
          .batch_window = options_.batch_window,
          .max_in_flight_per_partition = options_.max_in_flight_per_partition,
          .drain_timeout = options_.drain_timeout,
          .name = options_.group_id,
          .ready_once_caught_up = options_.ready_once_caught_up},
      [this](int lane, absl::Span<consume::RecordScope> batch) {
        HandleBatch(*lanes_[lane], batch);
      });
  if (absl::Status started = loop_->Start(); !started.ok()) return started;
  return absl::OkStatus();
}

void SagaRuntime::Stop() noexcept {
  if (!started_.load() || stopped_.exchange(true)) return;
  if (loop_ != nullptr) loop_->Stop();  // drains, commits (unless crashed), leaves the group
  if (publisher_ != nullptr) {
    static_cast<void>(publisher_->producer().Flush(options_.publish_timeout));
  }
}

bool SagaRuntime::crashed() const { return loop_ != nullptr && loop_->halted(); }

absl::Status SagaRuntime::Readiness() const {
  if (loop_ == nullptr) return absl::UnavailableError(absl::StrCat(options_.group_id, ": not running"));
  if (absl::Status consuming = loop_->Readiness(); !consuming.ok()) return consuming;
  // Its producer can publish at once (a record given to it before its producer id waits); the
  // consumer's check covers the brokers.
  return kafka::CheckProducerIdAssigned(publisher_->producer().LatestStatistics());
}

std::vector<kafka::PartitionLag> SagaRuntime::ConsumerLag() const {
  return loop_ != nullptr ? loop_->Lag() : std::vector<kafka::PartitionLag>{};
}

// A route's effect after the commit, still to run for one record.
struct SagaRuntime::PendingEffect {
  HandlerRegistry::Dispatch dispatch;  // owns the event
  store::AggregateRef aggregate;
  std::string state;  // as committed (or, for a duplicate, as found)
  bool ran = false;   // ran and succeeded; only its completion is left to record
  bool recorded = false;  // its completion is recorded too (with its batch's)
};

// A record of a lane's batch on its way through a run (RunTogether).
struct SagaRuntime::Batched {
  consume::RecordScope* scope;
  tracing::Span span;  // "process <topic>", for the whole handling
  absl::Time started;
  HandlerRegistry::Dispatch dispatch;
  store::AggregateRef aggregate;
  std::vector<publish::StampedEvent> decided;  // once decided
  std::string state;                           // once committed: the state the effect sees
  bool duplicate = false;  // an effect alone that completed before: nothing left to do
};

void SagaRuntime::HandleBatch(Lane& lane, absl::Span<consume::RecordScope> batch) {
  // The records that share round trips, in runs (RunPlanner: a key's or an aggregate's records
  // keep their order, and a repeated key holds back only its own later records).
  std::vector<std::vector<Batched>> runs;
  RunPlanner planner;
  auto flush = [&] {
    for (std::vector<Batched>& run : runs) {
      if (!RunTogether(lane, run)) return false;
    }
    runs.clear();
    planner = RunPlanner();
    return !crashed();
  };
  for (consume::RecordScope& scope : batch) {
    const KafkaRecord& record = scope.record();
    const absl::Time started = absl::Now();
    tracing::Span span =
        tracing::StartProcessSpan(tracing::TracerOr(options_.tracer), record, options_.group_id);
    if (batch.size() > 1) {
      absl::StatusOr<HandlerRegistry::Dispatch> dispatch = registry_.Decode(record);
      const Route* route = dispatch.ok() ? dispatch->route : nullptr;
      if (route != nullptr &&
          (route->ignore || (route->acts_on && !route->acts_on(*dispatch->event.message)))) {
        Report(scope, dispatch->event.type(), SagaObserver::Outcome::kIgnored, started);
        scope.Done();
        continue;
      }
      // A decision, or an effect alone with a batch form, shares its run's round trips.
      if (route != nullptr &&
          (route->decide || (route->after_commit && route->after_commit->run_many))) {
        store::AggregateRef aggregate = store::ServiceAggregate(
            options_.service, route->aggregate_type, route->aggregate_id(*dispatch->event.message));
        if (!aggregate.id.empty()) {
          const AfterCommitStep* effect_alone = route->decide ? nullptr : &*route->after_commit;
          const size_t joins =
              planner.Place(record.key, absl::StrCat(aggregate.type, ":", aggregate.id),
                            dispatch->event.meta().event_id(), effect_alone);
          if (joins == runs.size()) runs.emplace_back();
          runs[joins].push_back(Batched{&scope, std::move(span), started, *std::move(dispatch),
                                        std::move(aggregate)});
          continue;
        }
      }
    }
    // Alone, after everything before it.
    if (!flush()) return;
    if (Handle(lane, scope, std::move(span), started) == Finish::kDone) scope.Done();
    if (crashed()) return;
  }
  flush();
}

bool SagaRuntime::RunTogether(Lane& lane, std::vector<Batched>& run) {
  // A record given up meanwhile is not started (RecordScope::GivenUp).
  std::erase_if(run, [](const Batched& item) { return item.scope->GivenUp(); });
  if (run.empty()) return !crashed();
  std::vector<Batched> alone;
  std::vector<Batched> effects_alone;  // no decision: nothing to load, commit or publish
  if (run.size() == 1) {
    alone = std::move(run);  // nothing to share: the plain path
    run.clear();
  } else {
    std::vector<Batched> to_commit;
    for (Batched& item : run) {
      (item.dispatch.route->decide ? to_commit : effects_alone).push_back(std::move(item));
    }
    run = std::move(to_commit);
    if (!run.empty()) CommitTogether(lane, run, alone);
  }
  if (!run.empty()) {
    if (CrashAt(CrashPoint::kAfterCommitBeforePublish, run.front().scope->record())) return false;
    std::vector<publish::StampedEvent> events;
    for (Batched& item : run) {
      for (publish::StampedEvent& event : item.decided) events.push_back(std::move(event));
      item.decided.clear();
    }
    if (!publisher_->publisher().SendAndWait(std::move(events)).ok()) {
      // Committed, not all acknowledged: alone, each finds itself handled and sends its stored
      // events again (their ids are the same).
      for (Batched& item : run) alone.push_back(std::move(item));
      run.clear();
    }
  }
  AskCompletions(lane, effects_alone, run, alone);
  std::vector<std::string> types;
  std::vector<std::unique_ptr<PendingEffect>> effects;
  for (Batched& item : run) {
    types.push_back(item.dispatch.event.type());
    effects.push_back(item.dispatch.route->after_commit && !item.duplicate
                          ? std::make_unique<PendingEffect>(PendingEffect{
                                std::move(item.dispatch), item.aggregate, std::move(item.state)})
                          : nullptr);
  }
  if (!RunEffectsTogether(lane, run, effects)) return false;
  for (size_t i = 0; i < run.size(); ++i) {
    Batched& item = run[i];
    consume::RecordScope& scope = *item.scope;
    SagaObserver::Outcome outcome =
        item.duplicate ? SagaObserver::Outcome::kDuplicate : SagaObserver::Outcome::kHandled;
    if (PendingEffect* effect = effects[i].get(); effect != nullptr) {
      if (!effect->ran && CrashAt(CrashPoint::kAfterPublishBeforeEffect, scope.record())) {
        return false;
      }
      const StepEnd end = RunStep(lane, scope, item.span, [&] {
        return RunEffect(lane, scope.record(), item.span, *effect);
      });
      if (end == StepEnd::kAbandon) {
        if (crashed()) return false;
        continue;
      }
      if (end == StepEnd::kDeadLettered) outcome = SagaObserver::Outcome::kDeadLettered;
    }
    if (CrashAt(CrashPoint::kAfterPublishBeforeOffsetStore, scope.record())) return false;
    Report(scope, types[i], outcome, item.started);
    scope.Done();
  }
  for (Batched& item : alone) {
    if (Handle(lane, *item.scope, std::move(item.span), item.started) == Finish::kDone) {
      item.scope->Done();
    }
    if (crashed()) return false;
  }
  return !crashed();
}

void SagaRuntime::AskCompletions(Lane& lane, std::vector<Batched>& effects_alone,
                                 std::vector<Batched>& run, std::vector<Batched>& alone) {
  std::vector<store::AggregateEvent> asked;
  for (const Batched& item : effects_alone) {
    if (item.dispatch.route->after_commit->record_completion) {
      asked.push_back({item.aggregate, item.dispatch.event.meta().event_id()});
    }
  }
  absl::StatusOr<std::vector<bool>> done =
      asked.empty() ? std::vector<bool>() : lane.store->EffectsDone(asked);
  size_t next = 0;
  for (Batched& item : effects_alone) {
    if (!done.ok()) {
      alone.push_back(std::move(item));  // alone, with its retries
      continue;
    }
    if (item.dispatch.route->after_commit->record_completion) item.duplicate = (*done)[next++];
    run.push_back(std::move(item));
  }
}

bool SagaRuntime::RunEffectsTogether(Lane& lane, std::vector<Batched>& run,
                                     std::vector<std::unique_ptr<PendingEffect>>& effects) {
  absl::flat_hash_map<const AfterCommitStep*, std::vector<size_t>> groups;
  for (size_t i = 0; i < run.size(); ++i) {
    if (effects[i] == nullptr) continue;
    const AfterCommitStep& step = *effects[i]->dispatch.route->after_commit;
    if (step.run_many) groups[&step].push_back(i);
  }
  for (const auto& [step, members] : groups) {
    if (members.size() < 2) continue;  // alone, the plain way
    for (size_t i : members) {
      if (CrashAt(CrashPoint::kAfterPublishBeforeEffect, run[i].scope->record())) return false;
    }
    tracing::Span span = tracing::TracerOr(options_.tracer)
                             .StartSpan(absl::StrCat("effect ", step->name),
                                        tracing::SpanKind::kInternal,
                                        run[members.front()].span.traceparent());
    span.SetAttribute("choreo.batch_size", static_cast<int64_t>(members.size()));
    std::vector<publish::Origin> origins;
    std::vector<EffectContext> contexts;
    origins.reserve(members.size());
    contexts.reserve(members.size());
    const absl::Time now = options_.clock();
    for (size_t i : members) {
      const common::v1::EventMeta& meta = effects[i]->dispatch.event.meta();
      publish::Origin& origin = origins.emplace_back(publish::Origin::CausedBy(meta));
      // What the effect publishes for a record continues that record's own trace: the batch's
      // span for the first member (a child of its process span), each other's process span.
      origin.traceparent = i == members.front() ? span.traceparent() : run[i].span.traceparent();
      contexts.push_back(
          EffectContext{run[i].scope->record(), meta, publisher_->publisher(), origin, now});
    }
    std::vector<EffectCall> calls;
    calls.reserve(members.size());
    for (size_t k = 0; k < members.size(); ++k) {
      const PendingEffect& effect = *effects[members[k]];
      calls.push_back(EffectCall{effect.state, *effect.dispatch.event.message, contexts[k]});
    }
    if (absl::Status ran = step->run_many(calls); !ran.ok()) {
      span.SetError(ran.ToString());  // each runs alone next, with its retries
      continue;
    }
    for (size_t i : members) effects[i]->ran = true;
    if (!step->record_completion) continue;
    // Their completions in one round trip; on a failure each records its own, with retries.
    std::vector<store::AggregateEvent> completed;
    for (size_t i : members) {
      completed.push_back({effects[i]->aggregate, effects[i]->dispatch.event.meta().event_id()});
    }
    if (lane.store->MarkEffectsDone(completed, options_.marker_retention).ok()) {
      for (size_t i : members) effects[i]->recorded = true;
    }
  }
  return true;
}

void SagaRuntime::CommitTogether(Lane& lane, std::vector<Batched>& run,
                                 std::vector<Batched>& alone) {
  // To the one-record path: what it stamped is not sent as it is.
  auto to_alone = [&](Batched& item) {
    for (publish::StampedEvent& event : item.decided) event.send.Discard();
    item.decided.clear();
    alone.push_back(std::move(item));
  };
  auto all_alone = [&](std::vector<Batched>& items) {
    for (Batched& item : items) to_alone(item);
    items.clear();
  };
  // What the lane remembers is decided on as it is, so is a new aggregate an event that starts
  // one presumes (both guesses the commit checks); the rest is loaded in one round trip.
  std::vector<store::AggregateSnapshot> snapshots(run.size());
  std::vector<bool> loaded(run.size(), false);
  std::vector<store::AggregateEvent> keys;
  for (size_t i = 0; i < run.size(); ++i) {
    if (std::optional<store::AggregateSnapshot> known = recent_.Find(run[i].aggregate)) {
      snapshots[i] = *std::move(known);
    } else if (!run[i].dispatch.route->starts_aggregate) {  // else new: the default snapshot
      loaded[i] = true;
      keys.push_back({run[i].aggregate, run[i].dispatch.event.meta().event_id()});
    }
  }
  if (!keys.empty()) {
    absl::StatusOr<std::vector<store::AggregateSnapshot>> got = lane.store->LoadMany(keys);
    if (!got.ok()) {
      recent_.Clear();
      return all_alone(run);
    }
    for (size_t i = 0, k = 0; i < run.size(); ++i) {
      if (!loaded[i]) continue;
      snapshots[i] = std::move((*got)[k++]);
      recent_.Remember(run[i].aggregate, snapshots[i].version, snapshots[i].state);
    }
  }
  std::vector<Batched> decided;
  std::vector<store::CommitRequest> commits;
  for (size_t i = 0; i < run.size(); ++i) {
    Batched& item = run[i];
    store::AggregateSnapshot& snapshot = snapshots[i];
    absl::StatusOr<Decision> decision =
        snapshot.handled_outcome
            ? absl::AlreadyExistsError("handled before")  // alone: it sends its stored events
            : Decide(item.dispatch, item.scope->record(), snapshot.state, item.span);
    if (!decision.ok()) {
      if (!loaded[i]) recent_.Forget(item.aggregate);  // alone, it decides on the stored state
      alone.push_back(std::move(item));
      continue;
    }
    commits.push_back({item.aggregate, item.dispatch.event.meta().event_id(), snapshot.version,
                       decision->state, MarkerOf(*decision, snapshot.state)});
    item.state = decision->state ? *std::move(decision->state) : std::move(snapshot.state);
    item.decided = std::move(decision->stamped);
    decided.push_back(std::move(item));
  }
  run.clear();
  if (decided.empty()) return;
  absl::StatusOr<std::vector<store::CommitResult>> results =
      lane.store->CommitMany(commits, options_.marker_retention);
  if (!results.ok()) {
    recent_.Clear();
    return all_alone(decided);
  }
  for (size_t i = 0; i < decided.size(); ++i) {
    if ((*results)[i].outcome == store::CommitOutcome::kCommitted) {
      recent_.Remember(decided[i].aggregate, (*results)[i].version, decided[i].state);
      run.push_back(std::move(decided[i]));
    } else {  // a conflict or handled meanwhile: alone, it reloads
      recent_.Forget(decided[i].aggregate);
      to_alone(decided[i]);
    }
  }
}

void SagaRuntime::Report(const consume::RecordScope& scope, absl::string_view event_type,
                         SagaObserver::Outcome outcome, absl::Time started) {
  const absl::Duration handling = absl::Now() - started;
  if (options_.observer != nullptr) {
    options_.observer->OnRecordDone(scope.record(), event_type, outcome, handling,
                                    started - scope.received());
  }
  if (logging::Enabled(logging::Level::kDebug)) {
    logging::Fields fields = logging::EventFields(scope.record());
    fields.emplace_back("event_type", std::string(event_type));
    fields.emplace_back("outcome", std::string(SagaObserver::OutcomeName(outcome)));
    fields.emplace_back("handling_ms", absl::StrCat(absl::ToDoubleMilliseconds(handling)));
    logging::Debug("record done", fields);
  }
}

SagaRuntime::Finish SagaRuntime::Handle(Lane& lane, consume::RecordScope& scope,
                                        tracing::Span span, absl::Time started) {
  const KafkaRecord& record = scope.record();
  SagaObserver::Outcome outcome = SagaObserver::Outcome::kHandled;
  std::string event_type(record.Header("ce_type").value_or(""));
  std::unique_ptr<PendingEffect> effect;
  StepEnd end = RunStep(lane, scope, span, [&] {
    outcome = SagaObserver::Outcome::kHandled;
    return HandleOnce(lane, record, span, outcome, event_type, effect);
  });
  if (end == StepEnd::kOk && effect != nullptr) {
    if (CrashAt(CrashPoint::kAfterPublishBeforeEffect, record)) return Finish::kAbandon;
    end = RunStep(lane, scope, span,
                  [&] { return RunEffect(lane, record, span, *effect); });
  }
  if (end == StepEnd::kOk && CrashAt(CrashPoint::kAfterPublishBeforeOffsetStore, record)) {
    return Finish::kAbandon;
  }
  if (end == StepEnd::kAbandon) return Finish::kAbandon;
  if (end == StepEnd::kDeadLettered) outcome = SagaObserver::Outcome::kDeadLettered;
  Report(scope, event_type, outcome, started);
  return Finish::kDone;
}

SagaRuntime::StepEnd SagaRuntime::RunStep(Lane& lane, consume::RecordScope& scope,
                                          tracing::Span& span,
                                          const std::function<absl::Status()>& step) {
  const KafkaRecord& record = scope.record();
  // Given up before its first attempt (an earlier record of its partition was, as the stop or a
  // revocation came): not started, so it cannot go ahead of that one.
  if (scope.GivenUp()) return StepEnd::kAbandon;
  for (int attempt = 1;; ++attempt) {
    absl::Status status = step();
    if (crashed()) return StepEnd::kAbandon;
    if (status.ok()) return StepEnd::kOk;
    if (ClassifyFailure(status, attempt, options_.max_attempts_unclassified) ==
        FailureAction::kDeadLetter) {
      // Publishing the dead letter is retried like any transient failure.
      for (int dlq_attempt = 1;; ++dlq_attempt) {
        absl::Status sent = DeadLetter(record, status, attempt);
        if (sent.ok()) break;
        scope.SetRetrying(true);  // pauses the partition until the record is finished
        LogRecord(logging::Level::kWarn,
                  absl::StrCat("dead-lettering failed: ", sent.ToString()), record);
        if (!scope.Wait(BackoffDelay(options_.backoff, dlq_attempt,
                                             absl::Uniform(lane.random, 0.0, 1.0)))) {
          return StepEnd::kAbandon;
        }
      }
      LogRecord(logging::Level::kError, absl::StrCat("dead-lettered: ", status.ToString()),
                record);
      span.SetAttribute("choreo.dead_lettered", true);
      span.SetError(status.ToString());
      return StepEnd::kDeadLettered;
    }
    if (attempt == 1 || attempt % 10 == 0) {
      LogRecord(logging::Level::kWarn,
                absl::StrCat("attempt ", attempt, " failed, retrying: ", status.ToString()), record);
    }
    if (options_.observer != nullptr) options_.observer->OnRetry(record, status, attempt);
    if (span.recording()) {
      span.SetAttribute("choreo.retry", absl::StrCat("attempt ", attempt, ": ", status.ToString()));
    }
    scope.SetRetrying(true);  // pauses the partition until the record is finished
    if (!scope.Wait(BackoffDelay(options_.backoff, attempt,
                                         absl::Uniform(lane.random, 0.0, 1.0)))) {
      return StepEnd::kAbandon;
    }
  }
}

absl::Status SagaRuntime::HandleOnce(Lane& lane, const KafkaRecord& record,
                                     const tracing::Span& process, SagaObserver::Outcome& outcome,
                                     std::string& event_type,
                                     std::unique_ptr<PendingEffect>& effect) {
  effect.reset();
  absl::StatusOr<HandlerRegistry::Dispatch> dispatch = registry_.Decode(record);
  if (!dispatch.ok()) return dispatch.status();
  event_type = dispatch->event.type();
  const google::protobuf::Message& event = *dispatch->event.message;
  const common::v1::EventMeta& meta = dispatch->event.meta();
  const Route& route = *dispatch->route;
  if (route.ignore || (route.acts_on && !route.acts_on(event))) {
    outcome = SagaObserver::Outcome::kIgnored;
    return absl::OkStatus();
  }
  const store::AggregateRef aggregate =
      store::ServiceAggregate(options_.service, route.aggregate_type, route.aggregate_id(event));
  if (aggregate.id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(event_type, " names no ", route.aggregate_type, " (empty aggregate id)"));
  }

  if (!route.decide) {  // an effect alone: its completion record is all that is stored
    absl::StatusOr<bool> pending =
        EffectPending(lane, route, aggregate, meta.event_id(), /*handled_before=*/true);
    if (!pending.ok()) return pending.status();
    if (*pending) {
      effect = std::make_unique<PendingEffect>(PendingEffect{*std::move(dispatch), aggregate, ""});
    } else {
      outcome = SagaObserver::Outcome::kDuplicate;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<Committed> committed =
      DecideAndCommit(lane, record, *dispatch, aggregate, process);
  if (!committed.ok()) return committed.status();
  if (committed->duplicate) outcome = SagaObserver::Outcome::kDuplicate;
  if (CrashAt(CrashPoint::kAfterCommitBeforePublish, record)) {
    return absl::AbortedError("injected crash after commit");
  }
  absl::Status published = committed->duplicate
                               ? publisher_->publisher().SendAndWait(committed->stored)
                               : publisher_->publisher().SendAndWait(std::move(committed->decided));
  if (!published.ok()) return published;
  if (!route.after_commit) return absl::OkStatus();
  absl::StatusOr<bool> pending =
      EffectPending(lane, route, aggregate, meta.event_id(), committed->duplicate);
  if (!pending.ok()) return pending.status();
  if (*pending) {
    effect = std::make_unique<PendingEffect>(
        PendingEffect{*std::move(dispatch), aggregate, std::move(committed->state)});
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SagaRuntime::EffectPending(Lane& lane, const Route& route,
                                                const store::AggregateRef& aggregate,
                                                absl::string_view event_id, bool handled_before) {
  if (!handled_before || !route.after_commit->record_completion) return true;
  absl::StatusOr<bool> done = lane.store->EffectDone(aggregate, event_id);
  if (!done.ok()) return done.status();
  return !*done;
}

bool SagaRuntime::CrashAt(CrashPoint point, const KafkaRecord& record) {
  if (!options_.crash_hook || !options_.crash_hook(point, record)) return false;
  Crash();
  return true;
}

absl::StatusOr<store::AggregateSnapshot> SagaRuntime::RecentOrLoad(
    Lane& lane, const store::AggregateRef& aggregate, absl::string_view event_id, bool presume_new,
    bool& remembered) {
  if (std::optional<store::AggregateSnapshot> known = recent_.Find(aggregate)) {
    remembered = true;
    return *std::move(known);
  }
  if (presume_new) {
    remembered = true;  // a guess, like a remembered state: a refusal or a failure reloads
    return store::AggregateSnapshot{};
  }
  remembered = false;
  absl::StatusOr<store::AggregateSnapshot> loaded = lane.store->Load(aggregate, event_id);
  if (!loaded.ok()) {
    recent_.Clear();  // the store failed: what the lanes remember may have been lost there
    return loaded.status();
  }
  recent_.Remember(aggregate, loaded->version, loaded->state);
  return loaded;
}

absl::StatusOr<SagaRuntime::Committed> SagaRuntime::DecideAndCommit(
    Lane& lane, const KafkaRecord& record, const HandlerRegistry::Dispatch& dispatch,
    const store::AggregateRef& aggregate, const tracing::Span& process) {
  const common::v1::EventMeta& meta = dispatch.event.meta();
  const Route& route = *dispatch.route;
  Committed result;
  auto discard = [&result] {
    for (publish::StampedEvent& stamped : result.decided) stamped.send.Discard();
    result.decided.clear();
  };
  // On an error, the events stamped so far will not be sent as they are: their spans go.
  bool succeeded = false;
  absl::Cleanup discard_unless_succeeded = [&] {
    if (!succeeded) discard();
  };
  // Handled before (here or elsewhere): the first handling's records go out again, a snapshot
  // stored without its state with the aggregate's state now (its effect's too).
  auto take_stored = [&](const std::string& handled_outcome,
                         store::AggregateSnapshot now) -> absl::StatusOr<Committed> {
    absl::StatusOr<std::vector<KafkaRecord>> records = store::DecodeHandledOutcome(
        handled_outcome,
        now.version > 0 ? std::optional<absl::string_view>(now.state) : std::nullopt);
    if (!records.ok()) return records.status();
    discard();
    result.stored = *std::move(records);
    result.duplicate = true;
    result.state = std::move(now.state);
    succeeded = true;
    return std::move(result);
  };
  for (int conflicts = 0;; ++conflicts) {
    bool remembered = false;
    absl::StatusOr<store::AggregateSnapshot> snapshot = RecentOrLoad(
        lane, aggregate, meta.event_id(), route.starts_aggregate && conflicts == 0, remembered);
    if (!snapshot.ok()) return snapshot.status();
    if (snapshot->handled_outcome) {
      const std::string handled_outcome = *std::move(snapshot->handled_outcome);
      return take_stored(handled_outcome, *std::move(snapshot));
    }
    discard();
    absl::StatusOr<Decision> decision = Decide(dispatch, record, snapshot->state, process);
    if (!decision.ok()) {
      if (!remembered) return decision.status();
      recent_.Forget(aggregate);  // perhaps a duplicate, or a stale guess: ask the store
      continue;
    }
    result.decided = std::move(decision->stamped);
    std::optional<std::string>& new_state = decision->state;
    absl::StatusOr<store::CommitResult> committed =
        lane.store->Commit(aggregate, meta.event_id(), snapshot->version, new_state,
                           MarkerOf(*decision, snapshot->state), options_.marker_retention);
    if (!committed.ok()) recent_.Clear();  // the store failed: see RecentOrLoad
    if (!committed.ok()) return committed.status();
    if (committed->outcome != store::CommitOutcome::kCommitted) recent_.Forget(aggregate);
    switch (committed->outcome) {
      case store::CommitOutcome::kVersionConflict:
        if (conflicts >= 100) {
          return absl::AbortedError(absl::StrCat("version conflict on ", aggregate.type, ":",
                                                 aggregate.id, " after ", conflicts, " reloads"));
        }
        continue;  // someone else changed the aggregate: reload and decide again
      case store::CommitOutcome::kAlreadyHandled: {
        // Handled meanwhile elsewhere: its snapshots and its effect see the aggregate as it is
        // now.
        absl::StatusOr<store::AggregateSnapshot> now = lane.store->Load(aggregate, "");
        if (!now.ok()) return now.status();
        return take_stored(committed->handled_outcome, *std::move(now));
      }
      case store::CommitOutcome::kCommitted:
        result.state = new_state ? *std::move(new_state) : std::move(snapshot->state);
        recent_.Remember(aggregate, committed->version, result.state);
        succeeded = true;
        return result;
    }
  }
}

absl::StatusOr<SagaRuntime::Decision> SagaRuntime::Decide(
    const HandlerRegistry::Dispatch& dispatch, const KafkaRecord& record,
    const std::string& state, const tracing::Span& process) const {
  // Every outgoing event joins the saga of the cause; its send span is a child of `process`.
  publish::Origin origin = publish::Origin::CausedBy(dispatch.event.meta());
  origin.traceparent = process.traceparent();
  const EventContext context{record, dispatch.event.meta(), options_.clock()};
  absl::StatusOr<ErasedReaction> reaction =
      dispatch.route->decide(state, *dispatch.event.message, context);
  if (!reaction.ok()) return reaction.status();
  Decision decision;
  decision.state = std::move(reaction->state);
  for (OutgoingEvent& outgoing : reaction->events) {
    absl::Status stamped = outgoing.event == nullptr
                               ? absl::InternalError("outgoing event is null")
                               : absl::OkStatus();
    if (stamped.ok()) {
      absl::StatusOr<publish::StampedEvent> event = publisher_->publisher().Stamp(
          *outgoing.event, outgoing.topic, std::move(outgoing.key), origin);
      if (event.ok()) {
        decision.records.push_back(event->record);
        decision.carries_state.push_back(outgoing.carries_state);
        decision.stamped.push_back(*std::move(event));
        continue;
      }
      stamped = event.status();
    }
    for (publish::StampedEvent& done : decision.stamped) done.send.Discard();
    return stamped;
  }
  return decision;
}

std::string SagaRuntime::MarkerOf(const Decision& decision, const std::string& state_before) const {
  return store::EncodeHandledOutcome(
      decision.records, options_.marker_headers,
      {.keep = options_.marker_snapshots,
       .carries_state = decision.carries_state,
       .state = decision.state ? absl::string_view(*decision.state) : state_before});
}

absl::Status SagaRuntime::RunEffect(Lane& lane, const KafkaRecord& record,
                                    const tracing::Span& process, PendingEffect& effect) {
  const AfterCommitStep& step = *effect.dispatch.route->after_commit;
  const common::v1::EventMeta& meta = effect.dispatch.event.meta();
  if (!effect.ran) {
    tracing::Span span = tracing::TracerOr(options_.tracer)
                             .StartSpan(absl::StrCat("effect ", step.name),
                                        tracing::SpanKind::kInternal, process.traceparent());
    publish::Origin origin = publish::Origin::CausedBy(meta);
    origin.traceparent = span.traceparent();  // what the effect publishes continues its span
    const EffectContext context{record, meta, publisher_->publisher(), origin, options_.clock()};
    absl::Status ran = step.run(effect.state, *effect.dispatch.event.message, context);
    if (!ran.ok()) {
      span.SetError(ran.ToString());
      return absl::Status(ran.code(), absl::StrCat("effect ", step.name, ": ", ran.message()));
    }
    effect.ran = true;
  }
  if (!step.record_completion || effect.recorded) return absl::OkStatus();
  // Recorded apart from the effect: a failure here retries the recording, not the effect.
  return lane.store->MarkEffectDone(effect.aggregate, meta.event_id(), options_.marker_retention);
}

absl::Status SagaRuntime::DeadLetter(const KafkaRecord& record, const absl::Status& error,
                                     int attempts) {
  return publisher_->publisher().SendAndWait(std::vector<KafkaRecord>{
      dlq::DeadLetterRecord(record, options_.service, error, attempts, options_.clock())});
}

void SagaRuntime::Crash() {
  if (loop_ != nullptr) loop_->Halt();
}

}  // namespace choreo::saga
