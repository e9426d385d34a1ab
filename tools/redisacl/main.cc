// choreo-redis-acl: the Redis ACL users of a deployment (stores::MissionRedisUsers), as files a
// redis-server and the processes read:
//
//   choreo-redis-acl --dir DIR
//
// makes DIR (mode 0700) and in it, for `admin` and every process, `<user>.password` (a random
// 128-bit password, mode 0600) unless it exists, then writes `users.acl` (mode 0600) for
// `redis-server --aclfile DIR/users.acl`. Each process then runs with
// `--redis-user <user> --redis-password-file DIR/<user>.password`. Idempotent: passwords are
// kept across runs, and the ACL file follows the current table.

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "contracts/stores/redis_acls.h"
#include "edges/redis/redis_connection.h"
#include "platform/config/flag_set.h"
#include "platform/ids/trace_context.h"
#include "platform/process/files.h"

namespace {

// The password in `path`, made (random, mode 0600) if the file does not exist.
absl::StatusOr<std::string> PasswordIn(const std::string& path, absl::BitGen& random) {
  if (absl::StatusOr<std::string> kept = choreo::redis::ReadPasswordFile(path); kept.ok()) {
    return kept;
  }
  const std::string password = choreo::ids::RandomHex(random, 16);
  const mode_t old_mask = umask(077);
  absl::Status written = choreo::process::WriteFileAtomically(path, password + "\n");
  umask(old_mask);
  if (!written.ok()) return written;
  return password;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  choreo::config::FlagSet flags(
      "choreo-redis-acl",
      "Makes the Redis ACL users' passwords (kept when they exist) and the ACL file for\n"
      "redis-server --aclfile: one user per choreo process, allowed only its own keys.");
  flags.Add("dir", &dir, "where the passwords and users.acl are kept");
  choreo::config::ParseOrExit(flags, argc, argv, [&] {
    return dir.empty() ? absl::InvalidArgumentError("--dir is required") : absl::OkStatus();
  });
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::perror(("choreo-redis-acl: " + dir).c_str());
    return 1;
  }
  absl::BitGen random;
  std::map<std::string, std::string> passwords;
  std::vector<std::string> users = {choreo::stores::kRedisAdminUser};
  for (const choreo::stores::RedisAclUser& user : choreo::stores::MissionRedisUsers()) {
    users.push_back(user.name);
  }
  for (const std::string& user : users) {
    absl::StatusOr<std::string> password =
        PasswordIn(absl::StrCat(dir, "/", user, ".password"), random);
    if (!password.ok()) {
      std::fprintf(stderr, "choreo-redis-acl: %s\n",
                   std::string(password.status().message()).c_str());
      return 1;
    }
    passwords[user] = *password;
  }
  absl::StatusOr<std::string> acl_file = choreo::stores::RedisAclFile(passwords);
  const mode_t old_mask = umask(077);
  absl::Status written = acl_file.ok()
                             ? choreo::process::WriteFileAtomically(dir + "/users.acl", *acl_file)
                             : acl_file.status();
  umask(old_mask);
  if (!written.ok()) {
    std::fprintf(stderr, "choreo-redis-acl: %s\n", std::string(written.message()).c_str());
    return 1;
  }
  return 0;
}
