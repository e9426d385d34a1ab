// EventCodec unit tests: round trips of every header and field, and each decode failure kind.

#include "saga/codec/event_codec.h"

#include <random>
#include <string>

#include "choreo/notifications/v1/events.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/saga/sample_events.h"

namespace choreo::codec {
namespace {

using google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;
using ::testing::Optional;

class EventCodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(codec_.Register<orders::v1::OrderCreated>().ok());
    ASSERT_TRUE(codec_.Register<billing::v1::PaymentProcessed>().ok());
    ASSERT_TRUE(codec_.Register<users::v1::UserRegistered>().ok());
  }

  KafkaRecord EncodeOrThrow(const google::protobuf::Message& event) {
    absl::StatusOr<KafkaRecord> record = codec_.Encode(event, "orders.created", "alice");
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() ? *record : KafkaRecord{};
  }

  void ExpectDecodeError(const KafkaRecord& record, DecodeError kind, absl::string_view text) {
    absl::StatusOr<DecodedEvent> decoded = codec_.Decode(record);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(DecodeErrorOf(decoded.status()), Optional(kind)) << decoded.status();
    EXPECT_THAT(std::string(decoded.status().message()), HasSubstr(text));
  }

  EventCodec codec_;
};

TEST_F(EventCodecTest, EncodeWritesValueKeyAndCloudEventsHeaders) {
  orders::v1::OrderCreated event = testing::SampleOrderCreated("e1");
  KafkaRecord record = EncodeOrThrow(event);
  EXPECT_EQ(record.topic, "orders.created");
  EXPECT_EQ(record.key, "alice");
  EXPECT_EQ(record.value, event.SerializeAsString());
  EXPECT_THAT(record.Header("ce_specversion"), Optional(absl::string_view("1.0")));
  EXPECT_THAT(record.Header("ce_id"), Optional(absl::string_view("e1")));
  EXPECT_THAT(record.Header("ce_type"), Optional(absl::string_view("choreo.orders.v1.OrderCreated")));
  EXPECT_THAT(record.Header("ce_source"), Optional(absl::string_view("/choreo/order")));
  EXPECT_THAT(record.Header("ce_time"), Optional(absl::string_view("2026-11-22T12:00:00.25Z")));
  EXPECT_THAT(record.Header("content-type"), Optional(absl::string_view("application/protobuf")));
  EXPECT_THAT(record.Header("ce_correlationid"), Optional(absl::string_view("corr-e1")));
  EXPECT_THAT(record.Header("ce_schemaversion"), Optional(absl::string_view("1")));
  EXPECT_THAT(record.Header("traceparent"),
              Optional(absl::string_view("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")));
  EXPECT_EQ(record.Header("tracestate"), std::nullopt);  // only when set
}

TEST_F(EventCodecTest, RoundTripsEveryRegisteredType) {
  std::vector<std::unique_ptr<google::protobuf::Message>> events;
  events.push_back(std::make_unique<orders::v1::OrderCreated>(testing::SampleOrderCreated("a")));
  events.push_back(
      std::make_unique<billing::v1::PaymentProcessed>(testing::SamplePaymentProcessed("b")));
  events.push_back(std::make_unique<users::v1::UserRegistered>(testing::SampleUserRegistered("c")));
  codec::MutableMetaOf(events[2].get())->set_tracestate("vendor=1");
  for (const auto& event : events) {
    KafkaRecord record = EncodeOrThrow(*event);
    absl::StatusOr<DecodedEvent> decoded = codec_.Decode(record);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->type(), event->GetDescriptor()->full_name());
    EXPECT_EQ(decoded->major_version, 1);
    EXPECT_EQ(decoded->schema_version, codec::CurrentSchemaVersion(*event->GetDescriptor()));
    EXPECT_TRUE(MessageDifferencer::Equals(*decoded->message, *event))
        << decoded->message->DebugString();
    EXPECT_EQ(decoded->meta().event_id(), MetaOf(*event).event_id());
  }
}

TEST_F(EventCodecTest, EncodeRefusesIncompleteMeta) {
  struct Case {
    const char* field;
    void (*clear)(common::v1::EventMeta&);
  } cases[] = {
      {"event_id", [](common::v1::EventMeta& m) { m.clear_event_id(); }},
      {"correlation_id", [](common::v1::EventMeta& m) { m.clear_correlation_id(); }},
      {"producer", [](common::v1::EventMeta& m) { m.clear_producer(); }},
      {"occurred_at", [](common::v1::EventMeta& m) { m.clear_occurred_at(); }},
      {"schema_version", [](common::v1::EventMeta& m) { m.clear_schema_version(); }},
  };
  for (const Case& c : cases) {
    orders::v1::OrderCreated event = testing::SampleOrderCreated("e");
    c.clear(*event.mutable_meta());
    absl::StatusOr<KafkaRecord> record = codec_.Encode(event, "orders.created", "k");
    ASSERT_FALSE(record.ok()) << c.field;
    EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(record.status().message()), HasSubstr(std::string("meta.") + c.field));
  }
}

TEST_F(EventCodecTest, EncodeRefusesAMessageThatIsNotAnEvent) {
  orders::v1::OrderItem item;
  absl::StatusOr<KafkaRecord> record = codec_.Encode(item, "orders.created", "k");
  ASSERT_FALSE(record.ok());
  EXPECT_THAT(std::string(record.status().message()), HasSubstr("is not an event"));
  EXPECT_FALSE(codec_.Register<orders::v1::OrderItem>().ok());
}

TEST_F(EventCodecTest, UnknownTypeIsTold) {
  notifications::v1::NotificationSent event;
  testing::FillMeta(event, "n1", "corr", "notification");
  KafkaRecord record = EncodeOrThrow(event);
  ExpectDecodeError(record, DecodeError::kUnknownType,
                    "event type 'choreo.notifications.v1.NotificationSent' is not handled here");
  record.headers.clear();
  record.AddHeader("ce_type", "not-a-type");
  ExpectDecodeError(record, DecodeError::kUnknownType, "'not-a-type'");
}

TEST_F(EventCodecTest, AnotherMajorVersionOfAKnownTypeIsToldApart) {
  KafkaRecord record = EncodeOrThrow(testing::SampleOrderCreated("e2"));
  for (RecordHeader& header : record.headers) {
    if (header.key == "ce_type") header.value = "choreo.orders.v2.OrderCreated";
  }
  ExpectDecodeError(record, DecodeError::kUnsupportedMajorVersion,
                    "is major version 2; this consumer handles v1");
}

TEST_F(EventCodecTest, GarbageBytesAreUndecodable) {
  KafkaRecord good = EncodeOrThrow(testing::SampleOrderCreated("e3"));
  std::mt19937 random(42);
  std::vector<std::string> garbage = {"", "\xff\xff\xff\xff", "not protobuf at all",
                                      good.value.substr(0, good.value.size() / 2)};
  for (int i = 0; i < 50; ++i) {
    std::string bytes(1 + random() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    garbage.push_back(bytes);
  }
  for (const std::string& value : garbage) {
    KafkaRecord record = good;
    record.value = value;
    absl::StatusOr<DecodedEvent> decoded = codec_.Decode(record);
    ASSERT_FALSE(decoded.ok());
    EXPECT_THAT(DecodeErrorOf(decoded.status()), Optional(DecodeError::kUndecodable));
  }
}

TEST_F(EventCodecTest, MissingOrContradictoryHeadersAreUndecodable) {
  const KafkaRecord good = EncodeOrThrow(testing::SampleOrderCreated("e4"));
  auto with = [&](absl::string_view key, std::optional<std::string> value) {
    KafkaRecord record = good;
    std::erase_if(record.headers, [&](const RecordHeader& h) { return h.key == key; });
    if (value) record.AddHeader(std::string(key), *value);
    return record;
  };
  ExpectDecodeError(with("ce_type", std::nullopt), DecodeError::kUndecodable, "no ce_type header");
  ExpectDecodeError(with("ce_specversion", "0.3"), DecodeError::kUndecodable, "ce_specversion");
  ExpectDecodeError(with("ce_specversion", std::nullopt), DecodeError::kUndecodable,
                    "ce_specversion");
  ExpectDecodeError(with("content-type", "application/json"), DecodeError::kUndecodable,
                    "content-type is 'application/json'");
  ExpectDecodeError(with("ce_id", "other"), DecodeError::kUndecodable,
                    "ce_id header 'other' differs from meta.event_id 'e4'");
  ExpectDecodeError(with("ce_schemaversion", "2"), DecodeError::kUndecodable,
                    "ce_schemaversion header '2'");
  ExpectDecodeError(with("ce_schemaversion", "x"), DecodeError::kUndecodable,
                    "ce_schemaversion header 'x'");
  // Optional headers may be absent.
  EXPECT_TRUE(codec_.Decode(with("content-type", std::nullopt)).ok());
  EXPECT_TRUE(codec_.Decode(with("ce_id", std::nullopt)).ok());
}

TEST_F(EventCodecTest, LastHeaderWinsWhenKeysRepeat) {
  KafkaRecord record = EncodeOrThrow(testing::SampleOrderCreated("e5"));
  record.AddHeader("ce_type", "choreo.orders.v3.OrderCreated");
  ExpectDecodeError(record, DecodeError::kUnsupportedMajorVersion, "major version 3");
}

TEST_F(EventCodecTest, NewerRevisionWithUnknownFieldsDecodes) {
  orders::v1::OrderCreated event = testing::SampleOrderCreated("e6");
  event.mutable_meta()->set_schema_version(7);
  KafkaRecord record = EncodeOrThrow(event);
  // A field a newer producer added (number 99, string "x").
  record.value.append("\x9a\x06\x01x", 4);
  absl::StatusOr<DecodedEvent> decoded = codec_.Decode(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->schema_version, 7u);
  EXPECT_EQ(static_cast<const orders::v1::OrderCreated&>(*decoded->message).order_id(), "ord-e6");
}

TEST_F(EventCodecTest, EventWithoutMetaIsUndecodable) {
  orders::v1::OrderCreated event = testing::SampleOrderCreated("e7");
  KafkaRecord record = EncodeOrThrow(event);
  event.clear_meta();
  record.value = event.SerializeAsString();
  ExpectDecodeError(record, DecodeError::kUndecodable, "has no meta.event_id");
}

TEST_F(EventCodecTest, MetaOfAnyEventCanBeReadWithoutItsType) {
  KafkaRecord record = EncodeOrThrow(testing::SamplePaymentProcessed("p1"));
  absl::StatusOr<common::v1::EventMeta> meta = DecodeMeta(record.value);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->event_id(), "p1");
  EXPECT_EQ(meta->correlation_id(), "corr-p1");
  EXPECT_EQ(meta->producer(), "billing");
  EXPECT_THAT(DecodeErrorOf(DecodeMeta("\xff\xff").status()), Optional(DecodeError::kUndecodable));
}

TEST(StampMetaTest, KeepsAnOlderRevisionTheProducerChoseAndOtherwiseStampsTheCurrent) {
  absl::BitGen random;
  const codec::Provenance provenance{.event_id = "e1",
                                     .correlation_id = "c1",
                                     .producer = "billing",
                                     .occurred_at = absl::FromUnixSeconds(1796000000)};
  billing::v1::PaymentProcessed payment;  // revision 2 is current
  codec::StampMeta(payment, provenance, random);
  EXPECT_EQ(payment.meta().schema_version(), 2u);
  payment.Clear();
  payment.mutable_meta()->set_schema_version(1);  // for readers of revision 1
  codec::StampMeta(payment, provenance, random);
  EXPECT_EQ(payment.meta().schema_version(), 1u);
  EXPECT_EQ(payment.meta().event_id(), "e1");
  payment.mutable_meta()->set_schema_version(7);  // no such revision yet: the current one
  codec::StampMeta(payment, provenance, random);
  EXPECT_EQ(payment.meta().schema_version(), 2u);
}

TEST(EventTypeNameTest, SplitsFamilyAndMajor) {
  absl::StatusOr<EventTypeName> name = ParseEventTypeName("choreo.orders.v12.OrderCreated");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->family, "choreo.orders.OrderCreated");
  EXPECT_EQ(name->major, 12);
  for (const char* bad : {"OrderCreated", "choreo.OrderCreated", "choreo.orders.OrderCreated",
                          "choreo.orders.v0.OrderCreated", "choreo.orders.vx.OrderCreated",
                          "choreo.orders.v.OrderCreated"}) {
    EXPECT_FALSE(ParseEventTypeName(bad).ok()) << bad;
  }
}

TEST(DecodeErrorOfTest, OnlyCodecFailuresHaveAKind) {
  EXPECT_EQ(DecodeErrorOf(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(DecodeErrorOf(absl::InvalidArgumentError("x")), std::nullopt);
  EXPECT_EQ(DecodeErrorName(DecodeError::kUnknownType), "unknown_type");
  EXPECT_EQ(DecodeErrorName(DecodeError::kUnsupportedMajorVersion), "unsupported_major_version");
}

}  // namespace
}  // namespace choreo::codec
