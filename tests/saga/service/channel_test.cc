// ChannelTo's connection attempts: a server whose TLS handshake is slow (a loaded machine, a slow
// link) is still reached; gRPC gives each attempt GRPC_ARG_MIN_RECONNECT_BACKOFF_MS as its
// minimum time, so a short one there cut such handshakes off again and again.

#include <memory>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "saga/service/grpc_server.h"
#include "saga/service/grpc_tls.h"
#include "testing/local_pki.h"
#include "testing/temp_dir.h"
#include "testing/toxiproxy.h"

namespace choreo::service {
namespace {

TlsMaterial MaterialOf(const testing::LocalPki& pki, const std::string& name) {
  absl::StatusOr<TlsMaterial> tls =
      TlsMaterial::Load({.ca = pki.ca(), .cert = pki.cert(name), .key = pki.key(name)});
  EXPECT_TRUE(tls.ok()) << tls.status();
  return tls.value_or(TlsMaterial{});
}

TEST(ChannelToTest, AServerWhoseHandshakeTakesLongerThanASecondIsStillReached) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create();
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::StatusOr<testing::LocalPki> pki =
      testing::LocalPki::Create(dir->path(), {"order", "gateway"});
  ASSERT_TRUE(pki.ok()) << pki.status();
  absl::StatusOr<RunningServer> server =
      StartGrpcServer("127.0.0.1:0", {}, "", MaterialOf(*pki, "order"), {});
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::unique_ptr<testing::Toxiproxy>> proxy = testing::Toxiproxy::Start();
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  absl::StatusOr<int> port =
      (*proxy)->AddProxy("order", "127.0.0.1:" + std::to_string(server->port));
  ASSERT_TRUE(port.ok()) << port.status();
  // 400 ms each way: TLS and HTTP/2's settings take four trips, 1.6 s, longer than the longest
  // attempt gRPC makes when its minimum is short (the backoff, capped at 1 s).
  ASSERT_TRUE((*proxy)->AddLatency("order", absl::Milliseconds(400), absl::ZeroDuration()).ok());

  auto channel =
      ChannelTo("127.0.0.1:" + std::to_string(*port), "order", MaterialOf(*pki, "gateway"));
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = health->Check(&context, {}, &response);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
}

}  // namespace
}  // namespace choreo::service
