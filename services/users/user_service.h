#pragma once

// The user service's wiring: its gRPC API (Register, Login, GetProfile, UpdateProfile) over the
// UserStore, and its saga handlers (ProfileRequested on users.profile -> ProfileResponse).
//
// UserService runs on gRPC's sync API: password hashing is deliberately slow CPU work, and the
// sync server's thread pool bounds how much of it runs at once.
//
// Callers (saga/service/peer_auth.h): only the gateway, proven by its client certificate, may
// call Register and Login, and GetProfile and UpdateProfile act for the user the gateway asserts
// in the `x-username` metadata (after verifying the user's token); the same metadata from any
// other caller is UNAUTHENTICATED, and a request naming another user is PERMISSION_DENIED.

#include <atomic>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "choreo/users/v1/user_service.grpc.pb.h"
#include "credentials/jwt.h"
#include "credentials/password_hash.h"
#include "saga/publish/publisher.h"
#include "saga/runtime/handler_registry.h"
#include "services/users/core/user_rules.h"
#include "services/users/user_store.h"

namespace choreo::users {

// users.profile.
std::vector<std::string> UserTopics();

absl::StatusOr<saga::HandlerRegistry> UserRegistry();

struct UserServiceOptions {
  credentials::PasswordHashParams password_hash;
  // Per client address (the gateway names it): logins, registrations.
  AttemptLimit login_limit;
  AttemptLimit registration_limit{.max_attempts = 10, .window = absl::Minutes(10)};
  // Argon2 hashes computed at once, by all clients together: a flood from many addresses gets
  // RESOURCE_EXHAUSTED instead of queueing every login behind it.
  int password_checks = 4;
  // Stamps the events a call publishes (the outbox sends them). Not owned; required.
  const publish::Publisher* publisher = nullptr;
};

class UserServiceImpl final : public v1::UserService::Service {
 public:
  UserServiceImpl(UserStore* store, Outbox* outbox, const credentials::TokenIssuer* issuer,
                  UserServiceOptions options);

  grpc::Status Register(grpc::ServerContext* context, const v1::RegisterRequest* request,
                        v1::RegisterResponse* response) override;
  grpc::Status Login(grpc::ServerContext* context, const v1::LoginRequest* request,
                     v1::LoginResponse* response) override;
  grpc::Status GetProfile(grpc::ServerContext* context, const v1::GetProfileRequest* request,
                          v1::Profile* response) override;
  grpc::Status UpdateProfile(grpc::ServerContext* context,
                             const v1::UpdateProfileRequest* request,
                             v1::Profile* response) override;

 private:
  // Counts the attempt of `kind` for the call's client: RESOURCE_EXHAUSTED over `limit`.
  grpc::Status CountAttempt(const grpc::ServerContext& context, absl::string_view kind,
                            const AttemptLimit& limit);
  // Encodes the reaction's events (stamped as caused by the call), commits the record with them
  // and publishes them.
  absl::Status CommitAndPublish(const grpc::ServerContext& context, const std::string& username,
                                int64_t expected_version, saga::Reaction<v1::UserRecord> change);

  UserStore* store_;
  Outbox* outbox_;
  const credentials::TokenIssuer* issuer_;
  const UserServiceOptions options_;
  std::atomic<int> password_checks_in_flight_{0};
  absl::Mutex random_mu_;
  absl::BitGen random_ ABSL_GUARDED_BY(random_mu_);
  // A hash of a random password, verified when the username is unknown so that a login for an
  // unknown user costs the same time as one with a wrong password.
  std::string decoy_hash_;
};

}  // namespace choreo::users
