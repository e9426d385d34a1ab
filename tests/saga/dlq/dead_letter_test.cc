// Dead letters: the record transforms, and choreo-dlq listing and replaying through a broker.

#include "saga/dlq/dead_letter.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "testing/child_process.h"
#include "testing/temp_dir.h"
#include "testing/topic_reader.h"
#include "tests/saga/sample_events.h"

namespace choreo::dlq {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

KafkaRecord Original() {
  codec::EventCodec codec;
  KafkaRecord record = *codec.Encode(testing::SampleOrderCreated("e1"), "orders.created", "alice");
  record.partition = 3;
  record.offset = 42;
  return record;
}

TEST(DeadLetterRecordTest, CopiesTheRecordUntouchedAndSaysWhereFromAndWhy) {
  const KafkaRecord original = Original();
  const absl::Time now = absl::FromUnixSeconds(1795348800) + absl::Milliseconds(5);
  KafkaRecord dead = DeadLetterRecord(original, "billing",
                                      absl::FailedPreconditionError("account frozen"), 3, now);
  EXPECT_EQ(dead.topic, "dlq.billing");
  EXPECT_EQ(dead.key, original.key);
  EXPECT_EQ(dead.value, original.value);
  EXPECT_EQ(dead.Header("ce_id"), "e1");  // original headers kept
  EXPECT_EQ(dead.Header(kOriginalTopic), "orders.created");
  EXPECT_EQ(dead.Header(kOriginalPartition), "3");
  EXPECT_EQ(dead.Header(kOriginalOffset), "42");
  EXPECT_EQ(dead.Header(kError), "account frozen");
  EXPECT_EQ(dead.Header(kErrorKind), "rejected");
  EXPECT_EQ(dead.Header(kAttempts), "3");
  EXPECT_EQ(dead.Header(kTime), "2026-11-22T12:00:00.005Z");
  EXPECT_EQ(dead.Header(kService), "billing");

  absl::StatusOr<KafkaRecord> back = ReplayRecord(dead);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->topic, "orders.created");
  EXPECT_EQ(back->key, original.key);
  EXPECT_EQ(back->value, original.value);
  EXPECT_EQ(back->headers, original.headers);
}

TEST(DeadLetterRecordTest, ErrorKindsAreNamed) {
  EXPECT_EQ(ErrorKind(absl::InvalidArgumentError("x")), "rejected");
  EXPECT_EQ(ErrorKind(absl::InternalError("x")), "INTERNAL");
  codec::EventCodec codec;
  KafkaRecord record = Original();
  record.value = "\xff";
  ASSERT_TRUE(codec.Register<orders::v1::OrderCreated>().ok());
  EXPECT_EQ(ErrorKind(codec.Decode(record).status()), "undecodable");
  KafkaRecord no_origin;
  EXPECT_EQ(ReplayRecord(no_origin).status().code(), absl::StatusCode::kInvalidArgument);
}

std::string ReadFile(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

TEST(DlqToolTest, ListsInADryRunAndReplaysOnlyWhatIsSelected) {
  auto cluster = kafka::EmbeddedKafkaCluster::Start();
  ASSERT_TRUE(cluster.ok());
  const std::string bootstrap = (*cluster)->bootstrap_servers();
  ASSERT_TRUE((*cluster)->CreateTopic("dlq.billing", 2).ok());
  ASSERT_TRUE((*cluster)->CreateTopic("orders.created", 2).ok());
  auto producer = kafka::KafkaProducer::Create(kafka::ProducerDefaults(bootstrap));
  ASSERT_TRUE(producer.ok());
  codec::EventCodec codec;
  for (const char* id : {"d1", "d2"}) {
    KafkaRecord original = *codec.Encode(testing::SampleOrderCreated(id), "orders.created", id);
    original.partition = 0;
    original.offset = 7;
    ASSERT_TRUE((*producer)
                    ->ProduceAndWait(DeadLetterRecord(original, "billing",
                                                      absl::InvalidArgumentError("bad"), 1,
                                                      absl::Now()),
                                     absl::Seconds(10))
                    .ok());
  }
  auto dir = testing::TempDir::Create();
  ASSERT_TRUE(dir.ok());
  auto run = [&](std::vector<std::string> extra, const std::string& log) {
    std::vector<std::string> argv = {CHOREO_DLQ, "--kafka-brokers", bootstrap, "--topic",
                                     "dlq.billing"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto tool = testing::ChildProcess::Start({.argv = argv, .log_path = dir->File(log)});
    EXPECT_TRUE(tool.ok());
    return tool->Wait(absl::Seconds(60)).value_or(-1);
  };

  ASSERT_EQ(run({}, "dry.log"), 0);
  const std::string dry = ReadFile(dir->File("dry.log"));
  EXPECT_THAT(dry, HasSubstr("orders.created\td1\trejected\tbad\twould replay"));
  EXPECT_THAT(dry, HasSubstr("orders.created\td2\trejected\tbad\twould replay"));
  EXPECT_THAT(dry, HasSubstr("2 dead letter(s) selected (dry run: nothing replayed)"));
  auto before = testing::ReadTopicToEnd(bootstrap, "orders.created");
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->empty());

  ASSERT_EQ(run({"--replay", "--event-id", "d2"}, "replay.log"), 0);
  EXPECT_THAT(ReadFile(dir->File("replay.log")), HasSubstr("d2\trejected\tbad\treplayed"));
  auto after = testing::ReadTopicToEnd(bootstrap, "orders.created");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].Header("ce_id"), "d2");
  EXPECT_EQ((*after)[0].Header(kErrorKind), std::nullopt);

  EXPECT_EQ(run({"--topic", "orders.created"}, "bad.log"), 2);
  EXPECT_THAT(ReadFile(dir->File("bad.log")), HasSubstr("must name a dead-letter topic"));
}

}  // namespace
}  // namespace choreo::dlq
