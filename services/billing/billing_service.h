#pragma once

// The billing service's wiring: its decisions (core/) registered with the saga runtime, and its
// admin gRPC API (balance lookup).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "choreo/billing/v1/admin.grpc.pb.h"
#include "edges/redis/redis_connection.h"
#include "saga/runtime/handler_registry.h"
#include "saga/store/redis_aggregate_store.h"
#include "services/billing/core/billing_decisions.h"

namespace choreo::billing {

inline constexpr char kService[] = "billing";
inline constexpr char kAggregate[] = "account";  // Redis: state:{billing.account:<username>}

// users.registered, orders.created, billing.deposits, orders.refunds.
std::vector<std::string> BillingTopics();

absl::StatusOr<saga::HandlerRegistry> BillingRegistry(BillingPolicy policy);

// BillingAdmin: GetBalance reads the account from Redis. Sync gRPC API (blocking Redis reads on
// gRPC's sync thread pool; one connection, guarded).
class BillingAdminService final : public billing::v1::BillingAdmin::Service {
 public:
  explicit BillingAdminService(redis::RedisConnection::Options redis);
  grpc::Status GetBalance(grpc::ServerContext* context,
                          const billing::v1::GetBalanceRequest* request,
                          billing::v1::Balance* response) override;

 private:
  absl::Mutex mu_;
  store::RedisAggregateStore store_ ABSL_GUARDED_BY(mu_);
};

}  // namespace choreo::billing
