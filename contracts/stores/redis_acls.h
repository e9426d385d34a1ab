#pragma once

// Who may touch which Redis keys (ARCHITECTURE.md §7): each process logs in to Redis as its own
// ACL user (--redis-user, --redis-password-file), allowed only the keys it owns and no
// dangerous command (FLUSHALL, CONFIG, KEYS, DEBUG, SHUTDOWN, ...). So a service that is
// broken into, or a password that leaks, cannot read or change another service's state: the
// notification service cannot touch a balance. `admin` is for operators and tests (every key,
// every command); the default user is off (nobody can log in as it).
//
// The table follows the code: a process that starts using a new key prefix adds it here, or
// Redis answers NOPERM (every end-to-end test runs with these users).

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace choreo::stores {

struct RedisAclUser {
  std::string name;                       // the process: "gateway", "order", ...
  std::vector<std::string> key_patterns;  // Redis glob patterns of the keys it may use
};

inline constexpr char kRedisAdminUser[] = "admin";

// One user per process of the mission.
std::vector<RedisAclUser> MissionRedisUsers();

// The ACL file (redis-server --aclfile) for the mission's users and admin, each with the
// password `passwords` maps it to (stored as its SHA-256, never in clear). INVALID_ARGUMENT
// naming a user without a password, or a password with characters outside printable ASCII.
absl::StatusOr<std::string> RedisAclFile(const std::map<std::string, std::string>& passwords);

}  // namespace choreo::stores
