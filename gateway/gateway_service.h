#pragma once

// The gateway's public gRPC API (proto/choreo/gateway/v1/gateway.proto) on the callback API:
// thin services that check the caller (WithCaller) and hand each RPC to the flow that owns it
// (create_order.h, cancel_order.h, watch_order.h, order_queries.h, accounts.h, deposit.h).
//
// Caller identity: every call but Register and Login (and ListCatalog, which names no user)
// needs a valid bearer token (auth.h). A user reaches only their own orders, balance, profile
// and notifications: the requests name no user, and another user's order id is NOT_FOUND (as if
// it did not exist, so ids leak nothing).
//
// Thread-safe; the authenticator and the flows must outlive the services.

#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "gateway/accounts.h"
#include "gateway/auth.h"
#include "gateway/cancel_order.h"
#include "gateway/create_order.h"
#include "gateway/deposit.h"
#include "gateway/order_queries.h"
#include "gateway/watch_order.h"

namespace choreo::gateway {

class OrderServiceImpl final : public gateway::v1::OrderService::CallbackService {
 public:
  OrderServiceImpl(const Authenticator& auth, CreateOrderFlow& create, CancelOrderFlow& cancel,
                   WatchOrderFlow& watch, OrderQueries& queries)
      : auth_(auth), create_(create), cancel_(cancel), watch_(watch), queries_(queries) {}

  grpc::ServerUnaryReactor* CreateOrder(grpc::CallbackServerContext* context,
                                        const gateway::v1::CreateOrderRequest* request,
                                        gateway::v1::Order* response) override;
  grpc::ServerUnaryReactor* CancelOrder(grpc::CallbackServerContext* context,
                                        const gateway::v1::CancelOrderRequest* request,
                                        gateway::v1::Order* response) override;
  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* context,
                                     const gateway::v1::GetOrderRequest* request,
                                     gateway::v1::Order* response) override;
  grpc::ServerUnaryReactor* ListOrders(grpc::CallbackServerContext* context,
                                       const gateway::v1::ListOrdersRequest* request,
                                       gateway::v1::ListOrdersResponse* response) override;
  grpc::ServerWriteReactor<gateway::v1::OrderStatusChange>* WatchOrder(
      grpc::CallbackServerContext* context,
      const gateway::v1::WatchOrderRequest* request) override;
  grpc::ServerUnaryReactor* ListCatalog(grpc::CallbackServerContext* context,
                                        const gateway::v1::ListCatalogRequest* request,
                                        gateway::v1::ListCatalogResponse* response) override;

 private:
  const Authenticator& auth_;
  CreateOrderFlow& create_;
  CancelOrderFlow& cancel_;
  WatchOrderFlow& watch_;
  OrderQueries& queries_;
};

class AccountServiceImpl final : public gateway::v1::AccountService::CallbackService {
 public:
  AccountServiceImpl(const Authenticator& auth, Accounts& accounts, DepositFlow& deposit)
      : auth_(auth), accounts_(accounts), deposit_(deposit) {}

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* context,
                                     const gateway::v1::RegisterRequest* request,
                                     users::v1::Profile* response) override;
  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* context,
                                  const gateway::v1::LoginRequest* request,
                                  gateway::v1::LoginResponse* response) override;
  grpc::ServerUnaryReactor* GetProfile(grpc::CallbackServerContext* context,
                                       const gateway::v1::GetProfileRequest* request,
                                       users::v1::Profile* response) override;
  grpc::ServerUnaryReactor* UpdateProfile(grpc::CallbackServerContext* context,
                                          const gateway::v1::UpdateProfileRequest* request,
                                          users::v1::Profile* response) override;
  grpc::ServerUnaryReactor* ListNotifications(
      grpc::CallbackServerContext* context, const gateway::v1::ListNotificationsRequest* request,
      gateway::v1::ListNotificationsResponse* response) override;
  grpc::ServerUnaryReactor* GetBalance(grpc::CallbackServerContext* context,
                                       const gateway::v1::GetBalanceRequest* request,
                                       gateway::v1::Balance* response) override;
  grpc::ServerUnaryReactor* Deposit(grpc::CallbackServerContext* context,
                                    const gateway::v1::DepositRequest* request,
                                    gateway::v1::DepositResponse* response) override;

 private:
  const Authenticator& auth_;
  Accounts& accounts_;
  DepositFlow& deposit_;
};

}  // namespace choreo::gateway
