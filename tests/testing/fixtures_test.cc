// The test fixtures themselves: a real redis-server on a free port, child processes.

#include <hiredis/hiredis.h>
#include <signal.h>

#include <filesystem>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/child_process.h"
#include "testing/redis_server.h"

namespace choreo::testing {
namespace {

using ::testing::HasSubstr;

// One command on a fresh connection; the reply as a string ("" for nil), or an error string.
std::string Command(const RedisServer& redis, const std::vector<std::string>& args) {
  redisContext* context = redisConnect(redis.host().c_str(), redis.port());
  if (context == nullptr || context->err != 0) {
    std::string error = context != nullptr ? context->errstr : "oom";
    redisFree(context);
    return "connect error: " + error;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  std::string result;
  if (reply == nullptr) {
    result = "error";
  } else if (reply->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < reply->elements; ++i) {
      result += std::string(reply->element[i]->str, reply->element[i]->len) + ";";
    }
  } else if (reply->str != nullptr) {
    result.assign(reply->str, reply->len);
  }
  freeReplyObject(reply);
  redisFree(context);
  return result;
}

TEST(RedisServerTest, StartsOnAFreeLoopbackPortWithAppendOnlyInItsOwnDir) {
  absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  RedisServer& server = **redis;
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.host(), "127.0.0.1");
  EXPECT_TRUE(server.Ping().ok());
  EXPECT_EQ(Command(server, {"CONFIG", "GET", "appendonly"}), "appendonly;yes;");
  EXPECT_EQ(Command(server, {"CONFIG", "GET", "appendfsync"}), "appendfsync;always;");
  EXPECT_EQ(Command(server, {"CONFIG", "GET", "rdbcompression"}), "rdbcompression;no;");
  EXPECT_EQ(Command(server, {"CONFIG", "GET", "bind"}), "bind;127.0.0.1;");
  EXPECT_EQ(Command(server, {"CONFIG", "GET", "dir"}),
            "dir;" + std::filesystem::canonical(server.dir()).string() + ";");
}

TEST(RedisServerTest, TwoServersGetDifferentPorts) {
  auto a = RedisServer::Start();
  auto b = RedisServer::Start();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->port(), (*b)->port());
  EXPECT_NE((*a)->dir(), (*b)->dir());
}

TEST(RedisServerTest, StopTakesItAwayAndRestartBringsTheDataBack) {
  auto redis = RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  RedisServer& server = **redis;
  ASSERT_EQ(Command(server, {"SET", "balance:{alice}", "1200"}), "OK");
  ASSERT_TRUE(server.Stop().ok());
  EXPECT_FALSE(server.running());
  EXPECT_FALSE(server.Ping().ok());
  EXPECT_THAT(Command(server, {"GET", "balance:{alice}"}), HasSubstr("connect error"));
  ASSERT_TRUE(server.Restart().ok());
  EXPECT_EQ(Command(server, {"GET", "balance:{alice}"}), "1200");
}

TEST(RedisServerTest, TeardownKillsTheServerAndRemovesItsDir) {
  auto redis = RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  const std::string dir = (*redis)->dir();
  const int port = (*redis)->port();
  ASSERT_TRUE(std::filesystem::exists(dir));
  redis->reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
  redisContext* context = redisConnect("127.0.0.1", port);
  EXPECT_TRUE(context == nullptr || context->err != 0);
  redisFree(context);
}

TEST(RedisServerTest, MissingBinaryIsAClearError) {
  RedisServer::Options options;
  options.binary = "/nonexistent/redis-server";
  auto redis = RedisServer::Start(options);
  ASSERT_FALSE(redis.ok());
  EXPECT_EQ(redis.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(redis.status().message()), HasSubstr("/nonexistent/redis-server"));
}

TEST(ChildProcessTest, ReportsExitCodesAndSignals) {
  auto ok = ChildProcess::Start({.argv = {"sh", "-c", "exit 3"}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->Wait(absl::Seconds(10)).value_or(-1), 3);

  auto sleeper = ChildProcess::Start({.argv = {"sleep", "30"}});
  ASSERT_TRUE(sleeper.ok());
  EXPECT_TRUE(sleeper->running());
  EXPECT_EQ(sleeper->Wait(absl::Milliseconds(50)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(sleeper->Stop().value_or(-1), 128 + SIGTERM);
  EXPECT_FALSE(sleeper->running());
}

}  // namespace
}  // namespace choreo::testing
