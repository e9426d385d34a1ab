// StartGrpcServer's connection limit: with a max connection age, a client's connection is
// closed once that old and the client connects again (resolving the name again: how a gateway
// reaches instances added behind a headless Service); without one it stays.

#include "saga/service/grpc_server.h"

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "testing/wait.h"

namespace choreo::service {
namespace {

// Whether the channel's connection was replaced within `within`: it goes away from READY.
bool Reconnects(const RunningServer& server, absl::Duration within) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port),
                                     grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_TRUE(health->Check(&context, {}, &response).ok());
  EXPECT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  return testing::WaitUntil([&] { return channel->GetState(false) != GRPC_CHANNEL_READY; }, within);
}

TEST(GrpcServerTest, AConnectionIsClosedOnceAsOldAsTheMaxAge) {
  absl::StatusOr<RunningServer> server = StartGrpcServer("127.0.0.1:0", {}, "", TlsMaterial{},
                                                         {.max_connection_age = absl::Seconds(1)});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(Reconnects(*server, absl::Seconds(10)));
}

TEST(GrpcServerTest, WithoutAMaxAgeAConnectionStays) {
  absl::StatusOr<RunningServer> server = StartGrpcServer("127.0.0.1:0", {}, "", TlsMaterial{}, {});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_FALSE(Reconnects(*server, absl::Seconds(3)));
}

}  // namespace
}  // namespace choreo::service
