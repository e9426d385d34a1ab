// KafkaProducer learns the partitions of the topics it is created for at start, and of no other
// until it writes to one: librdkafka's broker thread visits every partition its producer knows
// each time it wakes, so a producer that knew every mission topic paid for all of them.

#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "gtest/gtest.h"
#include "testing/wait.h"

namespace choreo::kafka {
namespace {

constexpr absl::Duration kWait = absl::Seconds(20);

// Whether the topics section of the producer's latest statistics (after the brokers') holds
// `topic` with its partition `partition`: a topic enters it when the producer has a handle on
// it, its partitions once their metadata came.
bool Knows(const KafkaProducer& producer, const std::string& topic, int partition) {
  const std::string statistics = producer.LatestStatistics();
  const size_t topics = statistics.find("\"topics\":{");
  if (topics == std::string::npos) return false;
  const size_t at = statistics.find(absl::StrCat("\"topic\":\"", topic, "\""), topics);
  if (at == std::string::npos) return false;
  return statistics.find(absl::StrCat("\"partition\":", partition, ","), at) != std::string::npos;
}

TEST(KafkaProducerTopicsTest, AProducerLearnsItsOwnTopicsAtStartAndAnotherOnlyOnceItWritesThere) {
  auto cluster = EmbeddedKafkaCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic("mine", 4).ok());
  ASSERT_TRUE((*cluster)->CreateTopic("other", 4).ok());
  auto producer = KafkaProducer::Create(Merged(ProducerDefaults((*cluster)->bootstrap_servers()),
                                               {{"statistics.interval.ms", "100"}}),
                                        {"mine"});
  ASSERT_TRUE(producer.ok()) << producer.status();

  // Before any record: every partition of its topic, none of the other topic.
  ASSERT_TRUE(testing::WaitUntil([&] { return Knows(**producer, "mine", 3); }, kWait))
      << (*producer)->LatestStatistics();
  EXPECT_FALSE(absl::StrContains((*producer)->LatestStatistics(), "\"topic\":\"other\""));

  // Another topic is still writable: its partitions are learned then (from the metadata fetched
  // at start while librdkafka keeps it, else on its next topic scan).
  KafkaRecord record;
  record.topic = "other";
  record.key = "key";
  record.value = "value";
  absl::StatusOr<Delivery> delivered = (*producer)->ProduceAndWait(record, kWait);
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(delivered->topic, "other");
  EXPECT_TRUE(testing::WaitUntil([&] { return Knows(**producer, "other", 3); }, kWait));
}

TEST(KafkaProducerTopicsTest, AnAdminConnectionLearnsNoTopic) {
  auto cluster = EmbeddedKafkaCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic("mine", 4).ok());
  auto admin = KafkaProducer::Create(
      Merged(AdminDefaults((*cluster)->bootstrap_servers()), {{"statistics.interval.ms", "100"}}),
      {});
  ASSERT_TRUE(admin.ok()) << admin.status();
  // Statistics that show the broker up, with no topic in them.
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return absl::StrContains((*admin)->LatestStatistics(), "\"state\":\"UP\""); }, kWait));
  EXPECT_TRUE(absl::StrContains((*admin)->LatestStatistics(), "\"topics\":{ }") ||
              absl::StrContains((*admin)->LatestStatistics(), "\"topics\":{}"))
      << (*admin)->LatestStatistics();
}

}  // namespace
}  // namespace choreo::kafka
