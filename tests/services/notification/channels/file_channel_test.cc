#include "services/notification/channels/file_channel.h"

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"
#include "tests/services/notification/channels/test_notifications.h"

namespace choreo::notification {
namespace {

using notifications::v1::NotificationRequested;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(FileChannelTest, AppendsOneJsonLinePerNotificationToItsFile) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("choreo-file-channel-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string path = dir->File("notifications.jsonl");
  FileChannel channel(path);
  const NotificationRequested first = SampleNotification("1");
  const NotificationRequested second = SampleNotification("2");

  const DeliveryResult one = channel.Deliver(first);
  const DeliveryResult two = channel.Deliver(second);

  EXPECT_TRUE(one.delivered);
  EXPECT_EQ(one.attempts, 1);
  EXPECT_THAT(one.failure_reason, IsEmpty());
  EXPECT_TRUE(two.delivered);
  const std::vector<std::string> lines = ReadLines(path);
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_EQ(lines[0], NotificationJson(first));
  EXPECT_TRUE(SameMessage(ParseJson(lines[0]), first));
  EXPECT_TRUE(SameMessage(ParseJson(lines[1]), second));
}

TEST(FileChannelTest, WritesOnlyToItsOwnFileWhateverTheDestinationSays) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("choreo-file-channel-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  FileChannel channel(dir->File("notifications.jsonl"));
  NotificationRequested n = SampleNotification("1");
  // What a forged NotificationRequested names: another file the service could write.
  n.set_destination(dir->File("authorized_keys"));

  const DeliveryResult result = channel.Deliver(n);

  EXPECT_TRUE(result.delivered);
  const std::vector<std::string> lines = ReadLines(dir->File("notifications.jsonl"));
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_TRUE(SameMessage(ParseJson(lines[0]), n));
  EXPECT_FALSE(std::ifstream(dir->File("authorized_keys")).good());
  // Only its owner may read it: it holds users' orders and addresses.
  struct stat info {};
  ASSERT_EQ(::stat(dir->File("notifications.jsonl").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(FileChannelTest, ConcurrentDeliveriesGiveWholeLines) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("choreo-file-channel-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string path = dir->File("notifications.jsonl");
  FileChannel channel(path);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&channel, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(channel.Deliver(SampleNotification(std::to_string(t * 1000 + i))).delivered);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  const std::vector<std::string> lines = ReadLines(path);
  ASSERT_THAT(lines, SizeIs(kThreads * kPerThread));
  for (const std::string& line : lines) {
    EXPECT_THAT(ParseJson(line).notification_id(), HasSubstr("notification-"));
  }
}

TEST(FileChannelTest, AnUnwritablePathFailsAfterOneAttemptWithTheErrorText) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("choreo-file-channel-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  FileChannel channel(dir->File("missing-dir/notifications.jsonl"));

  const DeliveryResult result = channel.Deliver(SampleNotification("1"));

  EXPECT_FALSE(result.delivered);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_THAT(result.failure_reason, HasSubstr("No such file or directory"));
}

}  // namespace
}  // namespace choreo::notification
