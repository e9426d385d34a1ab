#include "platform/tracing/otlp_json.h"

#include "absl/strings/str_cat.h"
#include "platform/json/json_text.h"

namespace choreo::tracing {
namespace {

void AppendQuoted(std::string& out, absl::string_view text) { out.append(json::JsonQuote(text)); }

void AppendNanos(std::string& out, absl::Time time) {
  absl::StrAppend(&out, "\"", absl::ToUnixNanos(time), "\"");
}

void AppendAttribute(std::string& out, absl::string_view key, const AttributeValue& value) {
  out.append("{\"key\":");
  AppendQuoted(out, key);
  out.append(",\"value\":{");
  if (const auto* text = std::get_if<std::string>(&value)) {
    out.append("\"stringValue\":");
    AppendQuoted(out, *text);
  } else if (const auto* number = std::get_if<int64_t>(&value)) {
    absl::StrAppend(&out, "\"intValue\":\"", *number, "\"");
  } else {
    absl::StrAppend(&out, "\"boolValue\":", std::get<bool>(value) ? "true" : "false");
  }
  out.append("}}");
}

void AppendSpan(std::string& out, const SpanData& span) {
  out.append("{\"traceId\":");
  AppendQuoted(out, span.trace_id);
  out.append(",\"spanId\":");
  AppendQuoted(out, span.span_id);
  if (!span.parent_span_id.empty()) {
    out.append(",\"parentSpanId\":");
    AppendQuoted(out, span.parent_span_id);
  }
  out.append(",\"name\":");
  AppendQuoted(out, span.name);
  absl::StrAppend(&out, ",\"kind\":", static_cast<int>(span.kind), ",\"startTimeUnixNano\":");
  AppendNanos(out, span.start);
  out.append(",\"endTimeUnixNano\":");
  AppendNanos(out, span.end);
  out.append(",\"attributes\":[");
  for (size_t i = 0; i < span.attributes.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendAttribute(out, span.attributes[i].first, span.attributes[i].second);
  }
  out.append("],\"status\":{");
  if (span.error) {
    out.append("\"code\":2,\"message\":");
    AppendQuoted(out, span.status_message);
  }
  out.append("}}");
}

}  // namespace

std::string OtlpTracesJson(absl::string_view service, const std::vector<SpanData>& spans) {
  std::string out = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
  AppendAttribute(out, "service.name", std::string(service));
  out.append(",");
  AppendAttribute(out, "service.namespace", std::string("choreo"));
  out.append("]},\"scopeSpans\":[{\"scope\":{\"name\":\"choreo\"},\"spans\":[");
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendSpan(out, spans[i]);
  }
  out.append("]}]}]}");
  return out;
}

}  // namespace choreo::tracing
