#pragma once

// EmbeddedKafkaCluster: librdkafka's in-memory mock cluster hosted in this process: a
// Kafka-protocol broker on 127.0.0.1 ephemeral ports, for tests and local development only (no
// persistence, one thread, not Apache Kafka). Clients reach it through bootstrap_servers() like
// any broker; tests inject faults through mock().
//
// Lifetime: the brokers listen from Start() until the object is destroyed. Thread-safety: all
// methods may be called from any thread (the mock API is thread-safe).

#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "edges/kafka/kafka_client.h"

struct rd_kafka_mock_cluster_s;
typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace choreo::kafka {

class EmbeddedKafkaCluster {
 public:
  struct Options {
    int brokers = 1;
  };

  static absl::StatusOr<std::unique_ptr<EmbeddedKafkaCluster>> Start(const Options& options);
  static absl::StatusOr<std::unique_ptr<EmbeddedKafkaCluster>> Start() { return Start(Options{}); }
  ~EmbeddedKafkaCluster();
  EmbeddedKafkaCluster(const EmbeddedKafkaCluster&) = delete;
  EmbeddedKafkaCluster& operator=(const EmbeddedKafkaCluster&) = delete;

  // "127.0.0.1:port[,...]": the bootstrap.servers for clients.
  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  int brokers() const { return brokers_; }

  // Creates `topic` with `partitions` partitions (replication: min(3, brokers)).
  absl::Status CreateTopic(absl::string_view topic, int partitions);

  // Creates every topic of topics::MissionTopics() with `partitions` partitions each.
  absl::Status CreateMissionTopics(int partitions);

  // The mock cluster, for fault injection (rd_kafka_mock_push_request_errors, ...).
  rd_kafka_mock_cluster_t* mock() const { return mock_; }

 private:
  EmbeddedKafkaCluster() = default;

  HandlePtr host_;  // the client handle the mock cluster lives in
  rd_kafka_mock_cluster_t* mock_ = nullptr;
  std::string bootstrap_servers_;
  int brokers_ = 0;
};

}  // namespace choreo::kafka
