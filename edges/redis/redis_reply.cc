#include "edges/redis/redis_reply.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace choreo::redis {

absl::Status NoErrorReply(const std::vector<RedisReply>& replies, absl::string_view what) {
  for (const RedisReply& reply : replies) {
    if (reply.is_error()) return absl::UnavailableError(absl::StrCat(what, ": ", reply.str));
  }
  return absl::OkStatus();
}

std::string RedisAddress::ToString() const { return absl::StrCat(host, ":", port); }

absl::StatusOr<RedisAddress> ParseRedisAddress(absl::string_view address) {
  const size_t colon = address.rfind(':');
  RedisAddress out;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &out.port) || out.port <= 0 ||
      out.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address '", address, "' is not host:port"));
  }
  out.host = std::string(address.substr(0, colon));
  return out;
}

absl::StatusOr<std::vector<RedisAddress>> ParseRedisAddresses(absl::string_view addresses) {
  std::vector<RedisAddress> out;
  for (absl::string_view one : absl::StrSplit(addresses, ',')) {
    absl::StatusOr<RedisAddress> parsed = ParseRedisAddress(absl::StripAsciiWhitespace(one));
    if (!parsed.ok()) return parsed.status();
    out.push_back(*std::move(parsed));
  }
  return out;
}

}  // namespace choreo::redis
