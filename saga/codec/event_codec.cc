#include "saga/codec/event_codec.h"

#include <charconv>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "platform/ids/trace_context.h"
#include "platform/proto_time/proto_time.h"

namespace choreo::codec {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr absl::string_view kErrorPayloadUrl = "type.choreo.dev/choreo.codec.DecodeError";

absl::Status DecodeFailure(DecodeError kind, std::string message) {
  absl::Status status = absl::InvalidArgumentError(
      absl::StrCat(DecodeErrorName(kind), ": ", message));
  status.SetPayload(kErrorPayloadUrl, absl::Cord(DecodeErrorName(kind)));
  return status;
}

std::string Rfc3339(const google::protobuf::Timestamp& ts) {
  absl::Time t = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

bool ParseUint32(absl::string_view text, uint32_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

absl::string_view DecodeErrorName(DecodeError error) {
  switch (error) {
    case DecodeError::kUnknownType:
      return "unknown_type";
    case DecodeError::kUnsupportedMajorVersion:
      return "unsupported_major_version";
    case DecodeError::kUndecodable:
      return "undecodable";
  }
  return "undecodable";
}

std::optional<DecodeError> DecodeErrorOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorPayloadUrl);
  if (!payload) return std::nullopt;
  for (DecodeError kind : {DecodeError::kUnknownType, DecodeError::kUnsupportedMajorVersion,
                           DecodeError::kUndecodable}) {
    if (*payload == DecodeErrorName(kind)) return kind;
  }
  return std::nullopt;
}

absl::StatusOr<EventTypeName> ParseEventTypeName(absl::string_view full_name) {
  // package segments ... vN . MessageName
  std::vector<absl::string_view> parts = absl::StrSplit(full_name, '.');
  if (parts.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("event type '", full_name, "' has no versioned package"));
  }
  absl::string_view version = parts[parts.size() - 2];
  int major = 0;
  if (version.size() < 2 || version[0] != 'v') {
    return absl::InvalidArgumentError(absl::StrCat("event type '", full_name,
                                                   "': package does not end in v<major>"));
  }
  auto [ptr, ec] = std::from_chars(version.data() + 1, version.data() + version.size(), major);
  if (ec != std::errc() || ptr != version.data() + version.size() || major < 1) {
    return absl::InvalidArgumentError(absl::StrCat("event type '", full_name,
                                                   "': package does not end in v<major>"));
  }
  EventTypeName name;
  name.major = major;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i == parts.size() - 2) continue;
    if (!name.family.empty()) name.family.push_back('.');
    name.family.append(parts[i].data(), parts[i].size());
  }
  return name;
}

absl::Status ValidateEventType(const Descriptor& type) {
  const FieldDescriptor* meta = type.FindFieldByNumber(1);
  if (meta == nullptr || meta->name() != "meta" ||
      meta->type() != FieldDescriptor::TYPE_MESSAGE || meta->is_repeated() ||
      meta->message_type() != common::v1::EventMeta::descriptor()) {
    return absl::InvalidArgumentError(absl::StrCat(
        type.full_name(), " is not an event: field 1 must be 'choreo.common.v1.EventMeta meta'"));
  }
  if (CurrentSchemaVersion(type) < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        type.full_name(), " is not an event: it lacks option (choreo.common.v1.schema_version)"));
  }
  if (absl::StatusOr<EventTypeName> name = ParseEventTypeName(type.full_name()); !name.ok()) {
    return name.status();
  }
  return absl::OkStatus();
}

uint32_t CurrentSchemaVersion(const Descriptor& type) {
  return type.options().GetExtension(common::v1::schema_version);
}

void StampMeta(google::protobuf::Message& event, const Provenance& provenance,
               absl::BitGen& random) {
  common::v1::EventMeta* meta = MutableMetaOf(&event);
  meta->set_event_id(provenance.event_id);
  // An older revision a decision chose (for readers that know only that one), or the current.
  const uint32_t current = CurrentSchemaVersion(*event.GetDescriptor());
  const uint32_t chosen = meta->schema_version();
  meta->set_schema_version(chosen >= 1 && chosen < current ? chosen : current);
  meta->set_correlation_id(provenance.correlation_id);
  meta->set_causation_id(provenance.causation_id);
  meta->set_traceparent(ids::IsValidTraceparent(provenance.traceparent)
                            ? provenance.traceparent
                            : ids::ChildTraceparent(provenance.parent_traceparent, random));
  meta->set_tracestate(provenance.tracestate);
  *meta->mutable_occurred_at() = ToProtoTime(provenance.occurred_at);
  meta->set_producer(provenance.producer);
}

const common::v1::EventMeta& MetaOf(const Message& event) {
  const Message& meta =
      event.GetReflection()->GetMessage(event, event.GetDescriptor()->FindFieldByNumber(1));
  return static_cast<const common::v1::EventMeta&>(meta);
}

common::v1::EventMeta* MutableMetaOf(Message* event) {
  Message* meta = event->GetReflection()->MutableMessage(
      event, event->GetDescriptor()->FindFieldByNumber(1));
  return static_cast<common::v1::EventMeta*>(meta);
}

std::vector<RecordHeader> EventHeaders(absl::string_view type, const common::v1::EventMeta& meta) {
  std::vector<RecordHeader> headers;
  headers.reserve(10);
  headers.push_back({std::string(kHeaderSpecVersion), std::string(kSpecVersion)});
  headers.push_back({std::string(kHeaderId), meta.event_id()});
  headers.push_back({std::string(kHeaderType), std::string(type)});
  headers.push_back({std::string(kHeaderSource), absl::StrCat("/choreo/", meta.producer())});
  headers.push_back({std::string(kHeaderTime), Rfc3339(meta.occurred_at())});
  headers.push_back({std::string(kHeaderContentType), std::string(kContentType)});
  headers.push_back({std::string(kHeaderCorrelationId), meta.correlation_id()});
  headers.push_back({std::string(kHeaderSchemaVersion), absl::StrCat(meta.schema_version())});
  if (!meta.traceparent().empty()) {
    headers.push_back({std::string(kHeaderTraceparent), meta.traceparent()});
  }
  if (!meta.tracestate().empty()) {
    headers.push_back({std::string(kHeaderTracestate), meta.tracestate()});
  }
  return headers;
}

absl::StatusOr<common::v1::EventMeta> DecodeMeta(absl::string_view value) {
  common::v1::EventEnvelope envelope;
  if (!envelope.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return DecodeFailure(DecodeError::kUndecodable, "value is not a Protobuf event");
  }
  if (!envelope.has_meta() || envelope.meta().event_id().empty()) {
    return DecodeFailure(DecodeError::kUndecodable, "value carries no EventMeta with an event_id");
  }
  return std::move(*envelope.mutable_meta());
}

absl::Status EventCodec::Register(const Descriptor& type) {
  if (absl::Status valid = ValidateEventType(type); !valid.ok()) return valid;
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(&type);
  if (prototype == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(type.full_name(), " is not a generated message type"));
  }
  EventTypeName name = *ParseEventTypeName(type.full_name());
  auto [it, inserted] = majors_.try_emplace(name.family, name.major);
  if (!inserted && it->second != name.major) {
    return absl::InvalidArgumentError(absl::StrCat("cannot register ", type.full_name(), ": ",
                                                   name.family, " is registered as v",
                                                   it->second));
  }
  prototypes_[type.full_name()] = prototype;
  return absl::OkStatus();
}

bool EventCodec::IsRegistered(absl::string_view full_type_name) const {
  return prototypes_.contains(full_type_name);
}

absl::StatusOr<KafkaRecord> EventCodec::Encode(const Message& event, absl::string_view topic,
                                               std::string key) const {
  const Descriptor& type = *event.GetDescriptor();
  if (absl::Status valid = ValidateEventType(type); !valid.ok()) return valid;
  const common::v1::EventMeta& meta = MetaOf(event);
  auto missing = [&](absl::string_view field) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode ", type.full_name(), ": meta.", field, " is not set"));
  };
  if (meta.event_id().empty()) return missing("event_id");
  if (meta.correlation_id().empty()) return missing("correlation_id");
  if (meta.producer().empty()) return missing("producer");
  if (!meta.has_occurred_at()) return missing("occurred_at");
  if (meta.schema_version() == 0) return missing("schema_version");

  KafkaRecord record;
  record.topic = std::string(topic);
  record.key = std::move(key);
  if (!event.SerializeToString(&record.value)) {
    return absl::InternalError(absl::StrCat("cannot serialize ", type.full_name()));
  }
  record.headers = EventHeaders(type.full_name(), meta);
  return record;
}

absl::StatusOr<DecodedEvent> EventCodec::Decode(const KafkaRecord& record) const {
  const std::optional<absl::string_view> type_header = record.Header(kHeaderType);
  if (!type_header) {
    return DecodeFailure(DecodeError::kUndecodable, "record has no ce_type header");
  }
  const absl::string_view type(*type_header);
  auto prototype = prototypes_.find(type);
  if (prototype == prototypes_.end()) {
    absl::StatusOr<EventTypeName> name = ParseEventTypeName(type);
    if (name.ok()) {
      if (auto known = majors_.find(name->family); known != majors_.end()) {
        return DecodeFailure(DecodeError::kUnsupportedMajorVersion,
                             absl::StrCat("event type '", type, "' is major version ",
                                          name->major, "; this consumer handles v",
                                          known->second));
      }
    }
    return DecodeFailure(DecodeError::kUnknownType,
                         absl::StrCat("event type '", type, "' is not handled here"));
  }

  const std::optional<absl::string_view> spec = record.Header(kHeaderSpecVersion);
  if (spec != kSpecVersion) {
    return DecodeFailure(DecodeError::kUndecodable,
                         absl::StrCat("ce_specversion is '", spec.value_or(""), "', want '",
                                      kSpecVersion, "'"));
  }
  const std::optional<absl::string_view> content_type = record.Header(kHeaderContentType);
  if (content_type && *content_type != kContentType) {
    return DecodeFailure(DecodeError::kUndecodable,
                         absl::StrCat("content-type is '", *content_type, "', want '",
                                      kContentType, "'"));
  }

  DecodedEvent decoded;
  decoded.message.reset(prototype->second->New());
  if (!decoded.message->ParseFromArray(record.value.data(),
                                       static_cast<int>(record.value.size()))) {
    return DecodeFailure(DecodeError::kUndecodable,
                         absl::StrCat("value is not a valid ", type, " (",
                                      record.value.size(), " bytes)"));
  }
  const common::v1::EventMeta& meta = decoded.meta();
  if (meta.event_id().empty()) {
    return DecodeFailure(DecodeError::kUndecodable,
                         absl::StrCat("value parsed as ", type, " but has no meta.event_id"));
  }
  if (const std::optional<absl::string_view> id = record.Header(kHeaderId);
      id && *id != meta.event_id()) {
    return DecodeFailure(DecodeError::kUndecodable,
                         absl::StrCat("ce_id header '", *id, "' differs from meta.event_id '",
                                      meta.event_id(), "'"));
  }
  if (meta.schema_version() == 0) {
    return DecodeFailure(DecodeError::kUndecodable, "meta.schema_version is not set");
  }
  if (const std::optional<absl::string_view> header = record.Header(kHeaderSchemaVersion)) {
    uint32_t version = 0;
    if (!ParseUint32(*header, version) || version != meta.schema_version()) {
      return DecodeFailure(DecodeError::kUndecodable,
                           absl::StrCat("ce_schemaversion header '", *header,
                                        "' differs from meta.schema_version ",
                                        meta.schema_version()));
    }
  }
  decoded.schema_version = meta.schema_version();
  decoded.major_version = ParseEventTypeName(type)->major;
  return decoded;
}

}  // namespace choreo::codec
