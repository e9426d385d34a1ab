// Argon2id password hashes: round trip, salting, rehash detection.

#include "credentials/password_hash.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace choreo::credentials {
namespace {

// libsodium's minimum cost, so the tests that do not care about cost run fast.
constexpr PasswordHashParams kCheap{.ops_limit = 1, .mem_limit_bytes = 8 * 1024};

TEST(PasswordHash, DefaultParamsRoundTrip) {
  const absl::StatusOr<std::string> hash = HashPassword("correct horse", PasswordHashParams{});
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_TRUE(absl::StartsWith(*hash, "$argon2id$v=19$m=19456,t=2,p=1$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse"));
  EXPECT_FALSE(HashNeedsRehash(*hash, PasswordHashParams{}));
}

TEST(PasswordHash, WrongPasswordFails) {
  const absl::StatusOr<std::string> hash = HashPassword("correct horse", kCheap);
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_FALSE(VerifyPassword(*hash, "correct hors"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse "));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST(PasswordHash, EachHashHasItsOwnSalt) {
  const absl::StatusOr<std::string> first = HashPassword("same", kCheap);
  const absl::StatusOr<std::string> second = HashPassword("same", kCheap);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
  EXPECT_TRUE(VerifyPassword(*first, "same"));
  EXPECT_TRUE(VerifyPassword(*second, "same"));
}

TEST(PasswordHash, PasswordsMayContainNulBytes) {
  const std::string password("a\0b", 3);
  const absl::StatusOr<std::string> hash = HashPassword(password, kCheap);
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_TRUE(VerifyPassword(*hash, password));
  EXPECT_FALSE(VerifyPassword(*hash, "a"));
}

TEST(PasswordHash, RehashNeededWhenParamsChange) {
  const absl::StatusOr<std::string> hash = HashPassword("pw", kCheap);
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_FALSE(HashNeedsRehash(*hash, kCheap));
  EXPECT_TRUE(HashNeedsRehash(*hash, {.ops_limit = 2, .mem_limit_bytes = 8 * 1024}));
  EXPECT_TRUE(HashNeedsRehash(*hash, {.ops_limit = 1, .mem_limit_bytes = 16 * 1024}));
  EXPECT_TRUE(HashNeedsRehash(*hash, PasswordHashParams{}));
}

TEST(PasswordHash, MalformedHashesNeverVerifyAndNeedRehash) {
  for (const std::string& bad :
       {std::string(), std::string("plaintext"), std::string("$argon2id$v=19$m=8,t=1,p=1$"),
        std::string(1000, 'a'), std::string("$argon2id\0$", 11)}) {
    EXPECT_FALSE(VerifyPassword(bad, "plaintext")) << bad;
    EXPECT_TRUE(HashNeedsRehash(bad, kCheap)) << bad;
  }
}

TEST(PasswordHash, ParamsBelowMinimumAreInvalid) {
  EXPECT_EQ(HashPassword("pw", {.ops_limit = 0, .mem_limit_bytes = 8 * 1024}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword("pw", {.ops_limit = 1, .mem_limit_bytes = 1024}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace choreo::credentials
