#include "transcoding/core/http_headers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace choreo::transcoding {
namespace {

constexpr absl::string_view kMetadataPrefix = "grpc-metadata-";

bool ValidKey(absl::string_view key) {
  if (key.empty()) return false;
  for (const char c : key) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool PrintableAscii(absl::string_view value) {
  for (const char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<Metadata> MetadataFromHeaders(const Metadata& headers) {
  Metadata metadata;
  for (const auto& [name, value] : headers) {
    std::string key;
    if (name == "authorization" || name == "x-request-id" || name == "traceparent" ||
        name == "tracestate") {
      key = name;
    } else if (absl::StartsWith(name, kMetadataPrefix)) {
      key = absl::AsciiStrToLower(name.substr(kMetadataPrefix.size()));
      if (!ValidKey(key) || absl::StartsWith(key, "grpc-")) {
        return absl::InvalidArgumentError(absl::StrCat("header ", name, ": not a valid metadata key"));
      }
    } else {
      continue;
    }
    if (absl::EndsWith(key, "-bin")) {
      std::string decoded;
      if (!absl::Base64Unescape(value, &decoded)) {
        return absl::InvalidArgumentError(absl::StrCat("header ", name, ": not base64"));
      }
      metadata.emplace_back(std::move(key), std::move(decoded));
    } else {
      if (!PrintableAscii(value)) {
        return absl::InvalidArgumentError(absl::StrCat("header ", name, ": not printable ASCII"));
      }
      metadata.emplace_back(std::move(key), value);
    }
  }
  return metadata;
}

Metadata HeadersFromMetadata(const Metadata& metadata, absl::string_view prefix) {
  Metadata headers;
  for (const auto& [key, value] : metadata) {
    if (absl::StartsWith(key, "grpc-") || key == "content-type") continue;
    headers.emplace_back(absl::StrCat(prefix, key),
                         absl::EndsWith(key, "-bin") ? absl::Base64Escape(value) : value);
  }
  return headers;
}

absl::StatusOr<absl::Duration> ParseGrpcTimeout(absl::string_view value) {
  const auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "Grpc-Timeout \"", value, "\" is not 1-8 digits and a unit (H, M, S, m, u, n)"));
  };
  if (value.size() < 2 || value.size() > 9) return invalid();
  int64_t amount;
  const absl::string_view digits = value.substr(0, value.size() - 1);
  for (const char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return invalid();
  }
  if (!absl::SimpleAtoi(digits, &amount)) return invalid();
  switch (value.back()) {
    case 'H': return absl::Hours(amount);
    case 'M': return absl::Minutes(amount);
    case 'S': return absl::Seconds(amount);
    case 'm': return absl::Milliseconds(amount);
    case 'u': return absl::Microseconds(amount);
    case 'n': return absl::Nanoseconds(amount);
    default: return invalid();
  }
}

}  // namespace choreo::transcoding
