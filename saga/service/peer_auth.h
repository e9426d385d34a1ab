#pragma once

// Who may call a service, and whose user it acts for (ARCHITECTURE.md §7). A caller is known only
// by the certificate it proved over mutual TLS (grpc_tls.h): its common name, signed by the
// deployment's CA. Network position, request fields and plain metadata prove nothing:
// - a call that needs a caller is UNAUTHENTICATED without a client certificate, and
//   PERMISSION_DENIED from a process not allowed to make it;
// - a user's identity (the `x-username` metadata) is taken only from the gateway, which verified
//   the user's token; from anyone else it is UNAUTHENTICATED.
// The decisions are pure functions; RequirePeer and CallingUser read them off a call.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "grpcpp/server_context.h"

namespace choreo::service {

// The process that asserts users' identities: it verified their tokens.
inline constexpr absl::string_view kGatewayPeer = "gateway";
// People and tools that may read the services' admin APIs, never act as a user.
inline constexpr absl::string_view kOperatorPeer = "operator";

// Who may read a service's admin API (an order, a balance, notifications): the gateway, for the
// user whose token it verified, and operators.
inline constexpr absl::string_view kAdminReaders[] = {kGatewayPeer, kOperatorPeer};

// OK when `peer` (the authenticated caller, none without a certificate) is one of `allowed`.
absl::Status AuthorizePeer(const std::optional<std::string>& peer,
                           absl::Span<const absl::string_view> allowed);

// The user a call acts for: `asserted` (x-username), believed only from the gateway.
absl::StatusOr<std::string> AssertedUser(const std::optional<std::string>& peer,
                                         absl::string_view asserted);

// The common name of the call's verified client certificate, if it presented one.
std::optional<std::string> AuthenticatedPeer(const grpc::ServerContextBase& context);

// AuthorizePeer for a call, as the call's status.
grpc::Status RequirePeer(const grpc::ServerContextBase& context,
                         absl::Span<const absl::string_view> allowed);

// AssertedUser for a call.
absl::StatusOr<std::string> CallingUser(const grpc::ServerContextBase& context);

// The metadata on which the gateway names the network address of the client a call is for
// (the user service throttles logins and registrations by it). Believed only from the gateway.
inline constexpr char kClientAddressMetadata[] = "x-client-address";

// The client address a call is for: `asserted` (x-client-address) from the gateway; "" from
// anyone else (who calls for no client).
std::string AssertedClientAddress(const std::optional<std::string>& peer,
                                  absl::string_view asserted);

// The IP address in a gRPC peer string: "ipv4:203.0.113.7:5000" is "203.0.113.7",
// "ipv6:[2001:db8::1]:5000" (or its percent-encoded form) is "2001:db8::1"; nullopt for a peer
// without one (an in-process call, a unix socket).
std::optional<std::string> PeerIpAddress(absl::string_view peer);

}  // namespace choreo::service
