#pragma once

// RedisPool: a few RedisConnections shared by many threads; each call takes the next one in
// turn (round robin) and holds it for one round trip. For request-serving code (the gateway)
// whose calls are short; the saga runtime gives each worker its own connection instead.
// Thread-safe.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "edges/redis/redis_connection.h"

namespace choreo::redis {

class RedisPool {
 public:
  RedisPool(RedisConnection::Options options, int connections);

  // Runs `commands` pipelined on one connection. A Redis error reply to any of them is
  // UNAVAILABLE naming it (these are commands that do not fail on good input).
  absl::StatusOr<std::vector<RedisReply>> Run(const std::vector<std::vector<std::string>>& commands);

  // Runs a Lua script (RedisConnection::Eval) on one connection; an error reply is UNAVAILABLE.
  absl::StatusOr<RedisReply> Eval(const std::string& script, const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args);
  // Runs a Lua script once per call, pipelined on one connection (RedisConnection::EvalMany);
  // an error reply to any of them is UNAVAILABLE.
  absl::StatusOr<std::vector<RedisReply>> EvalMany(
      const std::string& script, const std::vector<RedisConnection::ScriptCall>& calls);
  // The same, but each reply as Redis gave it, error replies included: for callers that answer
  // each call on its own. An error is returned only when the round trip itself failed.
  absl::StatusOr<std::vector<RedisReply>> EvalEach(
      const std::string& script, const std::vector<RedisConnection::ScriptCall>& calls);

 private:
  struct Slot {
    absl::Mutex mu;
    std::unique_ptr<RedisConnection> connection ABSL_GUARDED_BY(mu);
  };
  Slot& Next();

  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<size_t> next_{0};
};

}  // namespace choreo::redis
