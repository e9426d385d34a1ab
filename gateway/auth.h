#pragma once

// Who is calling the gateway. Every order and account call (all but Register and Login) carries
// a bearer token in the `authorization` metadata; the Authenticator verifies it with the user
// service's public key (EdDSA only, issuer and expiry checked) and yields the Caller.
//
// Identity never comes from the client's own metadata: x-username / x-roles that a client sends
// are ignored, and the gateway sets them itself on the calls it makes to the services
// (ForwardCaller), from the verified token only.
//
// Thread-safe. Tokens already accepted are remembered (credentials::VerifiedTokens): a client's
// calls with one token cost one signature check.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "credentials/jwt.h"
#include "credentials/verified_tokens.h"
#include "platform/ids/named_id.h"

namespace choreo::gateway {

struct Caller {
  ids::Username username;
  std::vector<std::string> roles;
};

class Authenticator {
 public:
  explicit Authenticator(credentials::TokenVerifier verifier) : verifier_(std::move(verifier)) {}

  // UNAUTHENTICATED, with a reason safe to show, for a missing, malformed, expired or forged
  // token.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& context) const;

 private:
  credentials::VerifiedTokens verifier_;
};

// Puts the caller (x-username, x-roles as a comma-separated list) on a call to a service.
void ForwardCaller(const Caller& caller, grpc::ClientContext& context);

}  // namespace choreo::gateway
