#include "edges/kafka/statistics.h"

#include "absl/strings/numbers.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace choreo::kafka {

namespace {

absl::StatusOr<google::protobuf::Struct> ParseStatistics(absl::string_view json) {
  google::protobuf::Struct root;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &root, options).ok()) {
    return absl::InvalidArgumentError("librdkafka statistics are not valid JSON");
  }
  return root;
}

int BrokersUp(const google::protobuf::Struct& root) {
  int up = 0;
  auto brokers = root.fields().find("brokers");
  if (brokers == root.fields().end()) return up;
  for (const auto& [name, broker] : brokers->second.struct_value().fields()) {
    const auto& fields = broker.struct_value().fields();
    auto state = fields.find("state");
    if (state != fields.end() && state->second.string_value() == "UP") ++up;
  }
  return up;
}

// A client's statistics, parsed once (tens of KB of JSON), when they show a broker UP;
// UNAVAILABLE otherwise (none, no statistics yet, not JSON).
absl::StatusOr<google::protobuf::Struct> ReachableStatistics(absl::string_view json) {
  if (json.empty()) return absl::UnavailableError("Kafka: no client statistics yet");
  absl::StatusOr<google::protobuf::Struct> root = ParseStatistics(json);
  if (!root.ok()) return absl::UnavailableError(root.status().message());
  if (BrokersUp(*root) == 0) return absl::UnavailableError("Kafka: no broker reachable");
  return root;
}

}  // namespace

absl::StatusOr<int> BrokersUpInStatistics(absl::string_view json) {
  absl::StatusOr<google::protobuf::Struct> root = ParseStatistics(json);
  if (!root.ok()) return root.status();
  return BrokersUp(*root);
}

absl::Status CheckBrokersReachable(absl::string_view json) {
  return ReachableStatistics(json).status();
}

absl::Status CheckConsumerReady(absl::string_view json) {
  absl::StatusOr<google::protobuf::Struct> root = ReachableStatistics(json);
  if (!root.ok()) return root.status();
  auto topics = root->fields().find("topics");
  if (topics == root->fields().end()) return absl::OkStatus();
  for (const auto& [topic, topic_value] : topics->second.struct_value().fields()) {
    auto partitions = topic_value.struct_value().fields().find("partitions");
    if (partitions == topic_value.struct_value().fields().end()) continue;
    for (const auto& [id, partition] : partitions->second.struct_value().fields()) {
      const auto& fields = partition.struct_value().fields();
      auto state = fields.find("fetch_state");
      if (state == fields.end()) continue;
      const std::string& fetch = state->second.string_value();
      if (fetch == "offset-query" || fetch == "offset-wait") {
        return absl::UnavailableError(
            absl::StrCat("Kafka: ", topic, "[", id, "] is still looking up its offset"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckProducerIdAssigned(absl::string_view json) {
  if (json.empty()) return absl::UnavailableError("Kafka: no client statistics yet");
  constexpr absl::string_view kKey = "\"idemp_state\"";
  const size_t key = json.find(kKey);
  if (key == absl::string_view::npos) return absl::OkStatus();  // no idempotence to wait for
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(json.substr(key + kKey.size()));
  if (!absl::ConsumePrefix(&rest, ":")) return absl::UnavailableError("Kafka: bad statistics");
  rest = absl::StripLeadingAsciiWhitespace(rest);
  if (!absl::ConsumePrefix(&rest, "\"")) return absl::UnavailableError("Kafka: bad statistics");
  const absl::string_view state = rest.substr(0, rest.find('"'));
  if (state == "Assigned") return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("Kafka: the producer has no producer id yet (", state, ")"));
}

absl::Status CheckProducerReady(absl::string_view json) {
  if (absl::Status reachable = CheckBrokersReachable(json); !reachable.ok()) return reachable;
  return CheckProducerIdAssigned(json);
}

absl::StatusOr<std::vector<PartitionLag>> ConsumerLagFromStatistics(absl::string_view json) {
  absl::StatusOr<google::protobuf::Struct> parsed = ParseStatistics(json);
  if (!parsed.ok()) return parsed.status();
  const google::protobuf::Struct& root = *parsed;
  std::vector<PartitionLag> lags;
  auto topics = root.fields().find("topics");
  if (topics == root.fields().end()) return lags;
  for (const auto& [topic, topic_value] : topics->second.struct_value().fields()) {
    auto partitions = topic_value.struct_value().fields().find("partitions");
    if (partitions == topic_value.struct_value().fields().end()) continue;
    for (const auto& [id, partition] : partitions->second.struct_value().fields()) {
      PartitionLag lag;
      lag.topic = topic;
      if (!absl::SimpleAtoi(id, &lag.partition) || lag.partition < 0) continue;
      const auto& fields = partition.struct_value().fields();
      auto consumer_lag = fields.find("consumer_lag");
      if (consumer_lag == fields.end() || consumer_lag->second.number_value() < 0) continue;
      lag.lag = static_cast<int64_t>(consumer_lag->second.number_value());
      lags.push_back(std::move(lag));
    }
  }
  return lags;
}

}  // namespace choreo::kafka
