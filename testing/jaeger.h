#pragma once

// Jaeger: a real Jaeger v2 (an OpenTelemetry Collector distribution: its OTLP receiver, an
// in-memory trace store and Jaeger's query API), built by deploy/install-deps.sh from the Go
// module proxy (tests/tools/jaeger), started for one test.
//
// Promises: it listens on 127.0.0.1 only, on free ports (OTLP/HTTP and the query API; it makes
// no other listener), and dies with the test (ChildProcess). Start returns once both ports
// answer. Not thread-safe: one test thread drives it.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "testing/child_process.h"
#include "testing/temp_dir.h"

namespace choreo::testing {

class Jaeger {
 public:
  // The binary: CHOREO_JAEGER in the environment, else the checkout's.
  static std::string Binary();
  static absl::StatusOr<std::unique_ptr<Jaeger>> Start();

  // Where a process exports its spans: "http://127.0.0.1:<port>/v1/traces" (--otlp-endpoint).
  std::string otlp_traces_url() const;
  // Jaeger's query API: "http://127.0.0.1:<port>" (GET /api/traces/<trace id>, /api/services).
  std::string query_url() const;

 private:
  Jaeger(TempDir dir, int otlp_port, int query_port, std::unique_ptr<ChildProcess> process)
      : dir_(std::move(dir)),
        otlp_port_(otlp_port),
        query_port_(query_port),
        process_(std::move(process)) {}
  TempDir dir_;  // its config and log
  int otlp_port_;
  int query_port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace choreo::testing
