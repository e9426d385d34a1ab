// KafkaProducer after a fatal error: an idempotent producer that librdkafka has declared fatally
// failed replaces itself and sends again, instead of failing every record for ever.

#include <librdkafka/rdkafka.h>

#include "absl/status/status.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "gtest/gtest.h"
#include "testing/wait.h"

namespace choreo::kafka {
namespace {

KafkaRecord Record(const std::string& value) {
  KafkaRecord record;
  record.topic = "recovery";
  record.key = "key";
  record.value = value;
  return record;
}

TEST(KafkaProducerRecoveryTest, AFatalErrorReplacesTheProducerAndItSendsAgain) {
  auto cluster = EmbeddedKafkaCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic("recovery", 1).ok());
  auto producer = KafkaProducer::Create(ProducerDefaults((*cluster)->bootstrap_servers()));
  ASSERT_TRUE(producer.ok()) << producer.status();
  absl::StatusOr<Delivery> first = (*producer)->ProduceAndWait(Record("first"), absl::Seconds(10));
  ASSERT_TRUE(first.ok()) << first.status();

  // What librdkafka raises when the broker lost its record sequence (a broker killed).
  rd_kafka_t* failed = (*producer)->handle();
  ASSERT_EQ(rd_kafka_test_fatal_error(failed, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                      "injected by the test"),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  // A record given at that moment is delivered by the new producer or failed as UNAVAILABLE
  // (its caller sends it again): never an error that says "give up", never silence.
  absl::StatusOr<Delivery> racing =
      (*producer)->ProduceAndWait(Record("racing"), absl::Seconds(10));
  EXPECT_TRUE(racing.ok() || absl::IsUnavailable(racing.status())) << racing.status();

  ASSERT_TRUE(testing::WaitUntil([&] { return (*producer)->recoveries() == 1; }, absl::Seconds(10)))
      << "the producer did not replace its fatally failed handle";
  EXPECT_NE((*producer)->handle(), failed);
  absl::StatusOr<Delivery> after = (*producer)->ProduceAndWait(Record("after"), absl::Seconds(10));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(after->offset, first->offset);
  EXPECT_EQ((*producer)->recoveries(), 1);
}

TEST(KafkaProducerRecoveryTest, RecordsOfAFatalOrStoppingProducerAreRetryable) {
  for (rd_kafka_resp_err_t err : {RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR__PURGE_QUEUE,
                                  RD_KAFKA_RESP_ERR__PURGE_INFLIGHT}) {
    EXPECT_TRUE(absl::IsUnavailable(ErrorToStatus(err, "deliver"))) << rd_kafka_err2name(err);
  }
}

}  // namespace
}  // namespace choreo::kafka
