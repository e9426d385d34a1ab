#include "tests/bench/process_usage.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace choreo::bench {

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The name, the CPU (user + system) and that of the children waited for (a process's only) in a
// /proc stat file's text; false if it cannot be read.
bool ParseStat(const std::string& text, std::string* comm, absl::Duration* cpu,
               absl::Duration* children_cpu = nullptr) {
  // Fields after the name (in parentheses, may hold spaces): state is field 3; utime 14, stime
  // 15, cutime 16, cstime 17.
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open ||
      close + 2 > text.size()) {
    return false;
  }
  const std::vector<std::string> fields = absl::StrSplit(text.substr(close + 2), ' ');
  int64_t utime = 0, stime = 0, cutime = 0, cstime = 0;
  if (fields.size() < 15 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime) || !absl::SimpleAtoi(fields[13], &cutime) ||
      !absl::SimpleAtoi(fields[14], &cstime)) {
    return false;
  }
  *comm = text.substr(open + 1, close - open - 1);
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  *cpu = absl::Seconds(static_cast<double>(utime + stime) / ticks);
  if (children_cpu != nullptr) {
    *children_cpu = absl::Seconds(static_cast<double>(cutime + cstime) / ticks);
  }
  return true;
}

// The number after `prefix` on the line of a /proc status file's text that starts with it.
int64_t StatusField(const std::string& text, absl::string_view prefix) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    int64_t value = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &value)) return value;
  }
  return 0;
}

std::map<std::string, ThreadsUsage> ReadThreads(pid_t pid) {
  std::map<std::string, ThreadsUsage> threads;
  const std::string dir = absl::StrCat("/proc/", pid, "/task");
  DIR* tasks = opendir(dir.c_str());
  if (tasks == nullptr) return threads;
  while (const dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    const std::string task = absl::StrCat(dir, "/", entry->d_name);
    std::string comm;
    absl::Duration cpu;
    if (!ParseStat(ReadFile(task + "/stat"), &comm, &cpu)) continue;  // it ended meanwhile
    ThreadsUsage& kind = threads[std::string(ThreadKind(comm))];
    kind.cpu += cpu;
    kind.switches += StatusField(ReadFile(task + "/status"), "voluntary_ctxt_switches:");
  }
  closedir(tasks);
  return threads;
}

}  // namespace

absl::string_view ThreadKind(absl::string_view comm) {
  if (absl::StartsWith(comm, "rdk:")) return "librdkafka";
  for (absl::string_view grpc : {"grpc", "nexting_thread", "default-executo", "event_engine",
                                 "resolver-execut", "timer_manager"}) {
    if (absl::StartsWith(comm, grpc)) return "grpc";
  }
  return "choreo";
}

absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid) {
  ProcessUsage usage;
  std::string comm;
  if (!ParseStat(ReadFile(absl::StrCat("/proc/", pid, "/stat")), &comm, &usage.cpu,
                 &usage.children_cpu)) {
    return absl::NotFoundError(absl::StrCat("no process ", pid));
  }
  usage.cpu += usage.children_cpu;
  const std::string status = ReadFile(absl::StrCat("/proc/", pid, "/status"));
  usage.peak_rss_kib = StatusField(status, "VmHWM:");
  usage.rss_kib = StatusField(status, "VmRSS:");
  usage.threads = ReadThreads(pid);
  return usage;
}

ProcessUsage UsageBetween(const ProcessUsage& before, const ProcessUsage& after) {
  ProcessUsage spent = after;
  spent.cpu -= before.cpu;
  spent.children_cpu -= before.children_cpu;
  for (auto& [kind, threads] : spent.threads) {
    if (auto it = before.threads.find(kind); it != before.threads.end()) {
      threads.cpu = std::max(absl::ZeroDuration(), threads.cpu - it->second.cpu);
      threads.switches = std::max<int64_t>(0, threads.switches - it->second.switches);
    }
  }
  return spent;
}

}  // namespace choreo::bench
