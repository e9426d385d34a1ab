#include "gateway/auth.h"

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gateway/core/gateway_rules.h"
#include "saga/service/grpc_metadata.h"

namespace choreo::gateway {

absl::StatusOr<Caller> Authenticator::Authenticate(const grpc::ServerContextBase& context) const {
  const std::string authorization = service::MetadataValue(context, "authorization");
  absl::StatusOr<absl::string_view> token = BearerToken(authorization);
  if (!token.ok()) return token.status();
  absl::StatusOr<credentials::TokenClaims> claims = verifier_.Verify(*token, absl::Now());
  if (!claims.ok()) return claims.status();
  return Caller{.username = ids::Username(std::move(claims->subject)), .roles = std::move(claims->roles)};
}

void ForwardCaller(const Caller& caller, grpc::ClientContext& context) {
  context.AddMetadata("x-username", caller.username.value());
  context.AddMetadata("x-roles", absl::StrJoin(caller.roles, ","));
}

}  // namespace choreo::gateway
