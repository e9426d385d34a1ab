#include "testing/toxiproxy.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "platform/json/json_text.h"
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

absl::StatusOr<std::string> Toxiproxy::Call(const std::string& method, const std::string& path,
                                            const std::string& body, long expected_status) {
  HttpResult result = HttpCall(method, api_ + path, body);
  if (result.status == expected_status) return std::move(result.body);
  return absl::InternalError(absl::StrCat("toxiproxy ", method, " ", path, ": ", result.status,
                                          " ", result.body, result.error));
}

absl::StatusOr<int> Toxiproxy::AddProxy(const std::string& name, const std::string& upstream) {
  absl::StatusOr<std::string> created =
      Call("POST", "/proxies",
           absl::StrCat(R"({"name":)", json::JsonQuote(name), R"(,"listen":"127.0.0.1:0","upstream":)",
                        json::JsonQuote(upstream), R"(,"enabled":true})"),
           201);
  if (!created.ok()) return created.status();
  // The server answers with the address it bound: "listen":"127.0.0.1:<port>".
  absl::string_view listen = json::JsonMemberText(*created, "listen").value_or("");
  absl::ConsumePrefix(&listen, "\"");
  absl::ConsumeSuffix(&listen, "\"");
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return absl::InternalError(absl::StrCat("toxiproxy: no listening port in ", *created));
  }
  return port;
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
        200).status();
    if (!added.ok()) return added;
  }
  return absl::OkStatus();
}

absl::Status Toxiproxy::RemoveLatency(const std::string& name) {
  for (const char* stream : kStreams) {
    absl::Status removed =
        Call("DELETE", absl::StrCat("/proxies/", name, "/toxics/latency_", stream), "", 204)
            .status();
    if (!removed.ok()) return removed;
  }
  return absl::OkStatus();
}

}  // namespace choreo::testing
