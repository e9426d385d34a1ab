#include "testing/kafka_cluster.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "contracts/topics/acls.h"
#include "contracts/topics/topics.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka/topic_admin.h"
#include "testing/wait.h"

namespace choreo::testing {
namespace {

// A client for admin work only, quiet while the cluster is still starting.
absl::StatusOr<std::unique_ptr<kafka::KafkaProducer>> AdminConnection(const std::string& bootstrap) {
  return kafka::KafkaProducer::Create(
      kafka::Merged(kafka::AdminDefaults(bootstrap), {{"log_level", "0"}}), {}, absl::Seconds(1));
}

// True when `metadata` shows `nodes` brokers and every partition led.
bool Serving(const rd_kafka_metadata_t& metadata, int nodes) {
  if (metadata.broker_cnt < nodes) return false;
  for (int t = 0; t < metadata.topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& topic = metadata.topics[t];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    for (int p = 0; p < topic.partition_cnt; ++p) {
      if (topic.partitions[p].leader < 0) return false;
    }
  }
  return true;
}

// Writes `text` to `path`, readable by its owner only (it holds passwords).
absl::Status WritePrivateFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write ", path));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return written ? absl::OkStatus() : absl::InternalError(absl::StrCat("cannot write ", path));
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaCluster>> KafkaCluster::Start(Options options) {
  // A node exits at start when a port picked as free was taken before it bound it (by another
  // test's server): start again, on other ports, a few times.
  absl::StatusOr<std::unique_ptr<KafkaCluster>> cluster;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    cluster = StartOnce(options);
    if (cluster.ok() || !absl::StrContains(cluster.status().message(), " exited")) break;
    std::fprintf(stderr, "KafkaCluster: attempt %d: %s\n", attempt,
                 std::string(cluster.status().message()).c_str());
  }
  return cluster;
}

absl::StatusOr<std::unique_ptr<KafkaCluster>> KafkaCluster::StartOnce(const Options& options_in) {
  Options options = options_in;
  if (options.nodes < 1 || options.nodes > 5) {
    return absl::InvalidArgumentError(absl::StrCat("nodes must be 1..5, got ", options.nodes));
  }
  if (options.launcher.empty()) {
    const char* env = std::getenv("CHOREO_KAFKA_NODE");
    options.launcher = env != nullptr && *env != '\0' ? env : CHOREO_KAFKA_NODE;
  }
  absl::StatusOr<TempDir> dir = TempDir::Create("choreo-kafka-");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<KafkaCluster> cluster(new KafkaCluster(std::move(options), *std::move(dir)));
  const Options& opts = cluster->options_;
  std::vector<std::string> voters, bootstrap;
  for (int i = 0; i < opts.nodes; ++i) {
    Node node;
    absl::StatusOr<int> port =
        i < static_cast<int>(opts.ports.size()) ? opts.ports[i] : PickFreeTcpPort();
    absl::StatusOr<int> controller_port = PickFreeTcpPort();
    if (!port.ok()) return port.status();
    if (!controller_port.ok()) return controller_port.status();
    node.port = *port;
    node.advertised_port =
        i < static_cast<int>(opts.advertised_ports.size()) ? opts.advertised_ports[i] : node.port;
    node.controller_port = *controller_port;
    voters.push_back(absl::StrCat(i + 1, "@127.0.0.1:", node.controller_port));
    bootstrap.push_back(absl::StrCat("127.0.0.1:", node.advertised_port));
    cluster->nodes_.push_back(std::move(node));
  }
  cluster->voters_ = absl::StrJoin(voters, ",");
  cluster->bootstrap_ = absl::StrJoin(bootstrap, ",");
  // One cluster id for every node: a fixed, valid one is enough for a throwaway cluster.
  cluster->cluster_id_ = "Y2hvcmVvLXRlc3QtY2x1cw";
  if (opts.authenticate) {
    if (absl::Status written = cluster->WriteUsers(); !written.ok()) return written;
    kafka::SetProcessClientProperties(cluster->ClientProperties("admin"));
  }
  for (int i = 0; i < opts.nodes; ++i) {
    if (absl::Status launched = cluster->Launch(i); !launched.ok()) return launched;
  }
  if (absl::Status serving = cluster->WaitServing(opts.nodes, opts.startup_timeout);
      !serving.ok()) {
    return serving;
  }
  absl::StatusOr<std::unique_ptr<kafka::KafkaProducer>> admin =
      AdminConnection(cluster->bootstrap_);
  if (!admin.ok()) return admin.status();
  if (opts.authenticate) {
    if (absl::Status granted = kafka::ApplyAcls(**admin, topics::MissionAcls()); !granted.ok()) {
      return granted;
    }
  }
  if (opts.mission_topics) {
    absl::StatusOr<kafka::TopicReport> report = kafka::ApplyTopics(
        **admin,
        topics::MissionTopicSpecs({.partitions = opts.partitions,
                                   .replication_factor = cluster->replication_factor()}),
        /*create_missing=*/true);
    if (!report.ok()) return report.status();
  }
  if (absl::Status created = kafka::EnsureTopics(**admin, opts.extra_topics, opts.partitions);
      !created.ok()) {
    return created;
  }

  if (absl::Status serving = cluster->WaitServing(opts.nodes, opts.startup_timeout);
      !serving.ok()) {
    return serving;
  }
  return cluster;
}

KafkaCluster::~KafkaCluster() { KillAll(); }

void KafkaCluster::KillAll() {
  // The data is thrown away with the temp dir: no controlled shutdown to wait for.
  for (Node& node : nodes_) {
    if (node.process != nullptr) {
      node.process->Signal(SIGKILL);
      static_cast<void>(node.process->Wait(absl::Seconds(10)));
      node.process.reset();
    }
  }
}

pid_t KafkaCluster::pid(int node) const {
  const Node& n = nodes_.at(node);
  return n.process == nullptr ? 0 : n.process->pid();
}

std::string KafkaCluster::LogOf(int node) const {
  return dir_.File(absl::StrCat("node-", node + 1, ".log"));
}

absl::Status KafkaCluster::WriteUsers() {
  std::random_device random;
  std::vector<std::string> principals = topics::MissionPrincipals();
  principals.push_back("admin");
  std::string users;
  for (const std::string& principal : principals) {
    passwords_[principal] = absl::StrFormat("%08x%08x%08x", random(), random(), random());
    absl::StrAppend(&users, principal, " ", passwords_[principal], "\n");
  }
  return WritePrivateFile(dir_.File("kafka-users"), users);
}

kafka::KafkaConfig KafkaCluster::ClientProperties(const std::string& principal) const {
  const auto password = passwords_.find(principal);
  if (password == passwords_.end()) return {};
  // PLAIN: librdkafka 2.0.2's SCRAM client fails against Kafka 4 (deploy/kafka/README.md).
  return {{"security.protocol", "sasl_plaintext"},
          {"sasl.mechanisms", "PLAIN"},
          {"sasl.username", principal},
          {"sasl.password", password->second}};
}

std::string KafkaCluster::ClientPropertiesFile(const std::string& principal) const {
  const kafka::KafkaConfig properties = ClientProperties(principal);
  if (properties.empty()) return "";
  std::string text;
  for (const auto& [name, value] : properties) absl::StrAppend(&text, name, "=", value, "\n");
  const std::string path = dir_.File(absl::StrCat("kafka-", principal, ".properties"));
  if (!WritePrivateFile(path, text).ok()) return "";
  return path;
}

absl::Status KafkaCluster::Launch(int node) {
  Node& n = nodes_.at(node);
  std::vector<std::string> argv = {
      options_.launcher, "--dir", dir_.File(absl::StrCat("node-", node + 1)), "--port",
      absl::StrCat(n.port), "--controller-port", absl::StrCat(n.controller_port), "--node-id",
      absl::StrCat(node + 1), "--voters", voters_, "--cluster-id", cluster_id_, "--heap",
      options_.heap};
  if (options_.fast_start) argv.push_back("--fast-start");
  if (options_.authenticate) argv.insert(argv.end(), {"--sasl-users", dir_.File("kafka-users")});
  if (n.advertised_port != n.port) {
    argv.insert(argv.end(), {"--advertised-port", absl::StrCat(n.advertised_port)});
  }
  absl::StatusOr<ChildProcess> process =
      ChildProcess::Start({.argv = std::move(argv), .log_path = LogOf(node)});
  if (!process.ok()) return process.status();
  n.process = std::make_unique<ChildProcess>(*std::move(process));
  return absl::OkStatus();
}

absl::Status KafkaCluster::Kill(int node) {
  Node& n = nodes_.at(node);
  if (n.process == nullptr) return absl::FailedPreconditionError("node is not running");
  n.process->Signal(SIGKILL);
  absl::StatusOr<int> exit = n.process->Wait(absl::Seconds(10));
  n.process.reset();
  return exit.status();
}

absl::Status KafkaCluster::Restart(int node) {
  if (nodes_.at(node).process != nullptr) {
    return absl::FailedPreconditionError("node is still running");
  }
  if (absl::Status launched = Launch(node); !launched.ok()) return launched;
  return WaitServing(nodes(), options_.startup_timeout);
}

absl::Status KafkaCluster::WaitServing(int nodes, absl::Duration timeout) const {
  absl::StatusOr<std::unique_ptr<kafka::KafkaProducer>> admin = AdminConnection(bootstrap_);
  if (!admin.ok()) return admin.status();
  bool exited = false;
  const bool serving = WaitUntil(
      [&] {
        for (const Node& node : nodes_) {
          if (node.process != nullptr && !node.process->running()) exited = true;
        }
        if (exited) return true;
        const rd_kafka_metadata_t* metadata = nullptr;
        if (rd_kafka_metadata((*admin)->handle(), 1, nullptr, &metadata, 1000) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
          return false;
        }
        const bool ok = Serving(*metadata, nodes);
        rd_kafka_metadata_destroy(metadata);
        return ok;
      },
      timeout);
  if (serving && !exited) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("Apache Kafka at ", bootstrap_, exited ? " exited" : " did not serve in time",
                   "; see ", LogOf(0), ", which ends:\n", LastLines(LogOf(0), 8)));
}

}  // namespace choreo::testing
