#pragma once

// absl::Status (every module's boundary) as a grpc::Status (a call's answer): the same code and
// message. The one conversion for every gRPC server of choreo.

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace choreo::service {

inline grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace choreo::service
