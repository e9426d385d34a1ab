// HandledOutcome: what a handled marker holds, and that reading it gives back the records a
// reaction published, headers included, whether or not they were stored; and that a reader of
// before re-publishes records every choreo consumer still decodes.

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
  return {*codec.Encode(created, "orders.created", "alice"),
          *codec.Encode(testing::SamplePaymentProcessed("e2"), "billing.payments", "ord-1")};
}

auto SameRecord(const KafkaRecord& want) {
  return ::testing::AllOf(
      Field(&KafkaRecord::topic, Eq(want.topic)), Field(&KafkaRecord::key, Eq(want.key)),
      Field(&KafkaRecord::value, Eq(want.value)), Field(&KafkaRecord::headers, Eq(want.headers)));
}

saga::v1::HandledOutcome Stored(const std::vector<KafkaRecord>& records) {
  saga::v1::HandledOutcome stored;
  EXPECT_TRUE(stored.ParseFromString(EncodeHandledOutcome(records)));
  return stored;
}

TEST(HandledOutcomeTest, EventsComeBackWithTheirHeadersThatAreNotStored) {
  const std::vector<KafkaRecord> records = EncodedEvents();
  ASSERT_EQ(records[0].headers.size(), 10u);  // the tracestate too

  const saga::v1::HandledOutcome stored = Stored(records);
  ASSERT_EQ(stored.records_size(), 2);
  for (const saga::v1::StoredRecord& record : stored.records()) {
    EXPECT_TRUE(record.headers_derived());
    ASSERT_EQ(record.headers_size(), 2);  // only what a reader of before needs
    EXPECT_EQ(record.headers(0).key(), "ce_specversion");
    EXPECT_EQ(record.headers(1).key(), "ce_type");
  }

  absl::StatusOr<std::vector<KafkaRecord>> read =
      DecodeHandledOutcome(EncodeHandledOutcome(records), std::nullopt);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, ElementsAre(SameRecord(records[0]), SameRecord(records[1])));
}

TEST(HandledOutcomeTest, AReaderOfBeforeRepublishesRecordsThatDecodeWithoutTheirIds) {
  const std::vector<KafkaRecord> records = EncodedEvents();
  const saga::v1::HandledOutcome stored = Stored(records);
  codec::EventCodec codec;
  ASSERT_TRUE(codec.Register<orders::v1::OrderCreated>().ok());
  ASSERT_TRUE(codec.Register<billing::v1::PaymentProcessed>().ok());
  ASSERT_EQ(stored.records_size(), 2);
  for (int i = 0; i < stored.records_size(); ++i) {
    // What a reader that does not know headers_derived re-publishes: the stored headers alone.
    KafkaRecord republished{.topic = stored.records(i).topic(),
                            .key = stored.records(i).key(),
                            .value = stored.records(i).value()};
    for (const saga::v1::StoredHeader& header : stored.records(i).headers()) {
      republished.AddHeader(header.key(), header.value());
    }
    absl::StatusOr<codec::DecodedEvent> decoded = codec.Decode(republished);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->meta().event_id(), *records[i].Header("ce_id"));
    // ... but without its ids and trace context in the headers: hence kAll during an upgrade.
    EXPECT_FALSE(republished.Header("ce_id").has_value());
    EXPECT_FALSE(republished.Header("traceparent").has_value());
  }
}

TEST(HandledOutcomeTest, WithAllHeadersAMarkerIsWhatAReaderOfBeforeWrote) {
  const std::vector<KafkaRecord> records = EncodedEvents();
  const std::string bytes = EncodeHandledOutcome(records, MarkerHeaders::kAll);
  saga::v1::HandledOutcome stored;
  ASSERT_TRUE(stored.ParseFromString(bytes));
  ASSERT_EQ(stored.records_size(), 2);
  for (int i = 0; i < stored.records_size(); ++i) {
    EXPECT_FALSE(stored.records(i).headers_derived());
    ASSERT_EQ(stored.records(i).headers_size(), static_cast<int>(records[i].headers.size()));
    for (int h = 0; h < stored.records(i).headers_size(); ++h) {
      EXPECT_EQ(stored.records(i).headers(h).key(), records[i].headers[h].key);
      EXPECT_EQ(stored.records(i).headers(h).value(), records[i].headers[h].value);
    }
  }
  absl::StatusOr<std::vector<KafkaRecord>> read = DecodeHandledOutcome(bytes, std::nullopt);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, ElementsAre(SameRecord(records[0]), SameRecord(records[1])));
}

// The derived headers are a stored format: markers written with kDerived get them from
// codec::EventHeaders when read. This pins them, literally, for a record stored that way.
TEST(HandledOutcomeTest, DerivedHeadersAreExactlyThese) {
  saga::v1::HandledOutcome outcome;
  saga::v1::StoredRecord* record = outcome.add_records();
  record->set_topic("orders.created");
  record->set_key("alice");
  record->set_value(testing::SampleOrderCreated("e1").SerializeAsString());
  record->set_headers_derived(true);
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"ce_specversion", "1.0"}, {"ce_type", "choreo.orders.v1.OrderCreated"}}) {
    saga::v1::StoredHeader* header = record->add_headers();
    header->set_key(key);
    header->set_value(value);
  }
  absl::StatusOr<std::vector<KafkaRecord>> read =
      DecodeHandledOutcome(outcome.SerializeAsString(), std::nullopt);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 1u);
  const std::vector<RecordHeader> want = {
      {"ce_specversion", "1.0"},
      {"ce_id", "e1"},
      {"ce_type", "choreo.orders.v1.OrderCreated"},
      {"ce_source", "/choreo/order"},
      {"ce_time", "2026-11-22T12:00:00.25Z"},
      {"content-type", "application/protobuf"},
      {"ce_correlationid", "corr-e1"},
      {"ce_schemaversion", "1"},
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
  };
  EXPECT_EQ(read->front().headers, want);
}

TEST(HandledOutcomeTest, HeadersThatAreNotTheDerivedOnesAreStoredAsTheyAre) {
  std::vector<KafkaRecord> records = EncodedEvents();
  records[0].AddHeader("x-extra", "1");                  // one header more
  records[1].headers[4].value = "2026-01-01T00:00:00Z";  // a ce_time not from the meta
  KafkaRecord plain{.topic = "t", .key = "k", .value = "not an event"};
  plain.AddHeader("ce_type", "choreo.orders.v1.OrderCreated");  // but no EventMeta in the value
  records.push_back(plain);
  KafkaRecord repeated = EncodedEvents()[1];
  repeated.AddHeader("ce_type", "choreo.billing.v1.PaymentProcessed");  // the same type, twice
  records.push_back(repeated);

  const saga::v1::HandledOutcome stored = Stored(records);
  ASSERT_EQ(stored.records_size(), 4);
  for (int i = 0; i < stored.records_size(); ++i) {
    EXPECT_FALSE(stored.records(i).headers_derived());
    EXPECT_EQ(stored.records(i).headers_size(), static_cast<int>(records[i].headers.size()));
  }

  absl::StatusOr<std::vector<KafkaRecord>> read =
      DecodeHandledOutcome(EncodeHandledOutcome(records), std::nullopt);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, ElementsAre(SameRecord(records[0]), SameRecord(records[1]),
                                 SameRecord(records[2]), SameRecord(records[3])));
}

TEST(HandledOutcomeTest, MarkersWrittenWithEveryHeaderAreReadAsBefore) {
  const std::vector<KafkaRecord> records = EncodedEvents();
  saga::v1::HandledOutcome old;  // as markers were written before headers_derived
  size_t left_out = 0;           // the text of the headers the new form does not keep
  for (const KafkaRecord& record : records) {
    saga::v1::StoredRecord* stored = old.add_records();
    stored->set_topic(record.topic);
    stored->set_key(record.key);
    stored->set_value(record.value);
    for (const RecordHeader& header : record.headers) {
      saga::v1::StoredHeader* h = stored->add_headers();
      h->set_key(header.key);
      h->set_value(header.value);
      if (header.key != "ce_specversion" && header.key != "ce_type") {
        left_out += header.key.size() + header.value.size();
      }
    }
  }
  const std::string old_bytes = old.SerializeAsString();
  EXPECT_LE(EncodeHandledOutcome(records).size() + left_out, old_bytes.size());

  absl::StatusOr<std::vector<KafkaRecord>> read = DecodeHandledOutcome(old_bytes, std::nullopt);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, ElementsAre(SameRecord(records[0]), SameRecord(records[1])));
}

TEST(HandledOutcomeTest, UnreadableMarkersAreDataLoss) {
  EXPECT_EQ(DecodeHandledOutcome("\xff\xff", std::nullopt).status().code(),
            absl::StatusCode::kDataLoss);

  saga::v1::HandledOutcome outcome;
  saga::v1::StoredRecord* record = outcome.add_records();
  record->set_topic("orders.created");
  record->set_value("not an event");
  record->set_headers_derived(true);
  saga::v1::StoredHeader* type = record->add_headers();
  type->set_key("ce_type");
  type->set_value("choreo.orders.v1.OrderCreated");
  absl::StatusOr<std::vector<KafkaRecord>> read =
      DecodeHandledOutcome(outcome.SerializeAsString(), std::nullopt);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("orders.created"));
}

// An order as the order service stores it, and an OrderCreated and the OrderSnapshot of that
// order as EventCodec writes them: what a reaction that creates an order publishes.
struct SnapshotReaction {
  orders::v1::Order order;
  std::string state;  // the order, serialized: the aggregate's state
  std::vector<KafkaRecord> records;
};

orders::v1::Order SampleOrder(int64_t revision, orders::v1::OrderStatus status) {
  orders::v1::Order order;
  order.set_order_id("ord-e1");
  order.set_username("alice");
  order.set_status(status);
  order.set_revision(revision);
  orders::v1::PricedItem* item = order.add_items();
  item->set_sku("SKU-1");
  item->set_name("Widget");
  item->set_quantity(2);
  return order;
}

SnapshotReaction ReactionWithSnapshot() {
  SnapshotReaction reaction;
  reaction.order = SampleOrder(1, orders::v1::ORDER_STATUS_PENDING_VALIDATION);
  reaction.state = reaction.order.SerializeAsString();
  orders::v1::OrderSnapshot snapshot;
  testing::FillMeta(snapshot, "e3", "corr-e1", "order");
  *snapshot.mutable_order() = reaction.order;
  codec::EventCodec codec;
  reaction.records = {*codec.Encode(testing::SampleOrderCreated("e1"), "orders.created", "alice"),
                      *codec.Encode(snapshot, "orders.snapshots", "ord-e1")};
  return reaction;
}

SnapshotsOfState ByState(const SnapshotReaction& reaction) {
  return {
      .keep = MarkerSnapshots::kByState, .carries_state = {false, true}, .state = reaction.state};
}

TEST(HandledOutcomeTest, ASnapshotIsStoredWithoutTheStateItsCommitWritesAndComesBackTheSame) {
  const SnapshotReaction reaction = ReactionWithSnapshot();
  const std::string marker =
      EncodeHandledOutcome(reaction.records, MarkerHeaders::kDerived, ByState(reaction));

  saga::v1::HandledOutcome stored;
  ASSERT_TRUE(stored.ParseFromString(marker));
  ASSERT_EQ(stored.records_size(), 2);
  EXPECT_EQ(stored.records(0).state_field(), 0u);
  EXPECT_EQ(stored.records(0).value(), reaction.records[0].value);
  EXPECT_EQ(stored.records(1).state_field(), 2u);  // OrderSnapshot.order
  ASSERT_LT(reaction.state.size(), 128u);          // its length takes one byte
  EXPECT_EQ(stored.records(1).value().size() + 1 + 1 + reaction.state.size(),
            reaction.records[1].value.size());  // less the field's tag, length and bytes
  EXPECT_LE(marker.size() + reaction.state.size(), EncodeHandledOutcome(reaction.records).size());

  // While no later commit changed the order, the same bytes, headers derived from them.
  absl::StatusOr<std::vector<KafkaRecord>> read = DecodeHandledOutcome(marker, reaction.state);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, ElementsAre(SameRecord(reaction.records[0]), SameRecord(reaction.records[1])));
}

TEST(HandledOutcomeTest, ASnapshotReadAfterALaterCommitCarriesTheNewerState) {
  const SnapshotReaction reaction = ReactionWithSnapshot();
  const std::string marker =
      EncodeHandledOutcome(reaction.records, MarkerHeaders::kDerived, ByState(reaction));
  const orders::v1::Order paid = SampleOrder(2, orders::v1::ORDER_STATUS_PAID);

  absl::StatusOr<std::vector<KafkaRecord>> read =
      DecodeHandledOutcome(marker, paid.SerializeAsString());
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_THAT((*read)[0], SameRecord(reaction.records[0]));
  // The first handling's event (its id, meta and headers) with the order as it is now.
  const KafkaRecord& snapshot = (*read)[1];
  EXPECT_EQ(snapshot.topic, "orders.snapshots");
  EXPECT_EQ(snapshot.key, "ord-e1");
  EXPECT_EQ(snapshot.headers, reaction.records[1].headers);
  orders::v1::OrderSnapshot decoded;
  ASSERT_TRUE(decoded.ParseFromString(snapshot.value));
  EXPECT_EQ(decoded.meta().event_id(), "e3");
  EXPECT_EQ(decoded.order().revision(), 2);
  EXPECT_EQ(decoded.order().status(), orders::v1::ORDER_STATUS_PAID);
}

TEST(HandledOutcomeTest, ASnapshotWhoseAggregateHasNoStateIsDataLoss) {
  const SnapshotReaction reaction = ReactionWithSnapshot();
  absl::StatusOr<std::vector<KafkaRecord>> read = DecodeHandledOutcome(
      EncodeHandledOutcome(reaction.records, MarkerHeaders::kDerived, ByState(reaction)),
      std::nullopt);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("orders.snapshots"));
}

// A record without headers whose value is field 1 ("abc"), then `last` as length-delimited
// field `number`, then `after` (raw bytes).
KafkaRecord RawSnapshot(uint32_t number, const std::string& last, const std::string& after = "") {
  std::string value =
      "\x0a\x03"
      "abc";  // field 1: "abc"
  std::string tail;
  for (uint64_t v : {uint64_t{number} << 3 | 2, uint64_t{last.size()}}) {
    for (; v >= 0x80; v >>= 7) tail.push_back(static_cast<char>(v | 0x80));
    tail.push_back(static_cast<char>(v));
  }
  return {.topic = "t", .key = "k", .value = value + tail + last + after};
}

std::optional<uint32_t> StoredStateField(const KafkaRecord& record, const std::string& state) {
  saga::v1::HandledOutcome stored;
  EXPECT_TRUE(stored.ParseFromString(EncodeHandledOutcome(
      {record}, MarkerHeaders::kDerived,
      {.keep = MarkerSnapshots::kByState, .carries_state = {true}, .state = state})));
  if (stored.records(0).state_field() == 0) {
    EXPECT_EQ(stored.records(0).value(), record.value);  // whole
    return std::nullopt;
  }
  return stored.records(0).state_field();
}

TEST(HandledOutcomeTest, LongStatesAndHighFieldNumbersComeBackByteForByte) {
  const std::string state(300, 's');                  // a two-byte length, as a real order's
  const KafkaRecord record = RawSnapshot(20, state);  // a two-byte tag
  EXPECT_EQ(StoredStateField(record, state), 20u);
  const std::string marker = EncodeHandledOutcome(
      {record}, MarkerHeaders::kDerived,
      {.keep = MarkerSnapshots::kByState, .carries_state = {true}, .state = state});
  absl::StatusOr<std::vector<KafkaRecord>> same = DecodeHandledOutcome(marker, state);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_THAT(*same, ElementsAre(SameRecord(record)));
  const std::string newer(100, 'n');  // back to a one-byte length
  absl::StatusOr<std::vector<KafkaRecord>> read = DecodeHandledOutcome(marker, newer);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ((*read)[0].value, RawSnapshot(20, newer).value);
}

TEST(HandledOutcomeTest, OnlyALastFieldThatIsExactlyTheStateIsLeftOut) {
  const std::string state(40, 's');
  EXPECT_EQ(StoredStateField(RawSnapshot(2, state), state), 2u);
  // A field after it.
  EXPECT_EQ(StoredStateField(RawSnapshot(2, state, "\x18\x05"), state), std::nullopt);
  // A last field that only ends with the state.
  EXPECT_EQ(StoredStateField(RawSnapshot(2, "xx" + state), state), std::nullopt);
  // Field number 0, which protobuf never writes.
  EXPECT_EQ(StoredStateField(RawSnapshot(0, state), state), std::nullopt);
  // A length written in two bytes where one does: rebuilt, it would differ.
  KafkaRecord padded = RawSnapshot(2, state);
  padded.value = std::string(
                     "\x0a\x03"
                     "abc"
                     "\x12") +
                 static_cast<char>(0x80 | state.size()) + '\x00' + state;
  EXPECT_EQ(StoredStateField(padded, state), std::nullopt);
  // Not a protobuf message at all, though it ends with the state.
  KafkaRecord garbage{.topic = "t", .key = "k", .value = "\xff\xff\xff" + state};
  EXPECT_EQ(StoredStateField(garbage, state), std::nullopt);
}

TEST(HandledOutcomeTest, ASnapshotIsStoredWholeWhenAskedOrWhenItsLastFieldIsNotTheState) {
  const SnapshotReaction reaction = ReactionWithSnapshot();
  SnapshotsOfState whole = ByState(reaction);
  whole.keep = MarkerSnapshots::kWhole;  // --full-marker-snapshots
  SnapshotsOfState other_state = ByState(reaction);
  const std::string other = SampleOrder(7, orders::v1::ORDER_STATUS_PAID).SerializeAsString();
  other_state.state = other;  // not what the snapshot holds
  SnapshotsOfState not_marked = ByState(reaction);
  not_marked.carries_state = {false, false};

  for (const SnapshotsOfState& snapshots : {whole, other_state, not_marked}) {
    const std::string marker =
        EncodeHandledOutcome(reaction.records, MarkerHeaders::kDerived, snapshots);
    saga::v1::HandledOutcome stored;
    ASSERT_TRUE(stored.ParseFromString(marker));
    EXPECT_EQ(stored.records(1).state_field(), 0u);
    EXPECT_EQ(stored.records(1).value(), reaction.records[1].value);
    // Read back as it was, whatever the aggregate's state now.
    absl::StatusOr<std::vector<KafkaRecord>> read = DecodeHandledOutcome(marker, std::nullopt);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_THAT(*read,
                ElementsAre(SameRecord(reaction.records[0]), SameRecord(reaction.records[1])));
  }
}

}  // namespace
}  // namespace choreo::store
