// choreo-devbroker: the embedded dev broker. Hosts librdkafka's in-memory mock cluster (a
// Kafka-protocol broker for development only: no persistence, not Apache Kafka) as a process,
// creates the mission's topics, prints the bootstrap address on stdout (one line) and writes it
// to --address-file, then serves until SIGTERM or SIGINT, when it removes the file and exits 0.

#include <signal.h>

#include <pthread.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "platform/config/flag_set.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "platform/process/files.h"
#include "platform/process/stop_signals.h"
#include "contracts/topics/topics.h"

namespace {

struct DevBrokerConfig {
  int brokers = 1;
  int partitions = 4;
  std::string address_file;
  std::string extra_topics;  // comma-separated

  absl::Status Validate() const {
    if (brokers < 1 || brokers > 9) {
      return absl::InvalidArgumentError(absl::StrCat("--brokers must be 1..9, got ", brokers));
    }
    if (partitions < 1 || partitions > 256) {
      return absl::InvalidArgumentError(
          absl::StrCat("--partitions must be 1..256, got ", partitions));
    }
    return absl::OkStatus();
  }
};

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "choreo-devbroker: %s\n", std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  DevBrokerConfig config;
  choreo::config::FlagSet flags(
      "choreo-devbroker",
      "Runs librdkafka's in-memory mock cluster as a local Kafka-protocol broker with the\n"
      "mission's topics (development only). Prints the bootstrap address on stdout; stops on\n"
      "SIGTERM or SIGINT.");
  flags.Add("brokers", &config.brokers, "number of mock brokers")
      .Add("partitions", &config.partitions, "partitions of every mission topic")
      .Add("extra-topics", &config.extra_topics,
           "more topics to create (comma-separated), e.g. a benchmark's own")
      .Add("address-file", &config.address_file,
           "also write the bootstrap address to this file (removed at exit)");
  choreo::config::ParseOrExit(flags, argc, argv, [&] { return config.Validate(); });

  choreo::process::StopSignals stop_signals;  // before librdkafka starts threads

  auto cluster = choreo::kafka::EmbeddedKafkaCluster::Start({.brokers = config.brokers});
  if (!cluster.ok()) return Fail(cluster.status());
  if (absl::Status created = (*cluster)->CreateMissionTopics(config.partitions); !created.ok()) {
    return Fail(created);
  }
  for (absl::string_view topic : absl::StrSplit(config.extra_topics, ',', absl::SkipEmpty())) {
    if (absl::Status created = (*cluster)->CreateTopic(topic, config.partitions); !created.ok()) {
      return Fail(created);
    }
  }
  const std::string& address = (*cluster)->bootstrap_servers();
  if (!config.address_file.empty()) {
    if (absl::Status written =
            choreo::process::WriteFileAtomically(config.address_file, address + "\n");
        !written.ok()) {
      return Fail(written);
    }
  }
  std::printf("%s\n", address.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "choreo-devbroker: %d broker(s) at %s, %zu topics x %d partitions\n",
               config.brokers, address.c_str(), choreo::topics::MissionTopics().size(),
               config.partitions);

  const int signal_number = stop_signals.Wait();
  std::fprintf(stderr, "choreo-devbroker: %s, stopping\n", strsignal(signal_number));
  if (!config.address_file.empty()) {
    std::error_code ignored;
    std::filesystem::remove(config.address_file, ignored);
  }
  cluster->reset();
  return 0;
}
