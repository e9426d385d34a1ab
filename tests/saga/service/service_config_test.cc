// ServiceConfig: its clock (the host's, unless --clock-offset, for fault drills, moves it, within
// 24 h), which headers handled markers keep, and the limits of its flags.

#include "gtest/gtest.h"
#include "platform/config/flag_set.h"
#include "saga/service/service_host.h"

namespace choreo::service {
namespace {

ServiceConfig Parsed(std::vector<const char*> argv) {
  ServiceConfig config;
  config::FlagSet flags("choreo-test", "");
  config.AddFlags(flags);
  argv.insert(argv.begin(), "choreo-test");
  EXPECT_TRUE(flags.Parse(static_cast<int>(argv.size()), argv.data()).ok());
  return config;
}

TEST(ServiceConfigTest, TheClockIsTheHostsUnlessAnOffsetMovesIt) {
  const ServiceConfig plain = Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379"});
  const absl::Time before = absl::Now();
  const absl::Time plain_now = plain.Clock()();
  EXPECT_GE(plain_now, before);
  EXPECT_LT(plain_now - before, absl::Seconds(1));

  const ServiceConfig ahead = Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379",
                                      "--clock-offset", "+60s"});
  EXPECT_TRUE(ahead.Validate().ok());
  EXPECT_GE(ahead.Clock()() - absl::Now(), absl::Seconds(59));
  EXPECT_GE(ahead.RuntimeOptions("order", {"t"}).clock() - absl::Now(), absl::Seconds(59));

  const ServiceConfig behind = Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379",
                                       "--clock-offset", "-60s"});
  EXPECT_LE(behind.Clock()() - absl::Now(), absl::Seconds(-59));
}

TEST(ServiceConfigTest, MarkersKeepEveryHeaderOnlyWhenAskedTo) {
  const ServiceConfig plain = Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379"});
  EXPECT_EQ(plain.RuntimeOptions("order", {"t"}).marker_headers, store::MarkerHeaders::kDerived);
  const ServiceConfig upgrading =
      Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379", "--full-marker-headers=true"});
  EXPECT_EQ(upgrading.MarkerHeaders(), store::MarkerHeaders::kAll);
  EXPECT_EQ(upgrading.RuntimeOptions("order", {"t"}).marker_headers, store::MarkerHeaders::kAll);
}

TEST(ServiceConfigTest, AnOffsetBeyondADayIsRefused) {
  const ServiceConfig config = Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379",
                                       "--clock-offset", "-25h"});
  EXPECT_EQ(config.Validate().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ServiceConfigTest, AMaxConnectionAgeIsNeverNegativeNorBeyondWhatGrpcTakes) {
  const auto validated = [](const char* age) {
    return Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379", "--max-connection-age", age})
        .Validate()
        .code();
  };
  EXPECT_EQ(validated("10m"), absl::StatusCode::kOk);
  EXPECT_EQ(validated("0"), absl::StatusCode::kOk);
  EXPECT_EQ(validated("-1s"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(validated("1000h"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ServiceConfig().max_connection_age, absl::Minutes(5));
}

}  // namespace
}  // namespace choreo::service
