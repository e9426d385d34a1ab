#include "tests/e2e/settled_invariants.h"

#include <cstdio>
#include <deque>
#include <fstream>

#include "gtest/gtest.h"

namespace choreo::e2e {

void ExpectSettledInvariants(const LocalSystem& system, const TestUsers& users,
                             const std::vector<chaos::PlacedOrder>& placed,
                             const std::map<std::string, int64_t>& deposited) {
  const chaos::SystemAddresses addresses{system.gateway(), system.ChannelTo("order"),
                                         system.kafka()};
  const std::vector<chaos::Violation> violations =
      chaos::SettledViolations(addresses, users, placed, deposited, absl::Seconds(90));
  constexpr size_t kShown = 20;
  for (size_t i = 0; i < violations.size() && i < kShown; ++i) {
    ADD_FAILURE() << violations[i].invariant << " " << violations[i].subject << ": "
                  << violations[i].detail;
  }
  if (violations.size() > kShown) ADD_FAILURE() << violations.size() - kShown << " more violations";
  if (violations.empty()) return;
  // What the services complained of: the last warnings and errors of each.
  for (const char* process : {"gateway", "order", "billing", "notification"}) {
    std::ifstream log(system.LogOf(process));
    std::deque<std::string> complaints;
    for (std::string line; std::getline(log, line);) {
      if (line.find("\"level\":\"info\"") != std::string::npos) continue;
      complaints.push_back(std::move(line));
      if (complaints.size() > 30) complaints.pop_front();
    }
    std::printf("%s's last warnings and errors:\n", process);
    for (const std::string& line : complaints) std::printf("  %s\n", line.c_str());
  }
}

}  // namespace choreo::e2e
