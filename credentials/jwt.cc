#include "credentials/jwt.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <sodium.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "credentials/internal/sodium.h"

namespace choreo::credentials {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using internal::Base64Variant;

constexpr absl::string_view kAlgorithm = "EdDSA";
// Far above any token this service issues; bounds the work an attacker can cause.
constexpr size_t kMaxTokenBytes = 8 * 1024;
// NumericDates beyond +-10^11 s (year ~5000) are nonsense and would overflow absl::Time maths.
constexpr double kMaxNumericDate = 1e11;

// Reasons given to clients.
constexpr absl::string_view kMalformed = "malformed token";

std::string Base64Url(absl::string_view bytes) {
  return internal::Base64Encode(bytes, Base64Variant::kUrlNoPadding);
}

// `text` as a JSON string literal (RFC 8259 section 7). `text` is expected to be UTF-8.
std::string JsonString(absl::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string json = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      json += '\\';
      json += c;
    } else if (byte < 0x20) {
      json += "\\u00";
      json += kHex[byte >> 4];
      json += kHex[byte & 0xf];
    } else {
      json += c;
    }
  }
  json += '"';
  return json;
}

std::string JsonStringArray(const std::vector<std::string>& items) {
  std::string json = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) json += ',';
    json += JsonString(items[i]);
  }
  json += ']';
  return json;
}

std::optional<Struct> ParseJsonObject(absl::string_view json) {
  Struct object;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(json.data(), json.size()), &object)
           .ok()) {
    return std::nullopt;
  }
  return object;
}

const Value* FindMember(const Struct& object, const std::string& name) {
  const auto it = object.fields().find(name);
  return it == object.fields().end() ? nullptr : &it->second;
}

bool IsString(const Value* value) {
  return value != nullptr && value->kind_case() == Value::kStringValue;
}

std::optional<absl::Time> NumericDate(const Value& value) {
  if (value.kind_case() != Value::kNumberValue) return std::nullopt;
  const double seconds = value.number_value();
  if (!std::isfinite(seconds) || std::abs(seconds) > kMaxNumericDate) return std::nullopt;
  return absl::UnixEpoch() + absl::Seconds(seconds);
}

absl::Status Refuse(absl::string_view reason) { return absl::UnauthenticatedError(reason); }

// Checks the registered claims of a payload whose signature is valid.
absl::StatusOr<TokenClaims> ClaimsAt(const Struct& payload, absl::string_view issuer,
                                     absl::Duration leeway, absl::Time now) {
  const Value* iss = FindMember(payload, "iss");
  if (!IsString(iss) || iss->string_value() != issuer) return Refuse("wrong issuer");
  // This verifier is no audience in particular, so RFC 7519 section 4.1.3 says: refuse.
  if (FindMember(payload, "aud") != nullptr) return Refuse("wrong audience");

  TokenClaims claims;
  const Value* sub = FindMember(payload, "sub");
  if (!IsString(sub) || sub->string_value().empty()) return Refuse("missing subject");
  claims.subject = sub->string_value();

  const Value* exp = FindMember(payload, "exp");
  if (exp == nullptr) return Refuse("missing expiry");
  const std::optional<absl::Time> expires_at = NumericDate(*exp);
  if (!expires_at.has_value()) return Refuse(kMalformed);
  if (now >= *expires_at + leeway) return Refuse("token expired");
  claims.expires_at = *expires_at;

  if (const Value* nbf = FindMember(payload, "nbf"); nbf != nullptr) {
    const std::optional<absl::Time> not_before = NumericDate(*nbf);
    if (!not_before.has_value()) return Refuse(kMalformed);
    if (now < *not_before - leeway) return Refuse("token not yet valid");
  }

  claims.issued_at = absl::InfinitePast();
  if (const Value* iat = FindMember(payload, "iat"); iat != nullptr) {
    const std::optional<absl::Time> issued_at = NumericDate(*iat);
    if (!issued_at.has_value()) return Refuse(kMalformed);
    if (*issued_at > now + leeway) return Refuse("token issued in the future");
    claims.issued_at = *issued_at;
  }

  if (const Value* jti = FindMember(payload, "jti"); jti != nullptr) {
    if (!IsString(jti)) return Refuse(kMalformed);
    claims.token_id = jti->string_value();
  }

  if (const Value* roles = FindMember(payload, "roles"); roles != nullptr) {
    if (roles->kind_case() != Value::kListValue) return Refuse(kMalformed);
    for (const Value& role : roles->list_value().values()) {
      if (role.kind_case() != Value::kStringValue) return Refuse(kMalformed);
      claims.roles.push_back(role.string_value());
    }
  }
  return claims;
}

}  // namespace

TokenIssuer::TokenIssuer(SigningKey key, std::string issuer, absl::Duration lifetime)
    : key_(std::move(key)),
      issuer_(std::move(issuer)),
      lifetime_(lifetime),
      key_id_(key_.verifying_key().KeyId()) {}

TokenIssuer::Issued TokenIssuer::Issue(absl::string_view subject, std::vector<std::string> roles,
                                       absl::Time now) const {
  internal::EnsureSodiumInitialized();
  const int64_t issued_at = absl::ToUnixSeconds(now);
  const int64_t expires_at = absl::ToUnixSeconds(absl::FromUnixSeconds(issued_at) + lifetime_);
  unsigned char token_id[16];
  randombytes_buf(token_id, sizeof token_id);
  char token_id_hex[2 * sizeof token_id + 1];
  sodium_bin2hex(token_id_hex, sizeof token_id_hex, token_id, sizeof token_id);

  const std::string header = absl::StrCat(R"({"alg":)", JsonString(kAlgorithm),
                                          R"(,"typ":"JWT","kid":)", JsonString(key_id_), "}");
  // NumericDates are written as JSON integers.
  const std::string payload = absl::StrCat(
      R"({"iss":)", JsonString(issuer_), R"(,"sub":)", JsonString(subject), R"(,"iat":)", issued_at,
      R"(,"nbf":)", issued_at, R"(,"exp":)", expires_at, R"(,"jti":)", JsonString(token_id_hex),
      R"(,"roles":)", JsonStringArray(roles), "}");
  const std::string signing_input = absl::StrCat(Base64Url(header), ".", Base64Url(payload));
  return Issued{
      .token = absl::StrCat(signing_input, ".", Base64Url(key_.Sign(signing_input))),
      .expires_at = absl::FromUnixSeconds(expires_at),
  };
}

TokenVerifier::TokenVerifier(VerifyingKey key, std::string issuer, absl::Duration leeway)
    : key_(std::move(key)), issuer_(std::move(issuer)), leeway_(leeway), key_id_(key_.KeyId()) {}

absl::StatusOr<TokenClaims> TokenVerifier::Verify(absl::string_view token, absl::Time now) const {
  if (token.size() > kMaxTokenBytes) return Refuse(kMalformed);
  const std::vector<absl::string_view> segments = absl::StrSplit(token, '.');
  if (segments.size() != 3) return Refuse(kMalformed);
  std::optional<std::string> decoded[3];
  for (size_t i = 0; i < 3; ++i) {
    if (segments[i].empty()) return Refuse(kMalformed);
    decoded[i] = internal::Base64Decode(segments[i], Base64Variant::kUrlNoPadding);
    if (!decoded[i].has_value()) return Refuse(kMalformed);
  }
  const std::string& header_json = *decoded[0];
  const std::string& payload_json = *decoded[1];
  const std::string& signature = *decoded[2];

  // The header decides nothing but whether to go on: the algorithm is pinned to EdDSA with
  // key_, so no header can choose "none", an HMAC keyed with public bytes, or another key.
  const std::optional<Struct> header = ParseJsonObject(header_json);
  if (!header.has_value()) return Refuse(kMalformed);
  const Value* alg = FindMember(*header, "alg");
  if (!IsString(alg) || alg->string_value() != kAlgorithm) {
    return Refuse("algorithm not allowed");
  }
  // RFC 7515 section 4.1.11: extensions we do not implement must not be ignored.
  if (FindMember(*header, "crit") != nullptr) return Refuse("unsupported critical header");
  if (const Value* kid = FindMember(*header, "kid");
      kid != nullptr && (!IsString(kid) || kid->string_value() != key_id_)) {
    return Refuse("unknown signing key");
  }

  const absl::string_view signing_input =
      token.substr(0, segments[0].size() + 1 + segments[1].size());
  if (!key_.Verify(signing_input, signature)) return Refuse("bad signature");

  // Only signed payloads are parsed.
  const std::optional<Struct> payload = ParseJsonObject(payload_json);
  if (!payload.has_value()) return Refuse(kMalformed);
  return ClaimsAt(*payload, issuer_, leeway_, now);
}

}  // namespace choreo::credentials
