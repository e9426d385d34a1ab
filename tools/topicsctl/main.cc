// choreo-topics: creates or verifies the mission's topics (topics::MissionTopicSpecs) through
// the Kafka Admin API. The one way topics come to exist on Apache Kafka: the local stack, the
// tests, the benchmark and production run it.
//
//   choreo-topics --kafka-brokers B                              create what is missing, verify the
//   rest choreo-topics --kafka-brokers B --check                      change nothing, report
//   ... --partitions 12 --replication-factor 3                   the deployment's size
//   ... --acls --kafka-properties admin.properties              and each service's ACLs
//
// Prints one line per topic created, missing or drifted, then a summary line. Exits 0 when every
// topic exists as declared, 1 on drift or (with --check) a missing topic, 2 when the broker
// cannot be reached. Existing topics are never altered: drift is for an operator to resolve.
// --acls also creates the ACLs each service's principal needs (topics::MissionAcls: what it
// produces, consumes and its consumer groups), as a super user of a broker with an authorizer.

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "platform/config/flag_set.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka/topic_admin.h"
#include "contracts/topics/topics.h"

namespace {

struct TopicsConfig {
  std::string kafka_brokers;
  std::string kafka_properties;
  bool acls = false;
  int partitions = 4;
  int replication_factor = 1;
  bool check = false;
  absl::Duration timeout = absl::Seconds(30);

  absl::Status Validate() const {
    if (kafka_brokers.empty()) return absl::InvalidArgumentError("--kafka-brokers is required");
    if (partitions < 1 || partitions > 1024) {
      return absl::InvalidArgumentError(
          absl::StrCat("--partitions must be 1..1024, got ", partitions));
    }
    if (replication_factor < 1 || replication_factor > 7) {
      return absl::InvalidArgumentError(
          absl::StrCat("--replication-factor must be 1..7, got ", replication_factor));
    }
    return absl::OkStatus();
  }
};

}  // namespace

int main(int argc, char** argv) {
  TopicsConfig config;
  choreo::config::FlagSet flags(
      "choreo-topics",
      "Creates the mission's Kafka topics that do not exist and verifies the ones that do\n"
      "(partitions, replication factor, min.insync.replicas, retention.ms, cleanup.policy).\n"
      "Idempotent; never alters an existing topic. Exit 0: as declared; 1: drift, or missing\n"
      "with --check; 2: the broker cannot be reached.");
  flags.Add("kafka-brokers", &config.kafka_brokers, "bootstrap servers")
      .Add("kafka-properties", &config.kafka_properties,
           "file of librdkafka properties: security.protocol, sasl.*, ssl.* (a super user's)")
      .Add("acls", &config.acls, "also create every service principal's ACLs")
      .Add("partitions", &config.partitions, "partitions of every topic")
      .Add("replication-factor", &config.replication_factor,
           "copies of every partition (production: 3, with min.insync.replicas 2)")
      .Add("check", &config.check, "only verify: create nothing")
      .Add("timeout", &config.timeout, "how long the broker may take to answer");
  choreo::config::ParseOrExit(flags, argc, argv, [&] { return config.Validate(); });

  if (absl::Status used = choreo::kafka::UseClientPropertiesFile(config.kafka_properties);
      !used.ok()) {
    std::fprintf(stderr, "choreo-topics: %s\n", std::string(used.message()).c_str());
    return 2;
  }
  auto connection =
      choreo::kafka::KafkaProducer::Create(choreo::kafka::AdminDefaults(config.kafka_brokers), {});
  if (!connection.ok()) {
    std::fprintf(stderr, "choreo-topics: %s\n", std::string(connection.status().message()).c_str());
    return 2;
  }
  const auto specs = choreo::topics::MissionTopicSpecs(
      {.partitions = config.partitions, .replication_factor = config.replication_factor});
  absl::StatusOr<choreo::kafka::TopicReport> report =
      choreo::kafka::ApplyTopics(**connection, specs, !config.check, config.timeout);
  if (!report.ok()) {
    std::fprintf(stderr, "choreo-topics: %s\n", std::string(report.status().message()).c_str());
    return absl::IsUnavailable(report.status()) ? 2 : 1;
  }
  for (const std::string& topic : report->created) std::printf("created\t%s\n", topic.c_str());
  for (const std::string& topic : report->missing) std::printf("missing\t%s\n", topic.c_str());
  for (const std::string& line : report->drift) std::printf("drift\t%s\n", line.c_str());
  std::printf("%zu topics declared: %zu created, %zu missing, %zu drifted\n", specs.size(),
              report->created.size(), report->missing.size(), report->drift.size());
  if (!report->ok()) return 1;
  if (!config.acls) return 0;
  const auto grants = choreo::topics::MissionAcls();
  if (absl::Status applied = choreo::kafka::ApplyAcls(**connection, grants, config.timeout);
      !applied.ok()) {
    std::fprintf(stderr, "choreo-topics: %s\n", std::string(applied.message()).c_str());
    return absl::IsUnavailable(applied) ? 2 : 1;
  }
  std::printf("%zu ACLs for %zu principals in place\n", grants.size(),
              choreo::topics::MissionPrincipals().size());
  return 0;
}
