// KafkaProducer after a fatal error: an idempotent producer that librdkafka has declared fatally
// failed replaces itself and sends again, instead of failing every record for ever.

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h must follow rdkafka.h.
#include <librdkafka/rdkafka_mock.h>

#include <atomic>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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

  // Records queued or in flight when the error comes each get their callback: delivered, or
  // UNAVAILABLE for the caller to send again. The broker answers slowly, so that they are
  // still in flight then (without the purge before the old handle goes, none is answered).
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt((*cluster)->mock(), 1, 300), RD_KAFKA_RESP_ERR_NO_ERROR);
  constexpr int kInFlight = 200;
  std::atomic<int> answered = 0, refused = 0;
  for (int i = 0; i < kInFlight; ++i) {
    ASSERT_TRUE((*producer)
                    ->Produce(Record(absl::StrCat("in-flight-", i)),
                              [&](absl::StatusOr<Delivery> delivery) {
                                if (!delivery.ok() && !absl::IsUnavailable(delivery.status())) {
                                  ++refused;
                                }
                                ++answered;
                              })
                    .ok());
  }

  // What librdkafka raises when the broker lost its record sequence (a broker killed).
  const int64_t replaced_before = ProducersReplacedInProcess();
  rd_kafka_t* failed = (*producer)->handle();
  ASSERT_GT(rd_kafka_outq_len(failed), 0);
  ASSERT_EQ(rd_kafka_test_fatal_error(failed, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                      "injected by the test"),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  // A record given at that moment is delivered by the new producer or failed as UNAVAILABLE
  // (its caller sends it again): never an error that says "give up", never silence.
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt((*cluster)->mock(), 1, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
  absl::StatusOr<Delivery> racing =
      (*producer)->ProduceAndWait(Record("racing"), absl::Seconds(10));
  EXPECT_TRUE(racing.ok() || absl::IsUnavailable(racing.status())) << racing.status();

  ASSERT_TRUE(testing::WaitUntil([&] { return (*producer)->recoveries() == 1; }, absl::Seconds(10)))
      << "the producer did not replace its fatally failed handle";
  EXPECT_TRUE(testing::WaitUntil([&] { return answered.load() == kInFlight; }, absl::Seconds(10)))
      << answered.load() << " of " << kInFlight << " records in flight were answered";
  EXPECT_EQ(refused.load(), 0) << "records failed with an error that is not UNAVAILABLE";
  EXPECT_NE((*producer)->handle(), failed);
  absl::StatusOr<Delivery> after = (*producer)->ProduceAndWait(Record("after"), absl::Seconds(10));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(after->offset, first->offset);
  EXPECT_EQ((*producer)->recoveries(), 1);
  EXPECT_EQ(ProducersReplacedInProcess(), replaced_before + 1);  // the process's metric
}

TEST(KafkaProducerRecoveryTest, RecordsOfAFatalOrStoppingProducerAreRetryable) {
  for (rd_kafka_resp_err_t err : {RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR__PURGE_QUEUE,
                                  RD_KAFKA_RESP_ERR__PURGE_INFLIGHT}) {
    EXPECT_TRUE(absl::IsUnavailable(ErrorToStatus(err, "deliver"))) << rd_kafka_err2name(err);
  }
}

}  // namespace
}  // namespace choreo::kafka
