#include "testing/topic_reader.h"

#include "edges/kafka/topic_reader.h"

namespace choreo::testing {

absl::StatusOr<std::vector<KafkaRecord>> ReadTopicToEnd(const std::string& bootstrap_servers,
                                                        const std::string& topic,
                                                        absl::Duration timeout) {
  std::vector<KafkaRecord> records;
  absl::Status read = kafka::ReadTopicToEnd(
      {{"bootstrap.servers", bootstrap_servers}}, topic, timeout, [&](const KafkaRecord& record) {
        records.push_back(record);
        return absl::OkStatus();
      });
  if (!read.ok()) return read;
  return records;
}

}  // namespace choreo::testing
