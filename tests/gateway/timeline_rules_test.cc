#include "gateway/timeline/core/timeline_rules.h"

#include "choreo/billing/v1/events.pb.h"
#include "choreo/notifications/v1/events.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "saga/dlq/dead_letter.h"
#include "platform/proto_time/proto_time.h"

namespace choreo::gateway::timeline {
namespace {

constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";
const absl::Time kStart = absl::FromUnixSeconds(1795348800);

// `event` stamped as the saga "corr-1"'s event `id`, caused by `cause`, at kStart + `at`, and
// encoded as the record at `offset` of `topic`.
KafkaRecord Record(google::protobuf::Message& event, const std::string& topic, int64_t offset,
                   const std::string& id, const std::string& cause, absl::Duration at,
                   const std::string& producer) {
  absl::BitGen random;
  codec::StampMeta(event,
                   {.event_id = id,
                    .correlation_id = "corr-1",
                    .causation_id = cause,
                    .traceparent = absl::StrCat("00-", kTrace, "-00f067aa0ba902b7-01"),
                    .producer = producer,
                    .occurred_at = kStart + at},
                   random);
  absl::StatusOr<KafkaRecord> record = codec::EventCodec().Encode(event, topic, "key-" + id);
  EXPECT_TRUE(record.ok()) << record.status();
  record->partition = 1;
  record->offset = offset;
  record->timestamp_ms = absl::ToUnixMillis(kStart + at + absl::Milliseconds(1));
  return *record;
}

std::vector<v1::IndexedHop> SagaHops() {
  orders::v1::OrderCreationRequested requested;
  requested.set_username("alice");
  orders::v1::OrderCreated created;
  created.set_order_id("ord-1");
  created.set_username("alice");
  billing::v1::PaymentProcessed payment;
  payment.set_order_id("ord-1");
  payment.set_username("alice");
  payment.set_success(false);
  payment.set_failure_reason("insufficient funds");
  orders::v1::OrderStatusUpdated status;
  status.set_order_id("ord-1");
  status.set_username("alice");
  status.set_status(orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS);
  status.set_reason("insufficient funds");
  std::vector<KafkaRecord> records = {
      Record(status, "orders.status", 30, "e4", "e3", absl::Milliseconds(30), "order"),
      Record(requested, "orders.requests", 10, "e1", "", absl::ZeroDuration(), "gateway"),
      Record(payment, "billing.payments", 20, "e3", "e2", absl::Milliseconds(25), "billing"),
      Record(created, "orders.created", 11, "e2", "e1", absl::Milliseconds(10), "order"),
  };
  // billing also dead-lettered a copy of OrderCreated 40 ms after it happened.
  records.push_back(dlq::DeadLetterRecord(records[3], "billing",
                                          absl::InvalidArgumentError("no such account"), 1,
                                          kStart + absl::Milliseconds(50)));
  records.back().topic = "dlq.billing";
  records.back().offset = 3;
  std::vector<v1::IndexedHop> hops;
  for (const KafkaRecord& record : records) {
    absl::StatusOr<v1::IndexedHop> hop = IndexRecord(record);
    EXPECT_TRUE(hop.ok()) << hop.status();
    hops.push_back(*hop);
  }
  return hops;
}

TEST(TimelineRulesTest, ARecordGivesItsHopAndTheSagaFacts) {
  const std::vector<v1::IndexedHop> hops = SagaHops();
  const v1::IndexedHop& created = hops[3];
  EXPECT_EQ(created.correlation_id(), "corr-1");
  EXPECT_EQ(created.order_id(), "ord-1");
  EXPECT_EQ(created.username(), "alice");
  EXPECT_EQ(created.hop().event_id(), "e2");
  EXPECT_EQ(created.hop().causation_id(), "e1");
  EXPECT_EQ(created.hop().event_type(), "choreo.orders.v1.OrderCreated");
  EXPECT_EQ(created.hop().service(), "order");
  EXPECT_EQ(created.hop().topic(), "orders.created");
  EXPECT_EQ(created.hop().partition(), 1);
  EXPECT_EQ(created.hop().offset(), 11);
  EXPECT_EQ(created.hop().key(), "key-e2");
  EXPECT_EQ(created.hop().trace_id(), kTrace);
  EXPECT_EQ(created.hop().status(), "ok");
  EXPECT_EQ(FromProtoTime(created.hop().occurred_at()), kStart + absl::Milliseconds(10));
  EXPECT_EQ(FromProtoTime(created.hop().recorded_at()), kStart + absl::Milliseconds(11));
  EXPECT_EQ(HopField(created.hop()), "orders.created/1/11");

  const v1::IndexedHop& payment = hops[2];
  EXPECT_EQ(payment.hop().status(), "failed");
  EXPECT_EQ(payment.hop().error(), "insufficient funds");
  const v1::IndexedHop& status = hops[0];
  EXPECT_EQ(status.order_status(), orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS);
  EXPECT_EQ(status.hop().status(), "failed");

  const v1::IndexedHop& dead = hops[4];
  EXPECT_EQ(dead.hop().status(), "dead_lettered");
  EXPECT_EQ(dead.hop().service(), "billing");
  EXPECT_EQ(dead.hop().topic(), "dlq.billing");
  EXPECT_EQ(dead.hop().event_id(), "e2") << "a dead letter is the original record";
  EXPECT_NE(dead.hop().error().find("no such account"), std::string::npos) << dead.hop().error();
  EXPECT_EQ(FromProtoTime(dead.hop().occurred_at()), kStart + absl::Milliseconds(50));
}

TEST(TimelineRulesTest, ARefusedCancellationIsAFailedHopWithItsReason) {
  orders::v1::OrderCancellationRefused refused;
  refused.set_order_id("ord-1");
  refused.set_username("alice");
  refused.set_status(orders::v1::ORDER_STATUS_REFUNDED);
  refused.set_reason("order ord-1 was already cancelled");
  absl::StatusOr<v1::IndexedHop> hop =
      IndexRecord(Record(refused, "orders.status", 40, "e9", "e8", absl::Milliseconds(60), "order"));
  ASSERT_TRUE(hop.ok()) << hop.status();
  EXPECT_EQ(hop->hop().status(), "failed");
  EXPECT_EQ(hop->hop().error(), "order ord-1 was already cancelled");
  EXPECT_EQ(hop->order_id(), "ord-1");
  EXPECT_EQ(hop->order_status(), orders::v1::ORDER_STATUS_REFUNDED);  // unchanged by a refusal
}

TEST(TimelineRulesTest, UndecodableRecordsStillGiveAHopFromTheirHeaders) {
  KafkaRecord record{.topic = "orders.created", .partition = 0, .offset = 5, .key = "alice",
                     .value = "\xff\xff not protobuf"};
  record.headers = {{"ce_id", "e9"}, {"ce_correlationid", "corr-9"},
                    {"ce_type", "choreo.orders.v2.OrderCreated"}, {"ce_source", "/choreo/order"},
                    {"ce_time", "2026-11-22T12:00:00.5Z"}};
  absl::StatusOr<v1::IndexedHop> hop = IndexRecord(record);
  ASSERT_TRUE(hop.ok()) << hop.status();
  EXPECT_EQ(hop->correlation_id(), "corr-9");
  EXPECT_EQ(hop->hop().service(), "order");
  EXPECT_EQ(hop->hop().event_type(), "choreo.orders.v2.OrderCreated");
  EXPECT_EQ(FromProtoTime(hop->hop().occurred_at()), kStart + absl::Milliseconds(500));

  // A type that is no event (field 1 is not EventMeta) is read from its headers only.
  record.headers = {{"ce_correlationid", "corr-9"}, {"ce_type", "google.protobuf.Timestamp"}};
  record.value = std::string("\x08\x01", 2);  // a valid Timestamp
  absl::StatusOr<v1::IndexedHop> not_an_event = IndexRecord(record);
  ASSERT_TRUE(not_an_event.ok());
  EXPECT_EQ(not_an_event->hop().causation_id(), "");

  record.headers = {{"ce_type", "something"}};
  record.value = "";
  EXPECT_TRUE(absl::IsNotFound(IndexRecord(record).status())) << "no correlation id: no saga";
}

// Event types are resolved once each and remembered; names that resolve to no type are not (a
// record may name anything). Records naming many unknown types are indexed from their headers,
// with the broker's time when they carry none, and known types are still decoded after them.
TEST(TimelineRulesTest, RecordsNamingUnknownTypesAreIndexedAndKnownTypesStillDecoded) {
  for (int n = 0; n < 1500; ++n) {
    KafkaRecord record{.topic = "dlq.billing",
                       .partition = 0,
                       .offset = n,
                       .value = "x",
                       .timestamp_ms = absl::ToUnixMillis(kStart)};
    record.headers = {{"ce_correlationid", "corr-9"},
                      {"ce_type", absl::StrCat("choreo.unknown.v1.Type", n)}};
    absl::StatusOr<v1::IndexedHop> hop = IndexRecord(record);
    ASSERT_TRUE(hop.ok()) << hop.status();
    ASSERT_EQ(hop->hop().event_type(), absl::StrCat("choreo.unknown.v1.Type", n));
    ASSERT_EQ(FromProtoTime(hop->hop().occurred_at()), kStart) << "no time of its own";
  }
  const std::vector<v1::IndexedHop> hops = SagaHops();
  EXPECT_EQ(hops[2].order_id(), "ord-1");
  EXPECT_EQ(hops[2].hop().status(), "failed");
  EXPECT_EQ(hops[2].hop().error(), "insufficient funds");
}

TEST(TimelineRulesTest, TheTimelineIsInTimeOrderWithEachHopsLatency) {
  const v1::SagaTimeline timeline = BuildTimeline("corr-1", SagaHops());
  EXPECT_EQ(timeline.correlation_id(), "corr-1");
  EXPECT_EQ(timeline.order_id(), "ord-1");
  EXPECT_EQ(timeline.username(), "alice");
  EXPECT_EQ(timeline.status(), orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS);
  EXPECT_EQ(FromProtoTime(timeline.started_at()), kStart);
  EXPECT_EQ(FromProtoTime(timeline.updated_at()), kStart + absl::Milliseconds(50));
  ASSERT_EQ(timeline.hops_size(), 5);
  std::vector<std::string> ids;
  std::vector<int64_t> latency_ms;
  for (const v1::SagaHop& hop : timeline.hops()) {
    ids.push_back(hop.event_id() + (hop.status() == "dead_lettered" ? "(dlq)" : ""));
    latency_ms.push_back(hop.since_cause().seconds() * 1000 + hop.since_cause().nanos() / 1000000);
  }
  EXPECT_EQ(ids, std::vector<std::string>({"e1", "e2", "e3", "e4", "e2(dlq)"}));
  EXPECT_EQ(latency_ms, std::vector<int64_t>({0, 10, 15, 5, 40}));
  // The same hops in any order give the same timeline.
  std::vector<v1::IndexedHop> reversed = SagaHops();
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(BuildTimeline("corr-1", reversed).SerializeAsString(), timeline.SerializeAsString());
}

TEST(TimelineRulesTest, OnlyTheSagasUserOrAnOperatorSeesIt) {
  const v1::SagaTimeline timeline = BuildTimeline("corr-1", SagaHops());
  EXPECT_TRUE(MaySee("alice", {"user"}, timeline));
  EXPECT_FALSE(MaySee("bob", {"user"}, timeline));
  EXPECT_TRUE(MaySee("bob", {"user", "operator"}, timeline));
  EXPECT_FALSE(MaySee("", {}, BuildTimeline("corr-2", {})));
}

}  // namespace
}  // namespace choreo::gateway::timeline
