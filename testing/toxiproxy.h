#pragma once

// Toxiproxy: TCP proxies whose links a test can slow down, served by Shopify's toxiproxy-server
// (tests/tools/toxiproxy, built by deploy/install-deps.sh from the Go module proxy), started for
// one test. Where the kernel has no netem (this machine's has none), it is how the fault matrix
// adds latency between the services and Kafka or Redis.
//
// Promises: the server and every proxy listen on 127.0.0.1; the server dies with the test
// (ChildProcess); a proxy dials its upstream for each connection a client opens, so the upstream
// may start, die and restart behind it. Not thread-safe: one test thread drives it.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "testing/child_process.h"

namespace choreo::testing {

class Toxiproxy {
 public:
  // The server binary: CHOREO_TOXIPROXY in the environment, else the checkout's.
  static std::string Binary();
  static absl::StatusOr<std::unique_ptr<Toxiproxy>> Start();
  ~Toxiproxy();

  // A proxy named `name` to `upstream` (host:port), listening on 127.0.0.1 on a port the kernel
  // picks (bound before this returns, so no other listener can take it); returns that port.
  absl::StatusOr<int> AddProxy(const std::string& name, const std::string& upstream);
  // Every byte through proxy `name` waits `latency` (give or take `jitter`), each way.
  absl::Status AddLatency(const std::string& name, absl::Duration latency, absl::Duration jitter);
  // The link back to full speed.
  absl::Status RemoveLatency(const std::string& name);

 private:
  Toxiproxy(std::string api, std::unique_ptr<ChildProcess> server)
      : api_(std::move(api)), server_(std::move(server)) {}
  // The answer's body, or an error unless the server answered `expected_status`.
  absl::StatusOr<std::string> Call(const std::string& method, const std::string& path,
                                   const std::string& body, long expected_status);

  std::string api_;  // http://127.0.0.1:port
  std::unique_ptr<ChildProcess> server_;
};

}  // namespace choreo::testing
