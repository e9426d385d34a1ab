// The Redis ACL users (contracts/stores): each process's patterns match the keys its store
// computes and no other process's; the ACL file names every user, keeps no password in clear,
// and refuses a user without a password. The end-to-end proof that Redis enforces it:
// tests/e2e/trust_boundary_test.cc (EachProcessReachesOnlyItsOwnRedisKeys).

#include "contracts/stores/redis_acls.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "edges/redis/redis_connection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "saga/store/redis_aggregate_store.h"
#include "testing/redis_server.h"

namespace choreo::stores {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Redis's glob, for the only form the table uses: a literal prefix and a final '*'.
bool Matches(const std::string& pattern, const std::string& key) {
  return absl::EndsWith(pattern, "*") &&
         absl::StartsWith(key, pattern.substr(0, pattern.size() - 1));
}

std::string OwnerOf(const std::string& key) {
  std::string owner;
  for (const RedisAclUser& user : MissionRedisUsers()) {
    for (const std::string& pattern : user.key_patterns) {
      if (Matches(pattern, key)) {
        EXPECT_TRUE(owner.empty() || owner == user.name)
            << key << ": " << owner << " and " << user.name;
        owner = user.name;
      }
    }
  }
  return owner;
}

TEST(RedisAclsTest, EachServicesAggregateKeysAreItsOwnAlone) {
  using store::RedisAggregateStore;
  for (const char* service : {"order", "billing", "users", "notification"}) {
    const store::AggregateRef aggregate{absl::StrCat(service, ".thing"), "ann"};
    EXPECT_EQ(OwnerOf(RedisAggregateStore::StateKey(aggregate)), service);
    EXPECT_EQ(OwnerOf(RedisAggregateStore::MarkerKey(aggregate, "e1")), service);
    EXPECT_EQ(OwnerOf(RedisAggregateStore::EffectKey(aggregate, "e1")), service);
  }
  EXPECT_EQ(OwnerOf("gw:order:{ann}:ord-1"), "gateway");
  EXPECT_EQ(OwnerOf("tl:hops:{c1}"), "gateway");
  EXPECT_EQ(OwnerOf("order:deadlines"), "order");  // the unsharded key of earlier releases
  EXPECT_EQ(OwnerOf("order:deadlines:{order:deadlines:15}"), "order");
  EXPECT_EQ(OwnerOf("order:deadlines:{order:deadlines}:lease"), "order");
  EXPECT_EQ(OwnerOf("notification:inbox:{ann}"), "notification");
  EXPECT_EQ(OwnerOf("notification:sent:{ann}:n1"), "notification");
  EXPECT_EQ(OwnerOf("users:outbox"), "users");
  EXPECT_EQ(OwnerOf("users:outbox:{users:outbox:0}"), "users");
  EXPECT_EQ(OwnerOf("users:outbox:{users:outbox}:lease"), "users");
  EXPECT_EQ(OwnerOf("attempts:{users.client:10.0.0.1}:login"), "users");
  EXPECT_EQ(OwnerOf("state:{billingx.account:ann}"), "") << "a prefix is a whole service name";
}

TEST(RedisAclsTest, TheFileNamesEveryUserWithAHashedPassword) {
  std::map<std::string, std::string> passwords = {{kRedisAdminUser, "admin-secret"}};
  for (const RedisAclUser& user : MissionRedisUsers()) passwords[user.name] = user.name + "-secret";
  absl::StatusOr<std::string> file = RedisAclFile(passwords);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT(*file, HasSubstr("user default off"));
  EXPECT_THAT(*file, HasSubstr("user admin on #"));
  EXPECT_THAT(*file, HasSubstr("user billing on #"));
  EXPECT_THAT(*file, HasSubstr("-@dangerous"));
  EXPECT_THAT(*file, Not(HasSubstr("secret"))) << "only hashes";
  passwords.erase("billing");
  EXPECT_THAT(RedisAclFile(passwords).status().message(),
              HasSubstr("no Redis password for user billing"));
  passwords["billing"] = "has space";
  EXPECT_FALSE(RedisAclFile(passwords).ok());
}

// Redis 7.0 replays its AOF as the default user and re-checks that user's permissions at each
// EXEC: a default user without them loses every Lua commit on restart. Ours is off but keeps
// them; this is that restart, on a real redis-server with the mission's ACL file.
TEST(RedisAclsTest, CommitsSurviveARestartWithTheAclFile) {
  std::map<std::string, std::string> passwords = {{kRedisAdminUser, "admin-pw"}};
  for (const RedisAclUser& user : MissionRedisUsers()) passwords[user.name] = user.name + "-pw";
  absl::StatusOr<std::string> file = RedisAclFile(passwords);
  ASSERT_TRUE(file.ok()) << file.status();
  auto server = testing::RedisServer::Start(
      {.acl_file_text = *file, .admin_password = passwords[kRedisAdminUser]});
  ASSERT_TRUE(server.ok()) << server.status();
  redis::SetProcessLogin({.user = "billing", .password = passwords["billing"]});
  const std::string key = "state:{billing.account:ann}";
  {
    redis::RedisConnection billing((*server)->ConnectionOptions());
    absl::StatusOr<redis::RedisReply> written = billing.Eval(
        // Two writes: Redis logs them to the AOF as one MULTI/EXEC, as it does the saga's commits.
        "redis.call('HSET', KEYS[1], 'v', ARGV[1]); return redis.call('HSET', KEYS[1], 's', 'x')",
        {key}, {"7"});
    ASSERT_TRUE(written.ok() && !written->is_error()) << (written.ok() ? written->str : "");
  }
  ASSERT_TRUE((*server)->Kill().ok());
  ASSERT_TRUE((*server)->Restart().ok());
  redis::RedisConnection billing((*server)->ConnectionOptions());
  absl::StatusOr<redis::RedisReply> read = billing.Command({"HGET", key, "v"});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->str, "7") << "the Lua commit was replayed from the AOF";
  // The default user cannot be logged in as: a connection without AUTH gets nothing.
  redis::SetProcessLogin({});
  redis::RedisConnection anonymous((*server)->ConnectionOptions());
  read = anonymous.Command({"HGET", key, "v"});
  EXPECT_TRUE(absl::IsUnavailable(read.status())) << read.status();
  EXPECT_THAT(read.status().message(), HasSubstr("NOAUTH"));
}

}  // namespace
}  // namespace choreo::stores
