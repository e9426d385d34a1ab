#include "platform/config/flag_set.h"

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::config {
namespace {

using ::testing::HasSubstr;

struct Config {
  std::string brokers = "default:9092";
  int partitions = 4;
  int64_t limit = 10;
  bool verbose = false;
  absl::Duration timeout = absl::Seconds(30);
};

class FlagSetTest : public ::testing::Test {
 protected:
  FlagSetTest() : flags_("prog", "A test program.") {
    flags_.Add("kafka-brokers", &config_.brokers, "bootstrap servers")
        .Add("partitions", &config_.partitions, "partitions")
        .Add("limit", &config_.limit, "limit")
        .Add("verbose", &config_.verbose, "log more")
        .Add("timeout", &config_.timeout, "how long");
  }
  ~FlagSetTest() override {
    unsetenv("CHOREO_KAFKA_BROKERS");
    unsetenv("CHOREO_PARTITIONS");
  }
  absl::Status Parse(std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    return flags_.Parse(static_cast<int>(args.size()), args.data());
  }

  Config config_;
  FlagSet flags_;
};

TEST_F(FlagSetTest, DefaultsStandWithoutFlags) {
  ASSERT_TRUE(Parse({}).ok());
  EXPECT_EQ(config_.brokers, "default:9092");
  EXPECT_EQ(config_.partitions, 4);
  EXPECT_FALSE(flags_.help_requested());
}

TEST_F(FlagSetTest, ParsesEveryFormAndType) {
  ASSERT_TRUE(Parse({"--kafka-brokers=k1:9092,k2:9092", "--partitions", "12", "--limit=-3",
                     "--verbose", "--timeout=250ms"})
                  .ok());
  EXPECT_EQ(config_.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(config_.partitions, 12);
  EXPECT_EQ(config_.limit, -3);
  EXPECT_TRUE(config_.verbose);
  EXPECT_EQ(config_.timeout, absl::Milliseconds(250));
  ASSERT_TRUE(Parse({"--verbose=false"}).ok());
  EXPECT_FALSE(config_.verbose);
}

TEST_F(FlagSetTest, EnvironmentSetsAndCommandLineWins) {
  setenv("CHOREO_KAFKA_BROKERS", "env:9092", 1);
  setenv("CHOREO_PARTITIONS", "7", 1);
  ASSERT_TRUE(Parse({"--partitions=9"}).ok());
  EXPECT_EQ(config_.brokers, "env:9092");
  EXPECT_EQ(config_.partitions, 9);
}

TEST_F(FlagSetTest, BadInputIsNamed) {
  EXPECT_THAT(std::string(Parse({"--nope=1"}).message()), HasSubstr("unknown flag --nope"));
  EXPECT_THAT(std::string(Parse({"--partitions=many"}).message()),
              HasSubstr("--partitions: 'many' is not an integer"));
  EXPECT_THAT(std::string(Parse({"--timeout=soon"}).message()), HasSubstr("is not a duration"));
  EXPECT_THAT(std::string(Parse({"--verbose=maybe"}).message()), HasSubstr("true or false"));
  EXPECT_THAT(std::string(Parse({"--partitions"}).message()), HasSubstr("needs a value"));
  EXPECT_THAT(std::string(Parse({"stray"}).message()), HasSubstr("unexpected argument 'stray'"));
  setenv("CHOREO_PARTITIONS", "x", 1);
  EXPECT_THAT(std::string(Parse({}).message()), HasSubstr("CHOREO_PARTITIONS: 'x'"));
}

TEST_F(FlagSetTest, HelpListsFlagsWithEnvironmentAndDefaults) {
  ASSERT_TRUE(Parse({"--help"}).ok());
  EXPECT_TRUE(flags_.help_requested());
  const std::string usage = flags_.Usage();
  EXPECT_THAT(usage, HasSubstr("usage: prog [flags]"));
  EXPECT_THAT(usage, HasSubstr("--kafka-brokers"));
  EXPECT_THAT(usage, HasSubstr("env CHOREO_KAFKA_BROKERS, default default:9092"));
  EXPECT_THAT(usage, HasSubstr("env CHOREO_TIMEOUT, default 30s"));
}

}  // namespace
}  // namespace choreo::config
