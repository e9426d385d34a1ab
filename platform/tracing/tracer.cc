#include "platform/tracing/tracer.h"

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "platform/ids/trace_context.h"

namespace choreo::tracing {

Span::Span(Span&& other) noexcept
    : exporter_(std::exchange(other.exporter_, nullptr)),
      traceparent_(std::move(other.traceparent_)),
      data_(std::move(other.data_)) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    exporter_ = std::exchange(other.exporter_, nullptr);
    traceparent_ = std::move(other.traceparent_);
    data_ = std::move(other.data_);
  }
  return *this;
}

Span::~Span() { End(); }

absl::string_view Span::trace_id() const { return ids::TraceIdOf(traceparent_); }

void Span::SetAttribute(std::string key, AttributeValue value) {
  if (exporter_ == nullptr) return;
  data_.attributes.emplace_back(std::move(key), std::move(value));
}

void Span::SetAttributes(Attributes attributes) {
  if (exporter_ == nullptr) return;
  for (auto& attribute : attributes) data_.attributes.push_back(std::move(attribute));
}

void Span::SetError(absl::string_view message) {
  if (exporter_ == nullptr) return;
  data_.error = true;
  data_.status_message = std::string(message);
}

void Span::End() {
  if (exporter_ == nullptr) return;
  data_.end = absl::Now();
  std::exchange(exporter_, nullptr)->Export(std::move(data_));
}

Span Tracer::StartSpan(std::string name, SpanKind kind, absl::string_view parent_traceparent,
                       Attributes attributes) const {
  thread_local absl::BitGen random;
  Span span;
  span.traceparent_ = ids::ChildTraceparent(parent_traceparent, random);
  if (exporter_ == nullptr || !ids::IsSampled(span.traceparent_)) return span;
  span.exporter_ = exporter_;
  span.data_.trace_id = std::string(ids::TraceIdOf(span.traceparent_));
  span.data_.span_id = std::string(ids::SpanIdOf(span.traceparent_));
  span.data_.parent_span_id = std::string(ids::SpanIdOf(parent_traceparent));
  span.data_.name = std::move(name);
  span.data_.kind = kind;
  span.data_.start = absl::Now();
  span.data_.attributes = std::move(attributes);
  return span;
}

const Tracer& NoopTracer() {
  static const Tracer* tracer = new Tracer(nullptr);
  return *tracer;
}

}  // namespace choreo::tracing
