#include "saga/kafka/statistics.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace choreo::kafka {

absl::StatusOr<std::vector<PartitionLag>> ConsumerLagFromStatistics(absl::string_view json) {
  google::protobuf::Struct root;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &root, options).ok()) {
    return absl::InvalidArgumentError("librdkafka statistics are not valid JSON");
  }
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
