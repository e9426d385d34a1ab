// The consumer loop on a Kafka-protocol broker (the embedded one: the loop's promises are the
// client's, not the broker's): every record reaches its handler in per-key order, an offset is
// committed only for what was finished, an abandoned record comes back, lanes batch.

#include "saga/consume/consumer_loop.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "testing/wait.h"
#include "contracts/topics/topics.h"

namespace choreo::consume {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);
const std::string kTopic(topics::kOrdersStatus);

class ConsumerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kafka = kafka::EmbeddedKafkaCluster::Start();
    ASSERT_TRUE(kafka.ok()) << kafka.status();
    kafka_ = *std::move(kafka);
    ASSERT_TRUE(kafka_->CreateMissionTopics(4).ok());
    auto producer =
        kafka::KafkaProducer::Create(kafka::ProducerDefaults(kafka_->bootstrap_servers()));
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
  }

  void Produce(const std::string& key, const std::string& value) {
    KafkaRecord record;
    record.topic = kTopic;
    record.key = key;
    record.value = value;
    ASSERT_TRUE(producer_->ProduceAndWait(record, kWait).ok());
  }

  ConsumerLoopOptions Options(const std::string& group, int lanes) {
    kafka::KafkaConfig config = kafka::ConsumerDefaults(kafka_->bootstrap_servers(), group);
    config.emplace_back("auto.offset.reset", "earliest");
    config.emplace_back("fetch.wait.max.ms", "10");
    return {.consumer = config, .topics = {kTopic}, .lanes = lanes, .name = group};
  }

  std::unique_ptr<kafka::EmbeddedKafkaCluster> kafka_;
  std::unique_ptr<kafka::KafkaProducer> producer_;
};

// What handlers saw, shared with the lane threads.
struct Seen {
  absl::Mutex mu;
  std::map<std::string, std::vector<int>> by_key ABSL_GUARDED_BY(mu);
  std::vector<size_t> batch_sizes ABSL_GUARDED_BY(mu);
  int total ABSL_GUARDED_BY(mu) = 0;

  int count() {
    absl::MutexLock lock(&mu);
    return total;
  }
};

ConsumerLoop::Handler Recording(Seen& seen) {
  return [&seen](int, absl::Span<RecordScope> batch) {
    absl::MutexLock lock(&seen.mu);
    seen.batch_sizes.push_back(batch.size());
    for (RecordScope& scope : batch) {
      seen.by_key[scope.record().key].push_back(std::stoi(scope.record().value));
      ++seen.total;
      scope.Done();
    }
  };
}

TEST_F(ConsumerLoopTest, EveryRecordArrivesInKeyOrderAndFinishedOnesAreCommitted) {
  for (int i = 0; i < 200; ++i) Produce(absl::StrCat("key-", i % 10), absl::StrCat(i));
  Seen seen;
  {
    ConsumerLoop loop(Options("loop-a", 4), Recording(seen));
    ASSERT_TRUE(loop.Start().ok());
    ASSERT_TRUE(loop.WaitForAssignment(kWait).ok());
    ASSERT_TRUE(testing::WaitUntil([&] { return seen.count() >= 200; }, kWait));
    // Ready once the statistics show its partitions fetching (at most a statistics interval).
    EXPECT_TRUE(testing::WaitUntil([&] { return loop.Readiness().ok(); }, kWait))
        << loop.Readiness();
    loop.Stop();
    EXPECT_FALSE(loop.Readiness().ok());
  }
  {
    absl::MutexLock lock(&seen.mu);
    EXPECT_EQ(seen.total, 200);
    ASSERT_EQ(seen.by_key.size(), 10u);
    for (const auto& [key, values] : seen.by_key) {
      EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << key;
      EXPECT_EQ(values.size(), 20u) << key;
    }
  }
  // The group committed everything: a new member reads only what is produced next.
  Seen again;
  ConsumerLoop loop(Options("loop-a", 1), Recording(again));
  ASSERT_TRUE(loop.Start().ok());
  ASSERT_TRUE(loop.WaitForAssignment(kWait).ok());
  Produce("key-0", "1000");
  ASSERT_TRUE(testing::WaitUntil([&] { return again.count() >= 1; }, kWait));
  loop.Stop();
  absl::MutexLock lock(&again.mu);
  EXPECT_EQ(again.total, 1);
  EXPECT_EQ(again.by_key["key-0"], std::vector<int>{1000});
}

TEST_F(ConsumerLoopTest, AnAbandonedRecordIsReadAgainByTheNextMember) {
  for (int i = 0; i < 3; ++i) Produce("same-key", absl::StrCat(i));
  Seen first;
  {
    // Finishes 0 and 2 but not 1: only 0's offset may be committed.
    ConsumerLoop loop(Options("loop-b", 1), [&first](int, absl::Span<RecordScope> batch) {
      absl::MutexLock lock(&first.mu);
      for (RecordScope& scope : batch) {
        ++first.total;
        if (scope.record().value != "1") scope.Done();
      }
    });
    ASSERT_TRUE(loop.Start().ok());
    ASSERT_TRUE(testing::WaitUntil([&] { return first.count() >= 3; }, kWait));
    loop.Stop();
  }
  Seen second;
  ConsumerLoop loop(Options("loop-b", 1), Recording(second));
  ASSERT_TRUE(loop.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return second.count() >= 2; }, kWait));
  loop.Stop();
  absl::MutexLock lock(&second.mu);
  EXPECT_EQ(second.by_key["same-key"], (std::vector<int>{1, 2}));
}

TEST_F(ConsumerLoopTest, ALaneHandsOutBatchesGatheredWithinTheWindow) {
  Seen seen;
  ConsumerLoopOptions options = Options("loop-c", 1);
  options.max_batch = 100;
  options.batch_window = absl::Milliseconds(200);
  ConsumerLoop loop(options, Recording(seen));
  ASSERT_TRUE(loop.Start().ok());
  ASSERT_TRUE(loop.WaitForAssignment(kWait).ok());
  for (int i = 0; i < 50; ++i) Produce(absl::StrCat("k", i % 5), absl::StrCat(i));
  ASSERT_TRUE(testing::WaitUntil([&] { return seen.count() >= 50; }, kWait));
  loop.Stop();
  absl::MutexLock lock(&seen.mu);
  EXPECT_LT(seen.batch_sizes.size(), 50u) << "some records came together";
  for (size_t size : seen.batch_sizes) EXPECT_LE(size, 100u);
}

TEST_F(ConsumerLoopTest, ARetryingRecordGivesUpWhenTheLoopStops) {
  Produce("k", "0");
  std::atomic<bool> gave_up{false};
  std::atomic<bool> started{false};
  ConsumerLoopOptions options = Options("loop-d", 1);
  options.drain_timeout = absl::Milliseconds(200);
  ConsumerLoop loop(options, [&](int, absl::Span<RecordScope> batch) {
    for (RecordScope& scope : batch) {
      scope.SetRetrying(true);
      started = true;
      while (scope.Wait(absl::Milliseconds(20))) {
      }
      gave_up = true;  // returns without Done: its offset is never stored
    }
  });
  ASSERT_TRUE(loop.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return started.load(); }, kWait));
  const absl::Time stopping = absl::Now();
  loop.Stop();
  EXPECT_TRUE(gave_up.load());
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(10));
}

}  // namespace
}  // namespace choreo::consume
