// choreo-devbroker as a process: prints and writes its address, serves the mission's topics to
// librdkafka and to kcat, stops cleanly on SIGTERM, and rejects bad flags.

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "edges/kafka/kafka_client.h"
#include "testing/child_process.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"
#include "contracts/topics/topics.h"

namespace choreo {
namespace {

using choreo::testing::ChildProcess;
using choreo::testing::TempDir;
using choreo::testing::WaitUntil;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

class DevBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("choreo-devbroker-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<TempDir>(*std::move(dir));
  }

  // Starts the broker and returns the address it wrote to its address file.
  std::string StartBroker(std::vector<std::string> flags) {
    std::vector<std::string> argv = {CHOREO_DEVBROKER, "--address-file", dir_->File("address")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto broker = ChildProcess::Start({.argv = argv, .log_path = dir_->File("broker.log")});
    EXPECT_TRUE(broker.ok()) << broker.status();
    if (!broker.ok()) return "";
    broker_ = std::make_unique<ChildProcess>(*std::move(broker));
    EXPECT_TRUE(WaitUntil([&] { return std::filesystem::exists(dir_->File("address")); },
                          absl::Seconds(30)))
        << ReadFile(dir_->File("broker.log"));
    return std::string(absl::StripAsciiWhitespace(ReadFile(dir_->File("address"))));
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> broker_;
};

TEST_F(DevBrokerTest, ServesTheMissionTopicsAndStopsOnSigterm) {
  const std::string address = StartBroker({"--partitions", "3", "--brokers", "2"});
  ASSERT_THAT(address, ::testing::StartsWith("127.0.0.1:"));
  // The same address is the first line on stdout.
  EXPECT_THAT(ReadFile(dir_->File("broker.log")), HasSubstr(address + "\n"));

  // librdkafka sees every mission topic with the asked partition count.
  auto conf = kafka::MakeConf({{"bootstrap.servers", address}});
  ASSERT_TRUE(conf.ok());
  auto client = kafka::MakeHandle(RD_KAFKA_PRODUCER, *std::move(conf));
  ASSERT_TRUE(client.ok());
  const rd_kafka_metadata_t* metadata = nullptr;
  ASSERT_EQ(rd_kafka_metadata(client->get(), 1, nullptr, &metadata, 10000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  std::map<std::string, int> partitions;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    partitions[metadata->topics[i].topic] = metadata->topics[i].partition_cnt;
  }
  EXPECT_EQ(metadata->broker_cnt, 2);
  rd_kafka_metadata_destroy(metadata);
  for (const std::string& topic : topics::MissionTopics()) {
    EXPECT_EQ(partitions[topic], 3) << topic;
  }
  EXPECT_EQ(partitions.count("dlq.billing"), 1u);

  // kcat -L lists them too.
  auto kcat = ChildProcess::Start(
      {.argv = {"kcat", "-L", "-b", address}, .log_path = dir_->File("kcat.out")});
  ASSERT_TRUE(kcat.ok()) << kcat.status();
  ASSERT_EQ(kcat->Wait(absl::Seconds(30)).value_or(-1), 0);
  const std::string listing = ReadFile(dir_->File("kcat.out"));
  for (const std::string& topic : topics::MissionTopics()) {
    EXPECT_THAT(listing, HasSubstr("topic \"" + topic + "\" with 3 partitions")) << listing;
  }

  broker_->Signal(SIGTERM);
  EXPECT_EQ(broker_->Wait(absl::Seconds(20)).value_or(-1), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_->File("address")));
  EXPECT_THAT(ReadFile(dir_->File("broker.log")), HasSubstr("stopping"));
}

TEST_F(DevBrokerTest, BadFlagsFailAtOnceWithAClearMessage) {
  auto broker = ChildProcess::Start(
      {.argv = {CHOREO_DEVBROKER, "--partitions", "0"}, .log_path = dir_->File("bad.log")});
  ASSERT_TRUE(broker.ok());
  EXPECT_EQ(broker->Wait(absl::Seconds(10)).value_or(-1), 2);
  EXPECT_THAT(ReadFile(dir_->File("bad.log")), HasSubstr("--partitions must be 1..256, got 0"));

  auto help = ChildProcess::Start(
      {.argv = {CHOREO_DEVBROKER, "--help"}, .log_path = dir_->File("help.log")});
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->Wait(absl::Seconds(10)).value_or(-1), 0);
  EXPECT_THAT(ReadFile(dir_->File("help.log")), HasSubstr("env CHOREO_PARTITIONS, default 4"));
}

}  // namespace
}  // namespace choreo
