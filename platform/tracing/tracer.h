#pragma once

// Tracer: starts spans that continue a W3C trace context and hands the finished ones to the
// exporter. Without an exporter (no --otlp-endpoint) spans still get their ids, so trace
// context propagates through the process, but nothing is recorded.
//
// A span is recorded only when its trace is sampled (the traceparent's flag; a new trace is
// sampled), so a caller that turned sampling off is obeyed downstream.
//
// Thread-safe. Span is move-only and not thread-safe; it ends (and is exported) on End() or
// destruction, once.

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "platform/tracing/otlp_exporter.h"
#include "platform/tracing/span.h"

namespace choreo::tracing {

class Tracer;

class Span {
 public:
  Span() = default;
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  ~Span();

  // This span's own context, to pass on (a record's traceparent header, a call's metadata).
  const std::string& traceparent() const { return traceparent_; }
  absl::string_view trace_id() const;

  // False when nothing will be exported (no exporter, or an unsampled trace): callers skip
  // building attributes.
  bool recording() const { return exporter_ != nullptr; }
  void SetAttribute(std::string key, AttributeValue value);
  void SetAttributes(Attributes attributes);
  void SetError(absl::string_view message);
  void End();
  // Ends without recording (a span for work that was thrown away).
  void Discard() { exporter_ = nullptr; }

 private:
  friend class Tracer;
  OtlpHttpExporter* exporter_ = nullptr;  // null: not recorded
  std::string traceparent_;
  SpanData data_;
};

class Tracer {
 public:
  // `exporter` may be null (nothing is recorded); it is not owned and must outlive the tracer.
  explicit Tracer(OtlpHttpExporter* exporter) : exporter_(exporter) {}

  // A span whose parent is `parent_traceparent` (a new trace when it is empty or malformed).
  Span StartSpan(std::string name, SpanKind kind, absl::string_view parent_traceparent,
                 Attributes attributes = {}) const;

  bool recording() const { return exporter_ != nullptr; }

 private:
  OtlpHttpExporter* exporter_;
};

// A tracer that records nothing, for code whose process has none configured.
const Tracer& NoopTracer();
// `*tracer`, or NoopTracer() when it is null (parts whose tracer is optional).
inline const Tracer& TracerOr(const Tracer* tracer) {
  return tracer != nullptr ? *tracer : NoopTracer();
}

}  // namespace choreo::tracing
