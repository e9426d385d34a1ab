#include "testing/jaeger.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "testing/http_client.h"
#include "testing/wait.h"

namespace choreo::testing {
namespace {

// Jaeger's all-in-one pipeline on the given ports: OTLP/HTTP in, batched into memory, served by
// the query extension; its own metrics off (they would take a fixed port).
std::string Config(int otlp_port, int query_port, int query_grpc_port) {
  return absl::StrCat(R"(service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:)",
                      query_port, R"(
    grpc:
      endpoint: 127.0.0.1:)",
                      query_grpc_port, R"(
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:)",
                      otlp_port, R"(
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
)");
}

}  // namespace

std::string Jaeger::Binary() {
  const char* env = std::getenv("CHOREO_JAEGER");
  return env != nullptr && *env != '\0' ? env : CHOREO_JAEGER;
}

absl::StatusOr<std::unique_ptr<Jaeger>> Jaeger::Start() {
  absl::StatusOr<TempDir> dir = TempDir::Create("choreo-jaeger-");
  if (!dir.ok()) return dir.status();
  // A port picked as free may be taken before Jaeger binds it (it then exits): a few tries.
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<int> otlp = PickFreeTcpPort();
    absl::StatusOr<int> query = PickFreeTcpPort();
    absl::StatusOr<int> query_grpc = PickFreeTcpPort();
    if (!otlp.ok() || !query.ok() || !query_grpc.ok()) {
      return absl::UnavailableError("no free port for Jaeger");
    }
    std::ofstream(dir->File("jaeger.yaml")) << Config(*otlp, *query, *query_grpc);
    absl::StatusOr<ChildProcess> process =
        ChildProcess::Start({.argv = {Binary(), "--config=file:" + dir->File("jaeger.yaml")},
                             .log_path = dir->File("jaeger.log")});
    if (!process.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot start ", Binary(),
                       " (deploy/install-deps.sh builds it): ", process.status().message()));
    }
    auto child = std::make_unique<ChildProcess>(*std::move(process));
    const std::string query_url = absl::StrCat("http://127.0.0.1:", *query);
    const std::string otlp_url = absl::StrCat("http://127.0.0.1:", *otlp, "/v1/traces");
    // The OTLP receiver answers an empty export with 200 once it listens.
    auto serving = [&] {
      return HttpCall("GET", query_url + "/api/services").status == 200 &&
             HttpCall("POST", otlp_url, "{}", {.headers = {"Content-Type: application/json"}})
                     .status == 200;
    };
    if (WaitUntil([&] { return serving() || !child->running(); }, absl::Seconds(30)) &&
        child->running()) {
      return std::unique_ptr<Jaeger>(new Jaeger(*std::move(dir), *otlp, *query, std::move(child)));
    }
    if (attempt == 3) {
      return absl::UnavailableError(absl::StrCat(Binary(), " did not serve; its log ends:\n",
                                                 LastLines(dir->File("jaeger.log"), 20)));
    }
  }
}

std::string Jaeger::otlp_traces_url() const {
  return absl::StrCat("http://127.0.0.1:", otlp_port_, "/v1/traces");
}

std::string Jaeger::query_url() const { return absl::StrCat("http://127.0.0.1:", query_port_); }

}  // namespace choreo::testing
