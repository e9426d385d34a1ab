#pragma once

// OrderQueries: the gateway's reads of orders and of the catalog.
//   GetOrder    the caller's order view from the cache, or, for an order the views do not know
//               (yet) or know only from its status events (no items: the claimed view was lost),
//               from the order service (UNAVAILABLE if it does not answer and there is no view);
//               another user's order is NOT_FOUND, as one that does not exist (order ids leak
//               nothing).
//   ListOrders  the caller's orders, newest first, 20 a page by default (page_size 0..100),
//               optionally of one status.
//   ListCatalog the order service's catalog (no caller needed).
// Thread-safe. Reactors never block: Redis reads run on the WorkPool (RESOURCE_EXHAUSTED when it
// is full; UNAVAILABLE when Redis does not answer), the catalog is an async call. The
// dependencies must outlive every call.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "choreo/gateway/v1/gateway.pb.h"
#include "choreo/orders/v1/admin.grpc.pb.h"
#include "gateway/auth.h"
#include "gateway/order_cache.h"
#include "gateway/reactor_once.h"
#include "gateway/work_pool.h"
#include "grpcpp/grpcpp.h"

namespace choreo::gateway {

class OrderQueries {
 public:
  struct Deps {
    OrderCache& cache;
    WorkPool& pool;
    orders::v1::OrderAdmin::StubInterface& order_admin;
  };
  explicit OrderQueries(Deps deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* context, const Caller& caller,
                                     const gateway::v1::GetOrderRequest* request,
                                     gateway::v1::Order* response);
  grpc::ServerUnaryReactor* ListOrders(grpc::CallbackServerContext* context, const Caller& caller,
                                       const gateway::v1::ListOrdersRequest* request,
                                       gateway::v1::ListOrdersResponse* response);
  grpc::ServerUnaryReactor* ListCatalog(grpc::CallbackServerContext* context,
                                        gateway::v1::ListCatalogResponse* response);

  // The caller's order as GetOrder answers it, handed to `done`: the cached view, or the order
  // service's for an order the views do not know (or know only from status events); NOT_FOUND
  // for none or another user's; UNAVAILABLE when Redis does not answer, or the service does not
  // and there is no view. Call it on the WorkPool (it reads Redis); `done` runs on that thread
  // or a gRPC thread, and must not block.
  using FoundOrder = std::function<void(absl::StatusOr<gateway::v1::Order>)>;
  void FindOrder(const grpc::CallbackServerContext& context, const ids::Username& user,
                 const std::string& order_id, FoundOrder done);

 private:
  // FindOrder's answer from the order service; `partial` (the user's view, short of its items)
  // is the answer if the service does not give one.
  void AskOrderService(const grpc::CallbackServerContext& context, const ids::Username& user,
                       const std::string& order_id, FoundOrder done,
                       std::optional<gateway::v1::Order> partial);

  const Deps deps_;
};

}  // namespace choreo::gateway
