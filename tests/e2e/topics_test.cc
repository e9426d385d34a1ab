// Topics on Apache Kafka come only from their declaration: a service started before its topics
// exist refuses to start and names them; choreo-topics creates them, says so, and a second run
// finds nothing to do; then the service starts.

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/child_process.h"
#include "testing/kafka_cluster.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

using ::testing::HasSubstr;

std::string Read(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

// Runs `argv` to its end (at most 60 s); its exit code, its output in `output`.
int RunToEnd(const std::vector<std::string>& argv, const std::string& log, std::string* output) {
  std::filesystem::remove(log);
  auto process = testing::ChildProcess::Start({.argv = argv, .log_path = log});
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return -1;
  absl::StatusOr<int> exit = process->Wait(absl::Seconds(60));
  EXPECT_TRUE(exit.ok()) << argv[0] << " still runs: " << exit.status();
  *output = Read(log);
  return exit.ok() ? *exit : -1;
}

TEST(TopicsTest, AServiceRefusesToStartWithoutItsTopicsUntilChoreoTopicsCreatesThem) {
  auto kafka = testing::KafkaCluster::Start({.mission_topics = false});
  ASSERT_TRUE(kafka.ok()) << kafka.status();
  auto redis = testing::RedisServer::Start({.appendfsync = "everysec"});
  ASSERT_TRUE(redis.ok()) << redis.status();
  auto dir = testing::TempDir::Create("choreo-topics-e2e-");
  ASSERT_TRUE(dir.ok());
  const Binaries binaries = Binaries::Built();
  const std::string brokers = (*kafka)->bootstrap_servers();
  const std::vector<std::string> billing = {binaries.billing, "--kafka-brokers", brokers,
                                            "--redis", (*redis)->address(), "--port-file",
                                            dir->File("billing.port"), "--admin-port-file",
                                            dir->File("billing.admin.port")};

  std::string output;
  EXPECT_NE(RunToEnd(billing, dir->File("billing.log"), &output), 0);
  EXPECT_THAT(output, HasSubstr("missing Kafka topic(s)"));
  EXPECT_THAT(output, HasSubstr("orders.created"));
  EXPECT_THAT(output, HasSubstr("choreo-topics"));

  const std::vector<std::string> topics = {binaries.topics, "--kafka-brokers", brokers};
  EXPECT_EQ(RunToEnd(topics, dir->File("topics.log"), &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("created\torders.created"));
  EXPECT_THAT(output, HasSubstr("21 topics declared: 21 created, 0 missing, 0 drifted"));
  EXPECT_EQ(RunToEnd(topics, dir->File("topics.log"), &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("21 topics declared: 0 created, 0 missing, 0 drifted"));
  std::vector<std::string> check = topics;
  check.insert(check.end(), {"--check", "--partitions", "6"});
  EXPECT_EQ(RunToEnd(check, dir->File("topics.log"), &output), 1) << output;
  EXPECT_THAT(output, HasSubstr("drift\torders.created partitions: 4, declared 6"));

  // With its topics there, the service starts and serves.
  auto started = testing::ChildProcess::Start({.argv = billing, .log_path = dir->File("billing.log")});
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_TRUE(testing::WaitUntil(
      [&] { return std::filesystem::exists(dir->File("billing.port")) || !started->running(); },
      absl::Seconds(60)));
  EXPECT_TRUE(started->running()) << Read(dir->File("billing.log"));
}

}  // namespace
}  // namespace choreo::e2e
