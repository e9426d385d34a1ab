#include "gateway/timeline/core/timeline_rules.h"

#include <algorithm>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "choreo/orders/v1/order.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "saga/codec/event_codec.h"
#include "saga/dlq/dead_letter.h"
#include "platform/ids/trace_context.h"
#include "platform/proto_time/proto_time.h"

namespace choreo::gateway::timeline {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The event of `record` as its generated type, or null when the type is unknown here or the
// bytes do not parse.
std::unique_ptr<Message> DecodeEvent(const KafkaRecord& record) {
  std::optional<absl::string_view> type = record.Header("ce_type");
  if (!type) return nullptr;
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(*type));
  // Only event types (field 1 is EventMeta): a record may name any type, dead letters above all.
  if (descriptor == nullptr || !codec::ValidateEventType(*descriptor).ok()) return nullptr;
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
  if (prototype == nullptr) return nullptr;
  std::unique_ptr<Message> event(prototype->New());
  if (!event->ParseFromString(record.value)) return nullptr;
  return event;
}

std::string StringField(const Message& event, absl::string_view name) {
  const FieldDescriptor* field = event.GetDescriptor()->FindFieldByName(std::string(name));
  if (field == nullptr || field->is_repeated() || field->type() != FieldDescriptor::TYPE_STRING) {
    return "";
  }
  return event.GetReflection()->GetString(event, field);
}

bool IsFailedStatus(orders::v1::OrderStatus status) {
  return status == orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS ||
         status == orders::v1::ORDER_STATUS_REJECTED || status == orders::v1::ORDER_STATUS_EXPIRED;
}

// The saga facts and a business failure, read by field name so that every event type works.
void ReadEventFacts(const Message& event, v1::IndexedHop& indexed) {
  indexed.set_order_id(StringField(event, "order_id"));
  indexed.set_username(StringField(event, "username"));
  v1::SagaHop& hop = *indexed.mutable_hop();
  const google::protobuf::Descriptor* descriptor = event.GetDescriptor();
  const google::protobuf::Reflection* reflection = event.GetReflection();
  if (const FieldDescriptor* success = descriptor->FindFieldByName("success");
      success != nullptr && success->type() == FieldDescriptor::TYPE_BOOL && !success->is_repeated() &&
      !reflection->GetBool(event, success)) {
    hop.set_status("failed");
    hop.set_error(StringField(event, "failure_reason"));
  }
  if (const FieldDescriptor* status = descriptor->FindFieldByName("status");
      status != nullptr && status->type() == FieldDescriptor::TYPE_ENUM && !status->is_repeated() &&
      status->enum_type() == orders::v1::OrderStatus_descriptor()) {
    const auto value = static_cast<orders::v1::OrderStatus>(reflection->GetEnumValue(event, status));
    indexed.set_order_status(value);
    if (IsFailedStatus(value)) {
      hop.set_status("failed");
      hop.set_error(StringField(event, "reason"));
    }
  }
  // A refusal (OrderCancellationRefused) is a business failure whatever status it names.
  if (absl::EndsWith(descriptor->name(), "Refused")) {
    hop.set_status("failed");
    hop.set_error(StringField(event, "reason"));
  }
}

google::protobuf::Timestamp TimeOfHeader(const KafkaRecord& record, absl::string_view header) {
  absl::Time time;
  std::string error;
  if (std::optional<absl::string_view> text = record.Header(header);
      text && absl::ParseTime(absl::RFC3339_full, std::string(*text), &time, &error)) {
    return ToProtoTime(time);
  }
  return {};
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
  *hop.mutable_occurred_at() = TimeOfHeader(record, "ce_time");
  if (record.timestamp_ms > 0) {
    *hop.mutable_recorded_at() = ToProtoTime(absl::FromUnixMillis(record.timestamp_ms));
  }
  hop.set_trace_id(std::string(ids::TraceIdOf(record.Header("traceparent").value_or(""))));
  hop.set_status("ok");
  std::string correlation_id(record.Header("ce_correlationid").value_or(""));
  if (std::unique_ptr<Message> event = DecodeEvent(record)) {
    const common::v1::EventMeta& meta = codec::MetaOf(*event);
    if (correlation_id.empty()) correlation_id = meta.correlation_id();
    if (hop.event_id().empty()) hop.set_event_id(meta.event_id());
    hop.set_causation_id(meta.causation_id());
    if (meta.has_occurred_at()) *hop.mutable_occurred_at() = meta.occurred_at();
    if (!meta.producer().empty()) hop.set_service(meta.producer());
    ReadEventFacts(*event, indexed);
  }
  if (record.Header(dlq::kErrorKind)) {
    // A dead letter: the service that gave up on it, when, and why.
    hop.set_status("dead_lettered");
    hop.set_service(std::string(record.Header(dlq::kService).value_or(hop.service())));
    hop.set_error(absl::StrCat(record.Header(dlq::kErrorKind).value_or(""), ": ",
                               record.Header(dlq::kError).value_or("")));
    if (google::protobuf::Timestamp at = TimeOfHeader(record, dlq::kTime); at.seconds() != 0) {
      *hop.mutable_occurred_at() = at;
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
