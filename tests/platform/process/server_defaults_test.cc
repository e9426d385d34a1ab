#include "platform/process/server_defaults.h"

#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace choreo::process {
namespace {

// Takes two mutexes in one order, then in the other: a potential deadlock by absl's definition.
void TakeLocksInBothOrders() {
  absl::Mutex first;
  absl::Mutex second;
  {
    absl::MutexLock a(&first);
    absl::MutexLock b(&second);
  }
  absl::MutexLock b(&second);
  absl::MutexLock a(&first);
}

// The premise: Debian's abseil checks the lock order, so a test process aborts on an inversion
// (a lock-order bug is caught in the tests).
TEST(ServerDefaultsDeathTest, TestsKeepAbseilsLockOrderCheck) {
  EXPECT_DEATH(TakeLocksInBothOrders(), "Potential Mutex deadlock");
}

// A server does not pay for the check (a process-wide lock on every Lock).
TEST(ServerDefaultsDeathTest, ServersTurnTheLockOrderCheckOff) {
  EXPECT_EXIT(
      {
        ApplyServerDefaults();
        TakeLocksInBothOrders();
        std::exit(0);
      },
      testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace choreo::process
