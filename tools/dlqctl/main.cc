// choreo-dlq: lists a service's dead letters and puts them back on their original topics.
//
//   choreo-dlq --kafka-brokers B --topic dlq.billing                 dry run: list, change nothing
//   choreo-dlq --kafka-brokers B --topic dlq.billing --replay        replay every dead letter
//   ... --event-id ID / --error-kind rejected / --original-topic T   only those
//
// Prints one line per selected dead letter (tab-separated: partition, offset, original topic,
// event id, error kind, error, and "would replay" or "replayed"), then a summary line.

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "edges/kafka/kafka_client.h"
#include "platform/config/flag_set.h"
#include "saga/dlq/dead_letter.h"

namespace {

struct DlqConfig {
  std::string kafka_brokers;
  std::string kafka_properties;
  std::string topic;
  bool replay = false;
  std::string event_id;
  std::string error_kind;
  std::string original_topic;
  absl::Duration timeout = absl::Seconds(30);

  absl::Status Validate() const {
    if (kafka_brokers.empty()) return absl::InvalidArgumentError("--kafka-brokers is required");
    if (topic.rfind("dlq.", 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--topic must name a dead-letter topic (dlq.<service>), got '", topic, "'"));
    }
    return absl::OkStatus();
  }
};

}  // namespace

int main(int argc, char** argv) {
  DlqConfig config;
  choreo::config::FlagSet flags(
      "choreo-dlq",
      "Lists the dead letters of a dlq.<service> topic and, with --replay, produces them back to\n"
      "their original topics (key, value and original headers unchanged). Without --replay it is\n"
      "a dry run that changes nothing.");
  flags.Add("kafka-brokers", &config.kafka_brokers, "bootstrap servers")
      .Add("kafka-properties", &config.kafka_properties,
           "file of librdkafka properties: security.protocol, sasl.*, ssl.*")
      .Add("topic", &config.topic, "the dead-letter topic, e.g. dlq.billing")
      .Add("replay", &config.replay, "replay the selected dead letters (default: dry run)")
      .Add("event-id", &config.event_id, "only the dead letter with this ce_id")
      .Add("error-kind", &config.error_kind,
           "only dead letters of this kind (undecodable, unknown_type, unsupported_major_version, "
           "rejected, ...)")
      .Add("original-topic", &config.original_topic, "only dead letters from this topic")
      .Add("timeout", &config.timeout, "how long reading the topic may take");
  choreo::config::ParseOrExit(flags, argc, argv, [&] { return config.Validate(); });

  if (absl::Status used = choreo::kafka::UseClientPropertiesFile(config.kafka_properties);
      !used.ok()) {
    std::fprintf(stderr, "choreo-dlq: %s\n", std::string(used.message()).c_str());
    return 2;
  }
  choreo::dlq::ReplayOptions options;
  options.kafka_brokers = config.kafka_brokers;
  options.dlq_topic = config.topic;
  options.dry_run = !config.replay;
  options.timeout = config.timeout;
  options.select = [&config](const choreo::KafkaRecord& record) {
    auto matches = [&record](absl::string_view header, const std::string& wanted) {
      return wanted.empty() || record.Header(header) == absl::string_view(wanted);
    };
    return matches("ce_id", config.event_id) &&
           matches(choreo::dlq::kErrorKind, config.error_kind) &&
           matches(choreo::dlq::kOriginalTopic, config.original_topic);
  };
  absl::StatusOr<std::vector<choreo::dlq::ReplayEntry>> entries =
      choreo::dlq::ReplayDeadLetters(options);
  if (!entries.ok()) {
    std::fprintf(stderr, "choreo-dlq: %s\n", entries.status().ToString().c_str());
    return 1;
  }
  for (const choreo::dlq::ReplayEntry& entry : *entries) {
    std::printf("%d\t%lld\t%s\t%s\t%s\t%s\t%s\n", entry.partition,
                static_cast<long long>(entry.offset), entry.original_topic.c_str(),
                entry.event_id.c_str(), entry.error_kind.c_str(), entry.error.c_str(),
                entry.replayed ? "replayed" : "would replay");
  }
  std::printf("%zu dead letter(s) %s\n", entries->size(),
              config.replay ? "replayed" : "selected (dry run: nothing replayed)");
  return 0;
}
