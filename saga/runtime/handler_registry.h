#pragma once

// HandlerRegistry: the typed routing table of one service (ARCHITECTURE.md §3 step 4).
//
// A service registers one handler per event type: which aggregate the event changes, and a pure
// decision (state, event) -> (new state, outgoing events) or an error; optionally an effect run
// after the commit (AfterCommit: a webhook, a request to another service, an index). The
// registry decodes a record, upcasts older schema revisions through registered upcasters, and
// finds the handler. Registering is pure (no I/O). Register everything before the runtime
// starts; afterwards it is read-only and thread-safe.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "saga/codec/event_codec.h"
#include "saga/publish/publisher.h"
#include "saga/reaction/reaction.h"
#include "platform/record/record.h"

namespace choreo::saga {

// A reaction with its state serialized: what the runtime commits.
struct ErasedReaction {
  std::optional<std::string> state;
  std::vector<OutgoingEvent> events;
};

// What an after-commit effect may use besides the committed state and the event.
struct EffectContext {
  const KafkaRecord& record;
  const common::v1::EventMeta& meta;  // the event's
  // Publishes result events (Publish(event, topic, key, origin)); waits for the broker.
  const publish::Publisher& publisher;
  // CausedBy(meta), a child of the effect's span: the origin of every event the effect publishes
  // (set origin.event_id to a stable id, so that a repeated effect repeats the same event).
  const publish::Origin& origin;
  absl::Time now;
};

// One record's turn in an effect run for several records at once (AfterCommitStep::run_many).
struct EffectCall {
  const std::string& state;  // as committed
  const google::protobuf::Message& event;
  const EffectContext& context;
};

// An effect that is not the state change, run by the runtime after the commit (see
// HandlerRegistry::AfterCommit).
struct AfterCommitStep {
  std::string name;  // span "effect <name>", logs, dead-letter reasons
  // Whether its completion is recorded, so that a re-delivered record does not run it again.
  // Off for a cheap effect that is harmless to repeat (a set-like write): it then runs on every
  // handling of the record, duplicates included, and costs no completion record.
  bool record_completion = true;
  std::function<absl::Status(const std::string& state, const google::protobuf::Message& event,
                             const EffectContext& context)>
      run;
  // Optional: the same effect for several records of a batch at once (one pipelined write for
  // all). The calls are in the records' order, and for an effect alone several may be of one key
  // and aggregate (never of one event): it applies them in that order. Needs not be all or
  // nothing, but on an error what it applied of one key's calls must be their first ones: the
  // runtime then runs `run` for each of them, in order.
  std::function<absl::Status(const std::vector<EffectCall>& calls)> run_many;
};

template <typename State>
absl::StatusOr<State> ParseState(const std::string& bytes) {
  State state;
  if (!state.ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("stored state is not a valid ", State::descriptor()->full_name()));
  }
  return state;
}

struct Route {
  bool ignore = false;  // a type this service reads on its topics but does not act on
  // When set, events it returns false for are ignored like `ignore` (no Redis, no marker).
  std::function<bool(const google::protobuf::Message&)> acts_on;
  std::string aggregate_type;
  std::function<std::string(const google::protobuf::Message&)> aggregate_id;
  std::function<absl::StatusOr<ErasedReaction>(const std::string& state,
                                               const google::protobuf::Message& event,
                                               const EventContext& context)>
      decide;
  std::string state_type;  // the State's full proto name
  // The event almost always names an aggregate that does not exist yet
  // (HandlerRegistry::StartsAggregate): decided on a new aggregate's state without a load.
  bool starts_aggregate = false;
  // Without `decide`, a route of an effect alone (HandlerRegistry::Effect).
  std::optional<AfterCommitStep> after_commit;
};

class HandlerRegistry {
 public:
  // Handles `Event` on aggregates of `aggregate_type` whose state is the proto message `State`.
  //   aggregate_id: const Event& -> std::string (empty means the event is invalid)
  //   decide: (const State&, const Event&, const EventContext&) -> absl::StatusOr<Reaction<State>>
  // A new aggregate's state is a default State. Fails if `Event` is not an event or already
  // has a handler.
  template <typename Event, typename State, typename IdFn, typename DecideFn>
  absl::Status On(std::string aggregate_type, IdFn aggregate_id, DecideFn decide) {
    Route route;
    route.aggregate_type = std::move(aggregate_type);
    route.aggregate_id = [aggregate_id](const google::protobuf::Message& event) {
      return std::string(aggregate_id(static_cast<const Event&>(event)));
    };
    route.state_type = State::descriptor()->full_name();
    route.decide = [decide](const std::string& state_bytes, const google::protobuf::Message& event,
                            const EventContext& context) -> absl::StatusOr<ErasedReaction> {
      absl::StatusOr<State> state = ParseState<State>(state_bytes);
      if (!state.ok()) return state.status();
      absl::StatusOr<Reaction<State>> reaction =
          decide(static_cast<const State&>(*state), static_cast<const Event&>(event), context);
      if (!reaction.ok()) return reaction.status();
      ErasedReaction erased;
      if (reaction->state) erased.state = reaction->state->SerializeAsString();
      erased.events = std::move(reaction->events);
      return erased;
    };
    return Add(*Event::descriptor(), std::move(route));
  }

  // Like On, but only for the events `acts_on` (const Event& -> bool) selects; the others are
  // ignored as if by Ignore: nothing is loaded, decided or stored for them. For a decision that
  // is a no-op for a whole class of events (statuses a service does not care about), this saves
  // the store's round trips. `acts_on` must be pure (the same event, the same answer).
  template <typename Event, typename State, typename IdFn, typename DecideFn, typename ActsOnFn>
  absl::Status OnlyFor(ActsOnFn acts_on, std::string aggregate_type, IdFn aggregate_id,
                       DecideFn decide) {
    absl::Status added = On<Event, State>(std::move(aggregate_type), std::move(aggregate_id),
                                          std::move(decide));
    if (!added.ok()) return added;
    routes_[Event::descriptor()->full_name()].acts_on =
        [acts_on](const google::protobuf::Message& event) {
          return acts_on(static_cast<const Event&>(event));
        };
    return absl::OkStatus();
  }

  // Marks the handler of `Event` (registered with On or OnlyFor) as starting its aggregate: almost
  // every such event names one that does not exist yet (an order's creation request: its order
  // id is new). The runtime then decides it on a new aggregate's state without loading the
  // aggregate first, as it decides on a state it remembers: a guess that the commit checks. One
  // that exists already (a retried request, a re-delivery) fails the commit's version check or
  // finds its marker, or fails the decision, and is then loaded and decided again as usual. One
  // Redis round trip less per such record. FAILED_PRECONDITION if `Event` has no handler.
  template <typename Event>
  absl::Status StartsAggregate() {
    auto route = routes_.find(Event::descriptor()->full_name());
    if (route == routes_.end() || !route->second.decide) {
      return absl::FailedPreconditionError(
          absl::StrCat(Event::descriptor()->full_name(), " has no handler to mark"));
    }
    route->second.starts_aggregate = true;
    return absl::OkStatus();
  }

  // Adds an effect to the handler of `Event` (registered with On or OnlyFor on state `State`):
  //   effect: (const State& committed, const Event&, const EffectContext&) -> absl::Status
  // The runtime runs it after the reaction is committed and its events acknowledged, before the
  // record's offset is stored, with the state as committed; never on a version-conflict retry
  // of the decision. A re-delivered record whose effect has not completed (a crash, a
  // dead-lettered effect replayed) runs it again on the aggregate's current state: effects are
  // at least once and must be idempotent (stable ids for what they publish, idempotency keys).
  // A failure is retried (UNAVAILABLE, DEADLINE_EXCEEDED...: the effect alone, with backoff) or
  // dead-letters the record with the reason, like a decision's. FAILED_PRECONDITION if `Event`
  // has no handler on `State`, ALREADY_EXISTS if it has an effect already.
  // Repeats::kFreely: the effect is cheap and harmless to repeat, so its completion is not recorded
  // (AfterCommitStep::record_completion) and it runs on every handling of the record.
  enum class Repeats { kOnce, kFreely };
  template <typename Event, typename State, typename EffectFn>
  absl::Status AfterCommit(std::string name, EffectFn effect, Repeats repeats = Repeats::kOnce) {
    AfterCommitStep step;
    step.name = std::move(name);
    step.record_completion = repeats == Repeats::kOnce;
    step.run = [effect](const std::string& state_bytes, const google::protobuf::Message& event,
                        const EffectContext& context) -> absl::Status {
      absl::StatusOr<State> state = ParseState<State>(state_bytes);
      if (!state.ok()) return state.status();
      return effect(static_cast<const State&>(*state), static_cast<const Event&>(event), context);
    };
    return AddAfterCommit(*Event::descriptor(), State::descriptor()->full_name(), std::move(step));
  }

  // AfterCommit with a batch form too: when a lane handles several records of `Event` together,
  // the runtime calls effect_many once for all of them instead of `effect` once each:
  //   effect_many: (const std::vector<State>& committed, const std::vector<const Event*>& events,
  //                 const std::vector<const EffectContext*>& contexts) -> absl::Status
  // On its error, each record's `effect` runs alone (retried, dead-lettered as usual).
  template <typename Event, typename State, typename EffectFn, typename EffectManyFn>
  absl::Status AfterCommit(std::string name, EffectFn effect, EffectManyFn effect_many,
                           Repeats repeats) {
    absl::Status added = AfterCommit<Event, State>(std::move(name), std::move(effect), repeats);
    if (!added.ok()) return added;
    routes_[Event::descriptor()->full_name()].after_commit->run_many =
        [effect_many](const std::vector<EffectCall>& calls) -> absl::Status {
      std::vector<State> states(calls.size());
      std::vector<const Event*> events;
      std::vector<const EffectContext*> contexts;
      events.reserve(calls.size());
      contexts.reserve(calls.size());
      for (size_t i = 0; i < calls.size(); ++i) {
        absl::StatusOr<State> state = ParseState<State>(calls[i].state);
        if (!state.ok()) return state.status();
        states[i] = *std::move(state);
        events.push_back(static_cast<const Event*>(&calls[i].event));
        contexts.push_back(&calls[i].context);
      }
      return effect_many(states, events, contexts);
    };
    return absl::OkStatus();
  }

  // Handles `Event` with an effect alone: no state, no decision, no events of its own (what it
  // publishes, it publishes itself through the context). The runtime runs it once per event and
  // aggregate: its completion record is all that is stored (one lookup and one write), so a
  // re-delivered event whose effect completed is not run again, and one whose effect did not is
  // (at least once: idempotent). Failures are retried, or dead-letter the record, like a
  // decision's. Repeats::kFreely: an effect that is its own exactly-once (a set-like write, or
  // one that checks and writes its own marker atomically) stores no completion record and costs
  // no lookup: it runs on every handling of the event, duplicates included.
  //   aggregate_id: const Event& -> std::string (the completion record's aggregate)
  //   effect: (const Event&, const EffectContext&) -> absl::Status
  template <typename Event, typename IdFn, typename EffectFn>
  absl::Status Effect(std::string aggregate_type, IdFn aggregate_id, std::string name,
                      EffectFn effect, Repeats repeats = Repeats::kOnce) {
    Route route;
    route.aggregate_type = std::move(aggregate_type);
    route.aggregate_id = [aggregate_id](const google::protobuf::Message& event) {
      return std::string(aggregate_id(static_cast<const Event&>(event)));
    };
    AfterCommitStep step;
    step.name = std::move(name);
    step.record_completion = repeats == Repeats::kOnce;
    step.run = [effect](const std::string& /*state*/, const google::protobuf::Message& event,
                        const EffectContext& context) -> absl::Status {
      return effect(static_cast<const Event&>(event), context);
    };
    route.after_commit = std::move(step);
    return Add(*Event::descriptor(), std::move(route));  // no decide: an effect alone
  }

  // Effect with a batch form too: when a lane handles several records of `Event` at once, the
  // runtime calls effect_many once for those whose effect is to run, instead of `effect` once
  // each. Several of them may be of one key and aggregate (never two of one event): effect_many
  // applies them in the order given.
  //   effect_many: (const std::vector<const Event*>& events,
  //                 const std::vector<const EffectContext*>& contexts) -> absl::Status
  // On its error, each record's `effect` runs alone, in order (retried, dead-lettered as usual),
  // so it needs not be all or nothing; but what it applied of one key's records must be their
  // first ones, or a record would be applied before an earlier one of its key.
  template <typename Event, typename IdFn, typename EffectFn, typename EffectManyFn>
  absl::Status Effect(std::string aggregate_type, IdFn aggregate_id, std::string name,
                      EffectFn effect, EffectManyFn effect_many, Repeats repeats) {
    absl::Status added = Effect<Event>(std::move(aggregate_type), std::move(aggregate_id),
                                       std::move(name), std::move(effect), repeats);
    if (!added.ok()) return added;
    routes_[Event::descriptor()->full_name()].after_commit->run_many =
        [effect_many](const std::vector<EffectCall>& calls) -> absl::Status {
      std::vector<const Event*> events;
      std::vector<const EffectContext*> contexts;
      events.reserve(calls.size());
      contexts.reserve(calls.size());
      for (const EffectCall& call : calls) {
        events.push_back(static_cast<const Event*>(&call.event));
        contexts.push_back(&call.context);
      }
      return effect_many(events, contexts);
    };
    return absl::OkStatus();
  }

  // Accepts `Event` on a subscribed topic and does nothing with it (its offset just moves on),
  // instead of dead-lettering it as an unknown type.
  template <typename Event>
  absl::Status Ignore() {
    Route route;
    route.ignore = true;
    return Add(*Event::descriptor(), std::move(route));
  }

  // Upgrades `Event` from schema revision `from_version` to `from_version + 1` in place, for
  // changes of meaning; additive changes need none.
  template <typename Event>
  absl::Status Upcast(uint32_t from_version, std::function<absl::Status(Event&)> upcaster) {
    return AddUpcaster(*Event::descriptor(), from_version,
                       [upcaster](google::protobuf::Message& event) {
                         return upcaster(static_cast<Event&>(event));
                       });
  }

  // Decodes `record` (codec errors as EventCodec::Decode), upcasts it to the current revision
  // (an upcaster's failure is returned as INVALID_ARGUMENT), and finds its route.
  struct Dispatch {
    codec::DecodedEvent event;
    const Route* route = nullptr;
  };
  absl::StatusOr<Dispatch> Decode(const KafkaRecord& record) const;

  const codec::EventCodec& codec() const { return codec_; }
  bool empty() const { return routes_.empty(); }

 private:
  using ErasedUpcaster = std::function<absl::Status(google::protobuf::Message&)>;
  absl::Status Add(const google::protobuf::Descriptor& type, Route route);
  absl::Status AddAfterCommit(const google::protobuf::Descriptor& type,
                              const std::string& state_type, AfterCommitStep step);
  absl::Status AddUpcaster(const google::protobuf::Descriptor& type, uint32_t from_version,
                           ErasedUpcaster upcaster);

  codec::EventCodec codec_;
  absl::flat_hash_map<std::string, Route> routes_;  // by full type name
  absl::flat_hash_map<std::string, ErasedUpcaster> upcasters_;  // by "type@from_version"
};

}  // namespace choreo::saga
