#include "gateway/grpc_status.h"

#include <string>

namespace choreo::gateway {

grpc::Status Unavailable(const absl::Status& status) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(status.message()));
}

grpc::Status Busy() { return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "gateway busy"); }

grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

}  // namespace choreo::gateway
