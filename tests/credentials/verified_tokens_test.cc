#include "credentials/verified_tokens.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "credentials/jwt.h"
#include "credentials/signing_keys.h"
#include "gtest/gtest.h"

namespace choreo::credentials {
namespace {

constexpr char kIssuer[] = "choreo-users";
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
constexpr absl::Duration kLifetime = absl::Minutes(15);

struct Keys {
  SigningKey signing = SigningKey::Generate();
  TokenIssuer issuer{signing, kIssuer, kLifetime};
};

TEST(VerifiedTokens, AcceptsWhatTheVerifierAcceptsAndRemembersIt) {
  const Keys keys;
  const VerifiedTokens tokens(TokenVerifier(keys.signing.verifying_key(), kIssuer));
  const std::string token = keys.issuer.Issue("alice", {"customer"}, kNow).token;
  for (int call = 0; call < 3; ++call) {
    const absl::StatusOr<TokenClaims> claims = tokens.Verify(token, kNow + absl::Seconds(call));
    ASSERT_TRUE(claims.ok()) << claims.status();
    EXPECT_EQ(claims->subject, "alice");
    ASSERT_EQ(claims->roles.size(), 1u);
    EXPECT_EQ(claims->roles[0], "customer");
  }
}

TEST(VerifiedTokens, ARememberedTokenExpiresOnTime) {
  const Keys keys;
  const TokenVerifier verifier(keys.signing.verifying_key(), kIssuer);
  const VerifiedTokens tokens(verifier);
  const std::string token = keys.issuer.Issue("alice", {}, kNow).token;
  ASSERT_TRUE(tokens.Verify(token, kNow).ok());
  const absl::Time last_valid = kNow + kLifetime + verifier.leeway() - absl::Seconds(1);
  EXPECT_TRUE(tokens.Verify(token, last_valid).ok());
  const absl::StatusOr<TokenClaims> late = tokens.Verify(token, last_valid + absl::Seconds(1));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(late.status().message(), "token expired");
}

TEST(VerifiedTokens, ForgedTokensAreRefusedEveryTimeEvenAfterTheRealOneWasRemembered) {
  const Keys keys;
  const VerifiedTokens tokens(TokenVerifier(keys.signing.verifying_key(), kIssuer));
  const std::string token = keys.issuer.Issue("alice", {}, kNow).token;
  ASSERT_TRUE(tokens.Verify(token, kNow).ok());
  // The same header and payload with another signature: not the remembered text.
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  for (int call = 0; call < 2; ++call) {
    const absl::StatusOr<TokenClaims> claims = tokens.Verify(forged, kNow);
    ASSERT_FALSE(claims.ok());
    EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated);
  }
  // Another key's token for the same user.
  const Keys other;
  EXPECT_FALSE(tokens.Verify(other.issuer.Issue("alice", {}, kNow).token, kNow).ok());
}

TEST(VerifiedTokens, StaysWithinItsCapacity) {
  const Keys keys;
  const VerifiedTokens tokens(TokenVerifier(keys.signing.verifying_key(), kIssuer), 2);
  std::vector<std::string> issued;
  for (int i = 0; i < 5; ++i) {
    issued.push_back(keys.issuer.Issue(absl::StrCat("user-", i), {}, kNow).token);
    ASSERT_TRUE(tokens.Verify(issued.back(), kNow).ok());
  }
  // Forgotten or not, every token still verifies, with its own subject.
  for (int i = 0; i < 5; ++i) {
    const absl::StatusOr<TokenClaims> claims = tokens.Verify(issued[i], kNow);
    ASSERT_TRUE(claims.ok());
    EXPECT_EQ(claims->subject, absl::StrCat("user-", i));
  }
}

}  // namespace
}  // namespace choreo::credentials
