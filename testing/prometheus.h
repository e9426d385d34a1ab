#pragma once

// Prometheus: a real Prometheus server (Debian's package, /usr/bin/prometheus) scraping a test's
// processes every second and evaluating rule files, started for one test.
//
// Promises: it listens on 127.0.0.1 only, on a free port, keeps its data in a temporary
// directory, and dies with the test (ChildProcess). Start returns once its API answers. Not
// thread-safe: one test thread drives it.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "testing/child_process.h"
#include "testing/temp_dir.h"

namespace choreo::testing {

class Prometheus {
 public:
  struct Options {
    // Scrape jobs: job name -> its targets ("127.0.0.1:<port>", /metrics over HTTP).
    std::map<std::string, std::vector<std::string>> jobs;
    std::vector<std::string> rule_files;  // absolute paths
    // What "evaluation_interval" the groups without their own interval get.
    std::string evaluation_interval = "1s";
  };
  // The binary: CHOREO_PROMETHEUS in the environment, else "prometheus" on PATH.
  static std::string Binary();
  static absl::StatusOr<std::unique_ptr<Prometheus>> Start(const Options& options);

  const std::string& url() const { return url_; }  // "http://127.0.0.1:<port>"
  // GET /api/v1/query?query=<expr>: the response's "data" object ({resultType, result}), or an
  // error naming Prometheus's own (a bad expression, say).
  absl::StatusOr<google::protobuf::Struct> Query(const std::string& expr) const;
  // GET `path` (e.g. "/api/v1/rules"): the response's "data" object.
  absl::StatusOr<google::protobuf::Struct> Api(const std::string& path) const;

 private:
  Prometheus(TempDir dir, std::string url, std::unique_ptr<ChildProcess> process)
      : dir_(std::move(dir)), url_(std::move(url)), process_(std::move(process)) {}
  TempDir dir_;
  std::string url_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace choreo::testing
