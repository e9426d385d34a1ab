#pragma once

// OpenTelemetry messaging semantic conventions for Kafka spans ("send <topic>" PRODUCER,
// "process <topic>" CONSUMER) and RPC conventions for gRPC server spans. Pure.

#include "absl/strings/string_view.h"
#include "platform/record/record.h"
#include "platform/tracing/span.h"
#include "platform/tracing/tracer.h"

namespace choreo::tracing {

// messaging.system, messaging.operation.*, destination name, partition id, offset, message key,
// consumer group, message id (ce_id) and conversation id (ce_correlationid) of a consumed record.
Attributes ProcessAttributes(const KafkaRecord& record, absl::string_view consumer_group);
// The same for a record about to be produced (no partition or offset yet).
Attributes SendAttributes(const KafkaRecord& record);
// A "send <topic>" PRODUCER span, a child of `parent`: its traceparent is the context the
// produced event carries (EventMeta.traceparent and the traceparent header).
Span StartSendSpan(const Tracer& tracer, absl::string_view topic, absl::string_view parent);
// Adds SendAttributes of the encoded record to a send span.
void SetSendAttributes(Span& span, const KafkaRecord& record);
// A "process <topic>" CONSUMER span for a consumed record, a child of its traceparent header,
// with ProcessAttributes when it is recorded.
Span StartProcessSpan(const Tracer& tracer, const KafkaRecord& record,
                      absl::string_view consumer_group);

// rpc.system=grpc, rpc.service ("pkg.Service"), rpc.method ("Method").
Attributes RpcAttributes(absl::string_view service, absl::string_view method);

}  // namespace choreo::tracing
