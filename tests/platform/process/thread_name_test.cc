#include "platform/process/thread_name.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace choreo::process {
namespace {

// The calling thread's name as the kernel reports it.
std::string ThisThreadsName() {
  std::ifstream comm(absl::StrCat("/proc/self/task/", syscall(SYS_gettid), "/comm"));
  std::string name;
  std::getline(comm, name);
  return name;
}

TEST(ThreadNameTest, NamesTheCallingThreadOnlyAndKeepsFifteenBytes) {
  const std::string main_name = ThisThreadsName();
  std::string short_name, long_name;
  std::thread([&] {
    NameThisThread("lane3");
    short_name = ThisThreadsName();
    NameThisThread("a-name-longer-than-fifteen-bytes");
    long_name = ThisThreadsName();
  }).join();
  EXPECT_EQ(short_name, "lane3");
  EXPECT_EQ(long_name, "a-name-longer-t");
  EXPECT_EQ(ThisThreadsName(), main_name);
}

TEST(ThreadNameTest, ANamedThreadRunsItsBodyUnderItsName) {
  std::string seen;
  process::NamedThread("kafka-acks", [&] { seen = ThisThreadsName(); }).join();
  EXPECT_EQ(seen, "kafka-acks");
}

}  // namespace
}  // namespace choreo::process
