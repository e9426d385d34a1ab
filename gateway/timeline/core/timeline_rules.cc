#include "gateway/timeline/core/timeline_rules.h"

#include <algorithm>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "choreo/orders/v1/order.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "platform/ids/trace_context.h"
#include "platform/proto_time/proto_time.h"
#include "saga/codec/event_codec.h"
#include "saga/dlq/dead_letter.h"

namespace choreo::gateway::timeline {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// What indexing needs of one event type, resolved once per type: its prototype and the fields
// the saga facts are read from (by name, so that every event type works; null where the type
// has no such field of the expected kind).
struct EventType {
  const Message* prototype = nullptr;
  const FieldDescriptor* order_id = nullptr;
  const FieldDescriptor* username = nullptr;
  const FieldDescriptor* success = nullptr;         // bool
  const FieldDescriptor* failure_reason = nullptr;  // read when success is false
  const FieldDescriptor* status = nullptr;          // an OrderStatus
  const FieldDescriptor* reason = nullptr;          // read for a failed status or a refusal
  bool refusal = false;                             // OrderCancellationRefused and the like
};

const FieldDescriptor* StringFieldOf(const google::protobuf::Descriptor& type,
                                     absl::string_view name) {
  const FieldDescriptor* field = type.FindFieldByName(std::string(name));
  if (field == nullptr || field->is_repeated() || field->type() != FieldDescriptor::TYPE_STRING) {
    return nullptr;
  }
  return field;
}

// The event type named `name`, or nullopt when it is unknown here or no event type (field 1 is
// not EventMeta): a record may name any type, dead letters above all.
std::optional<EventType> ResolveEventType(const std::string& name) {
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(name);
  if (descriptor == nullptr || !codec::ValidateEventType(*descriptor).ok()) return std::nullopt;
  EventType type;
  type.prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
  if (type.prototype == nullptr) return std::nullopt;
  type.order_id = StringFieldOf(*descriptor, "order_id");
  type.username = StringFieldOf(*descriptor, "username");
  if (const FieldDescriptor* success = descriptor->FindFieldByName("success");
      success != nullptr && success->type() == FieldDescriptor::TYPE_BOOL &&
      !success->is_repeated()) {
    type.success = success;
  }
  type.failure_reason = StringFieldOf(*descriptor, "failure_reason");
  if (const FieldDescriptor* status = descriptor->FindFieldByName("status");
      status != nullptr && status->type() == FieldDescriptor::TYPE_ENUM && !status->is_repeated() &&
      status->enum_type() == orders::v1::OrderStatus_descriptor()) {
    type.status = status;
  }
  type.reason = StringFieldOf(*descriptor, "reason");
  type.refusal = absl::EndsWith(descriptor->name(), "Refused");
  return type;
}

// ResolveEventType, remembered per event type for the process (a name that resolves to none is
// not: records may name anything, and the generated types are a bounded set). Thread-safe.
std::optional<EventType> EventTypeNamed(absl::string_view name) {
  static absl::Mutex mu;
  static auto* remembered = new absl::flat_hash_map<std::string, EventType>();
  {
    absl::ReaderMutexLock lock(&mu);
    if (auto it = remembered->find(name); it != remembered->end()) return it->second;
  }
  std::optional<EventType> type = ResolveEventType(std::string(name));
  if (type) {
    absl::MutexLock lock(&mu);
    remembered->try_emplace(name, *type);
  }
  return type;
}

// The event of `record` decoded as its generated type, or null when the type is unknown here or
// the bytes do not parse.
std::unique_ptr<Message> DecodeEvent(const KafkaRecord& record,
                                     const std::optional<EventType>& type) {
  if (!type) return nullptr;
  std::unique_ptr<Message> event(type->prototype->New());
  if (!event->ParseFromString(record.value)) return nullptr;
  return event;
}

std::string StringField(const Message& event, const FieldDescriptor* field) {
  return field == nullptr ? "" : event.GetReflection()->GetString(event, field);
}

bool IsFailedStatus(orders::v1::OrderStatus status) {
  return status == orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS ||
         status == orders::v1::ORDER_STATUS_REJECTED || status == orders::v1::ORDER_STATUS_EXPIRED;
}

// The saga facts and a business failure of `event`, of type `type`.
void ReadEventFacts(const Message& event, const EventType& type, v1::IndexedHop& indexed) {
  indexed.set_order_id(StringField(event, type.order_id));
  indexed.set_username(StringField(event, type.username));
  v1::SagaHop& hop = *indexed.mutable_hop();
  const google::protobuf::Reflection* reflection = event.GetReflection();
  if (type.success != nullptr && !reflection->GetBool(event, type.success)) {
    hop.set_status("failed");
    hop.set_error(StringField(event, type.failure_reason));
  }
  if (type.status != nullptr) {
    const auto value =
        static_cast<orders::v1::OrderStatus>(reflection->GetEnumValue(event, type.status));
    indexed.set_order_status(value);
    if (IsFailedStatus(value)) {
      hop.set_status("failed");
      hop.set_error(StringField(event, type.reason));
    }
  }
  // A refusal (OrderCancellationRefused) is a business failure whatever status it names.
  if (type.refusal) {
    hop.set_status("failed");
    hop.set_error(StringField(event, type.reason));
  }
}

// The time in `header` (RFC 3339), or nullopt when there is none or it does not parse.
std::optional<google::protobuf::Timestamp> TimeOfHeader(const KafkaRecord& record,
                                                        absl::string_view header) {
  absl::Time time;
  std::string error;
  if (std::optional<absl::string_view> text = record.Header(header);
      text && absl::ParseTime(absl::RFC3339_full, std::string(*text), &time, &error)) {
    return ToProtoTime(time);
  }
  return std::nullopt;
}

absl::Time TimeOf(const google::protobuf::Timestamp& timestamp) { return FromProtoTime(timestamp); }

}  // namespace

absl::StatusOr<v1::IndexedHop> IndexRecord(const KafkaRecord& record) {
  v1::IndexedHop indexed;
  v1::SagaHop& hop = *indexed.mutable_hop();
  hop.set_event_id(std::string(record.Header("ce_id").value_or("")));
  hop.set_event_type(std::string(record.Header("ce_type").value_or("")));
  std::string source(record.Header("ce_source").value_or(""));
  hop.set_service(absl::StartsWith(source, "/choreo/") ? source.substr(8) : source);
  hop.set_topic(record.topic);
  hop.set_partition(record.partition);
  hop.set_offset(record.offset);
  hop.set_key(record.key);
  if (record.timestamp_ms > 0) {
    *hop.mutable_recorded_at() = ToProtoTime(absl::FromUnixMillis(record.timestamp_ms));
  }
  hop.set_trace_id(std::string(ids::TraceIdOf(record.Header("traceparent").value_or(""))));
  hop.set_status("ok");
  std::string correlation_id(record.Header("ce_correlationid").value_or(""));
  const std::optional<EventType> type = EventTypeNamed(hop.event_type());
  if (std::unique_ptr<Message> event = DecodeEvent(record, type)) {
    const common::v1::EventMeta& meta = codec::MetaOf(*event);
    if (correlation_id.empty()) correlation_id = meta.correlation_id();
    if (hop.event_id().empty()) hop.set_event_id(meta.event_id());
    hop.set_causation_id(meta.causation_id());
    if (meta.has_occurred_at()) *hop.mutable_occurred_at() = meta.occurred_at();
    if (!meta.producer().empty()) hop.set_service(meta.producer());
    ReadEventFacts(*event, *type, indexed);
  }
  // The header's time only for a record whose event did not say (parsing it costs).
  if (!hop.has_occurred_at()) {
    if (std::optional<google::protobuf::Timestamp> at = TimeOfHeader(record, "ce_time")) {
      *hop.mutable_occurred_at() = *at;
    }
  }
  if (record.Header(dlq::kErrorKind)) {
    // A dead letter: the service that gave up on it, when, and why.
    hop.set_status("dead_lettered");
    hop.set_service(std::string(record.Header(dlq::kService).value_or(hop.service())));
    hop.set_error(absl::StrCat(record.Header(dlq::kErrorKind).value_or(""), ": ",
                               record.Header(dlq::kError).value_or("")));
    if (std::optional<google::protobuf::Timestamp> at = TimeOfHeader(record, dlq::kTime)) {
      *hop.mutable_occurred_at() = *at;
    }
  }
  if (correlation_id.empty()) {
    return absl::NotFoundError(absl::StrCat(record.topic, "/", record.partition, "/",
                                            record.offset, " carries no correlation id"));
  }
  indexed.set_correlation_id(correlation_id);
  if (!hop.has_occurred_at()) *hop.mutable_occurred_at() = hop.recorded_at();
  return indexed;
}

std::string HopField(const v1::SagaHop& hop) {
  return absl::StrCat(hop.topic(), "/", hop.partition(), "/", hop.offset());
}

v1::SagaTimeline BuildTimeline(absl::string_view correlation_id, std::vector<v1::IndexedHop> hops) {
  std::sort(hops.begin(), hops.end(), [](const v1::IndexedHop& a, const v1::IndexedHop& b) {
    const absl::Time at = TimeOf(a.hop().occurred_at()), bt = TimeOf(b.hop().occurred_at());
    if (at != bt) return at < bt;
    return HopField(a.hop()) < HopField(b.hop());
  });
  v1::SagaTimeline timeline;
  timeline.set_correlation_id(std::string(correlation_id));
  // When each event first happened (a dead letter's own record is a later copy).
  absl::flat_hash_map<std::string, absl::Time> occurred;
  for (const v1::IndexedHop& indexed : hops) {
    if (indexed.hop().status() != "dead_lettered") {
      occurred.try_emplace(indexed.hop().event_id(), TimeOf(indexed.hop().occurred_at()));
    }
  }
  for (v1::IndexedHop& indexed : hops) {
    v1::SagaHop& hop = *indexed.mutable_hop();
    const absl::Time at = TimeOf(hop.occurred_at());
    const std::string& cause =
        hop.status() == "dead_lettered" ? hop.event_id() : hop.causation_id();
    absl::Duration since_cause = absl::ZeroDuration();
    if (auto it = occurred.find(cause); !cause.empty() && it != occurred.end()) {
      since_cause = std::max(absl::ZeroDuration(), at - it->second);
    }
    *hop.mutable_since_cause() = ToProtoDuration(since_cause);  // set even when zero: one shape
    if (timeline.order_id().empty()) timeline.set_order_id(indexed.order_id());
    if (timeline.username().empty()) timeline.set_username(indexed.username());
    if (indexed.order_status() != orders::v1::ORDER_STATUS_UNSPECIFIED) {
      timeline.set_status(indexed.order_status());  // the latest in time wins
    }
    if (!timeline.has_started_at()) *timeline.mutable_started_at() = hop.occurred_at();
    *timeline.mutable_updated_at() = hop.occurred_at();
    *timeline.add_hops() = std::move(hop);
  }
  return timeline;
}

bool MaySee(absl::string_view username, const std::vector<std::string>& roles,
            const v1::SagaTimeline& timeline) {
  if (std::find(roles.begin(), roles.end(), kOperatorRole) != roles.end()) return true;
  return !username.empty() && timeline.username() == username;
}

}  // namespace choreo::gateway::timeline
