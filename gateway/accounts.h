#pragma once

// Accounts: the gateway's account calls, each answered by the service that owns the data.
//   Register           the user service creates the user; the call ends once billing has opened
//                      the account (AccountOpened with the registration's correlation id), so a
//                      Deposit right after Register finds it; DEADLINE_EXCEEDED (bounded by
//                      `max_wait`) when the user exists but the account is not open yet.
//   Login              the user service (no caller needed, like Register).
//   GetProfile, UpdateProfile  the user service, for the caller only (another username in
//                      UpdateProfile is PERMISSION_DENIED).
//   ListNotifications  the notification service, the caller's.
//   GetBalance         billing's admin API, the caller's.
// Services' statuses reach the client as they are. Thread-safe; reactors never block (async
// stubs). The dependencies must outlive every call.

#include "absl/time/time.h"
#include "choreo/billing/v1/admin.grpc.pb.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "choreo/notifications/v1/admin.grpc.pb.h"
#include "choreo/users/v1/user_service.grpc.pb.h"
#include "gateway/auth.h"
#include "gateway/waiters.h"
#include "grpcpp/grpcpp.h"

namespace choreo::gateway {

class Accounts {
 public:
  struct Deps {
    users::v1::UserService::StubInterface& users;
    billing::v1::BillingAdmin::StubInterface& billing_admin;
    notifications::v1::NotificationAdmin::StubInterface& notifications;
    Waiters& waiters;  // Register's wait for the account opening
    absl::Duration max_wait = absl::Seconds(30);
  };
  explicit Accounts(Deps deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* context,
                                     const gateway::v1::RegisterRequest& request,
                                     users::v1::Profile* response);
  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* context,
                                  const gateway::v1::LoginRequest& request,
                                  gateway::v1::LoginResponse* response);
  grpc::ServerUnaryReactor* GetProfile(grpc::CallbackServerContext* context, const Caller& caller,
                                       users::v1::Profile* response);
  grpc::ServerUnaryReactor* UpdateProfile(grpc::CallbackServerContext* context,
                                          const Caller& caller,
                                          const gateway::v1::UpdateProfileRequest& request,
                                          users::v1::Profile* response);
  grpc::ServerUnaryReactor* ListNotifications(
      grpc::CallbackServerContext* context, const Caller& caller,
      const gateway::v1::ListNotificationsRequest& request,
      gateway::v1::ListNotificationsResponse* response);
  grpc::ServerUnaryReactor* GetBalance(grpc::CallbackServerContext* context, const Caller& caller,
                                       gateway::v1::Balance* response);

 private:
  const Deps deps_;
};

}  // namespace choreo::gateway
