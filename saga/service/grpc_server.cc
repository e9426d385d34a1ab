#include "saga/service/grpc_server.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "saga/process/files.h"

namespace choreo::service {

absl::StatusOr<RunningServer> StartGrpcServer(const std::string& listen,
                                              const std::vector<grpc::Service*>& services,
                                              const std::string& port_file) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  RunningServer running;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &running.port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  running.server = builder.BuildAndStart();
  if (running.server == nullptr || running.port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  running.server->GetHealthCheckService()->SetServingStatus(true);
  if (!port_file.empty()) {
    if (absl::Status written = process::WriteFileAtomically(port_file, absl::StrCat(running.port, "\n"));
        !written.ok()) {
      running.server->Shutdown();
      return written;
    }
  }
  return running;
}

}  // namespace choreo::service
