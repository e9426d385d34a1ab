#include "saga/service/grpc_server.h"

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/impl/server_initializer.h"
#include "platform/process/files.h"

namespace choreo::service {
namespace {

// A plugin whose only work is to copy the service list the builder hands every plugin.
class ServiceNamesPlugin final : public grpc::ServerBuilderPlugin {
 public:
  explicit ServiceNamesPlugin(std::vector<std::string>* names) : names_(names) {}
  std::string name() override { return "choreo_service_names"; }
  void InitServer(grpc::ServerInitializer* initializer) override {
    if (const std::vector<std::string>* services = initializer->GetServiceList(); services != nullptr) {
      *names_ = *services;
    }
  }
  void Finish(grpc::ServerInitializer* /*initializer*/) override {}
  void ChangeArguments(const std::string& /*name*/, void* /*value*/) override {}

 private:
  std::vector<std::string>* names_;
};

class ServiceNamesOption final : public grpc::ServerBuilderOption {
 public:
  explicit ServiceNamesOption(std::vector<std::string>* names) : names_(names) {}
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ServiceNamesPlugin>(names_));
  }

 private:
  std::vector<std::string>* names_;
};

}  // namespace

void RecordServiceNames(grpc::ServerBuilder& builder, std::vector<std::string>* names) {
  builder.SetOption(std::make_unique<ServiceNamesOption>(names));
}

absl::StatusOr<RunningServer> StartGrpcServer(const std::string& listen,
                                              const std::vector<grpc::Service*>& services,
                                              const std::string& port_file, const TlsMaterial& tls,
                                              const ConnectionLimits& limits,
                                              InterceptorFactories interceptors) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // gRPC's built-in health service carries no descriptor: linking the generated one puts it in
  // the pool reflection reads, so that grpcurl can describe and call grpc.health.v1.Health.
  static_cast<void>(grpc::health::v1::HealthCheckRequest::descriptor());
  grpc::ServerBuilder builder;
  RunningServer running;
  builder.AddListeningPort(listen, ServerCredentialsFor(tls), &running.port);
  if (limits.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(limits.max_connection_age)));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 30000);
  }
  for (grpc::Service* service : services) builder.RegisterService(service);
  RecordServiceNames(builder, &running.service_names);
  if (!interceptors.empty()) builder.experimental().SetInterceptorCreators(std::move(interceptors));
  running.server = builder.BuildAndStart();
  if (running.server == nullptr || running.port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  running.server->GetHealthCheckService()->SetServingStatus(false);
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
