#pragma once

// KafkaConsumer: a consumer-group member that hands out KafkaRecords and stores offsets only
// when told (enable.auto.offset.store=false; stored offsets are committed by auto-commit, by
// CommitSync, and on Close).
//
// auto.offset.reset=latest: a partition the group has no committed offset for starts at its end
// as of the assignment (resolved and committed before OnAssigned), so every record appended
// after the listener hears OnAssigned is read, across later rebalances too.
//
// Rebalances: the listener hears OnAssigned before records of new partitions are polled, and
// OnRevoked before partitions go away; when OnRevoked returns, stored offsets are committed
// synchronously, then the partitions are released. Both run on the thread that calls Poll.
//
// Thread-safety: Subscribe, Poll, CommitSync and Close on one thread (the poll thread);
// StoreOffset, Pause, Resume and LatestStatistics from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "edges/kafka/fetch_confirmation.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/live_clients.h"
#include "edges/kafka/statistics.h"
#include "platform/record/record.h"

namespace choreo::kafka {

class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  virtual void OnAssigned(const std::vector<TopicPartition>& partitions) = 0;
  // Finish or abandon the partitions' work and store their offsets before returning.
  virtual void OnRevoked(const std::vector<TopicPartition>& partitions) = 0;
};

class KafkaConsumer {
 public:
  // `config` is typically ConsumerDefaults(...) plus overrides. `listener` must outlive this.
  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(const KafkaConfig& config,
                                                               RebalanceListener* listener);
  ~KafkaConsumer();  // Close() if not closed
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  // FAILED_PRECONDITION naming any of `topics` the broker does not have (topics are declared
  // and created by choreo-topics, never by use); UNAVAILABLE if the broker does not answer.
  absl::Status Subscribe(const std::vector<std::string>& topics);

  // The next record, or nullopt when none arrived within `timeout` (or only end-of-partition
  // events). A consumer error (a broker down, ...) is returned as a status; librdkafka keeps
  // retrying on its own, so the caller logs it and polls again.
  absl::StatusOr<std::optional<KafkaRecord>> Poll(absl::Duration timeout);

  // Stores `next_offset` (the offset after the last finished record) for commit.
  absl::Status StoreOffset(const TopicPartition& partition, int64_t next_offset);
  absl::Status Pause(const TopicPartition& partition);
  absl::Status Resume(const TopicPartition& partition);

  // Commits the stored offsets now, waiting at most `timeout` for the broker's answer
  // (DEADLINE_EXCEEDED after it: a stop must end even when no broker answers).
  absl::Status CommitSync(absl::Duration timeout = absl::Seconds(10));
  // Commits stored offsets, leaves the group (OnRevoked runs), destroys the client. Idempotent.
  void Close();

  std::string LatestStatistics() const;
  // True once the group gave this member an assignment (possibly empty: more members than
  // partitions), false again while it has none (after a revocation, before the next one).
  bool HasAssignment() const { return has_assignment_.load(); }
  // OK when it has its assignment, reaches a broker (librdkafka's statistics) and fetches every
  // partition it was given: statistics taken before an assignment do not count for it, so a
  // new member is not reported ready a round before its partitions look up their offsets.
  // UNAVAILABLE saying what is missing otherwise.
  absl::Status Readiness() const;
  // The consumer lag of each assigned partition, from the latest statistics.
  std::vector<PartitionLag> Lag() const;
  const std::string& group_id() const { return group_id_; }
  rd_kafka_t* handle() const { return handle_.get(); }

 private:
  explicit KafkaConsumer(RebalanceListener* listener) : listener_(listener) {}
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static int OnStatistics(rd_kafka_t* rk, char* json, size_t json_len, void* opaque);
  absl::Status PauseOrResume(const TopicPartition& partition, bool pause);
  void PinNewPartitionsToTheirEnd(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* partitions);

  RebalanceListener* const listener_;
  HandlePtr handle_;
  bool closed_ = false;
  bool start_at_end_ = false;  // auto.offset.reset=latest
  std::atomic<bool> has_assignment_{false};
  std::string group_id_;
  mutable absl::Mutex statistics_mu_;
  std::string statistics_ ABSL_GUARDED_BY(statistics_mu_);
  // Which assigned partitions readiness has yet to see fetching, in statistics delivered
  // after their assignment.
  mutable FetchConfirmation confirmation_ ABSL_GUARDED_BY(statistics_mu_);
  // Listed as "consumer <group.id>" (choreo_kafka_requests_total); last, so unlisted first.
  LiveClients::Registration listed_;
};

}  // namespace choreo::kafka
