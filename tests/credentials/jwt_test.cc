// EdDSA JWTs: issue/verify round trip, time rules, and the attacks the verifier must refuse.

#include "credentials/jwt.h"

#include <sodium.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::credentials {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kNow = absl::FromUnixSeconds(1795348800);
constexpr absl::Duration kLifetime = absl::Minutes(15);
constexpr char kIssuer[] = "choreo-users";

std::string B64Url(absl::string_view bytes) {
  std::string text(
      sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  text.resize(text.size() - 1);
  return text;
}

std::string FromB64Url(absl::string_view text) {
  std::string bytes(text.size(), '\0');
  size_t size = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(),
                        text.size(), nullptr, &size, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    ADD_FAILURE() << "not base64url: " << text;
  }
  bytes.resize(size);
  return bytes;
}

std::vector<std::string> Segments(absl::string_view token) { return absl::StrSplit(token, '.'); }

// A compact JWS of exactly these JSON texts, signed with `key`.
std::string SignedToken(const SigningKey& key, absl::string_view header,
                        absl::string_view payload) {
  const std::string signing_input = absl::StrCat(B64Url(header), ".", B64Url(payload));
  return absl::StrCat(signing_input, ".", B64Url(key.Sign(signing_input)));
}

std::string Payload(absl::Time iat, absl::Time exp) {
  return absl::StrCat(R"({"iss":"choreo-users","sub":"alice","iat":)", absl::ToUnixSeconds(iat),
                      R"(,"exp":)", absl::ToUnixSeconds(exp), "}");
}

struct Keys {
  SigningKey signing = SigningKey::Generate();
  TokenIssuer issuer{signing, kIssuer, kLifetime};
  TokenVerifier verifier{signing.verifying_key(), kIssuer};
};

// Verify must fail UNAUTHENTICATED with exactly `reason`.
void ExpectRefused(const TokenVerifier& verifier, absl::string_view token, absl::string_view reason,
                   absl::Time now = kNow) {
  const absl::StatusOr<TokenClaims> claims = verifier.Verify(token, now);
  ASSERT_FALSE(claims.ok()) << "accepted: " << token;
  EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated) << token;
  EXPECT_EQ(claims.status().message(), reason) << token;
}

TEST(Jwt, IssueThenVerifyRoundTrip) {
  const Keys keys;
  const absl::Time now = kNow + absl::Milliseconds(700);
  const TokenIssuer::Issued issued = keys.issuer.Issue("alice", {"customer", "admin"}, now);
  EXPECT_EQ(issued.expires_at, kNow + kLifetime);

  const absl::StatusOr<TokenClaims> claims = keys.verifier.Verify(issued.token, now);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "alice");
  EXPECT_THAT(claims->roles, ElementsAre("customer", "admin"));
  EXPECT_EQ(claims->issued_at, kNow);
  EXPECT_EQ(claims->expires_at, kNow + kLifetime);
  EXPECT_EQ(claims->token_id.size(), 32u);
}

TEST(Jwt, TokensHaveTheDocumentedShape) {
  const Keys keys;
  const std::string token = keys.issuer.Issue("alice", {}, kNow).token;
  const std::vector<std::string> segments = Segments(token);
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(FromB64Url(segments[0]), absl::StrCat(R"({"alg":"EdDSA","typ":"JWT","kid":")",
                                                  keys.signing.verifying_key().KeyId(), R"("})"));
  const std::string payload = FromB64Url(segments[1]);
  // NumericDates are JSON integers.
  EXPECT_THAT(payload,
              ::testing::HasSubstr(absl::StrCat(R"("iat":1795348800,"nbf":1795348800,"exp":)",
                                                absl::ToUnixSeconds(kNow + kLifetime), ",")));
  EXPECT_THAT(payload, ::testing::HasSubstr(R"("roles":[])"));
  EXPECT_EQ(FromB64Url(segments[2]).size(), 64u);
  EXPECT_EQ(token.find('='), std::string::npos);
}

TEST(Jwt, EachTokenHasItsOwnId) {
  const Keys keys;
  const absl::StatusOr<TokenClaims> first =
      keys.verifier.Verify(keys.issuer.Issue("alice", {}, kNow).token, kNow);
  const absl::StatusOr<TokenClaims> second =
      keys.verifier.Verify(keys.issuer.Issue("alice", {}, kNow).token, kNow);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->token_id, second->token_id);
  EXPECT_THAT(first->roles, IsEmpty());
}

TEST(Jwt, StringsAreJsonEscaped) {
  const Keys keys;
  const std::string subject = "a\"b\\c\n\x01/d";
  const absl::StatusOr<TokenClaims> claims =
      keys.verifier.Verify(keys.issuer.Issue(subject, {"r\"1"}, kNow).token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, subject);
  EXPECT_THAT(claims->roles, ElementsAre("r\"1"));
}

TEST(Jwt, ExpiryAllowsTheLeewayAndNoMore) {
  const Keys keys;
  const std::string token = keys.issuer.Issue("alice", {}, kNow).token;
  EXPECT_TRUE(keys.verifier.Verify(token, kNow + kLifetime - absl::Seconds(1)).ok());
  EXPECT_TRUE(keys.verifier.Verify(token, kNow + kLifetime + absl::Seconds(29)).ok());
  ExpectRefused(keys.verifier, token, "token expired", kNow + kLifetime + absl::Seconds(30));
  ExpectRefused(keys.verifier, token, "token expired", kNow + absl::Hours(24));

  const TokenVerifier strict(keys.signing.verifying_key(), kIssuer, absl::ZeroDuration());
  ExpectRefused(strict, token, "token expired", kNow + kLifetime);
}

TEST(Jwt, NotValidBeforeItsTimeBeyondTheLeeway) {
  const Keys keys;
  const std::string token = keys.issuer.Issue("alice", {}, kNow).token;
  EXPECT_TRUE(keys.verifier.Verify(token, kNow - absl::Seconds(29)).ok());
  ExpectRefused(keys.verifier, token, "token not yet valid", kNow - absl::Seconds(31));
}

TEST(Jwt, IssuedInTheFutureIsRefused) {
  const Keys keys;
  const std::string token = SignedToken(keys.signing, R"({"alg":"EdDSA"})",
                                        Payload(kNow + absl::Minutes(5), kNow + absl::Hours(1)));
  ExpectRefused(keys.verifier, token, "token issued in the future");
}

TEST(Jwt, ExpiryIsRequiredAndMustBeANumber) {
  const Keys keys;
  ExpectRefused(
      keys.verifier,
      SignedToken(keys.signing, R"({"alg":"EdDSA"})", R"({"iss":"choreo-users","sub":"alice"})"),
      "missing expiry");
  ExpectRefused(keys.verifier,
                SignedToken(keys.signing, R"({"alg":"EdDSA"})",
                            R"({"iss":"choreo-users","sub":"alice","exp":"1900000000"})"),
                "malformed token");
  ExpectRefused(keys.verifier,
                SignedToken(keys.signing, R"({"alg":"EdDSA"})",
                            R"({"iss":"choreo-users","sub":"alice","exp":1e300})"),
                "malformed token");
}

TEST(Jwt, SubjectIsRequired) {
  const Keys keys;
  ExpectRefused(keys.verifier,
                SignedToken(keys.signing, R"({"alg":"EdDSA"})",
                            R"({"iss":"choreo-users","sub":"","exp":1900000000})"),
                "missing subject");
}

TEST(Jwt, RolesMustBeAnArrayOfStrings) {
  const Keys keys;
  ExpectRefused(keys.verifier,
                SignedToken(keys.signing, R"({"alg":"EdDSA"})",
                            R"({"iss":"choreo-users","sub":"a","exp":1900000000,"roles":"admin"})"),
                "malformed token");
  ExpectRefused(keys.verifier,
                SignedToken(keys.signing, R"({"alg":"EdDSA"})",
                            R"({"iss":"choreo-users","sub":"a","exp":1900000000,"roles":[1]})"),
                "malformed token");
}

TEST(Jwt, WrongIssuerIsRefused) {
  const Keys keys;
  const TokenIssuer other_issuer(keys.signing, "someone-else", kLifetime);
  ExpectRefused(keys.verifier, other_issuer.Issue("alice", {}, kNow).token, "wrong issuer");
}

TEST(Jwt, AudienceIsRefused) {
  const Keys keys;
  ExpectRefused(keys.verifier,
                SignedToken(keys.signing, R"({"alg":"EdDSA"})",
                            R"({"iss":"choreo-users","sub":"a","exp":1900000000,"aud":"x"})"),
                "wrong audience");
}

TEST(Jwt, TokenOfAnotherKeyIsRefused) {
  const Keys keys;
  const SigningKey other = SigningKey::Generate();
  // With its own "kid" it is refused for the kid; without one, for the signature.
  ExpectRefused(keys.verifier, TokenIssuer(other, kIssuer, kLifetime).Issue("a", {}, kNow).token,
                "unknown signing key");
  ExpectRefused(keys.verifier,
                SignedToken(other, R"({"alg":"EdDSA"})", Payload(kNow, kNow + kLifetime)),
                "bad signature");
  // A header naming our kid does not help either.
  ExpectRefused(keys.verifier,
                SignedToken(other,
                            absl::StrCat(R"({"alg":"EdDSA","kid":")",
                                         keys.signing.verifying_key().KeyId(), R"("})"),
                            Payload(kNow, kNow + kLifetime)),
                "bad signature");
}

TEST(Jwt, WrongKidIsRefused) {
  const Keys keys;
  ExpectRefused(keys.verifier,
                SignedToken(keys.signing, R"({"alg":"EdDSA","kid":"not-our-key"})",
                            Payload(kNow, kNow + kLifetime)),
                "unknown signing key");
  ExpectRefused(
      keys.verifier,
      SignedToken(keys.signing, R"({"alg":"EdDSA","kid":7})", Payload(kNow, kNow + kLifetime)),
      "unknown signing key");
}

TEST(Jwt, TamperedPayloadIsRefused) {
  const Keys keys;
  const std::vector<std::string> segments =
      Segments(keys.issuer.Issue("alice", {"customer"}, kNow).token);
  ASSERT_EQ(segments.size(), 3u);
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"alice\"", "\"admin\""}, {"\"customer\"", "\"admin\""}, {"\"exp\":1", "\"exp\":2"}}) {
    const std::string payload = FromB64Url(segments[1]);
    const std::string tampered = absl::StrReplaceAll(payload, {{from, to}});
    ASSERT_NE(tampered, payload);
    ExpectRefused(keys.verifier, absl::StrCat(segments[0], ".", B64Url(tampered), ".", segments[2]),
                  "bad signature");
  }
  // A signature of the right length that is not a signature.
  ExpectRefused(keys.verifier,
                absl::StrCat(segments[0], ".", segments[1], ".", B64Url(std::string(64, '\0'))),
                "bad signature");
  ExpectRefused(keys.verifier,
                absl::StrCat(segments[0], ".", segments[1], ".", B64Url(std::string(63, 'x'))),
                "bad signature");
}

TEST(Jwt, AlgNoneIsRefused) {
  const Keys keys;
  const std::string unsigned_input = absl::StrCat(B64Url(R"({"alg":"none","typ":"JWT"})"), ".",
                                                  B64Url(Payload(kNow, kNow + kLifetime)));
  // The RFC 7519 "unsecured JWT" form: an empty third segment.
  ExpectRefused(keys.verifier, unsigned_input + ".", "malformed token");
  ExpectRefused(keys.verifier, unsigned_input, "malformed token");
  // With something in the signature segment the header is read, and refused.
  ExpectRefused(keys.verifier, unsigned_input + ".AAAA", "algorithm not allowed");
  for (const char* alg : {"None", "NONE", "eddsa", "Ed25519", "RS256", "ES256", ""}) {
    ExpectRefused(keys.verifier,
                  SignedToken(keys.signing, absl::StrCat(R"({"alg":")", alg, R"("})"),
                              Payload(kNow, kNow + kLifetime)),
                  "algorithm not allowed");
  }
  ExpectRefused(keys.verifier,
                SignedToken(keys.signing, R"({"typ":"JWT"})", Payload(kNow, kNow + kLifetime)),
                "algorithm not allowed");
  ExpectRefused(keys.verifier,
                SignedToken(keys.signing, R"({"alg":["EdDSA"]})", Payload(kNow, kNow + kLifetime)),
                "algorithm not allowed");
}

TEST(Jwt, Hs256KeyedWithThePublicKeyIsRefused) {
  const Keys keys;
  const std::string public_pem = keys.signing.verifying_key().PublicPem();
  const std::string signing_input = absl::StrCat(B64Url(R"({"alg":"HS256","typ":"JWT"})"), ".",
                                                 B64Url(Payload(kNow, kNow + kLifetime)));
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(public_pem.data()),
                              public_pem.size());
  crypto_auth_hmacsha256_update(
      &state, reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
  ExpectRefused(keys.verifier, absl::StrCat(signing_input, ".", B64Url(mac)),
                "algorithm not allowed");
}

TEST(Jwt, CriticalHeaderIsRefused) {
  const Keys keys;
  ExpectRefused(keys.verifier,
                SignedToken(keys.signing, R"({"alg":"EdDSA","crit":["exp"],"exp":1})",
                            Payload(kNow, kNow + kLifetime)),
                "unsupported critical header");
}

TEST(Jwt, MalformedTokensAreRefusedWithoutCrashing) {
  const Keys keys;
  const std::string good = keys.issuer.Issue("alice", {}, kNow).token;
  const std::vector<std::string> segments = Segments(good);
  const std::string payload = B64Url(Payload(kNow, kNow + kLifetime));
  const std::vector<std::string> malformed = {
      "",
      ".",
      "..",
      "...",
      "a.b",
      absl::StrCat(segments[0], ".", segments[1]),
      absl::StrCat(good, ".", segments[2]),
      absl::StrCat(good, "."),
      absl::StrCat(".", segments[1], ".", segments[2]),
      absl::StrCat(segments[0], "..", segments[2]),
      absl::StrCat(segments[0], "=.", segments[1], ".", segments[2]),
      absl::StrCat(good, "="),
      absl::StrCat(good, "=="),
      absl::StrCat(segments[0], ".", segments[1], "*.", segments[2]),
      absl::StrCat(segments[0], " .", segments[1], ".", segments[2]),
      absl::StrReplaceAll(good, {{"-", "+"}, {"_", "/"}}) + "+/",
      absl::StrCat(B64Url("not json"), ".", payload, ".", segments[2]),
      absl::StrCat(B64Url("[\"alg\",\"EdDSA\"]"), ".", payload, ".", segments[2]),
      absl::StrCat(B64Url("\"EdDSA\""), ".", payload, ".", segments[2]),
      absl::StrCat(B64Url("{\"alg\":\"EdDSA\""), ".", payload, ".", segments[2]),
      absl::StrCat(B64Url(std::string(1, '\0')), ".", payload, ".", segments[2]),
      absl::StrCat(B64Url(std::string(200, '[')), ".", payload, ".", segments[2]),
      std::string(10000, 'A'),
      "\xff\xfe.\x80.\x00",
  };
  for (const std::string& token : malformed) {
    ExpectRefused(keys.verifier, token, "malformed token");
  }
  // Non-canonical base64url (stray low bits in the last character) is refused too.
  std::string non_canonical = good;
  non_canonical.back() = non_canonical.back() == 'A' ? 'B' : 'A';
  const absl::StatusOr<TokenClaims> claims = keys.verifier.Verify(non_canonical, kNow);
  EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(Jwt, SignedButUnparsablePayloadIsMalformed) {
  const Keys keys;
  ExpectRefused(keys.verifier, SignedToken(keys.signing, R"({"alg":"EdDSA"})", "not json"),
                "malformed token");
  ExpectRefused(keys.verifier, SignedToken(keys.signing, R"({"alg":"EdDSA"})", "[]"),
                "malformed token");
}

}  // namespace
}  // namespace choreo::credentials
