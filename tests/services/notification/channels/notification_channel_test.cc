#include "services/notification/channels/notification_channel.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/services/notification/channels/test_notifications.h"

namespace choreo::notification {
namespace {

using notifications::v1::NotificationRequested;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string ProtobufJson(const NotificationRequested& n) {
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(n, &json, {}).ok());
  return json;
}

// Every field set, none at its default.
NotificationRequested FullNotification() {
  NotificationRequested n = SampleNotification("7");
  common::v1::EventMeta& meta = *n.mutable_meta();
  meta.set_schema_version(1);
  meta.set_causation_id("fedcba9876543210fedcba9876543210");
  meta.mutable_occurred_at()->set_seconds(1700000001);
  meta.mutable_occurred_at()->set_nanos(123456789);
  meta.set_tracestate("vendor=value");
  n.set_channel(notifications::v1::CHANNEL_FILE);
  n.set_destination("/var/lib/choreo/notifications.jsonl");
  return n;
}

TEST(NotificationJsonTest, IsOneLineOfProto3JsonWithCamelCaseNamesAndEnumNames) {
  NotificationRequested n = SampleNotification("1");
  n.set_channel(notifications::v1::CHANNEL_WEBHOOK);
  const std::string json = NotificationJson(n);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_THAT(json, HasSubstr(R"("notificationId":"notification-1")"));
  EXPECT_THAT(json, HasSubstr(R"("correlationId":"saga-1")"));
  EXPECT_THAT(json, HasSubstr(R"("type":"NOTIFICATION_TYPE_ORDER_PAID")"));
  EXPECT_THAT(json, HasSubstr(R"("channel":"CHANNEL_WEBHOOK")"));
  EXPECT_THAT(json, HasSubstr(R"("requestedAt":"2023-11-14T22:13:20.005Z")"));
  EXPECT_TRUE(SameMessage(ParseJson(json), n)) << json;
}

TEST(NotificationJsonTest, IsTheTextProtobufsPrinterWrites) {
  const NotificationRequested full = FullNotification();
  EXPECT_EQ(NotificationJson(full), ProtobufJson(full));

  // Defaults left out; an empty meta and a zero time are present, so printed.
  NotificationRequested sparse;
  sparse.mutable_meta();
  sparse.set_notification_id("n");
  sparse.mutable_requested_at();
  EXPECT_EQ(NotificationJson(sparse), ProtobufJson(sparse));
  EXPECT_EQ(NotificationJson(NotificationRequested()), "{}");

  // Times with 0, 3, 6 and 9 fractional digits, and the range's ends.
  for (const auto& [seconds, nanos] :
       std::vector<std::pair<int64_t, int>>{{0, 0},
                                            {1, 5'000'000},
                                            {1, 1'000},
                                            {1, 1},
                                            {-62135596800, 0},
                                            {253402300799, 999'999'999}}) {
    NotificationRequested timed = full;
    timed.mutable_requested_at()->set_seconds(seconds);
    timed.mutable_requested_at()->set_nanos(nanos);
    EXPECT_EQ(NotificationJson(timed), ProtobufJson(timed)) << seconds << "s " << nanos << "ns";
  }

  // Quotes, backslashes, controls and non-ASCII text.
  NotificationRequested text = full;
  text.set_subject("\"quoted\" \\ back\tslash\b\f\r\n\x01\x1f & 'single' / slash");
  text.set_body("caf\xc3\xa9, \xe4\xb8\xad\xe6\x96\x87, \xf0\x9f\x93\xa6");
  EXPECT_EQ(NotificationJson(text), ProtobufJson(text));

  // A value this release does not know goes out as its number.
  NotificationRequested unknown = full;
  unknown.set_type(static_cast<notifications::v1::NotificationType>(99));
  unknown.set_channel(static_cast<notifications::v1::Channel>(7));
  EXPECT_THAT(NotificationJson(unknown), HasSubstr(R"("type":99)"));
  EXPECT_THAT(NotificationJson(unknown), HasSubstr(R"("channel":7)"));
  EXPECT_EQ(NotificationJson(unknown), ProtobufJson(unknown));

  // A meta holding nothing but a zero time.
  NotificationRequested zero_time;
  zero_time.mutable_meta()->mutable_occurred_at();
  EXPECT_EQ(NotificationJson(zero_time), ProtobufJson(zero_time));
}

TEST(NotificationJsonTest, CharactersProtobufEscapesAndThisDoesNotAreTheSameJsonValue) {
  NotificationRequested n = FullNotification();
  n.set_body("<b>bold</b> \x7f \xc2\x85 \xe2\x80\xa8 \xe2\x80\xa9 soft\xc2\xadhyphen");
  const std::string json = NotificationJson(n);
  EXPECT_THAT(json, HasSubstr("<b>bold</b>"));
  EXPECT_TRUE(SameMessage(ParseJson(json), n)) << json;
}

TEST(NotificationJsonTest, IsEmptyForInvalidUtf8OrATimeOutOfRange) {
  NotificationRequested bad_text = FullNotification();
  bad_text.set_body("bad \xff\xfe bytes");
  EXPECT_THAT(NotificationJson(bad_text), IsEmpty());

  NotificationRequested bad_meta = FullNotification();
  bad_meta.mutable_meta()->set_producer("\xc3");
  EXPECT_THAT(NotificationJson(bad_meta), IsEmpty());

  for (const auto& [seconds, nanos] : std::vector<std::pair<int64_t, int>>{
           {-62135596801, 0}, {253402300800, 0}, {1, -1}, {1, 1'000'000'000}}) {
    NotificationRequested late = FullNotification();
    late.mutable_requested_at()->set_seconds(seconds);
    late.mutable_requested_at()->set_nanos(nanos);
    EXPECT_THAT(NotificationJson(late), IsEmpty()) << seconds << "s " << nanos << "ns";
    NotificationRequested occurred = FullNotification();
    occurred.mutable_meta()->mutable_occurred_at()->set_seconds(seconds);
    occurred.mutable_meta()->mutable_occurred_at()->set_nanos(nanos);
    EXPECT_THAT(NotificationJson(occurred), IsEmpty()) << seconds << "s " << nanos << "ns";
  }
}

// NotificationJson writes each field by hand: a field added to either message must be added
// there too, and this fails until the counts here are raised with it.
TEST(NotificationJsonTest, KnowsEveryFieldOfTheNotificationAndItsMeta) {
  EXPECT_EQ(NotificationRequested::descriptor()->field_count(), 10);
  EXPECT_EQ(common::v1::EventMeta::descriptor()->field_count(), 8);
  const NotificationRequested full = FullNotification();
  std::vector<const google::protobuf::FieldDescriptor*> set;
  full.GetReflection()->ListFields(full, &set);
  EXPECT_EQ(set.size(), 10u) << "FullNotification sets every field";
  std::vector<const google::protobuf::FieldDescriptor*> meta_set;
  full.meta().GetReflection()->ListFields(full.meta(), &meta_set);
  EXPECT_EQ(meta_set.size(), 8u) << "FullNotification sets every field of its meta";
}

}  // namespace
}  // namespace choreo::notification
