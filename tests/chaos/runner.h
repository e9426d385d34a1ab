#pragma once

// ChaosRunner: one phase of the fault matrix against a running choreo, wherever it runs. It
// places orders through the gateway on a schedule (one per order_interval, from `clients`
// threads, each call retried on UNAVAILABLE and DEADLINE_EXCEEDED with its request id, as the
// API says), injects the phase's fault once a third of them are answered, heals it after
// fault_length, waits for every answer, then checks the invariants (invariants.h) over every
// order placed so far until they hold or `settle` has passed. The fault matrix test runs it on a
// local system; choreo-chaos (chaos_main.cc) runs it on any system, faults given as commands.
//
// Not thread-safe: one phase at a time.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"
#include "tests/chaos/facts.h"
#include "tests/chaos/invariants.h"
#include "tests/e2e/system.h"

namespace choreo::chaos {

// A fault: what injects it, and what heals it (either may do nothing).
struct Fault {
  std::string name;
  std::function<absl::Status()> inject;
  std::function<absl::Status()> heal;
};

// One phase as the table shows it.
struct PhaseResult {
  std::string fault;
  int orders = 0;
  int unanswered = 0;                      // calls that gave up (an error other than a retry's)
  std::string last_error;                  // the last of those calls' errors
  absl::Status fault_status;               // the inject's or heal's error, if any
  std::vector<Violation> new_violations;   // not reported by an earlier phase
  std::map<std::string, int> violations;   // their count by invariant
  int expired = 0;                         // this phase's orders that ended EXPIRED
  double recovery_s = 0;                   // from the heal to the first answer after it
  double fault_p99_ms = 0;                 // p99 of the calls in flight during the fault
};

class ChaosRunner {
 public:
  struct Options {
    SystemAddresses system;
    // Users "<user_prefix><n>", each funded once with first_deposit + n * deposit_step.
    std::string user_prefix = "user";
    int users = 10;
    int64_t first_deposit = 100000;
    int64_t deposit_step = 50000;
    // Request ids "<request_prefix><phase>-<n>": a prefix of its own per run against a system
    // that keeps its orders.
    std::string request_prefix = "p";
    int clients = 6;
    int orders_per_phase = 45;
    absl::Duration order_interval = absl::Milliseconds(120);
    absl::Duration fault_length = absl::Seconds(3);
    absl::Duration settle = absl::Seconds(90);
  };

  explicit ChaosRunner(Options options);
  ~ChaosRunner();

  // Registers and funds the users (a user already there is logged in and not funded again).
  absl::Status SignUpUsers();

  PhaseResult RunPhase(const Fault& fault);

  // What the invariants are checked over, for every order placed so far, as of now.
  absl::StatusOr<RunFacts> GatherNow() const;
  const std::vector<PlacedOrder>& placed() const { return placed_; }
  const e2e::TestUsers& users() const { return *users_; }

 private:
  struct Call {
    absl::Time sent;
    absl::Time answered;
    grpc::Status status;  // the last attempt's
  };
  std::vector<PlacedOrder> Place(int phase, std::vector<Call>& calls, std::atomic<int>& answered);
  grpc::Status Retrying(const std::string& user, const std::string& request_id,
                        uint32_t variant);
  static void Measure(const std::vector<Call>& calls, absl::Time injected, absl::Time healed,
                      PhaseResult& result);

  Options options_;
  std::unique_ptr<e2e::TestUsers> users_;
  struct Stub;
  std::unique_ptr<Stub> stub_;
  std::map<std::string, int64_t> deposited_;
  std::vector<PlacedOrder> placed_;
  std::set<std::string> reported_;  // "invariant subject detail" already reported
  int phase_ = 0;
};

// The table: fault x invariant (violations first seen in that phase), expired orders, recovery
// time and p99 latency during the fault.
std::string FormatTable(const std::vector<PhaseResult>& rows);

}  // namespace choreo::chaos
