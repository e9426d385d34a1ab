#pragma once

// A finished span as plain data (the OpenTelemetry span model, just what choreo records).

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/time/time.h"

namespace choreo::tracing {

// OTLP's SpanKind numbers.
enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

using AttributeValue = std::variant<std::string, int64_t, bool>;
using Attributes = std::vector<std::pair<std::string, AttributeValue>>;

struct SpanData {
  std::string trace_id;        // 32 lowercase hex
  std::string span_id;         // 16 lowercase hex
  std::string parent_span_id;  // empty for a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  absl::Time start;
  absl::Time end;
  Attributes attributes;
  bool error = false;  // OTLP status code ERROR (else UNSET)
  std::string status_message;
};

}  // namespace choreo::tracing
