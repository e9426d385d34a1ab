#pragma once

// TimelineServiceImpl: the saga timeline API (gateway.v1.TimelineService), read from the
// TimelineStore. A caller sees the sagas they started (the "operator" role sees all); another
// user's saga is NOT_FOUND, as if it did not exist. Reactors never block: Redis reads run on
// the gateway's WorkPool.

#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "gateway/auth.h"
#include "gateway/timeline/timeline_store.h"
#include "gateway/work_pool.h"

namespace choreo::gateway::timeline {

class TimelineServiceImpl final : public v1::TimelineService::CallbackService {
 public:
  TimelineServiceImpl(TimelineStore& store, WorkPool& pool, const Authenticator& auth)
      : store_(store), pool_(pool), auth_(auth) {}

  grpc::ServerUnaryReactor* GetSagaTimeline(grpc::CallbackServerContext* context,
                                            const v1::GetSagaTimelineRequest* request,
                                            v1::SagaTimeline* response) override;
  grpc::ServerUnaryReactor* GetOrderTimeline(grpc::CallbackServerContext* context,
                                             const v1::GetOrderTimelineRequest* request,
                                             v1::SagaTimeline* response) override;
  // page_size 1..50 (0: 10); page_token: the previous page's next_page_token.
  grpc::ServerUnaryReactor* ListSagas(grpc::CallbackServerContext* context,
                                      const v1::ListSagasRequest* request,
                                      v1::ListSagasResponse* response) override;

 private:
  // The timeline of `correlation_id` if `caller` may see it; NOT_FOUND otherwise.
  absl::StatusOr<v1::SagaTimeline> Load(const Caller& caller, const std::string& correlation_id);
  // The same from hops already read.
  static absl::StatusOr<v1::SagaTimeline> Visible(const Caller& caller,
                                                  const std::string& correlation_id,
                                                  std::vector<v1::IndexedHop> hops);

  TimelineStore& store_;
  WorkPool& pool_;
  const Authenticator& auth_;
};

}  // namespace choreo::gateway::timeline
