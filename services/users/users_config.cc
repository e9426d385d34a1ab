#include "services/users/users_config.h"

namespace choreo::users {

void UsersConfig::AddFlags(config::FlagSet& flags) {
  ServiceConfig::AddFlags(flags);
  flags
      .Add("jwt-private-key", &jwt_private_key,
           "Ed25519 PKCS#8 PEM signing key; created (with --jwt-public-key) when missing")
      .Add("jwt-public-key", &jwt_public_key, "where the matching public key (SPKI PEM) is written")
      .Add("jwt-issuer", &jwt_issuer, "the tokens' iss claim (the gateway checks it)")
      .Add("token-lifetime", &token_lifetime, "how long an access token is valid")
      .Add("login-attempts", &login_limit.max_attempts,
           "login attempts allowed per client address per --login-window")
      .Add("login-window", &login_limit.window, "the login rate limit's window")
      .Add("registrations", &registration_limit.max_attempts,
           "registrations allowed per client address per --registration-window")
      .Add("registration-window", &registration_limit.window,
           "the registration rate limit's window")
      .Add("password-checks", &password_checks,
           "password hashes (Register, Login) computed at once; more are RESOURCE_EXHAUSTED")
      .Add("password-hash-ops", &password_hash_ops, "Argon2id iterations (opslimit)")
      .Add("password-hash-mib", &password_hash_mib, "Argon2id memory per hash, in MiB");
}

absl::Status UsersConfig::Validate() const {
  if (token_lifetime < absl::Minutes(1) || token_lifetime > absl::Hours(24)) {
    return absl::InvalidArgumentError("--token-lifetime must be 1m..24h");
  }
  if (login_limit.max_attempts < 1 || login_limit.window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--login-attempts must be >= 1 and --login-window > 0");
  }
  if (registration_limit.max_attempts < 1 || registration_limit.window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--registrations must be >= 1 and --registration-window > 0");
  }
  if (password_checks < 1) return absl::InvalidArgumentError("--password-checks must be >= 1");
  if (password_hash_ops < 1 || password_hash_mib < 8 || password_hash_mib > 4096) {
    return absl::InvalidArgumentError(
        "--password-hash-ops must be >= 1, --password-hash-mib 8..4096");
  }
  if (jwt_issuer.empty()) return absl::InvalidArgumentError("--jwt-issuer is empty");
  return ServiceConfig::Validate();
}

UserServiceOptions UsersConfig::ServiceOptions() const {
  UserServiceOptions options;
  options.password_hash.ops_limit = static_cast<uint64_t>(password_hash_ops);
  options.password_hash.mem_limit_bytes = static_cast<size_t>(password_hash_mib) << 20;
  options.login_limit = login_limit;
  options.registration_limit = registration_limit;
  options.password_checks = password_checks;
  return options;
}

UsersConfig UsersConfig::FromFlags(int argc, char** argv) {
  return config::ParseConfigOrExit<UsersConfig>(
      "choreo-users", "The user service of the choreo saga.", argc, argv);
}

}  // namespace choreo::users
