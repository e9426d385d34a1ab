#include "gateway/gateway_service.h"

#include "gateway/with_caller.h"

namespace choreo::gateway {

using gateway::v1::Order;

grpc::ServerUnaryReactor* OrderServiceImpl::CreateOrder(
    grpc::CallbackServerContext* context, const gateway::v1::CreateOrderRequest* request,
    Order* response) {
  return WithCaller(auth_, context, [&](const Caller& caller) {
    return create_.CreateOrder(context, caller, *request, response);
  });
}

grpc::ServerUnaryReactor* OrderServiceImpl::CancelOrder(
    grpc::CallbackServerContext* context, const gateway::v1::CancelOrderRequest* request,
    Order* response) {
  return WithCaller(auth_, context, [&](const Caller& caller) {
    return cancel_.CancelOrder(context, caller, *request, response);
  });
}

grpc::ServerUnaryReactor* OrderServiceImpl::GetOrder(grpc::CallbackServerContext* context,
                                                     const gateway::v1::GetOrderRequest* request,
                                                     Order* response) {
  return WithCaller(auth_, context, [&](const Caller& caller) {
    return queries_.GetOrder(context, caller, request, response);
  });
}

grpc::ServerUnaryReactor* OrderServiceImpl::ListOrders(
    grpc::CallbackServerContext* context, const gateway::v1::ListOrdersRequest* request,
    gateway::v1::ListOrdersResponse* response) {
  return WithCaller(auth_, context, [&](const Caller& caller) {
    return queries_.ListOrders(context, caller, request, response);
  });
}

grpc::ServerWriteReactor<gateway::v1::OrderStatusChange>* OrderServiceImpl::WatchOrder(
    grpc::CallbackServerContext* context, const gateway::v1::WatchOrderRequest* request) {
  return WithCaller(auth_, context, [&](const Caller& caller) {
    return watch_.WatchOrder(context, caller, *request);
  });
}

grpc::ServerUnaryReactor* OrderServiceImpl::ListCatalog(grpc::CallbackServerContext* context,
                                                        const gateway::v1::ListCatalogRequest*,
                                                        gateway::v1::ListCatalogResponse* response) {
  return queries_.ListCatalog(context, response);  // the catalog is the same for everyone
}

grpc::ServerUnaryReactor* AccountServiceImpl::Register(grpc::CallbackServerContext* context,
                                                       const gateway::v1::RegisterRequest* request,
                                                       users::v1::Profile* response) {
  return accounts_.Register(context, *request, response);  // unauthenticated: no user yet
}

grpc::ServerUnaryReactor* AccountServiceImpl::Login(grpc::CallbackServerContext* context,
                                                    const gateway::v1::LoginRequest* request,
                                                    gateway::v1::LoginResponse* response) {
  return accounts_.Login(context, *request, response);  // unauthenticated: it issues the token
}

grpc::ServerUnaryReactor* AccountServiceImpl::GetProfile(grpc::CallbackServerContext* context,
                                                         const gateway::v1::GetProfileRequest*,
                                                         users::v1::Profile* response) {
  return WithCaller(auth_, context, [&](const Caller& caller) {
    return accounts_.GetProfile(context, caller, response);
  });
}

grpc::ServerUnaryReactor* AccountServiceImpl::UpdateProfile(
    grpc::CallbackServerContext* context, const gateway::v1::UpdateProfileRequest* request,
    users::v1::Profile* response) {
  return WithCaller(auth_, context, [&](const Caller& caller) {
    return accounts_.UpdateProfile(context, caller, *request, response);
  });
}

grpc::ServerUnaryReactor* AccountServiceImpl::ListNotifications(
    grpc::CallbackServerContext* context, const gateway::v1::ListNotificationsRequest* request,
    gateway::v1::ListNotificationsResponse* response) {
  return WithCaller(auth_, context, [&](const Caller& caller) {
    return accounts_.ListNotifications(context, caller, *request, response);
  });
}

grpc::ServerUnaryReactor* AccountServiceImpl::GetBalance(grpc::CallbackServerContext* context,
                                                         const gateway::v1::GetBalanceRequest*,
                                                         gateway::v1::Balance* response) {
  return WithCaller(auth_, context, [&](const Caller& caller) {
    return accounts_.GetBalance(context, caller, response);
  });
}

grpc::ServerUnaryReactor* AccountServiceImpl::Deposit(grpc::CallbackServerContext* context,
                                                      const gateway::v1::DepositRequest* request,
                                                      gateway::v1::DepositResponse* response) {
  return WithCaller(auth_, context, [&](const Caller& caller) {
    return deposit_.Deposit(context, caller, *request, response);
  });
}

}  // namespace choreo::gateway
