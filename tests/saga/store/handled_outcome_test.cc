// HandledOutcome: what a handled marker holds, and that reading it gives back the records a
// reaction published, headers included, whether or not they were stored.

#include "saga/store/handled_outcome.h"

#include "choreo/saga/v1/outcome.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "tests/saga/sample_events.h"

namespace choreo::store {
namespace {

using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Field;
using ::testing::HasSubstr;

// Two records as EventCodec writes them: an OrderCreated (with a tracestate) and a
// PaymentProcessed.
std::vector<KafkaRecord> EncodedEvents() {
  codec::EventCodec codec;
  orders::v1::OrderCreated created = testing::SampleOrderCreated("e1");
  created.mutable_meta()->set_tracestate("vendor=1");
  std::vector<KafkaRecord> records = {
      *codec.Encode(created, "orders.created", "alice"),
      *codec.Encode(testing::SamplePaymentProcessed("e2"), "billing.payments", "ord-1")};
  return records;
}

auto SameRecord(const KafkaRecord& want) {
  return ::testing::AllOf(
      Field(&KafkaRecord::topic, Eq(want.topic)), Field(&KafkaRecord::key, Eq(want.key)),
      Field(&KafkaRecord::value, Eq(want.value)), Field(&KafkaRecord::headers, Eq(want.headers)));
}

TEST(HandledOutcomeTest, EventsComeBackWithTheirHeadersThatAreNotStored) {
  const std::vector<KafkaRecord> records = EncodedEvents();
  ASSERT_EQ(records[0].headers.size(), 10u);  // the tracestate too

  const std::string bytes = EncodeHandledOutcome(records);
  saga::v1::HandledOutcome stored;
  ASSERT_TRUE(stored.ParseFromString(bytes));
  ASSERT_EQ(stored.records_size(), 2);
  for (const saga::v1::StoredRecord& record : stored.records()) {
    EXPECT_EQ(record.headers_size(), 0) << record.event_type();
  }
  EXPECT_EQ(stored.records(0).event_type(), "choreo.orders.v1.OrderCreated");
  EXPECT_EQ(stored.records(1).event_type(), "choreo.billing.v1.PaymentProcessed");

  absl::StatusOr<std::vector<KafkaRecord>> read = DecodeHandledOutcome(bytes);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, ElementsAre(SameRecord(records[0]), SameRecord(records[1])));
}

TEST(HandledOutcomeTest, HeadersThatAreNotTheDerivedOnesAreStoredAsTheyAre) {
  std::vector<KafkaRecord> records = EncodedEvents();
  records[0].AddHeader("x-extra", "1");                  // one header more
  records[1].headers[4].value = "2026-01-01T00:00:00Z";  // a ce_time not from the meta
  KafkaRecord plain{.topic = "t", .key = "k", .value = "not an event"};
  plain.AddHeader("ce_type", "choreo.orders.v1.OrderCreated");  // but no EventMeta in the value
  records.push_back(plain);

  const std::string bytes = EncodeHandledOutcome(records);
  saga::v1::HandledOutcome stored;
  ASSERT_TRUE(stored.ParseFromString(bytes));
  for (const saga::v1::StoredRecord& record : stored.records()) {
    EXPECT_EQ(record.event_type(), "");
    EXPECT_GT(record.headers_size(), 0);
  }

  absl::StatusOr<std::vector<KafkaRecord>> read = DecodeHandledOutcome(bytes);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read,
              ElementsAre(SameRecord(records[0]), SameRecord(records[1]), SameRecord(records[2])));
}

TEST(HandledOutcomeTest, MarkersWrittenWithEveryHeaderAreReadAsBefore) {
  const std::vector<KafkaRecord> records = EncodedEvents();
  saga::v1::HandledOutcome old;  // as markers were written before event_type
  for (const KafkaRecord& record : records) {
    saga::v1::StoredRecord* stored = old.add_records();
    stored->set_topic(record.topic);
    stored->set_key(record.key);
    stored->set_value(record.value);
    for (const RecordHeader& header : record.headers) {
      saga::v1::StoredHeader* h = stored->add_headers();
      h->set_key(header.key);
      h->set_value(header.value);
    }
  }
  const std::string old_bytes = old.SerializeAsString();
  size_t header_bytes = 0;
  for (const KafkaRecord& record : records) {
    for (const RecordHeader& header : record.headers)
      header_bytes += header.key.size() + header.value.size();
  }
  // The new form leaves out at least the headers' text.
  EXPECT_LE(EncodeHandledOutcome(records).size() + header_bytes, old_bytes.size());

  absl::StatusOr<std::vector<KafkaRecord>> read = DecodeHandledOutcome(old_bytes);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, ElementsAre(SameRecord(records[0]), SameRecord(records[1])));
}

TEST(HandledOutcomeTest, UnreadableMarkersAreDataLoss) {
  EXPECT_EQ(DecodeHandledOutcome("\xff\xff").status().code(), absl::StatusCode::kDataLoss);

  saga::v1::HandledOutcome outcome;
  saga::v1::StoredRecord* record = outcome.add_records();
  record->set_value("not an event");
  record->set_event_type("choreo.orders.v1.OrderCreated");
  absl::StatusOr<std::vector<KafkaRecord>> read = DecodeHandledOutcome(outcome.SerializeAsString());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("OrderCreated"));
}

}  // namespace
}  // namespace choreo::store
