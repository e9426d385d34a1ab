#include "gateway/order_queries.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/client_call.h"
#include "gateway/grpc_status.h"
#include "gateway/core/gateway_rules.h"
#include "gateway/reactor_once.h"

namespace choreo::gateway {

using gateway::v1::Order;

grpc::ServerUnaryReactor* OrderQueries::GetOrder(grpc::CallbackServerContext* context,
                                                 const Caller& caller,
                                                 const gateway::v1::GetOrderRequest* request,
                                                 Order* response) {
  if (request->order_id().empty()) {
    return Refuse(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "order_id: required"));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  if (!deps_.pool.Submit([this, context, once, request, response, user = caller.username] {
        FindOrder(*context, user, request->order_id(), [once, response](absl::StatusOr<Order> found) {
          if (!found.ok()) return once->Finish(ToGrpc(found.status()));
          once->FinishWith([&] { *response = *std::move(found); });
        });
      })) {
    once->Finish(Busy());
  }
  return reactor;
}

void OrderQueries::FindOrder(const grpc::CallbackServerContext& context, const ids::Username& user,
                             const std::string& order_id, FoundOrder done) {
  absl::StatusOr<std::optional<Order>> cached = deps_.cache.Get(user, ids::OrderId(order_id));
  if (!cached.ok()) return done(absl::UnavailableError(cached.status().message()));
  // A view of revision 0 is a CreateOrder's claim, written from the request before the order
  // service took the order in (no names, prices or total yet): the order service may know more.
  if (cached->has_value() && (*cached)->revision() > 0) return done(**std::move(cached));
  AskOrderService(context, user, order_id, std::move(done), *std::move(cached));
}

void OrderQueries::AskOrderService(const grpc::CallbackServerContext& context,
                                   const ids::Username& user, const std::string& order_id,
                                   FoundOrder done, std::optional<Order> partial) {
  auto call = std::make_shared<ServiceCall<orders::v1::GetOrderRequest, orders::v1::Order>>();
  call->request.set_order_id(order_id);
  PrepareServiceCall(context, nullptr, call->context);
  deps_.order_admin.async()->GetOrder(
      &call->context, &call->request, &call->response,
      [call, done = std::move(done), user, partial = std::move(partial)](grpc::Status status) {
        // Another user's order is as unknown as a missing one (no existence leak).
        if (status.ok() && call->response.username() == user.value()) {
          return done(ViewOfOrder(call->response));
        }
        if (partial.has_value()) return done(*partial);  // the user's own view, short of its items
        if (status.ok() || status.error_code() == grpc::StatusCode::NOT_FOUND) {
          return done(absl::NotFoundError(absl::StrCat("no order ", call->request.order_id())));
        }
        done(absl::UnavailableError(
            absl::StrCat("order ", call->request.order_id(),
                         " is not in the gateway's views and the order service did not answer: ",
                         status.error_message())));
      });
}

grpc::ServerUnaryReactor* OrderQueries::ListOrders(grpc::CallbackServerContext* context,
                                                   const Caller& caller,
                                                   const gateway::v1::ListOrdersRequest* request,
                                                   gateway::v1::ListOrdersResponse* response) {
  if (request->page_size() < 0 || request->page_size() > 100) {
    return Refuse(context,
                  grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_size: must be 0..100"));
  }
  int64_t before = 0;
  if (!request->page_token().empty() &&
      (!absl::SimpleAtoi(request->page_token(), &before) || before <= 0)) {
    return Refuse(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                        "page_token: not a token from a previous page"));
  }
  const int page_size = request->page_size() == 0 ? 20 : request->page_size();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  if (!deps_.pool.Submit([this, once, request, response, user = caller.username, before,
                          page_size] {
        absl::StatusOr<std::vector<std::pair<Order, int64_t>>> views =
            deps_.cache.List(user, before, page_size + 1);
        if (!views.ok()) return once->Finish(Unavailable(views.status()));
        once->FinishWith([&] {
          const bool more = static_cast<int>(views->size()) > page_size;
          if (more) views->resize(page_size);
          for (auto& [view, score] : *views) {
            if (request->status() == orders::v1::ORDER_STATUS_UNSPECIFIED ||
                view.status() == request->status()) {
              *response->add_orders() = std::move(view);
            }
          }
          if (more) response->set_next_page_token(absl::StrCat(views->back().second));
        });
      })) {
    once->Finish(Busy());
  }
  return reactor;
}

grpc::ServerUnaryReactor* OrderQueries::ListCatalog(grpc::CallbackServerContext* context,
                                                    gateway::v1::ListCatalogResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  CallService<orders::v1::ListCatalogResponse>(
      *context, reactor, nullptr, orders::v1::ListCatalogRequest(),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.order_admin.async()->ListCatalog(call, request, answer, std::move(done));
      },
      [response](orders::v1::ListCatalogResponse& answer) {
        *response->mutable_items() = std::move(*answer.mutable_items());
      });
  return reactor;
}

}  // namespace choreo::gateway
