#include "edges/kafka/topic_reader.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace choreo::kafka {

absl::Status ReadTopicToEnd(const KafkaConfig& config, const std::string& topic,
                            absl::Duration timeout,
                            const std::function<absl::Status(const KafkaRecord&)>& visit) {
  absl::StatusOr<ConfPtr> conf = MakeConf(Merged({{"group.id", "choreo-topic-reader"},
                                                  {"enable.auto.commit", "false"},
                                                  {"fetch.wait.max.ms", "10"}},
                                                 config));
  if (!conf.ok()) return conf.status();
  absl::StatusOr<HandlePtr> consumer = MakeHandle(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!consumer.ok()) return consumer.status();
  rd_kafka_t* rk = consumer->get();
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));

  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle, &metadata, timeout_ms);
  rd_kafka_topic_destroy(handle);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1) err = metadata->topics[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
    return ErrorToStatus(err, absl::StrCat("metadata of ", topic));
  }
  std::map<int32_t, int64_t> ends;
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(8);
  for (int i = 0; metadata->topic_cnt == 1 && i < metadata->topics[0].partition_cnt; ++i) {
    const int32_t partition = metadata->topics[0].partitions[i].id;
    int64_t low = 0, high = 0;
    err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (high > low) {
      ends[partition] = high;
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset = low;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_topic_partition_list_destroy(assignment);
    return ErrorToStatus(err, absl::StrCat("watermarks of ", topic));
  }
  rd_kafka_assign(rk, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);

  std::map<int32_t, int64_t> next;
  auto done = [&] {
    for (const auto& [partition, end] : ends) {
      if (next[partition] < end) return false;
    }
    return true;
  };
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) {
      rd_kafka_assign(rk, nullptr);
      return absl::DeadlineExceededError(absl::StrCat("could not read ", topic, " to its end"));
    }
    MessagePtr message(rd_kafka_consumer_poll(rk, 50));
    if (message == nullptr || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (message->offset >= ends[message->partition]) continue;
    next[message->partition] = message->offset + 1;
    if (absl::Status visited = visit(RecordFromMessage(*message)); !visited.ok()) {
      rd_kafka_assign(rk, nullptr);
      return visited;
    }
  }
  rd_kafka_assign(rk, nullptr);
  return absl::OkStatus();
}

}  // namespace choreo::kafka
