#pragma once

// NodeLink: one hiredis connection to one Redis server, connected on demand, logged in as the
// process (SetProcessLogin), with timeouts. Commands are sent and their replies received
// separately, so a caller can send to several servers before it waits for any. Any failure to
// connect, send or receive drops the connection and is UNAVAILABLE naming the server; the next
// Send connects again. Not thread-safe; RedisConnection owns one per server it talks to.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "edges/redis/redis_reply.h"

struct redisContext;

namespace choreo::redis {

class NodeLink {
 public:
  NodeLink(RedisAddress address, absl::Duration connect_timeout, absl::Duration command_timeout);
  ~NodeLink();
  NodeLink(const NodeLink&) = delete;
  NodeLink& operator=(const NodeLink&) = delete;

  // Writes every command to the server (connecting first if needed).
  absl::Status Send(const std::vector<const std::vector<std::string>*>& commands);
  // The next reply to what was sent.
  absl::StatusOr<RedisReply> Receive();
  // Closes the connection (replies not yet received are lost).
  void Drop();

  const RedisAddress& address() const { return address_; }

 private:
  absl::Status EnsureConnected();
  absl::Status LogIn();
  absl::Status Failed(absl::string_view error);  // drops; UNAVAILABLE naming the server

  const RedisAddress address_;
  const absl::Duration connect_timeout_;
  const absl::Duration command_timeout_;
  redisContext* context_ = nullptr;
};

}  // namespace choreo::redis
