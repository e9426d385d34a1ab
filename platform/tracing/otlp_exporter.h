#pragma once

// OtlpHttpExporter: sends finished spans to an OpenTelemetry collector (Jaeger, Tempo, the
// OpenTelemetry Collector...) as OTLP/HTTP JSON, POST <endpoint> (e.g.
// http://127.0.0.1:4318/v1/traces), in batches, from its own thread.
//
// Promises:
// - Export never blocks the caller: a span goes into a bounded queue; when the queue is full the
//   span is dropped and counted (dropped()). Spans are never retried (a failed batch is
//   counted in failed()): tracing must not hold memory or threads hostage to a collector.
// - A batch is sent when `max_batch` spans wait or `interval` passed since the first of them.
// - Stop() sends what is queued, within one `timeout` in all (the rest counts as failed), and
//   joins the thread. Idempotent.
// - One connection, kept alive between batches.
// Thread-safe.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "platform/tracing/span.h"

namespace choreo::tracing {

struct OtlpExporterOptions {
  std::string endpoint;  // the full URL of the traces resource
  std::string service;   // resource service.name
  size_t max_queue = 8192;
  size_t max_batch = 512;
  absl::Duration interval = absl::Milliseconds(500);
  absl::Duration timeout = absl::Seconds(5);  // one POST, and the drain at Stop
};

class OtlpHttpExporter {
 public:
  explicit OtlpHttpExporter(OtlpExporterOptions options);
  ~OtlpHttpExporter();  // Stop()

  void Export(SpanData span);
  void Stop() noexcept;

  uint64_t exported() const { return exported_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  uint64_t failed() const { return failed_.load(); }

 private:
  void Run();
  bool Post(const std::string& body);

  const OtlpExporterOptions options_;
  absl::Mutex mu_;
  std::vector<SpanData> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> exported_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failed_{0};
  void* curl_ = nullptr;           // CURL*, the export thread's own
  int consecutive_failures_ = 0;  // the export thread's own
  std::thread thread_;
};

}  // namespace choreo::tracing
