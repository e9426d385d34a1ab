#include "edges/kafka/kafka_consumer.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "edges/kafka/fetch_confirmation.h"
#include "edges/kafka/statistics.h"
#include "edges/kafka/topic_admin.h"
#include "platform/logging/logger.h"

namespace choreo::kafka {
namespace {

std::vector<TopicPartition> ToVector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using ListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

ListPtr OneTopicPartition(const TopicPartition& tp) {
  ListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  return list;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(const KafkaConfig& config,
                                                                     RebalanceListener* listener) {
  absl::StatusOr<ConfPtr> conf = MakeConf(config);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<KafkaConsumer> consumer(new KafkaConsumer(listener));
  rd_kafka_conf_set_opaque(conf->get(), consumer.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaConsumer::OnRebalance);
  rd_kafka_conf_set_stats_cb(conf->get(), &KafkaConsumer::OnStatistics);
  absl::StatusOr<HandlePtr> handle = MakeHandle(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!handle.ok()) return handle.status();
  consumer->handle_ = *std::move(handle);
  rd_kafka_poll_set_consumer(consumer->handle_.get());
  for (const auto& [name, value] : config) {
    if (name == "group.id") consumer->group_id_ = value;
    if (name == "auto.offset.reset") consumer->start_at_end_ = value == "latest";
  }
  consumer->listed_ =
      LiveClients::Process().Add(absl::StrCat("consumer ", consumer->group_id_),
                                 [c = consumer.get()] { return c->LatestStatistics(); });
  return consumer;
}

void KafkaConsumer::PinNewPartitionsToTheirEnd(rd_kafka_t* rk,
                                               rd_kafka_topic_partition_list_t* partitions) {
  // Without this, librdkafka resolves "latest" at the partition's first fetch, some time after
  // the assignment: a record appended in between (one a caller caused as soon as the listener
  // heard OnAssigned) would be skipped.
  // The pinned positions are committed at once, so that a later rebalance (a coordinator that
  // moved, a session that expired) resumes from them instead of from a newer end.
  constexpr int kTimeoutMs = 5000;
  if (rd_kafka_committed(rk, partitions, kTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  rd_kafka_topic_partition_list_t* pinned = rd_kafka_topic_partition_list_new(partitions->cnt);
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& partition = partitions->elems[i];
    if (partition.offset >= 0) continue;  // the group's committed position stands
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(rk, partition.topic, partition.partition, &low, &high,
                                         kTimeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      partition.offset = high;
      rd_kafka_topic_partition_list_add(pinned, partition.topic, partition.partition)->offset = high;
    }
  }
  if (pinned->cnt > 0) rd_kafka_commit(rk, pinned, /*async=*/0);
  rd_kafka_topic_partition_list_destroy(pinned);
}

absl::Status KafkaConsumer::Readiness() const {
  if (!HasAssignment()) {
    return absl::UnavailableError(absl::StrCat(group_id_, ": waiting for a partition assignment"));
  }
  std::string statistics;
  FetchConfirmation::Pending pending;
  {
    absl::MutexLock lock(&statistics_mu_);
    statistics = statistics_;
    pending = confirmation_.Unconfirmed();
  }
  if (!pending.partitions.empty()) {  // parsed only then: at start and after a rebalance
    if (absl::Status fetching = FetchConfirmation::Check(pending, statistics); !fetching.ok()) {
      return absl::UnavailableError(absl::StrCat(group_id_, ": ", fetching.message()));
    }
    absl::MutexLock lock(&statistics_mu_);
    confirmation_.Confirm(pending);
  }
  return CheckConsumerReady(statistics);
}

std::vector<PartitionLag> KafkaConsumer::Lag() const {
  absl::StatusOr<std::vector<PartitionLag>> lag = ConsumerLagFromStatistics(LatestStatistics());
  return lag.ok() ? *std::move(lag) : std::vector<PartitionLag>{};
}

KafkaConsumer::~KafkaConsumer() { Close(); }

absl::Status KafkaConsumer::Subscribe(const std::vector<std::string>& topics) {
  // A missing topic would leave the member waiting silently for ever: refuse, naming it.
  if (absl::Status exist = RequireTopics(handle_.get(), topics); !exist.ok()) return exist;
  ListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& topic : topics) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  return ErrorToStatus(rd_kafka_subscribe(handle_.get(), list.get()), "subscribe");
}

absl::StatusOr<std::optional<KafkaRecord>> KafkaConsumer::Poll(absl::Duration timeout) {
  MessagePtr message(rd_kafka_consumer_poll(
      handle_.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout))));
  if (message == nullptr) return std::nullopt;
  if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::nullopt;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorToStatus(message->err,
                         absl::StrCat("consume: ", rd_kafka_message_errstr(message.get())));
  }
  return RecordFromMessage(*message);
}

absl::Status KafkaConsumer::StoreOffset(const TopicPartition& partition, int64_t next_offset) {
  ListPtr list = OneTopicPartition(partition);
  list->elems[0].offset = next_offset;
  rd_kafka_resp_err_t err = rd_kafka_offsets_store(handle_.get(), list.get());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  return ErrorToStatus(err, absl::StrCat("store offset ", partition.topic, "[",
                                         partition.partition, "]=", next_offset));
}

absl::Status KafkaConsumer::PauseOrResume(const TopicPartition& partition, bool pause) {
  ListPtr list = OneTopicPartition(partition);
  rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(handle_.get(), list.get())
                                  : rd_kafka_resume_partitions(handle_.get(), list.get());
  return ErrorToStatus(err, absl::StrCat(pause ? "pause " : "resume ", partition.topic, "[",
                                         partition.partition, "]"));
}

absl::Status KafkaConsumer::Pause(const TopicPartition& partition) {
  return PauseOrResume(partition, true);
}

absl::Status KafkaConsumer::Resume(const TopicPartition& partition) {
  return PauseOrResume(partition, false);
}

absl::Status KafkaConsumer::CommitSync(absl::Duration timeout) {
  rd_kafka_queue_t* answers = rd_kafka_queue_new(handle_.get());
  rd_kafka_resp_err_t err =
      rd_kafka_commit_queue(handle_.get(), nullptr, answers, nullptr, nullptr);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_event_t* answer =
        rd_kafka_queue_poll(answers, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    if (answer == nullptr) {
      err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    } else {
      err = rd_kafka_event_error(answer);
      rd_kafka_event_destroy(answer);
    }
  }
  rd_kafka_queue_destroy(answers);
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return absl::OkStatus();  // nothing new to commit
  return ErrorToStatus(err, "commit");
}

void KafkaConsumer::Close() {
  if (closed_ || handle_ == nullptr) return;
  closed_ = true;
  rd_kafka_consumer_close(handle_.get());
  handle_.reset();
}

std::string KafkaConsumer::LatestStatistics() const {
  absl::MutexLock lock(&statistics_mu_);
  return statistics_;
}

void KafkaConsumer::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (self->start_at_end_) self->PinNewPartitionsToTheirEnd(rk, partitions);
    std::vector<TopicPartition> assigned = ToVector(partitions);
    {
      // Statistics delivered after this callback were taken after the revocation that came
      // before it (the rebalance event was queued after that), so they show these partitions
      // as they are now, not as this member fetched them before.
      absl::MutexLock lock(&self->statistics_mu_);
      self->confirmation_.Assigned(assigned);
    }
    self->listener_->OnAssigned(assigned);
    self->has_assignment_.store(true);
    std::string failed;
    if (cooperative) {
      if (rd_kafka_error_t* error = rd_kafka_incremental_assign(rk, partitions)) {
        failed = rd_kafka_error_string(error);
        rd_kafka_error_destroy(error);
      }
    } else if (rd_kafka_resp_err_t error = rd_kafka_assign(rk, partitions); error) {
      failed = rd_kafka_err2str(error);
    }
    // Its partitions never fetch: readiness says which, until the next rebalance.
    if (!failed.empty()) logging::Error(absl::StrCat(self->group_id_, ": assign failed: ", failed));
    return;
  }
  // Revoked (or lost): let the listener finish and store, commit, then let go.
  const std::vector<TopicPartition> revoked = ToVector(partitions);
  self->listener_->OnRevoked(revoked);
  {
    absl::MutexLock lock(&self->statistics_mu_);
    self->confirmation_.Revoked(revoked);
  }
  // Eager: everything is revoked and a new assignment follows. Cooperative: only these.
  if (!cooperative || rd_kafka_assignment_lost(rk) != 0) self->has_assignment_.store(false);
  if (rd_kafka_assignment_lost(rk) == 0) rd_kafka_commit(rk, nullptr, /*async=*/0);
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk, partitions)) {
      rd_kafka_error_destroy(error);
    }
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

int KafkaConsumer::OnStatistics(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  absl::MutexLock lock(&self->statistics_mu_);
  self->statistics_.assign(json, json_len);
  self->confirmation_.StatisticsDelivered();
  return 0;
}

}  // namespace choreo::kafka
