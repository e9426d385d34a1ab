#include "tests/bench/process_usage.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace choreo::bench {

absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid) {
  std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
  std::stringstream stat;
  stat << stat_file.rdbuf();
  const std::string text = stat.str();
  // Fields after the command name (which may hold spaces): state is field 3; utime 14, stime 15.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return absl::NotFoundError(absl::StrCat("no process ", pid));
  const std::vector<std::string> fields = absl::StrSplit(text.substr(close + 2), ' ');
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::DataLossError(absl::StrCat("unreadable /proc/", pid, "/stat"));
  }
  ProcessUsage usage;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  usage.cpu = absl::Seconds(static_cast<double>(utime + stime) / ticks);
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    for (auto [prefix, field] : {std::pair{"VmHWM:", &usage.peak_rss_kib},
                                 std::pair{"VmRSS:", &usage.rss_kib}}) {
      if (line.rfind(prefix, 0) == 0) {
        std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
        if (parts.size() >= 2) static_cast<void>(absl::SimpleAtoi(parts[1], field));
      }
    }
  }
  return usage;
}

}  // namespace choreo::bench
