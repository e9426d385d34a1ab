#include "services/billing/billing_service.h"

#include "absl/strings/str_cat.h"
#include "contracts/topics/topics.h"
#include "saga/service/peer_auth.h"

namespace choreo::billing {

std::vector<std::string> BillingTopics() {
  return {std::string(topics::kUsersRegistered), std::string(topics::kOrdersCreated),
          std::string(topics::kBillingDeposits), std::string(topics::kOrdersRefunds)};
}

absl::StatusOr<saga::HandlerRegistry> BillingRegistry(BillingPolicy policy) {
  using billing::v1::Account;
  saga::HandlerRegistry registry;
  absl::Status status = registry.On<users::v1::UserRegistered, Account>(
      kAggregate, [](const users::v1::UserRegistered& e) { return e.username(); },
      [policy](const Account& account, const users::v1::UserRegistered& registered,
               const saga::EventContext& context) -> absl::StatusOr<AccountReaction> {
        return OnUserRegistered(account, registered, policy, context.now);
      });
  if (status.ok()) status = registry.Ignore<users::v1::ProfileUpdated>();
  if (status.ok()) {
    status = registry.On<orders::v1::OrderCreated, Account>(
        kAggregate, [](const orders::v1::OrderCreated& e) { return e.username(); },
        [revision = policy.payment_revision](
            const Account& account, const orders::v1::OrderCreated& order,
            const saga::EventContext& context) -> absl::StatusOr<AccountReaction> {
          return OnOrderCreated(account, order, context.now, revision);
        });
  }
  if (status.ok()) {
    status = registry.On<billing::v1::DepositRequested, Account>(
        kAggregate, [](const billing::v1::DepositRequested& e) { return e.username(); },
        [](const Account& account, const billing::v1::DepositRequested& deposit,
           const saga::EventContext& context) -> absl::StatusOr<AccountReaction> {
          return OnDepositRequested(account, deposit, context.now);
        });
  }
  if (status.ok()) {
    status = registry.On<orders::v1::PaymentRefundRequested, Account>(
        kAggregate, [](const orders::v1::PaymentRefundRequested& e) { return e.username(); },
        [](const Account& account, const orders::v1::PaymentRefundRequested& refund,
           const saga::EventContext& context) {
          return OnRefundRequested(account, refund, context.now);
        });
  }
  if (!status.ok()) return status;
  return registry;
}

BillingAdminService::BillingAdminService(redis::RedisConnection::Options redis)
    : store_(std::move(redis)) {}

grpc::Status BillingAdminService::GetBalance(grpc::ServerContext* context,
                                             const billing::v1::GetBalanceRequest* request,
                                             billing::v1::Balance* response) {
  if (grpc::Status denied = service::RequirePeer(*context, service::kAdminReaders); !denied.ok()) {
    return denied;
  }
  if (request->username().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "username: required");
  }
  absl::StatusOr<store::AggregateSnapshot> snapshot;
  {
    absl::MutexLock lock(&mu_);
    snapshot = store_.Load(store::ServiceAggregate(kService, kAggregate, request->username()), "");
  }
  if (!snapshot.ok()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(snapshot.status().message()));
  }
  billing::v1::Account account;
  if (snapshot->version == 0 || !account.ParseFromString(snapshot->state) || !account.open()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no account for user '", request->username(), "'"));
  }
  response->set_username(account.username());
  *response->mutable_balance() = account.balance();
  return grpc::Status::OK;
}

}  // namespace choreo::billing
