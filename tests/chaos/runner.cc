#include "tests/chaos/runner.h"

#include <algorithm>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "contracts/orders/orders.h"
#include "grpcpp/grpcpp.h"
#include "platform/ids/stable_id.h"
#include "saga/service/grpc_tls.h"
#include "testing/wait.h"
#include "tests/e2e/retrying_call.h"

namespace choreo::chaos {

// The clients' channel reconnects within 250 ms of the gateway's return (gRPC's default backoff
// would add its own seconds to the gateway's recovery time); each connection attempt has as long
// as the services' channels give one (service::ChannelTo): a shorter one cuts slow handshakes off.
struct ChaosRunner::Stub {
  explicit Stub(const std::string& gateway) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, service::kMinConnectTimeoutMs);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
    orders = gateway::v1::OrderService::NewStub(
        grpc::CreateCustomChannel(gateway, grpc::InsecureChannelCredentials(), args));
  }
  std::unique_ptr<gateway::v1::OrderService::Stub> orders;
};

ChaosRunner::ChaosRunner(Options options)
    : options_(std::move(options)),
      users_(std::make_unique<e2e::TestUsers>(options_.system.gateway)),
      stub_(std::make_unique<Stub>(options_.system.gateway)) {}

ChaosRunner::~ChaosRunner() = default;

absl::Status ChaosRunner::SignUpUsers() {
  for (int n = 0; n < options_.users; ++n) {
    const std::string user = absl::StrCat(options_.user_prefix, n);
    const int64_t amount = options_.first_deposit + options_.deposit_step * n;
    if (grpc::Status status = users_->SignUpFunded(user, amount); !status.ok()) {
      return absl::UnavailableError(absl::StrCat("signing up ", user, ": ", status.error_message()));
    }
    deposited_[user] = amount;
  }
  return absl::OkStatus();
}

grpc::Status ChaosRunner::Retrying(const std::string& user, const std::string& request_id,
                                   uint32_t variant) {
  const gateway::v1::CreateOrderRequest request =
      e2e::OrderRequest(request_id, variant % 4 == 0 ? "BOOK-001" : "PEN-004",
                        1 + static_cast<int>(variant / 4 % 2));
  gateway::v1::Order order;
  return e2e::CallRetrying(
      *users_, user,
      [&](grpc::ClientContext& context) {
        return stub_->orders->CreateOrder(&context, request, &order);
      },
      {.backoff = absl::Milliseconds(50), .wait_for_ready = true});
}

std::vector<PlacedOrder> ChaosRunner::Place(int phase, std::vector<Call>& calls,
                                            std::atomic<int>& answered) {
  const int count = options_.orders_per_phase;
  std::vector<PlacedOrder> placed(count);
  calls.assign(count, Call{});
  std::atomic<int> next{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < options_.clients; ++c) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        std::mt19937 random(phase * 1000 + i);
        placed[i] = {absl::StrCat(options_.user_prefix, random() % options_.users),
                     absl::StrCat(options_.request_prefix, phase, "-", i)};
        // Its place in the schedule (a client busy with an earlier order sends it late).
        absl::SleepFor(start + i * options_.order_interval - absl::Now());
        calls[i].sent = absl::Now();
        calls[i].status = Retrying(placed[i].user, placed[i].request_id, static_cast<uint32_t>(random()));
        calls[i].answered = absl::Now();
        ++answered;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return placed;
}

PhaseResult ChaosRunner::RunPhase(const Fault& fault) {
  PhaseResult result{.fault = fault.name, .orders = options_.orders_per_phase};
  std::atomic<int> answered{0};
  std::vector<Call> calls;
  std::vector<PlacedOrder> placed;
  const int phase = ++phase_;
  std::thread load([&] { placed = Place(phase, calls, answered); });
  const bool progressed = testing::WaitUntil(
      [&] { return answered.load() >= options_.orders_per_phase / 3; }, absl::Seconds(120));
  const absl::Time injected = absl::Now();
  result.fault_status = progressed ? fault.inject()
                                   : absl::DeadlineExceededError("no progress before the fault");
  absl::SleepFor(options_.fault_length);  // the fault's length: not a wait for anything
  const absl::Time healed = absl::Now();
  if (progressed) {  // healed even if the inject failed half-way
    if (absl::Status heal = fault.heal(); !heal.ok() && result.fault_status.ok()) {
      result.fault_status = heal;
    }
  }
  load.join();
  placed_.insert(placed_.end(), placed.begin(), placed.end());
  for (const Call& call : calls) {
    if (call.status.ok()) continue;
    ++result.unanswered;
    result.last_error = absl::StrCat(call.status.error_code(), ": ", call.status.error_message());
  }
  Measure(calls, injected, healed, result);
  RunFacts facts;
  for (Violation& v :
       SettledViolations(options_.system, *users_, placed_, deposited_, options_.settle, &facts)) {
    if (!reported_.insert(absl::StrCat(v.invariant, " ", v.subject, " ", v.detail)).second) {
      continue;
    }
    ++result.violations[v.invariant];
    result.new_violations.push_back(std::move(v));
  }
  for (const PlacedOrder& p : placed) {
    auto it = facts.orders.find(contracts::OrderIdFor(ids::Username(p.user), p.request_id).value());
    if (it != facts.orders.end() && it->second.truth_status == orders::v1::ORDER_STATUS_EXPIRED) {
      ++result.expired;
    }
  }
  return result;
}

absl::StatusOr<RunFacts> ChaosRunner::GatherNow() const {
  return GatherFacts(options_.system, *users_, placed_, deposited_);
}

// The p99 latency of the calls in flight during [injected, healed], and the time from the heal
// to the first answer after it.
void ChaosRunner::Measure(const std::vector<Call>& calls, absl::Time injected, absl::Time healed,
                          PhaseResult& result) {
  std::vector<double> during;
  absl::Time first_after = absl::InfiniteFuture();
  for (const Call& call : calls) {
    if (call.sent <= healed && call.answered >= injected) {
      during.push_back(absl::ToDoubleMilliseconds(call.answered - call.sent));
    }
    if (call.answered >= healed) first_after = std::min(first_after, call.answered);
  }
  std::sort(during.begin(), during.end());
  result.fault_p99_ms =
      during.empty() ? 0 : during[static_cast<size_t>(0.99 * static_cast<double>(during.size() - 1))];
  result.recovery_s =
      first_after == absl::InfiniteFuture() ? 0 : absl::ToDoubleSeconds(first_after - healed);
}

std::string FormatTable(const std::vector<PhaseResult>& rows) {
  std::string table = absl::StrFormat("%-22s %6s", "fault", "orders");
  for (const std::string& name : InvariantNames()) absl::StrAppendFormat(&table, " %3s", name);
  absl::StrAppendFormat(&table, " %7s %10s %14s\n", "expired", "recovery_s", "fault_p99_ms");
  for (const PhaseResult& row : rows) {
    absl::StrAppendFormat(&table, "%-22s %6d", row.fault, row.orders);
    for (const std::string& name : InvariantNames()) {
      auto it = row.violations.find(name);
      absl::StrAppendFormat(&table, " %3d", it == row.violations.end() ? 0 : it->second);
    }
    absl::StrAppendFormat(&table, " %7d %10.1f %14.0f\n", row.expired, row.recovery_s,
                          row.fault_p99_ms);
  }
  return table;
}

}  // namespace choreo::chaos
