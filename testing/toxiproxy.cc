#include "testing/toxiproxy.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace choreo::testing {
namespace {

constexpr const char* kStreams[] = {"upstream", "downstream"};

}  // namespace

std::string Toxiproxy::Binary() {
  const char* env = std::getenv("CHOREO_TOXIPROXY");
  return env != nullptr && *env != '\0' ? env : CHOREO_TOXIPROXY;
}

absl::StatusOr<std::unique_ptr<Toxiproxy>> Toxiproxy::Start() {
  absl::StatusOr<int> port = PickFreeTcpPort();
  if (!port.ok()) return port.status();
  absl::StatusOr<ChildProcess> server = ChildProcess::Start(
      {.argv = {Binary(), "-host", "127.0.0.1", "-port", absl::StrCat(*port)},
       .log_path = "/dev/null"});
  if (!server.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot start ", Binary(), " (deploy/install-deps.sh builds it): ", server.status().message()));
  }
  std::unique_ptr<Toxiproxy> proxy(new Toxiproxy(absl::StrCat("http://127.0.0.1:", *port),
                                                 std::make_unique<ChildProcess>(*std::move(server))));
  if (!WaitUntil([&] { return HttpCall("GET", proxy->api_ + "/version").status == 200 ||
                              !proxy->server_->running(); },
                 absl::Seconds(20)) ||
      !proxy->server_->running()) {
    return absl::UnavailableError(absl::StrCat(Binary(), " did not serve its API"));
  }
  return proxy;
}

Toxiproxy::~Toxiproxy() = default;  // the server's ChildProcess ends it

absl::Status Toxiproxy::Call(const std::string& method, const std::string& path,
                             const std::string& body, long expected_status) {
  const HttpResult result = HttpCall(method, api_ + path, body);
  if (result.status == expected_status) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("toxiproxy ", method, " ", path, ": ", result.status,
                                          " ", result.body, result.error));
}

absl::Status Toxiproxy::AddProxy(const std::string& name, int listen_port,
                                 const std::string& upstream) {
  return Call("POST", "/proxies",
              absl::StrCat(R"({"name":")", name, R"(","listen":"127.0.0.1:)", listen_port,
                           R"(","upstream":")", upstream, R"(","enabled":true})"),
              201);
}

absl::Status Toxiproxy::AddLatency(const std::string& name, absl::Duration latency,
                                   absl::Duration jitter) {
  for (const char* stream : kStreams) {
    absl::Status added = Call(
        "POST", absl::StrCat("/proxies/", name, "/toxics"),
        absl::StrCat(R"({"name":"latency_)", stream, R"(","type":"latency","stream":")", stream,
                     R"(","toxicity":1.0,"attributes":{"latency":)",
                     absl::ToInt64Milliseconds(latency), R"(,"jitter":)",
                     absl::ToInt64Milliseconds(jitter), "}}"),
        200);
    if (!added.ok()) return added;
  }
  return absl::OkStatus();
}

absl::Status Toxiproxy::RemoveLatency(const std::string& name) {
  for (const char* stream : kStreams) {
    absl::Status removed =
        Call("DELETE", absl::StrCat("/proxies/", name, "/toxics/latency_", stream), "", 204);
    if (!removed.ok()) return removed;
  }
  return absl::OkStatus();
}

}  // namespace choreo::testing
