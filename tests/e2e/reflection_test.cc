// What grpcurl needs from every process: server reflection (list services, describe them) and
// grpc.health.v1. Uses the standard protos from Debian's grpc-proto package.

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "testing/wait.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;
using ::testing::IsSupersetOf;

// `grpcurl ADDRESS list` (with -plaintext for the gateway, with an operator's -cert and -key
// for a service), then `describe SYMBOL`: the services, and whether the file
// defining `symbol` came back.
std::pair<std::vector<std::string>, bool> ListAndDescribe(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol) {
  auto stub = ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&context);
  ServerReflectionRequest list;
  list.set_list_services("");
  ServerReflectionRequest describe;
  describe.set_file_containing_symbol(symbol);
  std::vector<std::string> services;
  bool described = false;
  ServerReflectionResponse response;
  if (stream->Write(list) && stream->Read(&response)) {
    for (const auto& service : response.list_services_response().service()) {
      services.push_back(service.name());
    }
  }
  if (stream->Write(describe) && stream->Read(&response)) {
    described = response.file_descriptor_response().file_descriptor_proto_size() > 0;
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  return {services, described};
}

grpc::health::v1::HealthCheckResponse::ServingStatus Health(
    const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_TRUE(stub->Check(&context, {}, &response).ok());
  return response.status();
}

TEST(ReflectionTest, EveryProcessListsDescribesAndReportsHealth) {
  LocalSystem system(Binaries::Built(), {});
  {
    const absl::Status started = system.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  // The gateway's public port is plaintext here; the services take an operator's certificate.
  struct Expect {
    std::string name;
    std::shared_ptr<grpc::Channel> channel;
    std::vector<std::string> services;
  } processes[] = {
      {"gateway",
       grpc::CreateChannel(system.gateway(), grpc::InsecureChannelCredentials()),
       {"choreo.gateway.v1.OrderService", "choreo.gateway.v1.AccountService",
        "choreo.gateway.v1.TimelineService", "grpc.health.v1.Health"}},
      {"order",
       system.ChannelTo("order"),
       {"choreo.orders.v1.OrderAdmin", "grpc.health.v1.Health"}},
      {"billing",
       system.ChannelTo("billing"),
       {"choreo.billing.v1.BillingAdmin", "grpc.health.v1.Health"}},
      {"users",
       system.ChannelTo("users"),
       {"choreo.users.v1.UserService", "grpc.health.v1.Health"}},
      {"notification",
       system.ChannelTo("notification"),
       {"choreo.notifications.v1.NotificationAdmin", "grpc.health.v1.Health"}},
  };
  for (const Expect& process : processes) {
    auto [services, described] = ListAndDescribe(process.channel, process.services[0]);
    EXPECT_THAT(services, IsSupersetOf(process.services)) << process.name;
    EXPECT_TRUE(described) << process.services[0];
    // SERVING once ready (consumers assigned, Kafka and Redis reachable).
    EXPECT_TRUE(testing::WaitUntil(
        [&] { return Health(process.channel) == grpc::health::v1::HealthCheckResponse::SERVING; },
        absl::Seconds(60)))
        << process.name;
  }
}

}  // namespace
}  // namespace choreo::e2e
