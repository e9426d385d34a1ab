#pragma once

// LocalSystem: the whole of choreo as processes, for end-to-end tests and benchmarks: the dev
// broker, a redis-server, the order and billing services and the gateway, each on a free
// loopback port, each killed with the test. Services can be SIGKILLed and restarted.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "saga/testing/child_process.h"
#include "saga/testing/redis_server.h"
#include "saga/testing/temp_dir.h"

namespace choreo::e2e {

struct Binaries {
  std::string devbroker, order, billing, gateway;
};

class LocalSystem {
 public:
  struct Options {
    int partitions = 4;
    int session_timeout_ms = 6000;
    std::vector<std::string> order_flags;    // extra flags of choreo-order
    std::vector<std::string> billing_flags;  // extra flags of choreo-billing
    std::vector<std::string> gateway_flags;  // extra flags of choreo-gateway
  };
  LocalSystem(Binaries binaries, Options options);
  ~LocalSystem();

  absl::Status Start();
  // SIGKILL, then start again with the same flags ("order" or "billing").
  absl::Status Kill(const std::string& service);
  absl::Status Restart(const std::string& service);

  const std::string& kafka() const { return kafka_; }
  std::string redis() const { return redis_->address(); }
  const std::string& gateway() const { return gateway_; }
  const std::string& order() const { return addresses_.at("order"); }
  const std::string& billing() const { return addresses_.at("billing"); }
  std::string LogOf(const std::string& service) const;
  testing::RedisServer& redis_server() { return *redis_; }
  // Starts another gateway instance (its own consumer group) and returns its address.
  absl::StatusOr<std::string> StartGateway(const std::string& name);
  // Stops the dev broker for good (SIGKILL).
  absl::Status KillBroker();
  std::vector<pid_t> Pids() const;

 private:
  absl::StatusOr<std::string> StartProcess(const std::string& name,
                                           std::vector<std::string> argv);

  const Binaries binaries_;
  const Options options_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::string kafka_, gateway_;
  std::map<std::string, std::vector<std::string>> argv_;  // each process's flags, but --port-file
  std::map<std::string, std::string> addresses_;
  std::map<std::string, std::unique_ptr<testing::ChildProcess>> processes_;
};

}  // namespace choreo::e2e
