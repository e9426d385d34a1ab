#pragma once

// LocalSystem: the whole of choreo as processes, for end-to-end tests and benchmarks: Apache
// Kafka (or the dev broker), a redis-server, the user, order, billing and notification services
// and the gateway, each on a free loopback port, each killed with the test. The processes talk
// gRPC over mutual TLS with certificates made for the test (testing::LocalPki); a test reaches a
// service with ChannelTo. Services can be
// SIGKILLed and restarted, or started late; Kafka nodes too.
//
// TestUsers: a test's users, registered through the gateway, with their bearer tokens.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "testing/child_process.h"
#include "testing/kafka_cluster.h"
#include "testing/local_pki.h"
#include "testing/redis_cluster.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"
#include "testing/toxiproxy.h"

namespace choreo::e2e {

struct Binaries {
  std::string devbroker, topics, order, billing, users, notification, gateway, views;
  // The ones this build made (their paths are compiled in).
  static Binaries Built();
};

class LocalSystem {
 public:
  enum class Broker {
    kApacheKafka,  // a KafkaCluster of kafka_nodes nodes, started for this system
    kDevBroker,    // choreo-devbroker (librdkafka's mock cluster, in memory)
  };
  struct Options {
    Broker broker = Broker::kApacheKafka;
    int kafka_nodes = 1;  // Apache Kafka: 3 gives RF 3, min.insync.replicas 2
    // Apache Kafka started here: every process logs in as its own principal and may touch only
    // its own topics and groups (KafkaCluster::Options::authenticate).
    bool kafka_authentication = true;
    // Every process logs in to Redis as its own ACL user, allowed only its own keys
    // (stores::MissionRedisUsers); the test process logs in as admin (redis::SetProcessLogin).
    bool redis_authentication = true;
    // Apache Kafka's JVM: quick to start (tests) or fully optimising with a bigger heap (benchmarks).
    bool kafka_fast_start = true;
    // Non-empty: use this running Kafka instead (its topics must exist); `broker` is ignored.
    std::string kafka_brokers;
    int partitions = 4;
    std::vector<std::string> extra_topics;  // the broker started here creates these too
    // Every consumer's fetch.wait.max.ms; 0: 1 on the dev broker, the services' default on Kafka.
    int fetch_wait_max_ms = 0;
    // Redis durability: tests favour speed; benchmarks pass "always", as production runs.
    std::string redis_appendfsync = "everysec";
    // Every service (users, order, billing, notification) runs this many instances from the
    // start, the first named as the service, the others "<service>-2", ...; the gateway calls
    // them round robin.
    int instances = 1;
    // > 0: a Redis Cluster of this many masters, a replica each (testing::RedisCluster), instead
    // of one redis-server; every process gets every node as its --redis seeds.
    int redis_cluster_masters = 0;
    int session_timeout_ms = 6000;
    std::vector<std::string> order_flags;    // extra flags of choreo-order
    std::vector<std::string> billing_flags;  // extra flags of choreo-billing
    std::vector<std::string> gateway_flags;  // extra flags of choreo-gateway
    std::vector<std::string> notification_flags;
    std::vector<std::string> users_flags;
    // The gateway's public gRPC and HTTP ports speak TLS with the "gateway" certificate of pki().
    bool public_tls = false;
    // Non-empty: every process exports its spans to this OTLP/HTTP traces URL (--otlp-endpoint).
    std::string otlp_endpoint;
    // Services Start() leaves out, for the test to start with StartService.
    std::vector<std::string> deferred;
    // Every client reaches Apache Kafka (one node) and Redis through proxies named "kafka" and
    // "redis" (network_proxy()), whose links a test can slow down.
    bool network_proxy = false;
  };
  LocalSystem(Binaries binaries, Options options);
  ~LocalSystem();

  absl::Status Start();
  // SIGKILL, then start again with the same flags ("order", "billing", "users", ...).
  absl::Status Kill(const std::string& service);
  absl::Status Restart(const std::string& service);
  // Sends `signal` to a process (SIGSTOP and SIGCONT, say) by its name.
  absl::Status Signal(const std::string& name, int signal);
  // Starts a deferred service.
  absl::Status StartService(const std::string& service);

  const std::string& kafka() const { return kafka_; }
  // The fetch.wait.max.ms every consumer here is given: Options::fetch_wait_max_ms if set, else
  // 1 on the dev broker (it holds an empty fetch for the whole value), else nullopt: the
  // services' default (Kafka answers a long-poll fetch as soon as data arrives).
  std::optional<int> fetch_wait_max_ms() const;
  // Redis as the services reach it (through the proxy, with network_proxy).
  std::string redis() const { return redis_address_; }
  // The proxies in front of Kafka and Redis; null without Options::network_proxy.
  testing::Toxiproxy* network_proxy() { return proxy_.get(); }
  const std::string& gateway() const { return gateway_; }
  // The password of a Redis ACL user ("order", "admin", ...); the same for every system of the
  // test process.
  static const std::string& RedisPassword(const std::string& user);
  // The gateway's HTTP/JSON base URL, "http://127.0.0.1:<port>"; with Options::public_tls
  // "https://gateway:<port>" (its certificate's name: resolve it to 127.0.0.1).
  const std::string& gateway_http() const { return gateway_http_; }
  const std::string& order() const { return addresses_.at("order"); }
  const std::string& billing() const { return addresses_.at("billing"); }
  const std::string& users() const { return addresses_.at("users"); }
  const std::string& notification() const { return addresses_.at("notification"); }
  // A channel to the process `service` ("order", "users", ...; its gRPC address as above) over
  // mutual TLS with the certificate of `as` ("operator" may read the admin APIs; "gateway" may
  // also assert users). An `as` without a certificate yet gets one from the test's CA.
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& service,
                                           const std::string& as = "operator") const;
  // The test's certificates (made by Start).
  const testing::LocalPki& pki() const { return *pki_; }
  // Where the notification service's file channel writes.
  std::string notification_file() const;
  std::string LogOf(const std::string& service) const;
  // A process's admin HTTP base URL ("http://127.0.0.1:<port>": /metrics, /healthz, /readyz),
  // as of its latest start; "" for one never started (or the dev broker).
  std::string admin(const std::string& process) const;
  // A process's probes' health address ("127.0.0.1:<port>", plaintext grpc.health.v1 alone:
  // --health-listen), as of its latest start; "" for one never started.
  std::string health(const std::string& process) const;
  // Waits until the process's /readyz answers 200.
  absl::Status WaitReady(const std::string& process, absl::Duration timeout) const;
  // WaitReady for the gateway and every service started (what an operator waits for before
  // sending traffic; Start() waits only until each process serves its ports).
  absl::Status WaitAllReady(absl::Duration timeout) const;
  testing::RedisServer& redis_server() { return *redis_; }
  // The Redis Cluster (Options::redis_cluster_masters); null otherwise.
  testing::RedisCluster* redis_cluster() { return redis_cluster_.get(); }
  // Runs the operator command `binary` (choreo-views, say) with `flags`, Kafka and Redis as this
  // system's, logged in as process `as` ("gateway", "notification": its Kafka properties and
  // Redis user), to its end (at most `timeout`): its exit code, and its output in `output`.
  absl::StatusOr<int> RunTool(const std::string& binary, std::vector<std::string> flags,
                              const std::string& as, absl::Duration timeout,
                              std::string* output) const;
  const Binaries& binaries() const { return binaries_; }
  // Starts another gateway instance (its own consumer group) and returns its address.
  absl::StatusOr<std::string> StartGateway(const std::string& name);
  // Starts another instance of `service` ("order", "billing", ...) named `name` ("order-2"):
  // same flags, so the same consumer group; returns its gRPC address. `flags` are added to the
  // service's.
  absl::StatusOr<std::string> StartInstance(const std::string& service, const std::string& name,
                                            const std::vector<std::string>& flags = {});
  // A rolling upgrade's step for one process: SIGTERM (it drains and leaves its group), then
  // start it again on the same address with `flags` added to its own for good.
  absl::Status Upgrade(const std::string& service, const std::vector<std::string>& flags);
  // SIGTERM and wait: the process drains, commits and leaves its group (SIGKILL after `grace`).
  absl::Status Stop(const std::string& name, absl::Duration grace = absl::Seconds(15));
  // Stops the broker for good (SIGKILL; every node of Apache Kafka).
  absl::Status KillBroker();
  // The Apache Kafka started here (to kill and restart nodes); null on the dev broker or an
  // external Kafka.
  testing::KafkaCluster* kafka_cluster() { return kafka_cluster_.get(); }
  std::vector<pid_t> Pids() const;
  std::map<std::string, pid_t> NamedPids() const;

 private:
  absl::Status StartBroker();
  // Who `process` is to the others: its certificate, and its Kafka login.
  std::vector<std::string> IdentityFlags(const std::string& process) const;
  absl::StatusOr<std::string> StartProcess(const std::string& name,
                                           std::vector<std::string> argv);

  const Binaries binaries_;
  const Options options_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::LocalPki> pki_;
  std::unique_ptr<testing::KafkaCluster> kafka_cluster_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<testing::RedisCluster> redis_cluster_;
  std::unique_ptr<testing::Toxiproxy> proxy_;
  std::string redis_address_;
  static const std::map<std::string, std::string>& RedisPasswords();
  std::string RedisPasswordFile(const std::string& user) const;
  std::string kafka_, gateway_, gateway_http_;
  std::map<std::string, std::vector<std::string>> argv_;  // each process's flags, but --port-file
  std::map<std::string, std::string> addresses_;
  std::map<std::string, std::string> admin_;
  std::map<std::string, std::string> health_;
  std::map<std::string, std::unique_ptr<testing::ChildProcess>> processes_;
};

// A well-formed CreateOrder request: `quantity` of `sku` (none when sku is empty), a delivery
// address, paid from the account balance.
gateway::v1::CreateOrderRequest OrderRequest(const std::string& request_id,
                                             const std::string& sku = "PEN-004", int quantity = 1);

class TestUsers {
 public:
  static constexpr char kPassword[] = "a long test passphrase";
  explicit TestUsers(const std::string& gateway);

  // Registers `user` (with kPassword) and logs in; the token is kept for Authorize. A user that
  // already exists is only logged in.
  grpc::Status SignUp(const std::string& user, const std::string& email = "");
  // SignUp, then a deposit of `minor_units` USD (once per user: a fixed request id).
  grpc::Status SignUpFunded(const std::string& user, int64_t minor_units);
  // Puts `user`'s bearer token on `context` (none for a user never signed up). Thread-safe.
  void Authorize(const std::string& user, grpc::ClientContext& context) const;
  std::string Token(const std::string& user) const;

 private:
  std::unique_ptr<gateway::v1::AccountService::Stub> accounts_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace choreo::e2e
