#include "saga/service/peer_auth.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "saga/service/grpc_metadata.h"
#include "saga/service/grpc_status.h"

namespace choreo::service {

absl::Status AuthorizePeer(const std::optional<std::string>& peer,
                           absl::Span<const absl::string_view> allowed) {
  if (!peer.has_value()) {
    return absl::UnauthenticatedError(
        "no client certificate: this call needs a caller with a certificate from the deployment's "
        "CA");
  }
  for (absl::string_view name : allowed) {
    if (*peer == name) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat("'", *peer, "' may not make this call (only ",
                                                  absl::StrJoin(allowed, ", "), ")"));
}

absl::StatusOr<std::string> AssertedUser(const std::optional<std::string>& peer,
                                         absl::string_view asserted) {
  if (!peer.has_value()) return AuthorizePeer(peer, {kGatewayPeer});
  if (peer != kGatewayPeer) {
    return absl::UnauthenticatedError("a user's identity is taken only from the gateway");
  }
  if (asserted.empty()) return absl::UnauthenticatedError("no caller (x-username) on the call");
  return std::string(asserted);
}

std::optional<std::string> AuthenticatedPeer(const grpc::ServerContextBase& context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return std::nullopt;
  const std::vector<grpc::string_ref> names = auth->FindPropertyValues("x509_common_name");
  if (names.size() != 1) return std::nullopt;
  return std::string(names[0].data(), names[0].size());
}

grpc::Status RequirePeer(const grpc::ServerContextBase& context,
                         absl::Span<const absl::string_view> allowed) {
  return ToGrpc(AuthorizePeer(AuthenticatedPeer(context), allowed));
}

absl::StatusOr<std::string> CallingUser(const grpc::ServerContextBase& context) {
  return AssertedUser(AuthenticatedPeer(context), MetadataValue(context, "x-username"));
}

std::string AssertedClientAddress(const std::optional<std::string>& peer,
                                  absl::string_view asserted) {
  return peer == kGatewayPeer ? std::string(asserted) : "";
}

std::optional<std::string> PeerIpAddress(absl::string_view peer) {
  std::string address;
  if (absl::ConsumePrefix(&peer, "ipv4:")) {
    address = std::string(peer.substr(0, peer.rfind(':')));
  } else if (absl::ConsumePrefix(&peer, "ipv6:")) {
    const std::string decoded = absl::StrReplaceAll(peer, {{"%5B", "["}, {"%5D", "]"}});
    const size_t close = decoded.find(']');
    if (decoded.empty() || decoded[0] != '[' || close == std::string::npos) return std::nullopt;
    address = decoded.substr(1, close - 1);
  } else {
    return std::nullopt;
  }
  if (address.empty()) return std::nullopt;
  return address;
}

}  // namespace choreo::service
