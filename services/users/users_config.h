#pragma once

// The user service's configuration: the flags every service shares and its own, validated at
// start-up (a bad flag exits 2 naming it). Each flag is also CHOREO_<NAME> in the environment.

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "platform/config/flag_set.h"
#include "saga/service/service_host.h"
#include "services/users/user_service.h"

namespace choreo::users {

struct UsersConfig : service::ServiceConfig {
  std::string jwt_private_key = "users-signing-key.pem";
  std::string jwt_public_key = "users-signing-key.pub.pem";
  std::string jwt_issuer = "choreo-users";
  absl::Duration token_lifetime = absl::Hours(1);
  AttemptLimit login_limit;
  AttemptLimit registration_limit{.max_attempts = 10, .window = absl::Minutes(10)};
  int password_checks = 4;        // Argon2 hashes computed at once
  int64_t password_hash_ops = 2;  // Argon2id opslimit
  int password_hash_mib = 19;     // Argon2id memory per hash

  void AddFlags(config::FlagSet& flags);
  absl::Status Validate() const;
  // The service's options (the publisher is set by the builder).
  UserServiceOptions ServiceOptions() const;
  // Parses argv (exits on --help or a bad flag).
  static UsersConfig FromFlags(int argc, char** argv);
};

}  // namespace choreo::users
