#pragma once

// EventCodec: a choreo event <-> a Kafka record (ARCHITECTURE.md §2).
//
// The record value is the event's Protobuf bytes. The headers repeat the routing facts in
// CloudEvents binary mode so that tools (kcat, the timeline, the dead-letter replayer) need not
// decode the value:
//   ce_specversion=1.0, ce_id=<event_id>, ce_type=<full proto name>, ce_source=/choreo/<producer>,
//   ce_time=<occurred_at, RFC 3339 UTC>, content-type=application/protobuf,
//   ce_correlationid, ce_schemaversion, traceparent (and tracestate when set).
//
// Decode tells three permanent failures apart (DecodeErrorOf): an unknown type, a type this
// process knows only under another major version, and bytes or headers that do not form an
// event. All three are INVALID_ARGUMENT: the record goes to the dead-letter topic, never retried.
//
// Pure: no I/O, no clock. Thread-safety: Register() during start-up; after that Encode() and
// Decode() are const and may be called from any thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "choreo/common/v1/event.pb.h"
#include "google/protobuf/message.h"
#include "platform/record/record.h"

namespace choreo::codec {

inline constexpr absl::string_view kHeaderSpecVersion = "ce_specversion";
inline constexpr absl::string_view kHeaderId = "ce_id";
inline constexpr absl::string_view kHeaderType = "ce_type";
inline constexpr absl::string_view kHeaderSource = "ce_source";
inline constexpr absl::string_view kHeaderTime = "ce_time";
inline constexpr absl::string_view kHeaderContentType = "content-type";
inline constexpr absl::string_view kHeaderCorrelationId = "ce_correlationid";
inline constexpr absl::string_view kHeaderSchemaVersion = "ce_schemaversion";
inline constexpr absl::string_view kHeaderTraceparent = "traceparent";
inline constexpr absl::string_view kHeaderTracestate = "tracestate";
inline constexpr absl::string_view kSpecVersion = "1.0";
inline constexpr absl::string_view kContentType = "application/protobuf";

enum class DecodeError {
  kUnknownType,              // ce_type names no event type this process registered
  kUnsupportedMajorVersion,  // the type is known, but only under another major version
  kUndecodable,              // missing or contradictory headers, bad bytes, no EventMeta
};
absl::string_view DecodeErrorName(DecodeError error);  // "unknown_type", ...

// The kind of a failure returned by EventCodec::Decode, or nullopt for any other status.
std::optional<DecodeError> DecodeErrorOf(const absl::Status& status);

// A full event type name split into its version-free family and its major version:
// "choreo.orders.v1.OrderCreated" -> {"choreo.orders.OrderCreated", 1}.
struct EventTypeName {
  std::string family;
  int major = 0;
};
// INVALID_ARGUMENT unless the package's last segment is "v<N>" with N >= 1.
absl::StatusOr<EventTypeName> ParseEventTypeName(absl::string_view full_name);

// OK if `type` is an event by the contract: field 1 is `EventMeta meta` and the message has a
// (choreo.common.v1.schema_version) option >= 1; INVALID_ARGUMENT naming the breach otherwise.
absl::Status ValidateEventType(const google::protobuf::Descriptor& type);

// The type's current schema revision (its schema_version option), 0 if it has none.
uint32_t CurrentSchemaVersion(const google::protobuf::Descriptor& type);

// The EventMeta of a generated event message (field 1). The event must be a valid event type.
const common::v1::EventMeta& MetaOf(const google::protobuf::Message& event);
common::v1::EventMeta* MutableMetaOf(google::protobuf::Message* event);

// Where an outgoing event comes from: what StampMeta writes into its EventMeta.
struct Provenance {
  std::string event_id;
  std::string correlation_id;
  std::string causation_id;        // the event that caused this one; empty for a client command
  std::string parent_traceparent;  // the cause's (or client's) W3C traceparent; may be empty
  // The context of the span that sends this event, carried as is (wins over
  // parent_traceparent, of which the event otherwise gets a child).
  std::string traceparent;
  std::string tracestate;
  std::string producer;            // service name
  absl::Time occurred_at;
};

// Fills the EventMeta of a generated event message: ids, the type's current schema version (or
// an older revision already set in meta.schema_version by a producer that writes that revision
// for readers not yet upgraded), a child of the parent's trace context (a new trace when the
// parent is empty or invalid), time and producer.
void StampMeta(google::protobuf::Message& event, const Provenance& provenance,
               absl::BitGen& random);

// Reads the EventMeta of any event's bytes without knowing its type (see EventEnvelope).
absl::StatusOr<common::v1::EventMeta> DecodeMeta(absl::string_view value);

// The headers EventCodec::Encode gives an event of `type` (its full name) with `meta`, in the
// order Encode writes them: a pure function of the two. A stored format too: handled markers
// written with store::MarkerHeaders::kDerived get their records' headers from it when read, so
// a change to it changes what such a marker re-publishes (HandledOutcomeTest pins the headers).
std::vector<RecordHeader> EventHeaders(absl::string_view type, const common::v1::EventMeta& meta);

// A decoded event and the facts the runtime routes on.
struct DecodedEvent {
  std::unique_ptr<google::protobuf::Message> message;
  int major_version = 0;
  uint32_t schema_version = 0;  // as produced; may be older or newer than ours

  const common::v1::EventMeta& meta() const { return MetaOf(*message); }
  const std::string& type() const { return message->GetDescriptor()->full_name(); }
};

class EventCodec {
 public:
  // Makes Decode accept `type` (a generated message). Fails if it is not an event
  // (ValidateEventType) or if another major version of it is already registered.
  absl::Status Register(const google::protobuf::Descriptor& type);
  template <typename Event>
  absl::Status Register() {
    return Register(*Event::descriptor());
  }
  bool IsRegistered(absl::string_view full_type_name) const;

  // Builds the record for `event` on `topic` with `key`. The event's meta must carry event_id,
  // correlation_id, producer, occurred_at and a schema_version >= 1 (see CurrentSchemaVersion);
  // INVALID_ARGUMENT naming the missing field otherwise. The event need not be registered.
  absl::StatusOr<KafkaRecord> Encode(const google::protobuf::Message& event, absl::string_view topic,
                                     std::string key) const;

  // Turns a record back into its event. Failures carry a DecodeError (see DecodeErrorOf).
  absl::StatusOr<DecodedEvent> Decode(const KafkaRecord& record) const;

 private:
  absl::flat_hash_map<std::string, const google::protobuf::Message*> prototypes_;  // by full name
  absl::flat_hash_map<std::string, int> majors_;                                   // by family
};

}  // namespace choreo::codec
