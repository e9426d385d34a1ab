// ServiceConfig: its clock (the host's, unless --clock-offset, for fault drills, moves it, within
// 24 h), which headers handled markers keep, a subscription's runtime options (its group and
// overrides), and the limits of its flags.

#include "edges/kafka/kafka_client.h"
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

TEST(ServiceConfigTest, MarkersKeepEveryHeaderAndWholeSnapshotsOnlyWhenAskedTo) {
  const ServiceConfig plain = Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379"});
  EXPECT_EQ(plain.RuntimeOptions("order", {"t"}).marker_headers, store::MarkerHeaders::kDerived);
  EXPECT_EQ(plain.RuntimeOptions("order", {"t"}).marker_snapshots,
            store::MarkerSnapshots::kByState);
  const ServiceConfig upgrading =
      Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379", "--full-marker-headers=true"});
  EXPECT_EQ(upgrading.MarkerHeaders(), store::MarkerHeaders::kAll);
  EXPECT_EQ(upgrading.RuntimeOptions("order", {"t"}).marker_headers, store::MarkerHeaders::kAll);
  const ServiceConfig whole =
      Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379", "--full-marker-snapshots=true"});
  EXPECT_EQ(whole.RuntimeOptions("order", {"t"}).marker_snapshots, store::MarkerSnapshots::kWhole);
  EXPECT_EQ(whole.RuntimeOptions("order", {"t"}).marker_headers, store::MarkerHeaders::kDerived);
}

TEST(ServiceConfigTest, ASubscriptionsGroupAndOverridesComeOverTheServicesOwn) {
  const ServiceConfig config =
      Parsed({"--kafka-brokers", "k:9092", "--redis", "r:6379", "--fetch-wait-max-ms", "100"});
  Subscription sender{.group_suffix = "sender",
                      .topics = {"a", "b"},
                      .consumer_overrides = kafka::BatchedFetch(absl::Milliseconds(250)),
                      .producer_overrides = kafka::BatchedProduce(absl::Milliseconds(5))};
  const saga::SagaRuntimeOptions options =
      SubscriptionRuntimeOptions(config, "notification", sender);
  EXPECT_EQ(options.group_id, "choreo-notification-sender");
  EXPECT_EQ(options.topics, (std::vector<std::string>{"a", "b"}));
  // librdkafka takes a property's last value: the subscription's, after the service's.
  auto last = [](const kafka::KafkaConfig& config, const std::string& name) {
    std::string value;
    for (const auto& [key, v] : config) {
      if (key == name) value = v;
    }
    return value;
  };
  EXPECT_EQ(last(options.consumer_overrides, "fetch.wait.max.ms"), "250");
  EXPECT_EQ(last(options.consumer_overrides, "fetch.min.bytes"), "65536");
  EXPECT_EQ(last(options.producer_overrides, "linger.ms"), "5");

  const saga::SagaRuntimeOptions plain =
      SubscriptionRuntimeOptions(config, "order", Subscription{.topics = {"a"}});
  EXPECT_EQ(plain.group_id, "");  // the runtime's default, choreo-order
  EXPECT_EQ(last(plain.consumer_overrides, "fetch.wait.max.ms"), "100");
  EXPECT_EQ(last(plain.producer_overrides, "linger.ms"), "");  // ProducerDefaults' 0
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
