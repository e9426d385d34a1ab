#pragma once

// StartGrpcServer: how every choreo process serves gRPC: its services beside grpc.health.v1
// (NOT_SERVING until the caller's readiness says otherwise) and server reflection (so grpcurl
// works), on `listen` (port 0: any free port) with mutual TLS when `tls` holds a certificate
// (grpc_tls.h), with the bound port written to `port_file` when one is given.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/server_interceptor.h"
#include "saga/service/grpc_tls.h"

namespace choreo::service {

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  // The full names of the services it serves (health and reflection included), as the HTTP
  // transcoding needs them.
  std::vector<std::string> service_names;
};

// Makes `builder` record, when it builds its server, the full names of the services it
// registered into `*names` (which must outlive the BuildAndStart call).
void RecordServiceNames(grpc::ServerBuilder& builder, std::vector<std::string>* names);

using InterceptorFactories =
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>;

struct ConnectionLimits {
  // Zero: connections live for ever. Else each gets a GOAWAY this old, and its calls in flight
  // 30 s more (ProcessConfig::max_connection_age).
  absl::Duration max_connection_age = absl::ZeroDuration();
};

absl::StatusOr<RunningServer> StartGrpcServer(const std::string& listen,
                                              const std::vector<grpc::Service*>& services,
                                              const std::string& port_file, const TlsMaterial& tls,
                                              const ConnectionLimits& limits,
                                              InterceptorFactories interceptors = {});

}  // namespace choreo::service
