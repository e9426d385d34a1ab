#pragma once

// KafkaCluster: real Apache Kafka (KRaft, every node broker and controller) started for one
// test through the project's launcher, deploy/kafka/kafka-node.sh.
//
// Promises: every node listens on 127.0.0.1 on ports that were free (or given), keeps its data in
// the cluster's own temp dir, and dies with the test (PR_SET_PDEATHSIG reaches the JVM, which the
// launcher execs). Start() returns once every node is registered and, unless told otherwise,
// the mission's topics exist as declared (topics::MissionTopicSpecs, created by the same code as
// choreo-topics) with every partition led. A cluster of N nodes replicates min(N, 3) times.
// Kill() and Restart() take one node away and bring it back on the same ports with its data.
// With Options::authenticate the cluster runs as production should (ARCHITECTURE.md §7): every
// client logs in (SASL PLAIN) as one of choreo's principals (topics::MissionPrincipals, or the
// super user "admin"), each allowed only its own topics and groups (topics::MissionAcls); this
// test process's own clients log in as admin (kafka::SetProcessClientProperties).
// Not thread-safe: one test thread drives it.

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "edges/kafka/kafka_client.h"
#include "testing/child_process.h"
#include "testing/temp_dir.h"

namespace choreo::testing {

class KafkaCluster {
 public:
  struct Options {
    int nodes = 1;
    int partitions = 4;               // of every mission topic
    bool mission_topics = true;       // create them (else the broker starts empty)
    std::vector<std::string> extra_topics;  // created too, with `partitions` partitions
    std::string heap = "256m";        // each node's JVM heap
    // A JVM that starts sooner but runs slower (C1 only): tests. Benchmarks turn it off.
    bool fast_start = true;
    absl::Duration startup_timeout = absl::Seconds(120);
    // The launcher; CHOREO_KAFKA_NODE in the environment, else the checkout's.
    std::string launcher;
    // Per node, optional: the port it listens on, and the port it tells clients to connect to
    // (a proxy's in front of it, which the caller runs). Free ports are picked where not given.
    std::vector<int> ports;
    std::vector<int> advertised_ports;
    // SASL logins and ACLs, as above; off: anyone may do anything.
    bool authenticate = false;
  };

  // A node that exits at start (a port taken meanwhile) is started again on other ports, up to
  // three times.
  static absl::StatusOr<std::unique_ptr<KafkaCluster>> Start(Options options);
  // The pinned Apache Kafka version (deploy/kafka/pom.xml), e.g. "4.1.1".
  static std::string Version() { return CHOREO_KAFKA_VERSION; }
  ~KafkaCluster();

  // "127.0.0.1:p1,127.0.0.1:p2,..."
  const std::string& bootstrap_servers() const { return bootstrap_; }
  int nodes() const { return static_cast<int>(nodes_.size()); }
  int replication_factor() const { return nodes() < 3 ? nodes() : 3; }
  pid_t pid(int node) const;  // 0 while the node is down
  std::string LogOf(int node) const;

  // SIGKILL one node (0-based index); its data stays.
  absl::Status Kill(int node);
  // Starts a killed node again on its ports and data, and waits until it is registered.
  absl::Status Restart(int node);
  // SIGKILL every node, for good.
  void KillAll();

  // With Options::authenticate: the librdkafka properties that log in as `principal` (one of
  // topics::MissionPrincipals, or "admin"), as a file for a process's --kafka-properties and as
  // a config for a client of this process. Empty without authentication.
  std::string ClientPropertiesFile(const std::string& principal) const;
  kafka::KafkaConfig ClientProperties(const std::string& principal) const;

  // Waits until `nodes` brokers are registered and every partition of every topic has a leader.
  absl::Status WaitServing(int nodes, absl::Duration timeout) const;

 private:
  static absl::StatusOr<std::unique_ptr<KafkaCluster>> StartOnce(const Options& options);
  struct Node {
    int port = 0, advertised_port = 0, controller_port = 0;
    std::unique_ptr<ChildProcess> process;
  };
  KafkaCluster(Options options, TempDir dir) : options_(std::move(options)), dir_(std::move(dir)) {}
  absl::Status Launch(int node);
  // Writes the users file of --sasl-users: admin and every mission principal, random passwords.
  absl::Status WriteUsers();

  Options options_;
  TempDir dir_;
  std::string cluster_id_, voters_, bootstrap_;
  std::map<std::string, std::string> passwords_;  // by principal, with authentication
  std::vector<Node> nodes_;
};

}  // namespace choreo::testing
