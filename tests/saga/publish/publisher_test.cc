#include "saga/publish/publisher.h"

#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "choreo/orders/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "contracts/topics/topics.h"

namespace choreo::publish {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1795348800);

Publisher::Options TestOptions() {
  return {.service = "order", .clock = [] { return kNow; }, .ack_timeout = absl::Seconds(5)};
}

orders::v1::OrderDeadlinePassed Deadline(const std::string& order_id) {
  orders::v1::OrderDeadlinePassed event;
  event.set_order_id(order_id);
  return event;
}

codec::DecodedEvent DecodeSent(const KafkaRecord& record) {
  codec::EventCodec codec;
  EXPECT_TRUE(codec.Register<orders::v1::OrderDeadlinePassed>().ok());
  absl::StatusOr<codec::DecodedEvent> decoded = codec.Decode(record);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return *std::move(decoded);
}

TEST(PublisherTest, AnEventCausedByAnotherJoinsItsSagaAndTrace) {
  RecordingSink sink;
  Publisher publisher(&sink, TestOptions());
  common::v1::EventMeta cause;
  cause.set_event_id("cause-1");
  cause.set_correlation_id("saga-7");
  cause.set_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  cause.set_tracestate("vendor=1");
  orders::v1::OrderDeadlinePassed event = Deadline("o-1");
  ASSERT_TRUE(publisher.Publish(event, topics::kOrdersDeadlines, "o-1", Origin::CausedBy(cause)).ok());

  ASSERT_EQ(sink.sent().size(), 1u);
  const KafkaRecord record = sink.sent()[0];
  EXPECT_EQ(record.topic, topics::kOrdersDeadlines);
  EXPECT_EQ(record.key, "o-1");
  const common::v1::EventMeta meta = DecodeSent(record).meta();
  EXPECT_EQ(meta.correlation_id(), "saga-7");
  EXPECT_EQ(meta.causation_id(), "cause-1");
  EXPECT_EQ(meta.producer(), "order");
  EXPECT_EQ(meta.schema_version(), codec::CurrentSchemaVersion(*event.GetDescriptor()));
  EXPECT_EQ(meta.event_id().size(), 32u);
  EXPECT_EQ(meta.tracestate(), "vendor=1");
  // Same trace, a new span: the send span's context.
  EXPECT_EQ(meta.traceparent().substr(0, 35), cause.traceparent().substr(0, 35));
  EXPECT_NE(meta.traceparent(), cause.traceparent());
  EXPECT_EQ(meta.occurred_at().seconds(), absl::ToUnixSeconds(kNow));
}

TEST(PublisherTest, AStableEventIdIsKeptAndACommandWithoutTraceStartsOne) {
  RecordingSink sink;
  Publisher publisher(&sink, TestOptions());
  Origin origin = Origin::Command(ids::CorrelationId("saga-9"), "");
  origin.event_id = ids::EventId("deadline-of-o-2");
  orders::v1::OrderDeadlinePassed event = Deadline("o-2");
  ASSERT_TRUE(publisher.Publish(event, topics::kOrdersDeadlines, "o-2", origin).ok());
  const common::v1::EventMeta meta = DecodeSent(sink.sent().at(0)).meta();
  EXPECT_EQ(meta.event_id(), "deadline-of-o-2");
  EXPECT_EQ(meta.correlation_id(), "saga-9");
  EXPECT_EQ(meta.causation_id(), "");
  EXPECT_THAT(meta.traceparent(), testing::StartsWith("00-"));
}

TEST(PublisherTest, ARefusedSendIsTheResultAndNothingIsReportedPublished) {
  RecordingSink sink;
  int published = 0;
  Publisher::Options options = TestOptions();
  options.on_published = [&published](const KafkaRecord&) { ++published; };
  Publisher publisher(&sink, options);
  sink.FailWith(absl::UnavailableError("queue full"));
  orders::v1::OrderDeadlinePassed event = Deadline("o-3");
  absl::Status status = publisher.Publish(event, topics::kOrdersDeadlines, "o-3", Origin::Command(ids::CorrelationId("s"), ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(published, 0);

  sink.FailWith(absl::OkStatus());
  ASSERT_TRUE(publisher.Publish(event, topics::kOrdersDeadlines, "o-3", Origin::Command(ids::CorrelationId("s"), "")).ok());
  EXPECT_EQ(published, 1);
}

TEST(PublisherTest, AnUnencodableEventIsInvalidAndNotSent) {
  RecordingSink sink;
  Publisher publisher(&sink, TestOptions());
  orders::v1::OrderDeadlinePassed event = Deadline("o-4");
  Origin no_saga;  // no correlation id: the codec refuses the event
  absl::StatusOr<StampedEvent> stamped = publisher.Stamp(event, topics::kOrdersDeadlines, "o-4", no_saga);
  EXPECT_EQ(stamped.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(sink.sent().empty());
}

// A sink that never answers: the wait ends at the ack timeout.
class SilentSink final : public RecordSink {
 public:
  absl::Status Send(const KafkaRecord&, SendCallback done) override {
    held_.push_back(std::move(done));
    return absl::OkStatus();
  }
  std::vector<SendCallback> held_;
};

TEST(PublisherTest, AnUnacknowledgedSendIsADeadlineAndALateAnswerIsHarmless) {
  SilentSink sink;
  Publisher::Options options = TestOptions();
  options.ack_timeout = absl::Milliseconds(50);
  Publisher publisher(&sink, options);
  orders::v1::OrderDeadlinePassed event = Deadline("o-5");
  EXPECT_EQ(publisher.Publish(event, topics::kOrdersDeadlines, "o-5", Origin::Command(ids::CorrelationId("s"), ""))
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_EQ(sink.held_.size(), 1u);
  std::move(sink.held_[0])(absl::OkStatus());  // after the wait returned
}

TEST(PublisherTest, AnAsynchronousSendReportsTheAnswerOnce) {
  RecordingSink sink;
  Publisher publisher(&sink, TestOptions());
  orders::v1::OrderDeadlinePassed event = Deadline("o-6");
  absl::StatusOr<StampedEvent> stamped =
      publisher.Stamp(event, topics::kOrdersDeadlines, "o-6", Origin::Command(ids::CorrelationId("s"), ""));
  ASSERT_TRUE(stamped.ok());
  int answers = 0;
  publisher.Send(*std::move(stamped), [&answers](absl::Status status) {
    EXPECT_TRUE(status.ok());
    ++answers;
  });
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(sink.sent().size(), 1u);

  sink.FailWith(absl::UnavailableError("queue full"));
  stamped = publisher.Stamp(event, topics::kOrdersDeadlines, "o-6", Origin::Command(ids::CorrelationId("s"), ""));
  absl::Status seen;
  publisher.Send(*std::move(stamped), [&seen](absl::Status status) { seen = status; });
  EXPECT_EQ(seen.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace choreo::publish
