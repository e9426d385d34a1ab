#include "saga/consume/consumer_loop.h"

#include <deque>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "platform/logging/logger.h"
#include "platform/process/thread_name.h"

namespace choreo::consume {

struct RecordScope::PartitionState {
  explicit PartitionState(kafka::TopicPartition tp) : partition(std::move(tp)) {}
  const kafka::TopicPartition partition;
  absl::Mutex mu;
  PartitionOffsets offsets ABSL_GUARDED_BY(mu);
  int processing ABSL_GUARDED_BY(mu) = 0;  // records in a handler
  int retrying ABSL_GUARDED_BY(mu) = 0;    // records backing off after a failure
  bool paused ABSL_GUARDED_BY(mu) = false;
  bool revoked ABSL_GUARDED_BY(mu) = false;    // nothing new is handed out
  bool abandoned ABSL_GUARDED_BY(mu) = false;  // no more offsets are stored
};

struct ConsumerLoop::Lane {
  struct Queued {
    KafkaRecord record;
    std::shared_ptr<PartitionState> partition;
    absl::Time received;
  };
  absl::Mutex mu;
  std::deque<Queued> queue ABSL_GUARDED_BY(mu);
  bool busy ABSL_GUARDED_BY(mu) = false;
  bool stop ABSL_GUARDED_BY(mu) = false;
  std::thread thread;
};

bool RecordScope::Wait(absl::Duration delay) {
  PartitionState& partition = *partition_;
  absl::MutexLock lock(&partition.mu);
  auto give_up = [this, &partition]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(partition.mu) {
    return loop_->MustAbandon(partition);
  };
  partition.mu.AwaitWithTimeout(absl::Condition(&give_up), delay);
  return !give_up();
}

bool RecordScope::GivenUp() const {
  absl::MutexLock lock(&partition_->mu);
  return loop_->MustAbandon(*partition_);
}

void RecordScope::SetRetrying(bool retrying) {
  if (retrying == retrying_) return;
  retrying_ = retrying;
  absl::MutexLock lock(&partition_->mu);
  partition_->retrying += retrying ? 1 : -1;
  loop_->UpdatePause(*partition_);
}

bool RetryBatch(absl::Span<RecordScope> batch, absl::string_view what,
                const std::function<absl::Status()>& attempt) {
  absl::Duration backoff = absl::Milliseconds(50);
  for (int tries = 1;; ++tries) {
    absl::Status done = attempt();
    if (done.ok()) return true;
    if (tries == 1 || tries % 20 == 0) {
      logging::Warn(absl::StrCat(what, " failed, retrying: ", done.ToString()),
                    {{"records", absl::StrCat(batch.size())}, {"attempt", absl::StrCat(tries)}});
    }
    if (batch.empty() || !batch.front().Wait(backoff)) return false;
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

ConsumerLoop::ConsumerLoop(ConsumerLoopOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

ConsumerLoop::~ConsumerLoop() { Stop(); }

absl::Status ConsumerLoop::Start() {
  if (started_.exchange(true)) return absl::FailedPreconditionError("consumer loop already started");
  absl::StatusOr<std::unique_ptr<kafka::KafkaConsumer>> consumer =
      kafka::KafkaConsumer::Create(options_.consumer, this);
  if (!consumer.ok()) return consumer.status();
  consumer_ = *std::move(consumer);
  if (absl::Status subscribed = consumer_->Subscribe(options_.topics); !subscribed.ok()) {
    return subscribed;
  }
  for (int i = 0; i < std::max(1, options_.lanes); ++i) lanes_.push_back(std::make_unique<Lane>());
  for (size_t i = 0; i < lanes_.size(); ++i) {
    lanes_[i]->thread = process::NamedThread(
        absl::StrCat("lane", i), [this, i] { LaneLoop(static_cast<int>(i), *lanes_[i]); });
  }
  poller_ = process::NamedThread("poll", [this] { PollLoop(); });
  return absl::OkStatus();
}

absl::Status ConsumerLoop::WaitForAssignment(absl::Duration timeout) {
  if (assigned_.WaitForNotificationWithTimeout(timeout)) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat(options_.name, ": no partitions assigned within ", absl::FormatDuration(timeout)));
}

void ConsumerLoop::Stop() noexcept {
  if (!started_.load() || stopped_.exchange(true)) return;
  stopping_.store(true);
  if (poller_.joinable()) poller_.join();
  // Drain: let the lanes finish what they hold, up to drain_timeout.
  const absl::Time deadline = absl::Now() + options_.drain_timeout;
  for (auto& lane : lanes_) {
    absl::MutexLock lock(&lane->mu);
    auto idle = [&lane]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lane->mu) {
      return lane->queue.empty() && !lane->busy;
    };
    lane->mu.AwaitWithDeadline(absl::Condition(&idle), deadline);
  }
  hard_stop_.store(true);
  WakeAll();
  for (auto& lane : lanes_) {
    {
      absl::MutexLock lock(&lane->mu);
      lane->stop = true;
    }
    if (lane->thread.joinable()) lane->thread.join();
  }
  if (consumer_ != nullptr) {
    if (!halted_.load()) static_cast<void>(consumer_->CommitSync());
    consumer_->Close();  // leaves the group; OnRevoked runs with nothing in flight
  }
}

void ConsumerLoop::Halt() {
  halted_.store(true);
  WakeAll();
}

absl::Status ConsumerLoop::Readiness() const {
  if (!started_.load() || stopping_.load() || halted_.load() || consumer_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(options_.name, ": not running"));
  }
  if (!options_.ready_once_caught_up || caught_up_once_.load()) return consumer_->Readiness();
  if (absl::Status caught_up = CaughtUp(); !caught_up.ok()) {
    return absl::UnavailableError(
        absl::StrCat(options_.name, " is catching up: ", caught_up.message()));
  }
  caught_up_once_.store(true);
  return absl::OkStatus();
}

absl::Status ConsumerLoop::CaughtUp() const {
  if (!started_.load() || stopping_.load() || halted_.load() || consumer_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(options_.name, ": not running"));
  }
  if (absl::Status ready = consumer_->Readiness(); !ready.ok()) return ready;
  std::vector<kafka::TopicPartition> assigned;
  {
    absl::MutexLock lock(&partitions_mu_);
    if (rebalancing_) return absl::UnavailableError(absl::StrCat(options_.name, ": rebalancing"));
    for (const auto& [partition, state] : partitions_) assigned.push_back(partition);
  }
  return kafka::CheckCaughtUp(consumer_->LatestStatistics(), assigned);
}

std::vector<kafka::PartitionLag> ConsumerLoop::Lag() const {
  return consumer_ != nullptr ? consumer_->Lag() : std::vector<kafka::PartitionLag>{};
}

void ConsumerLoop::OnAssigned(const std::vector<kafka::TopicPartition>& partitions) {
  {
    absl::MutexLock lock(&partitions_mu_);
    for (const kafka::TopicPartition& tp : partitions) {
      partitions_[tp] = std::make_shared<PartitionState>(tp);
    }
    rebalancing_ = false;
  }
  if (!assigned_.HasBeenNotified()) assigned_.Notify();
}

void ConsumerLoop::OnRevoked(const std::vector<kafka::TopicPartition>& partitions) {
  std::vector<std::shared_ptr<PartitionState>> revoked;
  {
    absl::MutexLock lock(&partitions_mu_);
    rebalancing_ = true;
    for (const kafka::TopicPartition& tp : partitions) {
      auto it = partitions_.find(tp);
      if (it == partitions_.end()) continue;
      revoked.push_back(it->second);
      partitions_.erase(it);
    }
  }
  const absl::Time deadline = absl::Now() + options_.drain_timeout;
  for (const auto& state : revoked) {
    absl::MutexLock lock(&state->mu);
    state->revoked = true;  // queued records are dropped; records in a handler may finish
    auto idle = [&state]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state->mu) {
      return state->processing == 0;
    };
    if (!state->mu.AwaitWithDeadline(absl::Condition(&idle), deadline)) {
      state->abandoned = true;  // whatever still runs will not store its offset
    }
    // librdkafka keeps a partition's pause across unassign and assign: resumed now, a partition
    // paused here is not left paused when the group hands it back.
    if (state->paused && consumer_->Resume(state->partition).ok()) state->paused = false;
  }
}

void ConsumerLoop::PollLoop() {
  int consecutive_errors = 0;
  while (!stopping_.load() && !halted_.load()) {
    absl::StatusOr<std::optional<KafkaRecord>> polled = consumer_->Poll(absl::Milliseconds(100));
    if (!polled.ok()) {
      if (consecutive_errors++ % 50 == 0) {
        logging::Warn(absl::StrCat("poll: ", polled.status().ToString()),
                      {{"consumer", options_.name}});
      }
      continue;
    }
    consecutive_errors = 0;
    if (!polled->has_value()) continue;
    KafkaRecord& record = **polled;
    std::shared_ptr<PartitionState> state;
    {
      absl::MutexLock lock(&partitions_mu_);
      auto it = partitions_.find(kafka::TopicPartition{record.topic, record.partition});
      if (it != partitions_.end()) state = it->second;
    }
    if (state == nullptr) continue;  // not ours (any more): its new owner reads it
    {
      absl::MutexLock lock(&state->mu);
      if (state->revoked) continue;
      state->offsets.Started(record.offset);
      UpdatePause(*state);
    }
    Lane& lane = *lanes_[absl::HashOf(record.key) % lanes_.size()];
    absl::MutexLock lock(&lane.mu);
    lane.queue.push_back({std::move(record), std::move(state), absl::Now()});
  }
}

std::vector<RecordScope> ConsumerLoop::TakeBatch(Lane& lane) {
  std::vector<RecordScope> batch;
  absl::MutexLock lock(&lane.mu);
  auto ready = [&lane]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lane.mu) {
    return !lane.queue.empty() || lane.stop;
  };
  lane.mu.Await(absl::Condition(&ready));
  if (lane.queue.empty()) return batch;  // stop, nothing left
  const size_t max_batch = static_cast<size_t>(std::max(1, options_.max_batch));
  if (max_batch > 1 && options_.batch_window > absl::ZeroDuration()) {
    auto full = [&lane, max_batch]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lane.mu) {
      return lane.queue.size() >= max_batch || lane.stop;
    };
    lane.mu.AwaitWithTimeout(absl::Condition(&full), options_.batch_window);
  }
  while (!lane.queue.empty() && batch.size() < max_batch) {
    Lane::Queued next = std::move(lane.queue.front());
    lane.queue.pop_front();
    bool dropped;
    {
      absl::MutexLock partition_lock(&next.partition->mu);  // `next` keeps the state alive
      dropped = next.partition->revoked || halted_.load() || hard_stop_.load();
      if (!dropped) ++next.partition->processing;
    }
    // A dropped record is not done: its partition's new owner reads it again.
    if (dropped) continue;
    batch.push_back(RecordScope(this, std::move(next.record), std::move(next.partition),
                                next.received));
  }
  lane.busy = !batch.empty();
  return batch;
}

void ConsumerLoop::LaneLoop(int index, Lane& lane) {
  while (true) {
    std::vector<RecordScope> batch = TakeBatch(lane);
    if (batch.empty()) {
      absl::MutexLock lock(&lane.mu);
      if (lane.stop && lane.queue.empty()) return;
      continue;  // everything taken was dropped
    }
    handler_(index, absl::MakeSpan(batch));
    for (RecordScope& scope : batch) Finish(scope);
    absl::MutexLock lock(&lane.mu);
    lane.busy = false;
  }
}

void ConsumerLoop::Finish(RecordScope& scope) {
  PartitionState& partition = *scope.partition_;
  absl::MutexLock lock(&partition.mu);
  --partition.processing;
  if (scope.retrying_) {  // it no longer holds its partition paused
    scope.retrying_ = false;
    --partition.retrying;
  }
  if (scope.done() && !partition.abandoned && !halted_.load()) {
    if (std::optional<int64_t> next = partition.offsets.Finished(scope.record().offset)) {
      if (absl::Status stored = consumer_->StoreOffset(partition.partition, *next); !stored.ok()) {
        logging::Warn(absl::StrCat("store offset: ", stored.ToString()),
                      logging::EventFields(scope.record()));
      }
    }
  }
  UpdatePause(partition);
}

bool ConsumerLoop::MustAbandon(PartitionState& partition) const {
  return halted_.load() || hard_stop_.load() || (partition.revoked && partition.abandoned);
}

void ConsumerLoop::UpdatePause(PartitionState& partition) {
  const bool want = partition.retrying > 0 ||
                    partition.offsets.in_flight() >=
                        static_cast<size_t>(options_.max_in_flight_per_partition);
  if (want == partition.paused || partition.revoked) return;
  absl::Status changed =
      want ? consumer_->Pause(partition.partition) : consumer_->Resume(partition.partition);
  if (changed.ok()) partition.paused = want;
}

void ConsumerLoop::WakeAll() {
  // Waiters re-check their conditions when a mutex they wait on is released.
  std::vector<std::shared_ptr<PartitionState>> states;
  {
    absl::MutexLock lock(&partitions_mu_);
    for (auto& [tp, state] : partitions_) states.push_back(state);
  }
  for (auto& state : states) absl::MutexLock lock(&state->mu);
  for (auto& lane : lanes_) absl::MutexLock lock(&lane->mu);
}

}  // namespace choreo::consume
