#include "platform/logging/logger.h"

#include "gtest/gtest.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace choreo::logging {
namespace {

google::protobuf::Struct ParseLine(const std::string& line) {
  google::protobuf::Struct parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok()) << line;
  return parsed;
}

TEST(LoggingTest, ALineIsOneJsonObjectWithEscapedText) {
  const std::string line =
      FormatLine(absl::FromUnixMicros(1795348800123456), Level::kWarn, "billing",
                 "quote \" backslash \\ newline \n tab \t bell \a", {{"correlation_id", "c-1"}});
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  google::protobuf::Struct parsed = ParseLine(line);
  EXPECT_EQ(parsed.fields().at("ts").string_value(), "2026-11-22T12:00:00.123456Z");
  EXPECT_EQ(parsed.fields().at("level").string_value(), "warn");
  EXPECT_EQ(parsed.fields().at("service").string_value(), "billing");
  EXPECT_EQ(parsed.fields().at("msg").string_value(),
            "quote \" backslash \\ newline \n tab \t bell \a");
  EXPECT_EQ(parsed.fields().at("correlation_id").string_value(), "c-1");
}

TEST(LoggingTest, EventFieldsCarryTheSagaIdsFromTheHeaders) {
  KafkaRecord record{.topic = "orders.created", .partition = 3, .offset = 42, .key = "alice"};
  record.headers = {{"ce_id", "e-1"},
                    {"ce_correlationid", "c-1"},
                    {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
  google::protobuf::Struct parsed = ParseLine(
      FormatLine(absl::Now(), Level::kInfo, "billing", "handled", EventFields(record)));
  EXPECT_EQ(parsed.fields().at("correlation_id").string_value(), "c-1");
  EXPECT_EQ(parsed.fields().at("event_id").string_value(), "e-1");
  EXPECT_EQ(parsed.fields().at("trace_id").string_value(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(parsed.fields().at("topic").string_value(), "orders.created");
  EXPECT_EQ(parsed.fields().at("partition").string_value(), "3");
  EXPECT_EQ(parsed.fields().at("offset").string_value(), "42");
  // A malformed traceparent gives an empty trace id, not garbage.
  EXPECT_EQ(EventFields("c", "e", "nonsense")[2].second, "");
}

TEST(LoggingTest, LevelsParseAndFilter) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("warning"), Level::kWarn);
  EXPECT_FALSE(ParseLevel("verbose").ok());
  EXPECT_NE(ParseLevel("verbose").status().message().find("debug, info, warn or error"),
            std::string::npos);
  Configure("test", Level::kWarn);
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kWarn));
  EXPECT_TRUE(Enabled(Level::kError));
  Configure("test", Level::kDebug);
  EXPECT_TRUE(Enabled(Level::kDebug));
  Configure("test", Level::kInfo);
}

}  // namespace
}  // namespace choreo::logging
