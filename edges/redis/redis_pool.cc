#include "edges/redis/redis_pool.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace choreo::redis {

RedisPool::RedisPool(RedisConnection::Options options, int connections) {
  for (int i = 0; i < std::max(1, connections); ++i) {
    auto slot = std::make_unique<Slot>();
    absl::MutexLock lock(&slot->mu);
    slot->connection = std::make_unique<RedisConnection>(options);
    slots_.push_back(std::move(slot));
  }
}

RedisPool::Slot& RedisPool::Next() {
  return *slots_[next_.fetch_add(1, std::memory_order_relaxed) % slots_.size()];
}

absl::StatusOr<RedisReply> RedisPool::Eval(const std::string& script,
                                           const std::vector<std::string>& keys,
                                           const std::vector<std::string>& args) {
  absl::StatusOr<std::vector<RedisReply>> replies = EvalMany(script, {{keys, args}});
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

absl::StatusOr<std::vector<RedisReply>> RedisPool::EvalEach(
    const std::string& script, const std::vector<RedisConnection::ScriptCall>& calls) {
  Slot& slot = Next();
  absl::MutexLock lock(&slot.mu);
  return slot.connection->EvalMany(script, calls);
}

absl::StatusOr<std::vector<RedisReply>> RedisPool::EvalMany(
    const std::string& script, const std::vector<RedisConnection::ScriptCall>& calls) {
  absl::StatusOr<std::vector<RedisReply>> replies = EvalEach(script, calls);
  if (!replies.ok()) return replies.status();
  if (absl::Status refused = NoErrorReply(*replies, "redis"); !refused.ok()) return refused;
  return replies;
}

absl::StatusOr<std::vector<RedisReply>> RedisPool::Run(
    const std::vector<std::vector<std::string>>& commands) {
  Slot& slot = Next();
  absl::MutexLock lock(&slot.mu);
  absl::StatusOr<std::vector<RedisReply>> replies = slot.connection->Pipeline(commands);
  if (!replies.ok()) return replies.status();
  if (absl::Status refused = NoErrorReply(*replies, "redis"); !refused.ok()) return refused;
  return replies;
}

}  // namespace choreo::redis
