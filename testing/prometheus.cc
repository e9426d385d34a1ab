#include "testing/prometheus.h"

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "testing/http_client.h"
#include "testing/wait.h"

namespace choreo::testing {
namespace {

std::string Config(const Prometheus::Options& options) {
  std::string config = absl::StrCat("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n",
                                    "  evaluation_interval: ", options.evaluation_interval, "\n");
  if (!options.rule_files.empty()) {
    absl::StrAppend(&config, "rule_files:\n");
    for (const std::string& file : options.rule_files) absl::StrAppend(&config, "  - ", file, "\n");
  }
  absl::StrAppend(&config, "scrape_configs:\n");
  for (const auto& [job, targets] : options.jobs) {
    absl::StrAppend(&config, "  - job_name: ", job, "\n    static_configs:\n      - targets: ['",
                    absl::StrJoin(targets, "', '"), "']\n");
  }
  return config;
}

// RFC 3986 percent-encoding of everything but the unreserved characters (curl's).
std::string Escape(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size()));
  std::string result = escaped == nullptr ? "" : escaped;
  curl_free(escaped);
  return result;
}

}  // namespace

std::string Prometheus::Binary() {
  const char* env = std::getenv("CHOREO_PROMETHEUS");
  return env != nullptr && *env != '\0' ? env : "prometheus";
}

absl::StatusOr<std::unique_ptr<Prometheus>> Prometheus::Start(const Options& options) {
  absl::StatusOr<TempDir> dir = TempDir::Create("choreo-prometheus-");
  if (!dir.ok()) return dir.status();
  std::ofstream(dir->File("prometheus.yml")) << Config(options);
  // A port picked as free may be taken before Prometheus binds it (it then exits): a few tries.
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<int> port = PickFreeTcpPort();
    if (!port.ok()) return port.status();
    const std::string url = absl::StrCat("http://127.0.0.1:", *port);
    absl::StatusOr<ChildProcess> process = ChildProcess::Start(
        {.argv = {Binary(), "--config.file=" + dir->File("prometheus.yml"),
                  "--storage.tsdb.path=" + dir->File("data"),
                  absl::StrCat("--web.listen-address=127.0.0.1:", *port), "--log.level=warn"},
         .log_path = dir->File("prometheus.log")});
    if (!process.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot start ", Binary(),
          " (deploy/install-deps.sh installs Debian's prometheus): ", process.status().message()));
    }
    auto child = std::make_unique<ChildProcess>(*std::move(process));
    if (WaitUntil(
            [&] { return HttpCall("GET", url + "/-/ready").status == 200 || !child->running(); },
            absl::Seconds(30)) &&
        child->running()) {
      return std::unique_ptr<Prometheus>(new Prometheus(*std::move(dir), url, std::move(child)));
    }
    if (attempt == 3) {
      return absl::UnavailableError(absl::StrCat(Binary(), " did not serve; its log ends:\n",
                                                 LastLines(dir->File("prometheus.log"), 20)));
    }
  }
}

absl::StatusOr<google::protobuf::Struct> Prometheus::Api(const std::string& path) const {
  const HttpResult result = HttpCall("GET", url_ + path);
  google::protobuf::Struct body;
  if (!google::protobuf::util::JsonStringToMessage(result.body, &body).ok()) {
    return absl::InternalError(
        absl::StrCat("GET ", path, ": ", result.status, " ", result.body, result.error));
  }
  const auto& fields = body.fields();
  if (result.status != 200 || !fields.contains("data") || !fields.at("data").has_struct_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("GET ", path, ": ", result.status, " ", result.body));
  }
  return fields.at("data").struct_value();
}

absl::StatusOr<google::protobuf::Struct> Prometheus::Query(const std::string& expr) const {
  return Api("/api/v1/query?query=" + Escape(expr));
}

}  // namespace choreo::testing
