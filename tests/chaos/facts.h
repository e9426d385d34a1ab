#pragma once

// Gathers what a run's invariants are checked over (invariants.h) from a running system: the
// order service's truth of each order (OrderAdmin.GetOrder), the gateway's view of it (GetOrder
// as its user), every user's balance (GetBalance), and the saga topics read to their ends
// (orders.requests, orders.created, orders.status, orders.cancellations, billing.payments,
// notifications.requested, notifications.sent). Only reads; safe to call while nothing else runs.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "tests/chaos/invariants.h"
#include "tests/e2e/system.h"

namespace choreo::chaos {

struct PlacedOrder {
  std::string user;
  std::string request_id;
};

struct SystemAddresses {
  std::string gateway;  // gRPC
  // To the order service (OrderAdmin), as an operator: mutual TLS with an operator's certificate
  // (LocalSystem::ChannelTo, service::ChannelTo).
  std::shared_ptr<grpc::Channel> order_admin;
  std::string kafka;    // bootstrap servers
};

absl::StatusOr<RunFacts> GatherFacts(const SystemAddresses& system, const e2e::TestUsers& users,
                                     const std::vector<PlacedOrder>& placed,
                                     const std::map<std::string, int64_t>& deposited);

// The invariants' violations once the system has settled (notifications and views follow their
// sagas a little later): the facts are gathered and checked again until no violation is left or
// `settle` has passed; then those left, or a "facts" violation if the facts could never be
// gathered. `last`, if given, gets the facts as last gathered.
std::vector<Violation> SettledViolations(const SystemAddresses& system, const e2e::TestUsers& users,
                                         const std::vector<PlacedOrder>& placed,
                                         const std::map<std::string, int64_t>& deposited,
                                         absl::Duration settle, RunFacts* last = nullptr);

}  // namespace choreo::chaos
