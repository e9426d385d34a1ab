#include "edges/kafka/topic_reader.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace choreo::kafka {

namespace {

// Each non-empty partition's range to read: from its start to its end as of now.
struct Ranges {
  std::map<int32_t, int64_t> next;  // the next offset to read
  std::map<int32_t, int64_t> ends;  // exclusive
  int64_t total = 0;
};

// Assigns `rk` every non-empty partition of `topic` from its start, and returns the ranges.
absl::StatusOr<Ranges> AssignFromStart(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle, &metadata, timeout_ms);
  rd_kafka_topic_destroy(handle);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1) err = metadata->topics[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
    return ErrorToStatus(err, absl::StrCat("metadata of ", topic));
  }
  Ranges ranges;
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(8);
  for (int i = 0; metadata->topic_cnt == 1 && i < metadata->topics[0].partition_cnt; ++i) {
    const int32_t partition = metadata->topics[0].partitions[i].id;
    int64_t low = 0, high = 0;
    err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (high > low) {
      ranges.ends[partition] = high;
      ranges.next[partition] = low;
      ranges.total += high - low;
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
  return ranges;
}

// An error no retry mends: the login may not read the topic. (A missing topic is found by the
// metadata request first; an unknown partition, or a group authorization failure, which
// librdkafka reports though nothing here uses the group, can be passing states.)
bool IsRefusal(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
}

}  // namespace

absl::Status ReadTopicToEnd(const KafkaConfig& config, const std::string& topic,
                            absl::Duration timeout,
                            const std::function<absl::Status(const KafkaRecord&)>& visit,
                            const std::function<void(const ReadProgress&)>& progress) {
  // A start deleted by retention meanwhile: from what is left, never from the end.
  absl::StatusOr<ConfPtr> conf = MakeConf(Merged({{"group.id", "choreo-topic-reader"},
                                                  {"enable.auto.commit", "false"},
                                                  {"auto.offset.reset", "earliest"},
                                                  {"enable.partition.eof", "true"},
                                                  {"fetch.wait.max.ms", "10"}},
                                                 config));
  if (!conf.ok()) return conf.status();
  absl::StatusOr<HandlePtr> consumer = MakeHandle(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!consumer.ok()) return consumer.status();
  rd_kafka_t* rk = consumer->get();
  absl::StatusOr<Ranges> ranges =
      AssignFromStart(rk, topic, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (!ranges.ok()) return ranges.status();
  std::map<int32_t, int64_t>& ends = ranges->ends;
  std::map<int32_t, int64_t>& next = ranges->next;
  ReadProgress read{.offsets_total = ranges->total};

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
    if (message == nullptr) continue;
    if (IsRefusal(message->err)) {
      rd_kafka_assign(rk, nullptr);
      return ErrorToStatus(message->err, absl::StrCat("reading ", topic));
    }
    auto end = ends.find(message->partition);
    if (end == ends.end()) continue;
    const bool at_end =
        message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
        (message->err == RD_KAFKA_RESP_ERR_NO_ERROR && message->offset >= end->second);
    if (at_end && message->offset >= end->second) {
      read.offsets_read += end->second - next[message->partition];
      next[message->partition] = end->second;  // the rest was compacted away, or is newer
      if (progress) progress(read);
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;  // transient: librdkafka retries
    read.offsets_read += message->offset + 1 - next[message->partition];
    next[message->partition] = message->offset + 1;
    if (absl::Status visited = visit(RecordFromMessage(*message)); !visited.ok()) {
      rd_kafka_assign(rk, nullptr);
      return visited;
    }
    if (progress) progress(read);
  }
  rd_kafka_assign(rk, nullptr);
  return absl::OkStatus();
}

}  // namespace choreo::kafka
