#pragma once

// What a service's pure decision returns, and what it may know of the incoming record. Plain
// types: no Kafka, Redis or gRPC, so decision cores depend only on this and their protos.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "choreo/common/v1/event.pb.h"
#include "google/protobuf/message.h"
#include "platform/record/record.h"

namespace choreo::saga {

// An event a reaction emits. The runtime fills its EventMeta (id, correlation, causation,
// trace, time, producer, schema version) before publishing.
struct OutgoingEvent {
  std::string topic;
  std::string key;
  std::unique_ptr<google::protobuf::Message> event;
  // A snapshot: the event holds the aggregate's state as the reaction leaves it as its last
  // field, and its readers need only the newest state of the aggregate. Its handled marker then
  // keeps it without the state, and a re-delivered record re-publishes it with the state the
  // aggregate has by then (saga/store/handled_outcome.h).
  bool carries_state = false;

  template <typename Event>
  static OutgoingEvent Of(absl::string_view topic, std::string key, Event event) {
    return {std::string(topic), std::move(key), std::make_unique<Event>(std::move(event))};
  }
};

// What a decision returns: the aggregate's new state (nullopt: unchanged) and events to emit.
template <typename State>
struct Reaction {
  std::optional<State> state;
  std::vector<OutgoingEvent> events;
};

// Facts about the incoming record a decision may use (it must not do I/O).
struct EventContext {
  const KafkaRecord& record;
  const common::v1::EventMeta& meta;
  absl::Time now;
};

}  // namespace choreo::saga
