#pragma once

// RedisConnection: one hiredis connection with timeouts and reconnect-on-demand, errors as
// absl::Status. A failed connect or I/O error drops the connection and returns UNAVAILABLE; the
// next call connects again. A Redis error reply is returned as a RedisReply of type kError (the
// command ran; the caller decides), never as a failed status.
//
// Not thread-safe: one connection per thread (the saga runtime gives each worker its own).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct redisContext;

namespace choreo::redis {

struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisReply> elements;

  bool is_error() const { return type == Type::kError; }
};

struct RedisAddress {
  std::string host;
  int port = 0;
};
// "host:port" -> RedisAddress; INVALID_ARGUMENT naming the problem.
absl::StatusOr<RedisAddress> ParseRedisAddress(absl::string_view address);

// Who every connection of the process logs in as (a Redis ACL user): AUTH right after each
// connect, and a refused login fails the call that connected (UNAVAILABLE, naming the user and
// Redis's reason; the connection is dropped and the next call tries again). Set once at start-up,
// before connections are used. Empty user: no AUTH (the server's default user).
struct RedisLogin {
  std::string user;
  std::string password;
};
void SetProcessLogin(RedisLogin login);

// A password file's password: its first line, trimmed. FAILED_PRECONDITION naming the file if it
// cannot be read or holds none.
absl::StatusOr<std::string> ReadPasswordFile(const std::string& path);

// Called after every round trip of every connection in the process with the command's name
// (lowercase; "pipeline" for several) and the time it took, failures included. Set once at
// start-up, before connections are used (metrics); must be thread-safe and must not block.
using RoundTripObserver = std::function<void(absl::string_view command, absl::Duration took)>;
void SetRoundTripObserver(RoundTripObserver observer);

class RedisConnection {
 public:
  struct Options {
    RedisAddress address;
    absl::Duration connect_timeout = absl::Seconds(1);
    absl::Duration command_timeout = absl::Seconds(2);
  };

  explicit RedisConnection(Options options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // One command. UNAVAILABLE when Redis cannot be reached or the connection broke.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv);

  // Several commands in one round trip; one reply per command, in order.
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // Runs a Lua script by its SHA1 (EVALSHA); SCRIPT LOADs it first on this connection and again
  // on NOSCRIPT (after a Redis restart).
  absl::StatusOr<RedisReply> Eval(const std::string& script, const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args);

  // Runs `script` once per call, all in one round trip; one reply per call, in order. Calls
  // answered NOSCRIPT (the server lost its script cache) are run again once, after SCRIPT LOAD;
  // the others ran exactly once.
  struct ScriptCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  absl::StatusOr<std::vector<RedisReply>> EvalMany(const std::string& script,
                                                   const std::vector<ScriptCall>& calls);

 private:
  absl::StatusOr<std::vector<RedisReply>> RoundTrip(
      const std::vector<std::vector<std::string>>& commands);
  absl::Status EnsureConnected();
  // AUTH as the process's login (SetProcessLogin), if it has one; drops the connection if refused.
  absl::Status LogIn();
  // The SHA1 of `script`, loaded on this connection (SCRIPT LOAD on first use).
  absl::StatusOr<std::string> ScriptSha(const std::string& script);
  void Drop();

  Options options_;
  redisContext* context_ = nullptr;
  absl::flat_hash_map<std::string, std::string> script_shas_;  // script text -> SHA1
};

}  // namespace choreo::redis
