#pragma once

// The values every part of the Redis client passes around: a reply, and a server's address.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace choreo::redis {

struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisReply> elements;

  bool is_error() const { return type == Type::kError; }
};

// OK, or UNAVAILABLE "<what>: <message>" for the first error reply among `replies`: for callers
// whose round trip fails as a whole when Redis refuses any of its commands.
absl::Status NoErrorReply(const std::vector<RedisReply>& replies, absl::string_view what);

struct RedisAddress {
  std::string host;
  int port = 0;

  std::string ToString() const;  // "host:port"
  friend bool operator==(const RedisAddress&, const RedisAddress&) = default;
};
// "host:port" -> RedisAddress; INVALID_ARGUMENT naming the problem.
absl::StatusOr<RedisAddress> ParseRedisAddress(absl::string_view address);
// "host:port[,host:port...]": one Redis, or seed nodes of a Redis Cluster; INVALID_ARGUMENT
// naming the first bad one, or for none.
absl::StatusOr<std::vector<RedisAddress>> ParseRedisAddresses(absl::string_view addresses);

}  // namespace choreo::redis
