#pragma once

// The OTLP/HTTP JSON body of an ExportTraceServiceRequest (POST /v1/traces), per the
// OpenTelemetry protocol's JSON mapping: ids as lowercase hex, times as decimal strings of Unix
// nanoseconds, int attributes as decimal strings, enums as numbers. Pure.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "platform/tracing/span.h"

namespace choreo::tracing {

// One resource (service.name = `service`) with one scope ("choreo") holding `spans`.
std::string OtlpTracesJson(absl::string_view service, const std::vector<SpanData>& spans);

}  // namespace choreo::tracing
