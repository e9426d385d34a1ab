#pragma once

// ConsumerLoop: the one way a choreo process reads Kafka. The saga runtime, the gateway's status
// feed and the timeline indexer each run one; it owns the consumer, the poll thread, the key
// lanes and the offsets, so that each of them only says what to do with records.
//
//   poll -> lane (hash of the key) -> the handler gets a batch of that lane's records -> each
//   record the handler finished as done -> its offset is stored (committed by librdkafka's
//   auto-commit, on revoke and at Stop)
//
// Promises:
// - Per-key order: records with the same key reach the same lane in partition order, and a lane
//   hands its handler one batch at a time; different lanes run in parallel.
// - An offset is stored only after its record was finished as done, and never past a record of
//   the same partition that is still in flight (PartitionOffsets): a crash or a revoke
//   re-delivers every unfinished record. A record the handler abandoned holds its partition's
//   offset back until the partition is revoked or the process restarts.
// - A partition pauses while max_in_flight_per_partition of its records are in flight or one
//   of them is retrying (RecordScope::SetRetrying), and resumes after.
// - Revoked partitions: records not yet handed to a handler are dropped (the new owner reads
//   them again); records in a handler finish within drain_timeout or are abandoned (their
//   offsets are never stored; RecordScope::Wait returns false at once).
// - Stop(): stops polling, lets the lanes finish what they hold (up to drain_timeout), abandons
//   the rest, commits the stored offsets and leaves the group. Idempotent, noexcept.
// - Halt(): as if the process died here (tests' crash points): nothing more is handed out or
//   stored, and Stop() commits nothing.
// Thread-safety: Start, WaitForAssignment and Stop from one owning thread; the handler runs on
// the lane threads (lane i always on the same thread); Readiness and Lag from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "saga/consume/partition_offsets.h"
#include "edges/kafka/kafka_consumer.h"
#include "edges/kafka/statistics.h"
#include "platform/record/record.h"

namespace choreo::consume {

class ConsumerLoop;

// One record in a handler's hands, and what the handler may ask of the loop about it.
class RecordScope {
 public:
  RecordScope(RecordScope&&) = default;
  RecordScope& operator=(RecordScope&&) = default;
  RecordScope(const RecordScope&) = delete;  // the loop counts each record's state once
  RecordScope& operator=(const RecordScope&) = delete;

  const KafkaRecord& record() const { return record_; }
  // When the record was polled (its wait in the lane is the handler's start minus this).
  absl::Time received() const { return received_; }

  // The record is finished: its offset may be stored. Records not marked done are abandoned.
  void Done() { done_ = true; }
  bool done() const { return done_; }

  // Waits `delay` (a backoff between attempts) unless the record must be given up: its partition
  // was revoked and not drained in time, or the loop stops or halted. False then: the handler
  // returns without finishing it.
  bool Wait(absl::Duration delay);
  // Whether the record must be given up now (what makes Wait return false), without waiting: a
  // handler does not start on such a record, so that none of its key goes ahead of an earlier
  // one that was given up.
  bool GivenUp() const;
  // While true, the record's partition is paused (nothing more is read from it).
  void SetRetrying(bool retrying);

 private:
  friend class ConsumerLoop;
  struct PartitionState;
  RecordScope(ConsumerLoop* loop, KafkaRecord record, std::shared_ptr<PartitionState> partition,
              absl::Time received)
      : loop_(loop), record_(std::move(record)), partition_(std::move(partition)),
        received_(received) {}

  ConsumerLoop* loop_;
  KafkaRecord record_;
  std::shared_ptr<PartitionState> partition_;
  absl::Time received_;
  bool done_ = false;
  bool retrying_ = false;
};

// Runs `attempt` (one try at handling a whole batch) until it succeeds, waiting between tries
// (50 ms, doubling up to 2 s) and logging "<what> failed, retrying" at the first and every 20th
// failure. False when the batch must be given up (RecordScope::Wait of its first record): the
// handler then returns without marking its records done, and they are read again.
bool RetryBatch(absl::Span<RecordScope> batch, absl::string_view what,
                const std::function<absl::Status()>& attempt);

struct ConsumerLoopOptions {
  kafka::KafkaConfig consumer;  // the whole consumer config, group.id included
  std::vector<std::string> topics;
  int lanes = 1;
  int max_batch = 1;  // records a lane hands its handler at once
  // After a lane's first record, how long it waits for more before handing the batch (0: hand
  // what is queued at once). Only with max_batch > 1.
  absl::Duration batch_window = absl::ZeroDuration();
  int max_in_flight_per_partition = 1000;
  absl::Duration drain_timeout = absl::Seconds(10);
  std::string name;  // for logs: the group or the part's name
  // For a projection (a view built from its topics): Readiness is UNAVAILABLE until every
  // partition assigned here was handled to its end once (CaughtUp), so a process that restarts
  // or joins serves nothing older than what it missed. After that it is the consumer's.
  bool ready_once_caught_up = false;
};

class ConsumerLoop final : private kafka::RebalanceListener {
 public:
  // Runs on lane `lane` with a batch of that lane's records (in partition order per key).
  using Handler = std::function<void(int lane, absl::Span<RecordScope> batch)>;

  ConsumerLoop(ConsumerLoopOptions options, Handler handler);
  ~ConsumerLoop() override;
  ConsumerLoop(const ConsumerLoop&) = delete;
  ConsumerLoop& operator=(const ConsumerLoop&) = delete;

  // Creates the consumer, subscribes (FAILED_PRECONDITION naming missing topics) and starts the
  // poll and lane threads.
  absl::Status Start();
  // OK once the group assigned this member partitions; UNAVAILABLE after `timeout`.
  absl::Status WaitForAssignment(absl::Duration timeout);
  void Stop() noexcept;
  void Halt();

  bool halted() const { return halted_.load(); }
  // OK while started, not stopping, assigned and a broker is reachable (and, with
  // ready_once_caught_up, once caught up); UNAVAILABLE otherwise.
  absl::Status Readiness() const;
  std::vector<kafka::PartitionLag> Lag() const;
  // OK once every partition assigned here has been handled to its end as of the consumer's
  // latest statistics (kafka::CheckCaughtUp); UNAVAILABLE while a rebalance is between its
  // revocation and its assignment. For a projection's readiness.
  absl::Status CaughtUp() const;
  const ConsumerLoopOptions& options() const { return options_; }

 private:
  friend class RecordScope;
  using PartitionState = RecordScope::PartitionState;
  struct Lane;

  void OnAssigned(const std::vector<kafka::TopicPartition>& partitions) override;
  void OnRevoked(const std::vector<kafka::TopicPartition>& partitions) override;
  void PollLoop();
  void LaneLoop(int index, Lane& lane);
  // Takes the lane's next batch (blocking); empty when the lane stops.
  std::vector<RecordScope> TakeBatch(Lane& lane);
  void Finish(RecordScope& scope);
  bool MustAbandon(PartitionState& partition) const;
  void UpdatePause(PartitionState& partition);
  void WakeAll();

  const ConsumerLoopOptions options_;
  const Handler handler_;
  std::unique_ptr<kafka::KafkaConsumer> consumer_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::thread poller_;
  absl::Notification assigned_;

  mutable absl::Mutex partitions_mu_;
  absl::flat_hash_map<kafka::TopicPartition, std::shared_ptr<PartitionState>> partitions_
      ABSL_GUARDED_BY(partitions_mu_);
  // From a revocation to the next assignment: partitions_ says nothing about what this member
  // will own (an eager rebalance revokes everything first).
  bool rebalancing_ ABSL_GUARDED_BY(partitions_mu_) = false;

  std::atomic<bool> started_{false};
  mutable std::atomic<bool> caught_up_once_{false};  // ready_once_caught_up's latch
  std::atomic<bool> stopped_{false};
  std::atomic<bool> stopping_{false};   // no more polling
  std::atomic<bool> hard_stop_{false};  // abandon whatever is left
  std::atomic<bool> halted_{false};
};

}  // namespace choreo::consume
