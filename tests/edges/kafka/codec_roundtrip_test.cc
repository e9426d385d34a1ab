// Events through a real Kafka-protocol broker: the in-process mock cluster, an idempotent
// producer and a consumer group over librdkafka, and kcat reading the headers.

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h must follow rdkafka.h.
#include <librdkafka/rdkafka_mock.h>

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "testing/child_process.h"
#include "testing/temp_dir.h"
#include "tests/saga/sample_events.h"

namespace choreo::kafka {
namespace {

using google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

class CodecRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = EmbeddedKafkaCluster::Start({.brokers = 3});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    ASSERT_TRUE(codec_.Register<orders::v1::OrderCreated>().ok());
    ASSERT_TRUE(codec_.Register<billing::v1::PaymentProcessed>().ok());
    ASSERT_TRUE(codec_.Register<users::v1::UserRegistered>().ok());
    auto producer = KafkaProducer::Create(ProducerDefaults(cluster_->bootstrap_servers()));
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
  }

  // Reads `count` records of `topic` through a consumer group, or fewer after `timeout`.
  std::vector<KafkaRecord> ConsumeGroup(const std::string& topic, size_t count,
                                        absl::Duration timeout) {
    KafkaConfig config = ConsumerDefaults(cluster_->bootstrap_servers(), "roundtrip-group");
    config.emplace_back("fetch.wait.max.ms", "10");
    auto conf = MakeConf(config);
    EXPECT_TRUE(conf.ok()) << conf.status();
    auto consumer = MakeHandle(RD_KAFKA_CONSUMER, *std::move(conf));
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    rd_kafka_t* rk = consumer->get();
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
    EXPECT_EQ(rd_kafka_subscribe(rk, topics), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(topics);

    std::vector<KafkaRecord> records;
    const absl::Time deadline = absl::Now() + timeout;
    while (records.size() < count && absl::Now() < deadline) {
      MessagePtr message(rd_kafka_consumer_poll(rk, 100));
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      EXPECT_EQ(message->err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_message_errstr(message.get());
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      records.push_back(RecordFromMessage(*message));
      // Explicit offset store (enable.auto.offset.store=false), as the saga loop does.
      rd_kafka_topic_partition_list_t* done = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(done, topic.c_str(), message->partition)->offset =
          message->offset + 1;
      EXPECT_EQ(rd_kafka_offsets_store(rk, done), RD_KAFKA_RESP_ERR_NO_ERROR);
      rd_kafka_topic_partition_list_destroy(done);
    }
    EXPECT_EQ(rd_kafka_commit(rk, nullptr, /*async=*/0), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_consumer_close(rk);
    return records;
  }

  std::unique_ptr<EmbeddedKafkaCluster> cluster_;
  std::unique_ptr<KafkaProducer> producer_;
  codec::EventCodec codec_;
};

TEST_F(CodecRoundTripTest, EventsSurviveABrokerAndAConsumerGroupIntact) {
  const std::string topic = "roundtrip.events";
  ASSERT_TRUE(cluster_->CreateTopic(topic, 3).ok());

  std::map<std::string, std::unique_ptr<google::protobuf::Message>> sent;  // by event id
  const std::vector<std::string> users = {"alice", "bob", "carol", "dave", "erin"};
  for (int i = 0; i < 30; ++i) {
    const std::string id = absl::StrCat("evt-", i);
    const std::string& user = users[i % users.size()];
    std::unique_ptr<google::protobuf::Message> event;
    switch (i % 3) {
      case 0: event = std::make_unique<orders::v1::OrderCreated>(testing::SampleOrderCreated(id, user)); break;
      case 1: event = std::make_unique<billing::v1::PaymentProcessed>(testing::SamplePaymentProcessed(id, user)); break;
      default: event = std::make_unique<users::v1::UserRegistered>(testing::SampleUserRegistered(id, user)); break;
    }
    absl::StatusOr<KafkaRecord> record = codec_.Encode(*event, topic, user);
    ASSERT_TRUE(record.ok()) << record.status();
    absl::StatusOr<Delivery> delivery = producer_->ProduceAndWait(*record, absl::Seconds(10));
    ASSERT_TRUE(delivery.ok()) << delivery.status();
    EXPECT_EQ(delivery->topic, topic);
    EXPECT_GE(delivery->offset, 0);
    sent[id] = std::move(event);
  }

  std::vector<KafkaRecord> received = ConsumeGroup(topic, sent.size(), absl::Seconds(30));
  ASSERT_EQ(received.size(), sent.size());
  std::map<std::string, int32_t> partition_of_key;
  std::map<int32_t, int64_t> last_offset;
  for (const KafkaRecord& record : received) {
    absl::StatusOr<codec::DecodedEvent> decoded = codec_.Decode(record);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    auto original = sent.find(decoded->meta().event_id());
    ASSERT_NE(original, sent.end()) << decoded->meta().event_id();
    EXPECT_TRUE(MessageDifferencer::Equals(*decoded->message, *original->second));
    EXPECT_THAT(record.Header("ce_type"),
                ::testing::Optional(absl::string_view(original->second->GetDescriptor()->full_name())));
    // One key, one partition; offsets rise within a partition.
    auto [it, fresh] = partition_of_key.try_emplace(record.key, record.partition);
    EXPECT_EQ(it->second, record.partition) << record.key;
    if (last_offset.contains(record.partition)) {
      EXPECT_GT(record.offset, last_offset[record.partition]);
    }
    last_offset[record.partition] = record.offset;
    sent.erase(original);
  }
  EXPECT_TRUE(sent.empty());
}

TEST_F(CodecRoundTripTest, KcatPrintsTheHeadersOfAProducedRecord) {
  const std::string topic = "roundtrip.kcat";
  ASSERT_TRUE(cluster_->CreateTopic(topic, 1).ok());
  absl::StatusOr<KafkaRecord> record =
      codec_.Encode(testing::SampleOrderCreated("kcat-1"), topic, "alice");
  ASSERT_TRUE(record.ok());
  ASSERT_TRUE(producer_->ProduceAndWait(*record, absl::Seconds(10)).ok());

  auto dir = choreo::testing::TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string out = dir->File("kcat.out");
  auto kcat = choreo::testing::ChildProcess::Start(
      {.argv = {"kcat", "-C", "-b", cluster_->bootstrap_servers(), "-t", topic, "-o", "beginning",
                "-c", "1", "-e", "-q", "-f", "key=%k headers=%h\n"},
       .log_path = out});
  ASSERT_TRUE(kcat.ok()) << kcat.status() << " (deploy/install-deps.sh installs kcat)";
  ASSERT_EQ(kcat->Wait(absl::Seconds(30)).value_or(-1), 0);
  std::stringstream text;
  text << std::ifstream(out).rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("key=alice"));
  EXPECT_THAT(text.str(), HasSubstr("ce_specversion=1.0"));
  EXPECT_THAT(text.str(), HasSubstr("ce_id=kcat-1"));
  EXPECT_THAT(text.str(), HasSubstr("ce_type=choreo.orders.v1.OrderCreated"));
  EXPECT_THAT(text.str(), HasSubstr("ce_source=/choreo/order"));
  EXPECT_THAT(text.str(), HasSubstr("content-type=application/protobuf"));
  EXPECT_THAT(text.str(), HasSubstr("ce_correlationid=corr-kcat-1"));
  EXPECT_THAT(text.str(), HasSubstr("ce_schemaversion=1"));
  EXPECT_THAT(text.str(), HasSubstr("traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736"));
}

TEST_F(CodecRoundTripTest, UndeliverableRecordReportsAnError) {
  // A topic the broker refuses: the mock reports it as an error on produce.
  rd_kafka_mock_topic_set_error(cluster_->mock(), "roundtrip.refused",
                                RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  auto producer = KafkaProducer::Create(
      [&] {
        KafkaConfig config = ProducerDefaults(cluster_->bootstrap_servers());
        config.emplace_back("message.timeout.ms", "2000");
        return config;
      }(),
      {}, absl::Seconds(1));
  ASSERT_TRUE(producer.ok());
  absl::StatusOr<KafkaRecord> record =
      codec_.Encode(testing::SampleOrderCreated("refused-1"), "roundtrip.refused", "alice");
  ASSERT_TRUE(record.ok());
  absl::StatusOr<Delivery> delivery = (*producer)->ProduceAndWait(*record, absl::Seconds(20));
  EXPECT_FALSE(delivery.ok());
}

TEST(KafkaConfigTest, BadPropertyIsNamed) {
  absl::StatusOr<ConfPtr> conf = MakeConf({{"linger.ms", "soon"}});
  ASSERT_FALSE(conf.ok());
  EXPECT_EQ(conf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(conf.status().message()), HasSubstr("linger.ms=soon"));
}

TEST(KafkaConfigTest, DefaultsAreIdempotentAndStoreOffsetsExplicitly) {
  auto has = [](const KafkaConfig& config, absl::string_view key, absl::string_view value) {
    return std::find(config.begin(), config.end(),
                     std::pair<std::string, std::string>(key, value)) != config.end();
  };
  KafkaConfig producer = ProducerDefaults("b:9092");
  EXPECT_TRUE(has(producer, "enable.idempotence", "true"));
  EXPECT_TRUE(has(producer, "acks", "all"));
  EXPECT_TRUE(has(producer, "socket.nagle.disable", "true"));
  EXPECT_TRUE(MakeConf(producer).ok());
  KafkaConfig consumer = ConsumerDefaults("b:9092", "g");
  EXPECT_TRUE(has(consumer, "enable.auto.offset.store", "false"));
  EXPECT_TRUE(has(consumer, "group.id", "g"));
  EXPECT_TRUE(MakeConf(consumer).ok());
}

}  // namespace
}  // namespace choreo::kafka
