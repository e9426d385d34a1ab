#include "gateway/timeline/timeline_service.h"

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/grpc_status.h"
#include "gateway/reactor_once.h"
#include "gateway/timeline/core/timeline_rules.h"
#include "gateway/with_caller.h"

namespace choreo::gateway::timeline {
namespace {

constexpr int kDefaultPageSize = 10;
constexpr int kMaxPageSize = 50;

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// Runs `work` for the authenticated caller on the pool, answering RESOURCE_EXHAUSTED when the
// pool is full.
template <typename Response, typename Work>
grpc::ServerUnaryReactor* RunOnPool(grpc::CallbackServerContext* context, WorkPool& pool,
                                    const Authenticator& auth, Response* response, Work work) {
  return WithCaller(auth, context, [&](Caller caller) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto once = std::make_shared<Once>(reactor);
    if (!pool.Submit([once, response, caller = std::move(caller), work = std::move(work)] {
          absl::StatusOr<Response> answer = work(caller);
          if (!answer.ok()) return once->Finish(ToGrpc(answer.status()));
          once->FinishWith([&] { *response = *std::move(answer); });
        })) {
      once->Finish(Busy());
    }
    return reactor;
  });
}

}  // namespace

absl::StatusOr<v1::SagaTimeline> TimelineServiceImpl::Load(const Caller& caller,
                                                           const std::string& correlation_id) {
  absl::StatusOr<std::vector<v1::IndexedHop>> hops = store_.Hops(correlation_id);
  if (!hops.ok()) return absl::UnavailableError(hops.status().message());
  return Visible(caller, correlation_id, *std::move(hops));
}

absl::StatusOr<v1::SagaTimeline> TimelineServiceImpl::Visible(const Caller& caller,
                                                              const std::string& correlation_id,
                                                              std::vector<v1::IndexedHop> hops) {
  v1::SagaTimeline timeline = BuildTimeline(correlation_id, std::move(hops));
  if (timeline.hops().empty() || !MaySee(caller.username.value(), caller.roles, timeline)) {
    return absl::NotFoundError(absl::StrCat("no saga ", correlation_id));
  }
  return timeline;
}

grpc::ServerUnaryReactor* TimelineServiceImpl::GetSagaTimeline(
    grpc::CallbackServerContext* context, const v1::GetSagaTimelineRequest* request,
    v1::SagaTimeline* response) {
  if (request->correlation_id().empty()) return Refuse(context, Invalid("correlation_id: required"));
  return RunOnPool(context, pool_, auth_, response,
                   [this, id = request->correlation_id()](const Caller& caller) {
                     return Load(caller, id);
                   });
}

grpc::ServerUnaryReactor* TimelineServiceImpl::GetOrderTimeline(
    grpc::CallbackServerContext* context, const v1::GetOrderTimelineRequest* request,
    v1::SagaTimeline* response) {
  if (request->order_id().empty()) return Refuse(context, Invalid("order_id: required"));
  return RunOnPool(context, pool_, auth_, response,
                   [this, order_id = request->order_id()](
                       const Caller& caller) -> absl::StatusOr<v1::SagaTimeline> {
                     absl::StatusOr<std::string> saga = store_.SagaOfOrder(order_id);
                     if (!saga.ok()) return absl::UnavailableError(saga.status().message());
                     if (saga->empty()) return absl::NotFoundError(absl::StrCat("no saga for order ", order_id));
                     absl::StatusOr<v1::SagaTimeline> timeline = Load(caller, *saga);
                     if (absl::IsNotFound(timeline.status())) {
                       return absl::NotFoundError(absl::StrCat("no saga for order ", order_id));
                     }
                     return timeline;
                   });
}

grpc::ServerUnaryReactor* TimelineServiceImpl::ListSagas(grpc::CallbackServerContext* context,
                                                         const v1::ListSagasRequest* request,
                                                         v1::ListSagasResponse* response) {
  int offset = 0;
  const int page_size = request->page_size() == 0 ? kDefaultPageSize : request->page_size();
  grpc::Status invalid;
  if (page_size < 1 || page_size > kMaxPageSize) {
    invalid = Invalid(absl::StrCat("page_size must be 0..", kMaxPageSize));
  } else if (!request->page_token().empty() &&
             (!absl::SimpleAtoi(request->page_token(), &offset) || offset < 0)) {
    invalid = Invalid("page_token: not a token this API gave");
  }
  if (!invalid.ok()) return Refuse(context, invalid);
  return RunOnPool(context, pool_, auth_, response,
                   [this, offset, page_size](const Caller& caller) -> absl::StatusOr<v1::ListSagasResponse> {
                     absl::StatusOr<std::vector<std::string>> ids =
                         store_.SagasOfUser(caller.username.value(), offset, page_size + 1);
                     if (!ids.ok()) return absl::UnavailableError(ids.status().message());
                     const bool more = ids->size() > static_cast<size_t>(page_size);
                     if (more) ids->resize(page_size);
                     absl::StatusOr<std::vector<std::vector<v1::IndexedHop>>> sagas =
                         store_.HopsOfMany(*ids);  // one round trip for the page
                     if (!sagas.ok()) return absl::UnavailableError(sagas.status().message());
                     v1::ListSagasResponse page;
                     for (size_t i = 0; i < ids->size(); ++i) {
                       absl::StatusOr<v1::SagaTimeline> timeline =
                           Visible(caller, (*ids)[i], std::move((*sagas)[i]));
                       if (timeline.ok()) *page.add_sagas() = *std::move(timeline);  // else expired
                     }
                     if (more) page.set_next_page_token(absl::StrCat(offset + page_size));
                     return page;
                   });
}

}  // namespace choreo::gateway::timeline
