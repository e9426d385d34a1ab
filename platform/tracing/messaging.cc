#include "platform/tracing/messaging.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace choreo::tracing {
namespace {

Attributes Common(const KafkaRecord& record, absl::string_view operation) {
  Attributes attributes = {
      {"messaging.system", std::string("kafka")},
      {"messaging.operation.name", std::string(operation)},
      {"messaging.operation.type", std::string(operation)},
      {"messaging.destination.name", record.topic},
      {"messaging.kafka.message.key", record.key},
      {"messaging.message.id", std::string(record.Header("ce_id").value_or(""))},
      {"messaging.message.conversation_id",
       std::string(record.Header("ce_correlationid").value_or(""))},
  };
  if (std::optional<absl::string_view> type = record.Header("ce_type")) {
    attributes.emplace_back("cloudevents.event_type", std::string(*type));
  }
  return attributes;
}

}  // namespace

Attributes ProcessAttributes(const KafkaRecord& record, absl::string_view consumer_group) {
  Attributes attributes = Common(record, "process");
  attributes.emplace_back("messaging.destination.partition.id", std::to_string(record.partition));
  attributes.emplace_back("messaging.kafka.offset", static_cast<int64_t>(record.offset));
  attributes.emplace_back("messaging.consumer.group.name", std::string(consumer_group));
  return attributes;
}

Attributes SendAttributes(const KafkaRecord& record) { return Common(record, "send"); }

Span StartSendSpan(const Tracer& tracer, absl::string_view topic, absl::string_view parent) {
  return tracer.StartSpan(absl::StrCat("send ", topic), SpanKind::kProducer, parent);
}

void SetSendAttributes(Span& span, const KafkaRecord& record) {
  if (span.recording()) span.SetAttributes(SendAttributes(record));
}

Span StartProcessSpan(const Tracer& tracer, const KafkaRecord& record,
                      absl::string_view consumer_group) {
  Span span = tracer.StartSpan(absl::StrCat("process ", record.topic), SpanKind::kConsumer,
                               record.Header("traceparent").value_or(""));
  if (span.recording()) span.SetAttributes(ProcessAttributes(record, consumer_group));
  return span;
}

Attributes RpcAttributes(absl::string_view service, absl::string_view method) {
  return {{"rpc.system", std::string("grpc")},
          {"rpc.service", std::string(service)},
          {"rpc.method", std::string(method)}};
}

}  // namespace choreo::tracing
