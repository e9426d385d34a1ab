// librdkafka 2.0.2 (Debian 12) against the pinned Apache Kafka broker (deploy/kafka/pom.xml),
// started by the project's launcher: what choreo relies on negotiates (idempotent producer,
// every compression codec, consumer groups with committed offsets), topics are created and
// verified as declared, and a missing topic is named.

#include <librdkafka/rdkafka.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_consumer.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka/topic_admin.h"
#include "testing/kafka_cluster.h"
#include "testing/wait.h"
#include "contracts/topics/topics.h"

namespace choreo::kafka {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class NoRebalanceWork : public RebalanceListener {
 public:
  void OnAssigned(const std::vector<TopicPartition>&) override {}
  void OnRevoked(const std::vector<TopicPartition>&) override {}
};

class ApacheKafkaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = testing::KafkaCluster::Start({.mission_topics = false});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  static std::unique_ptr<KafkaProducer> Producer(const KafkaConfig& overrides = {}) {
    auto producer =
        KafkaProducer::Create(Merged(ProducerDefaults(cluster_->bootstrap_servers()), overrides));
    EXPECT_TRUE(producer.ok()) << producer.status();
    return producer.ok() ? *std::move(producer) : nullptr;
  }

  // The values of every record a member of `group` reads from `topic` within `timeout`, after
  // storing and committing each one's offset.
  static std::vector<std::string> ConsumeAndCommit(const std::string& topic,
                                                   const std::string& group, size_t expected,
                                                   absl::Duration timeout) {
    NoRebalanceWork listener;
    auto consumer = KafkaConsumer::Create(
        Merged(ConsumerDefaults(cluster_->bootstrap_servers(), group),
               {{"fetch.wait.max.ms", "100"}}),
        &listener);
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    if (!consumer.ok()) return {};
    EXPECT_TRUE((*consumer)->Subscribe({topic}).ok());
    std::vector<std::string> values;
    const absl::Time deadline = absl::Now() + timeout;
    while (values.size() < expected && absl::Now() < deadline) {
      auto record = (*consumer)->Poll(absl::Milliseconds(200));
      if (!record.ok() || !record->has_value()) continue;
      values.push_back((*record)->value);
      EXPECT_TRUE((*consumer)->StoreOffset({topic, (*record)->partition}, (*record)->offset + 1).ok());
    }
    EXPECT_TRUE((*consumer)->CommitSync().ok());
    (*consumer)->Close();
    return values;
  }

  static testing::KafkaCluster* cluster_;
};

testing::KafkaCluster* ApacheKafkaTest::cluster_ = nullptr;

TEST_F(ApacheKafkaTest, IdempotentProducerEveryCodecAndAConsumerGroupNegotiate) {
  auto admin = Producer();
  ASSERT_NE(admin, nullptr);
  const std::string topic = "compat.codecs";
  ASSERT_TRUE(EnsureTopics(*admin, {topic}, 2).ok());

  std::vector<std::string> sent;
  for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    auto producer = Producer({{"compression.type", codec}});
    ASSERT_NE(producer, nullptr);
    for (int i = 0; i < 3; ++i) {
      KafkaRecord record;
      record.topic = topic;
      record.key = absl::StrCat("key-", i);
      record.value = absl::StrCat(codec, "-", i);
      auto delivery = producer->ProduceAndWait(record, absl::Seconds(30));
      ASSERT_TRUE(delivery.ok()) << codec << ": " << delivery.status();
      sent.push_back(record.value);
    }
    // Idempotence was granted a producer id (not silently downgraded).
    rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(producer->handle(), nullptr, 0);
    EXPECT_EQ(fatal, RD_KAFKA_RESP_ERR_NO_ERROR) << codec;
  }

  const std::vector<std::string> read =
      ConsumeAndCommit(topic, "compat-group", sent.size(), absl::Seconds(60));
  EXPECT_EQ(std::multiset<std::string>(read.begin(), read.end()),
            std::multiset<std::string>(sent.begin(), sent.end()));
  // The group's committed offsets hold: a new member of it reads nothing again.
  EXPECT_THAT(ConsumeAndCommit(topic, "compat-group", 1, absl::Seconds(5)), IsEmpty());
}

TEST_F(ApacheKafkaTest, TopicsAreCreatedAsDeclaredThenVerifiedAndDriftIsNamed) {
  auto admin = Producer(AdminDefaults(cluster_->bootstrap_servers()));
  ASSERT_NE(admin, nullptr);
  std::vector<topics::TopicSpec> specs = topics::MissionTopicSpecs({.partitions = 3});
  auto first = ApplyTopics(*admin, specs, /*create_missing=*/true);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->created.size(), specs.size());
  EXPECT_TRUE(first->ok());

  auto again = ApplyTopics(*admin, specs, /*create_missing=*/true);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(again->created, IsEmpty());
  EXPECT_TRUE(again->ok()) << again->drift.size();

  // The broker holds what was declared: change the declaration and the difference is named.
  specs[0].partitions = 5;
  specs[1].retention_ms = 3600000;
  specs[2].cleanup_policy = "compact";
  auto drifted = ApplyTopics(*admin, specs, /*create_missing=*/false);
  ASSERT_TRUE(drifted.ok()) << drifted.status();
  EXPECT_THAT(drifted->drift,
              ElementsAre(absl::StrCat(specs[0].name, " partitions: 3, declared 5"),
                          absl::StrCat(specs[1].name, " retention.ms: ",
                                       topics::kEventRetentionMs, ", declared 3600000"),
                          absl::StrCat(specs[2].name, " cleanup.policy: delete, declared compact")));
}

TEST_F(ApacheKafkaTest, AMissingTopicIsNamedAndNotCreatedByUse) {
  auto producer = Producer({{"message.timeout.ms", "3000"}});
  ASSERT_NE(producer, nullptr);
  absl::Status required =
      RequireTopics(producer->handle(), {"compat.never-declared", "compat.codecs-absent"});
  EXPECT_TRUE(absl::IsFailedPrecondition(required)) << required;
  EXPECT_THAT(required.message(), HasSubstr("compat.never-declared, compat.codecs-absent"));
  EXPECT_THAT(required.message(), HasSubstr("choreo-topics"));

  // auto.create.topics.enable=false: producing does not bring a topic into being.
  KafkaRecord record;
  record.topic = "compat.never-declared";
  record.value = "x";
  EXPECT_FALSE(producer->ProduceAndWait(record, absl::Seconds(5)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      RequireTopics(producer->handle(), {"compat.never-declared"})));
}

}  // namespace
}  // namespace choreo::kafka
