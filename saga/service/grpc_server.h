#pragma once

// StartGrpcServer: how every choreo process serves gRPC: its services beside grpc.health.v1
// (SERVING once started) and server reflection (so grpcurl works), on `listen` (port 0: any free
// port), with the bound port written to `port_file` when one is given.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace choreo::service {

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

absl::StatusOr<RunningServer> StartGrpcServer(const std::string& listen,
                                              const std::vector<grpc::Service*>& services,
                                              const std::string& port_file);

}  // namespace choreo::service
