#include "saga/runtime/saga_runtime.h"

#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "saga/dlq/dead_letter.h"
#include "edges/kafka/statistics.h"
#include "platform/logging/logger.h"
#include "platform/tracing/messaging.h"
#include "edges/redis/redis_connection.h"
#include "saga/store/handled_outcome.h"
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
  if (options.workers < 1 || options.workers > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("saga runtime: workers must be 1..256, got ", options.workers));
  }
  if (!options.store_factory) {
    if (absl::StatusOr<redis::RedisAddress> address =
            redis::ParseRedisAddress(options.redis_address);
        !address.ok()) {
      return address.status();
    }
  }
  if (options.group_id.empty()) options.group_id = absl::StrCat("choreo-", options.service);
  return std::unique_ptr<SagaRuntime>(new SagaRuntime(std::move(options), std::move(registry)));
}

SagaRuntime::SagaRuntime(SagaRuntimeOptions options, HandlerRegistry registry)
    : options_(std::move(options)), registry_(std::move(registry)) {}

SagaRuntime::~SagaRuntime() { Stop(); }

absl::Status SagaRuntime::Start() {
  if (started_.exchange(true)) return absl::FailedPreconditionError("saga runtime already started");
  absl::StatusOr<std::unique_ptr<kafka::KafkaProducer>> producer = kafka::KafkaProducer::Create(
      kafka::Merged(kafka::ProducerDefaults(options_.kafka_brokers), options_.producer_overrides));
  if (!producer.ok()) return producer.status();
  producer_ = *std::move(producer);
  sink_ = std::make_unique<publish::KafkaSink>(producer_.get());
  publish::Publisher::Options publishing{.service = options_.service,
                                         .tracer = options_.tracer,
                                         .clock = options_.clock,
                                         .ack_timeout = options_.publish_timeout};
  if (options_.observer != nullptr) {
    publishing.on_published = [observer = options_.observer](const KafkaRecord& record) {
      observer->OnPublished(record);
    };
  }
  publisher_ = std::make_unique<publish::Publisher>(sink_.get(), std::move(publishing));

  for (int i = 0; i < options_.workers; ++i) {
    auto lane = std::make_unique<Lane>();
    if (options_.store_factory) {
      lane->store = options_.store_factory();
    } else {
      lane->store = std::make_unique<store::RedisAggregateStore>(redis::RedisConnection::Options{
          .address = *redis::ParseRedisAddress(options_.redis_address)});
    }
    lanes_.push_back(std::move(lane));
  }
  loop_ = std::make_unique<consume::ConsumerLoop>(
      consume::ConsumerLoopOptions{
          .consumer = kafka::Merged(kafka::ConsumerDefaults(options_.kafka_brokers, options_.group_id),
                                    options_.consumer_overrides),
          .topics = options_.topics,
          .lanes = options_.workers,
          .max_in_flight_per_partition = options_.max_in_flight_per_partition,
          .drain_timeout = options_.drain_timeout,
          .name = options_.group_id},
      [this](int lane, absl::Span<consume::RecordScope> batch) {
        for (consume::RecordScope& scope : batch) {
          if (Handle(*lanes_[lane], scope) == Finish::kDone) scope.Done();
        }
      });
  if (absl::Status started = loop_->Start(); !started.ok()) return started;
  return absl::OkStatus();
}

void SagaRuntime::Stop() noexcept {
  if (!started_.load() || stopped_.exchange(true)) return;
  if (loop_ != nullptr) loop_->Stop();  // drains, commits (unless crashed), leaves the group
  if (producer_ != nullptr) static_cast<void>(producer_->Flush(options_.publish_timeout));
}

bool SagaRuntime::crashed() const { return loop_ != nullptr && loop_->halted(); }

absl::Status SagaRuntime::Readiness() const {
  if (loop_ == nullptr) return absl::UnavailableError(absl::StrCat(options_.group_id, ": not running"));
  return loop_->Readiness();
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
};

SagaRuntime::Finish SagaRuntime::Handle(Lane& lane, consume::RecordScope& scope) {
  const KafkaRecord& record = scope.record();
  const absl::Time started = absl::Now();
  // One span for the record's whole handling, retries included; its outgoing events continue it.
  tracing::Span span =
      tracing::StartProcessSpan(tracing::TracerOr(options_.tracer), record, options_.group_id);
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
  const absl::Duration handling = absl::Now() - started;
  if (options_.observer != nullptr) {
    options_.observer->OnRecordDone(record, event_type, outcome, handling,
                                    started - scope.received());
  }
  if (logging::Enabled(logging::Level::kDebug)) {
    logging::Fields fields = logging::EventFields(record);
    fields.emplace_back("event_type", event_type);
    fields.emplace_back("outcome", std::string(SagaObserver::OutcomeName(outcome)));
    fields.emplace_back("handling_ms", absl::StrCat(absl::ToDoubleMilliseconds(handling)));
    logging::Debug("record done", fields);
  }
  return Finish::kDone;
}

SagaRuntime::StepEnd SagaRuntime::RunStep(Lane& lane, consume::RecordScope& scope,
                                          tracing::Span& span,
                                          const std::function<absl::Status()>& step) {
  const KafkaRecord& record = scope.record();
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
  const store::AggregateRef aggregate{absl::StrCat(options_.service, ".", route.aggregate_type),
                                      route.aggregate_id(event)};
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
  // Every outgoing event joins the saga of `meta`; its send span is a child of the process span.
  publish::Origin origin = publish::Origin::CausedBy(meta);
  origin.traceparent = process.traceparent();
  absl::StatusOr<Committed> committed = DecideAndCommit(lane, record, *dispatch, aggregate, origin);
  if (!committed.ok()) return committed.status();
  if (committed->duplicate) outcome = SagaObserver::Outcome::kDuplicate;
  if (CrashAt(CrashPoint::kAfterCommitBeforePublish, record)) {
    return absl::AbortedError("injected crash after commit");
  }
  absl::Status published = committed->duplicate
                               ? publisher_->SendAndWait(committed->stored)
                               : publisher_->SendAndWait(std::move(committed->decided));
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

absl::StatusOr<SagaRuntime::Committed> SagaRuntime::DecideAndCommit(
    Lane& lane, const KafkaRecord& record, const HandlerRegistry::Dispatch& dispatch,
    const store::AggregateRef& aggregate, const publish::Origin& origin) {
  const google::protobuf::Message& event = *dispatch.event.message;
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
  // Handled before (here or elsewhere): the first handling's records go out again.
  auto take_stored = [&](const std::string& handled_outcome) -> absl::Status {
    absl::StatusOr<std::vector<KafkaRecord>> records =
        store::DecodeHandledOutcome(handled_outcome);
    if (!records.ok()) return records.status();
    result.stored = *std::move(records);
    result.duplicate = true;
    discard();
    return absl::OkStatus();
  };
  for (int conflicts = 0;; ++conflicts) {
    absl::StatusOr<store::AggregateSnapshot> snapshot = lane.store->Load(aggregate, meta.event_id());
    if (!snapshot.ok()) return snapshot.status();
    if (snapshot->handled_outcome) {
      if (absl::Status taken = take_stored(*snapshot->handled_outcome); !taken.ok()) return taken;
      result.state = std::move(snapshot->state);
      succeeded = true;
      return result;
    }
    discard();
    const EventContext context{record, meta, options_.clock()};
    absl::StatusOr<ErasedReaction> reaction = route.decide(snapshot->state, event, context);
    if (!reaction.ok()) return reaction.status();
    std::vector<KafkaRecord> records;
    for (OutgoingEvent& outgoing : reaction->events) {
      if (outgoing.event == nullptr) return absl::InternalError("outgoing event is null");
      absl::StatusOr<publish::StampedEvent> stamped =
          publisher_->Stamp(*outgoing.event, outgoing.topic, std::move(outgoing.key), origin);
      if (!stamped.ok()) return stamped.status();
      records.push_back(stamped->record);
      result.decided.push_back(*std::move(stamped));
    }
    absl::StatusOr<store::CommitResult> committed =
        lane.store->Commit(aggregate, meta.event_id(), snapshot->version, reaction->state,
                           store::EncodeHandledOutcome(records), options_.marker_retention);
    if (!committed.ok()) return committed.status();
    switch (committed->outcome) {
      case store::CommitOutcome::kVersionConflict:
        if (conflicts >= 100) {
          return absl::AbortedError(absl::StrCat("version conflict on ", aggregate.type, ":",
                                                 aggregate.id, " after ", conflicts, " reloads"));
        }
        continue;  // someone else changed the aggregate: reload and decide again
      case store::CommitOutcome::kAlreadyHandled: {
        // Handled meanwhile elsewhere: its effect sees the aggregate as it is now.
        if (absl::Status taken = take_stored(committed->handled_outcome); !taken.ok()) return taken;
        if (route.after_commit) {
          absl::StatusOr<store::AggregateSnapshot> now =
              lane.store->Load(aggregate, meta.event_id());
          if (!now.ok()) return now.status();
          result.state = std::move(now->state);
        }
        succeeded = true;
        return result;
      }
      case store::CommitOutcome::kCommitted:
        result.state = reaction->state ? *std::move(reaction->state) : std::move(snapshot->state);
        succeeded = true;
        return result;
    }
  }
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
    const EffectContext context{record, meta, *publisher_, origin, options_.clock()};
    absl::Status ran = step.run(effect.state, *effect.dispatch.event.message, context);
    if (!ran.ok()) {
      span.SetError(ran.ToString());
      return absl::Status(ran.code(), absl::StrCat("effect ", step.name, ": ", ran.message()));
    }
    effect.ran = true;
  }
  if (!step.record_completion) return absl::OkStatus();
  // Recorded apart from the effect: a failure here retries the recording, not the effect.
  return lane.store->MarkEffectDone(effect.aggregate, meta.event_id(), options_.marker_retention);
}

absl::Status SagaRuntime::DeadLetter(const KafkaRecord& record, const absl::Status& error,
                                     int attempts) {
  return publisher_->SendAndWait(
      std::vector<KafkaRecord>{
          dlq::DeadLetterRecord(record, options_.service, error, attempts, options_.clock())});
}

void SagaRuntime::Crash() {
  if (loop_ != nullptr) loop_->Halt();
}

}  // namespace choreo::saga
