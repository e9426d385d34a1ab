#include "saga/service/peer_auth.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "saga/service/grpc_tls.h"

namespace choreo::service {
namespace {

using ::testing::HasSubstr;

TEST(PeerAuthTest, ACallerWithoutACertificateIsUnauthenticated) {
  const absl::Status refused = AuthorizePeer(std::nullopt, kAdminReaders);
  EXPECT_TRUE(absl::IsUnauthenticated(refused));
  EXPECT_THAT(refused.message(), HasSubstr("no client certificate"));
  EXPECT_TRUE(absl::IsUnauthenticated(AssertedUser(std::nullopt, "ann").status()));
}

TEST(PeerAuthTest, OnlyTheAllowedPeersGetIn) {
  EXPECT_TRUE(AuthorizePeer("gateway", kAdminReaders).ok());
  EXPECT_TRUE(AuthorizePeer("operator", kAdminReaders).ok());
  const absl::Status billing = AuthorizePeer("billing", kAdminReaders);
  EXPECT_TRUE(absl::IsPermissionDenied(billing));
  EXPECT_THAT(billing.message(),
              HasSubstr("'billing' may not make this call (only gateway, operator)"));
  EXPECT_TRUE(absl::IsPermissionDenied(AuthorizePeer("operator", {kGatewayPeer})));
  // A name is matched whole.
  EXPECT_TRUE(absl::IsPermissionDenied(AuthorizePeer("gateway2", {kGatewayPeer})));
  EXPECT_TRUE(absl::IsPermissionDenied(AuthorizePeer("", {kGatewayPeer})));
}

TEST(PeerAuthTest, AUserIsBelievedOnlyFromTheGateway) {
  EXPECT_EQ(AssertedUser("gateway", "ann").value(), "ann");
  for (const char* peer : {"operator", "billing", "order", "users", "notification", "Gateway"}) {
    const absl::Status refused = AssertedUser(std::string(peer), "ann").status();
    EXPECT_TRUE(absl::IsUnauthenticated(refused)) << peer;
    EXPECT_THAT(refused.message(), HasSubstr("only from the gateway")) << peer;
  }
  EXPECT_TRUE(absl::IsUnauthenticated(AssertedUser("gateway", "").status()));
}

TEST(PeerAuthTest, AClientAddressIsBelievedOnlyFromTheGateway) {
  EXPECT_EQ(AssertedClientAddress("gateway", "203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(AssertedClientAddress("operator", "203.0.113.7"), "");
  EXPECT_EQ(AssertedClientAddress(std::nullopt, "203.0.113.7"), "");
}

TEST(PeerAuthTest, ThePeersIpAddressWithoutItsPort) {
  EXPECT_EQ(PeerIpAddress("ipv4:203.0.113.7:5000"), "203.0.113.7");
  EXPECT_EQ(PeerIpAddress("ipv6:[2001:db8::1]:5000"), "2001:db8::1");
  EXPECT_EQ(PeerIpAddress("ipv6:%5B::1%5D:5000"), "::1");
  EXPECT_EQ(PeerIpAddress("ipv6:[::ffff:10.0.0.1]:1"), "::ffff:10.0.0.1");
  EXPECT_EQ(PeerIpAddress("inproc"), std::nullopt);
  EXPECT_EQ(PeerIpAddress("unix:/run/x.sock"), std::nullopt);
  EXPECT_EQ(PeerIpAddress("ipv6:::1:5000"), std::nullopt) << "no brackets: not a gRPC peer";
  EXPECT_EQ(PeerIpAddress("ipv4::5000"), std::nullopt);
}

TEST(TlsFilesTest, AllThreeOrNone) {
  EXPECT_TRUE(TlsFiles{}.Validate().ok());
  EXPECT_FALSE(TlsFiles{}.enabled());
  EXPECT_TRUE((TlsFiles{.ca = "ca.pem", .cert = "a.pem", .key = "a.key"}).Validate().ok());
  EXPECT_TRUE(absl::IsInvalidArgument((TlsFiles{.cert = "a.pem", .key = "a.key"}).Validate()));
  EXPECT_TRUE(absl::IsInvalidArgument((TlsFiles{.ca = "ca.pem"}).Validate()));
}

TEST(TlsFilesTest, AFileThatCannotBeReadIsNamed) {
  const absl::StatusOr<TlsMaterial> missing =
      TlsMaterial::Load({.ca = "/nonexistent/ca.pem", .cert = "a.pem", .key = "a.key"});
  EXPECT_TRUE(absl::IsFailedPrecondition(missing.status()));
  EXPECT_THAT(missing.status().message(), HasSubstr("--tls-ca: cannot read /nonexistent/ca.pem"));
  EXPECT_FALSE(TlsMaterial::Load({}).value().enabled());
}

}  // namespace
}  // namespace choreo::service
