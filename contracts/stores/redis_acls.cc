#include "contracts/stores/redis_acls.h"

#include <sodium.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace choreo::stores {
namespace {

// The saga runtime's keys of `service`'s aggregates: state, processed-event markers, effects
// (saga/store/redis_aggregate_store.h), all hash-tagged "{<service>.<aggregate>:<id>}".
std::vector<std::string> AggregateKeys(const std::string& service) {
  return {absl::StrCat("state:{", service, ".*"), absl::StrCat("done:{", service, ".*"),
          absl::StrCat("effect:{", service, ".*")};
}

std::vector<std::string> Plus(std::vector<std::string> patterns,
                              std::initializer_list<const char*> more) {
  patterns.insert(patterns.end(), more.begin(), more.end());
  return patterns;
}

// Every command but those the mission never needs and an intruder would want: the dangerous
// ones (KEYS, FLUSHALL, CONFIG, DEBUG, ...), and those that list or count every key's name
// (names hold usernames and order ids) or stop another client's script.
constexpr char kCommands[] =
    "+@all -@dangerous -scan -randomkey -dbsize -script|kill -function|kill";

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

absl::StatusOr<std::string> PasswordHashOf(const std::map<std::string, std::string>& passwords,
                                           const std::string& user) {
  auto it = passwords.find(user);
  if (it == passwords.end() || it->second.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no Redis password for user ", user));
  }
  for (char c : it->second) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(
          absl::StrCat("the Redis password of ", user, " has a character outside printable ASCII"));
    }
  }
  return absl::StrCat("#", Sha256Hex(it->second));
}

}  // namespace

std::vector<RedisAclUser> MissionRedisUsers() {
  return {
      // Order views, idempotency records and order index; saga timelines.
      {"gateway", {"gw:*", "tl:*"}},
      {"order", Plus(AggregateKeys("order"), {"order:*"})},  // order:deadlines
      {"billing", AggregateKeys("billing")},
      // users:outbox, and the attempt counters per client address.
      {"users", Plus(AggregateKeys("users"), {"users:*", "attempts:{users.*"})},
      // notification:inbox:{<user>} and its records' markers.
      {"notification", Plus(AggregateKeys("notification"), {"notification:*"})},
  };
}

absl::StatusOr<std::string> RedisAclFile(const std::map<std::string, std::string>& passwords) {
  if (sodium_init() < 0) return absl::InternalError("libsodium cannot initialise");
  absl::StatusOr<std::string> admin = PasswordHashOf(passwords, kRedisAdminUser);
  if (!admin.ok()) return admin.status();
  // `default` is off: no connection can be it, and a new one must AUTH. It keeps every
  // permission all the same, because Redis replays the AOF as the default user and re-checks
  // its permissions at each EXEC: without them every transaction and Lua commit in the AOF is
  // silently dropped on restart (redis/redis#14541, fixed after 7.0; valkey#3983).
  std::string file = "user default off ~* &* +@all\n";
  absl::StrAppend(&file, "user ", kRedisAdminUser, " on ", *admin, " ~* &* +@all\n");
  for (const RedisAclUser& user : MissionRedisUsers()) {
    absl::StatusOr<std::string> hash = PasswordHashOf(passwords, user.name);
    if (!hash.ok()) return hash.status();
    absl::StrAppend(&file, "user ", user.name, " on ", *hash, " resetchannels");
    for (const std::string& pattern : user.key_patterns) absl::StrAppend(&file, " ~", pattern);
    absl::StrAppend(&file, " ", kCommands, "\n");
  }
  return file;
}

}  // namespace choreo::stores
