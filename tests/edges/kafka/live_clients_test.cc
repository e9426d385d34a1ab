// LiveClients: a KafkaProducer and a KafkaConsumer are listed for exactly their lifetime, and
// what is read of them is librdkafka's real statistics, whose request counters
// RequestsFromStatistics finds (a producer that sent a record counts a Produce request).

#include "edges/kafka/live_clients.h"

#include <algorithm>
#include <string>
#include <vector>

#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_consumer.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka/statistics.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "gtest/gtest.h"
#include "testing/wait.h"

namespace choreo::kafka {
namespace {

// The readings of the listed clients labelled `label`.
std::vector<LiveClients::Reading> Listed(const std::string& label) {
  std::vector<LiveClients::Reading> readings = LiveClients::Process().Read();
  readings.erase(std::remove_if(readings.begin(), readings.end(),
                                [&](const LiveClients::Reading& r) { return r.label != label; }),
                 readings.end());
  return readings;
}

TEST(LiveClientsTest, ClientsAreListedForTheirLifetimeWithTheirRequestCounts) {
  auto cluster = EmbeddedKafkaCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic("listed", 1).ok());
  const size_t producers_before = Listed("producer").size();
  {
    auto producer = KafkaProducer::Create(ProducerDefaults((*cluster)->bootstrap_servers()));
    ASSERT_TRUE(producer.ok()) << producer.status();
    auto consumer = KafkaConsumer::Create(
        ConsumerDefaults((*cluster)->bootstrap_servers(), "live-clients-test"), nullptr);
    ASSERT_TRUE(consumer.ok()) << consumer.status();
    EXPECT_EQ(Listed("producer").size(), producers_before + 1);
    EXPECT_EQ(Listed("consumer live-clients-test").size(), 1u);

    KafkaRecord record;
    record.topic = "listed";
    record.key = "key";
    record.value = "value";
    ASSERT_TRUE((*producer)->ProduceAndWait(record, absl::Seconds(10)).ok());
    // Statistics come every second (statistics.interval.ms): wait for one after the send.
    EXPECT_TRUE(testing::WaitUntil(
        [&] { return RequestsFromStatistics((*producer)->LatestStatistics())["Produce"] >= 1; },
        absl::Seconds(10)))
        << (*producer)->LatestStatistics();
    bool listed_with_its_send = false;
    for (const LiveClients::Reading& reading : Listed("producer")) {
      listed_with_its_send =
          listed_with_its_send || RequestsFromStatistics(reading.statistics)["Produce"] >= 1;
    }
    EXPECT_TRUE(listed_with_its_send);
  }
  EXPECT_EQ(Listed("producer").size(), producers_before);
  EXPECT_TRUE(Listed("consumer live-clients-test").empty());
}

}  // namespace
}  // namespace choreo::kafka
