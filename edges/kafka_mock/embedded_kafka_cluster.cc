#include "edges/kafka_mock/embedded_kafka_cluster.h"

#include <librdkafka/rdkafka_mock.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "contracts/topics/topics.h"

namespace choreo::kafka {

absl::StatusOr<std::unique_ptr<EmbeddedKafkaCluster>> EmbeddedKafkaCluster::Start(
    const Options& options) {
  if (options.brokers < 1) {
    return absl::InvalidArgumentError(absl::StrCat("brokers must be >= 1, got ", options.brokers));
  }
  // The host handle only carries the cluster; it never connects anywhere itself.
  absl::StatusOr<ConfPtr> conf = MakeConf({{"log_level", "3"}});
  if (!conf.ok()) return conf.status();
  absl::StatusOr<HandlePtr> host = MakeHandle(RD_KAFKA_PRODUCER, *std::move(conf));
  if (!host.ok()) return host.status();

  std::unique_ptr<EmbeddedKafkaCluster> cluster(new EmbeddedKafkaCluster());
  cluster->host_ = *std::move(host);
  cluster->mock_ = rd_kafka_mock_cluster_new(cluster->host_.get(), options.brokers);
  if (cluster->mock_ == nullptr) {
    return absl::InternalError("rd_kafka_mock_cluster_new failed (no free port?)");
  }
  cluster->bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(cluster->mock_);
  cluster->brokers_ = options.brokers;
  return cluster;
}

EmbeddedKafkaCluster::~EmbeddedKafkaCluster() {
  if (mock_ != nullptr) rd_kafka_mock_cluster_destroy(mock_);
}

absl::Status EmbeddedKafkaCluster::CreateTopic(absl::string_view topic, int partitions) {
  if (partitions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic ", topic, ": partitions must be >= 1, got ", partitions));
  }
  std::string name(topic);
  return ErrorToStatus(
      rd_kafka_mock_topic_create(mock_, name.c_str(), partitions, std::min(3, brokers_)),
      absl::StrCat("create topic ", topic));
}

absl::Status EmbeddedKafkaCluster::CreateMissionTopics(int partitions) {
  for (const std::string& topic : topics::MissionTopics()) {
    if (absl::Status created = CreateTopic(topic, partitions); !created.ok()) return created;
  }
  return absl::OkStatus();
}

}  // namespace choreo::kafka
