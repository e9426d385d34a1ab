// PoolBatches: items queued while the pool's threads are busy run together (up to the batch
// limit), an item added to an idle pool runs alone and at once, and an item the pool refuses is
// never run.

#include "gateway/pool_batches.h"

#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "testing/wait.h"

namespace choreo::gateway {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

// What `run` was given, batch by batch.
struct Seen {
  absl::Mutex mu;
  std::vector<std::vector<int>> batches;

  // The `run` that records each batch here.
  PoolBatches<int>::Run Recorder() {
    return [this](std::vector<int>& batch) {
      absl::MutexLock lock(&mu);
      batches.push_back(batch);
    };
  }

  size_t Items() {
    absl::MutexLock lock(&mu);
    size_t n = 0;
    for (const auto& batch : batches) n += batch.size();
    return n;
  }
};

TEST(PoolBatchesTest, ItemsQueuedWhileThePoolIsBusyRunTogetherUpToTheLimit) {
  WorkPool pool(1, 100);
  Seen seen;
  PoolBatches<int> batches(pool, 4, seen.Recorder());
  absl::Notification release;
  absl::Cleanup stop = [&] {  // before the batches go, however the test ends
    if (!release.HasBeenNotified()) release.Notify();
    pool.Stop();
  };
  ASSERT_TRUE(pool.Submit([&] { release.WaitForNotification(); }));  // the only thread, busy
  for (int item = 0; item < 6; ++item) EXPECT_TRUE(batches.Add(item));
  release.Notify();
  ASSERT_TRUE(testing::WaitUntil([&] { return seen.Items() == 6; }, kWait));
  pool.Stop();
  absl::MutexLock lock(&seen.mu);
  EXPECT_EQ(seen.batches, (std::vector<std::vector<int>>{{0, 1, 2, 3}, {4, 5}}));
}

TEST(PoolBatchesTest, AnItemAddedToAnIdlePoolRunsAloneAtOnce) {
  WorkPool pool(2, 100);
  Seen seen;
  PoolBatches<int> batches(pool, 64, seen.Recorder());
  absl::Cleanup stop = [&] { pool.Stop(); };  // before the batches go, however the test ends
  ASSERT_TRUE(batches.Add(7));
  ASSERT_TRUE(testing::WaitUntil([&] { return seen.Items() == 1; }, kWait));
  ASSERT_TRUE(batches.Add(8));
  ASSERT_TRUE(testing::WaitUntil([&] { return seen.Items() == 2; }, kWait));
  pool.Stop();
  absl::MutexLock lock(&seen.mu);
  EXPECT_EQ(seen.batches, (std::vector<std::vector<int>>{{7}, {8}}));
}

TEST(PoolBatchesTest, AnItemThePoolRefusesIsNeverRun) {
  WorkPool pool(1, 1);
  Seen seen;
  PoolBatches<int> batches(pool, 64, seen.Recorder());
  absl::Notification started, release;
  absl::Cleanup stop = [&] {  // before the batches go, however the test ends
    if (!release.HasBeenNotified()) release.Notify();
    pool.Stop();
  };
  ASSERT_TRUE(pool.Submit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  EXPECT_TRUE(batches.Add(1));   // its task fills the queue
  EXPECT_FALSE(batches.Add(1));  // refused: taken back (an equal item, but not the one queued)
  release.Notify();
  ASSERT_TRUE(testing::WaitUntil([&] { return seen.Items() == 1; }, kWait));
  pool.Stop();
  absl::MutexLock lock(&seen.mu);
  EXPECT_EQ(seen.batches, (std::vector<std::vector<int>>{{1}}));
}

}  // namespace
}  // namespace choreo::gateway
