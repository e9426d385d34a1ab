#include "tests/bench/process_usage.h"

#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <thread>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace choreo::bench {
namespace {

TEST(ProcessUsageTest, ThreadsAreKindedByTheirNames) {
  for (const auto& [comm, kind] : {std::pair{"rdk:broker1", "librdkafka"},
                                   {"rdk:main", "librdkafka"},
                                   {"nexting_thread", "grpc"},
                                   {"grpcpp_sync_ser", "grpc"},
                                   {"event_engine", "grpc"},
                                   {"choreo-order", "choreo"},
                                   {"MHD-single", "choreo"}}) {  // the last: the admin server
    EXPECT_EQ(ThreadKind(comm), kind) << comm;
  }
}

// The CPU this thread has used.
absl::Duration ThreadCpu() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return absl::DurationFromTimespec(now);
}

// A thread named like librdkafka's that works for 100 ms of CPU, then sleeps 49 times, handing
// a turn back and forth with this one so that all of it falls between two reads: its CPU and
// switches are read under its kind.
// (The CPU in /proc counts in ticks of 10 ms.)
TEST(ProcessUsageTest, AThreadsSwitchesAndCpuAreReadUnderItsKind) {
  static constexpr int kRounds = 50;
  absl::Mutex mu;
  int turn = 0;  // even: the named thread's, odd: this one's; 2 * kRounds: it may end
  auto at = [&mu, &turn](int parity) {  // waits for the turn of `parity`, then passes it on
    absl::MutexLock lock(&mu);
    auto mine = [&turn, parity] { return turn % 2 == parity; };
    mu.Await(absl::Condition(&mine));
    ++turn;
  };
  std::thread named([&] {
    pthread_setname_np(pthread_self(), "rdk:test");
    for (int i = 0; i < kRounds; ++i) {
      if (i == 1) {  // between the two reads
        const absl::Duration until = ThreadCpu() + absl::Milliseconds(100);
        while (ThreadCpu() < until) {
        }
      }
      // The switch being measured, made sure of: a hand-off alone may not sleep (absl::Mutex
      // spins first, and with a free core the turn often comes back while it spins).
      if (i >= 1) absl::SleepFor(absl::Microseconds(200));
      at(0);
    }
    absl::MutexLock lock(&mu);
    auto may_end = [&turn] { return turn > 2 * kRounds; };
    mu.Await(absl::Condition(&may_end));
  });
  at(1);  // the thread has its name
  const absl::StatusOr<ProcessUsage> before = ReadProcessUsage(getpid());
  for (int i = 1; i < kRounds; ++i) at(1);
  const absl::StatusOr<ProcessUsage> after = ReadProcessUsage(getpid());
  {
    absl::MutexLock lock(&mu);
    ++turn;  // the thread may end: it was alive for both reads
  }
  named.join();
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(after.ok()) << after.status();
  const ProcessUsage spent = UsageBetween(*before, *after);
  ASSERT_TRUE(spent.threads.contains("librdkafka"));
  // Each of its sleeps is a voluntary switch.
  EXPECT_GE(spent.threads.at("librdkafka").switches, kRounds / 5);
  EXPECT_GE(spent.threads.at("librdkafka").cpu, absl::Milliseconds(50));
  EXPECT_GE(spent.cpu, spent.threads.at("librdkafka").cpu);
  EXPECT_GT(after->peak_rss_kib, 0);
}

// A child that works for 100 ms of CPU and is waited for: its CPU counts in the parent's, as
// Redis's AOF rewrites count in Redis's.
TEST(ProcessUsageTest, AChildWaitedForCountsInItsParentsCpu) {
  const absl::StatusOr<ProcessUsage> before = ReadProcessUsage(getpid());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    timespec now{};
    do {
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    } while (absl::DurationFromTimespec(now) < absl::Milliseconds(100));
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const absl::StatusOr<ProcessUsage> after = ReadProcessUsage(getpid());
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(after.ok()) << after.status();
  const ProcessUsage spent = UsageBetween(*before, *after);
  EXPECT_GE(spent.children_cpu, absl::Milliseconds(90));  // ticks of 10 ms
  EXPECT_GE(spent.cpu, spent.children_cpu);
}

TEST(ProcessUsageTest, UsageBetweenSubtractsAndNeverGoesBelowZero) {
  ProcessUsage before;
  before.cpu = absl::Seconds(1);
  before.threads["librdkafka"] = {absl::Milliseconds(300), 10};
  before.threads["grpc"] = {absl::Milliseconds(200), 5};
  ProcessUsage after;
  after.cpu = absl::Seconds(3);
  after.peak_rss_kib = 42;
  after.threads["librdkafka"] = {absl::Milliseconds(800), 30};
  after.threads["grpc"] = {absl::Milliseconds(100), 2};    // a gRPC thread ended in between
  after.threads["choreo"] = {absl::Milliseconds(700), 7};  // threads started in between
  const ProcessUsage spent = UsageBetween(before, after);
  EXPECT_EQ(spent.cpu, absl::Seconds(2));
  EXPECT_EQ(spent.peak_rss_kib, 42);
  EXPECT_EQ(spent.threads.at("librdkafka").cpu, absl::Milliseconds(500));
  EXPECT_EQ(spent.threads.at("librdkafka").switches, 20);
  EXPECT_EQ(spent.threads.at("grpc").cpu, absl::ZeroDuration());
  EXPECT_EQ(spent.threads.at("grpc").switches, 0);
  EXPECT_EQ(spent.threads.at("choreo").cpu, absl::Milliseconds(700));
}

}  // namespace
}  // namespace choreo::bench
