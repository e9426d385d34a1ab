#include "edges/redis/node_link.h"

#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"
#include "edges/redis/redis_connection.h"

namespace choreo::redis {
namespace {

RedisReply Convert(const redisReply* reply) {
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < reply->elements; ++i)
        out.elements.push_back(Convert(reply->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

void AppendArgv(redisContext* context, const std::vector<std::string>& argv) {
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
  pointers.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const std::string& arg : argv) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context, static_cast<int>(argv.size()), pointers.data(), lengths.data());
}

}  // namespace

NodeLink::NodeLink(RedisAddress address, absl::Duration connect_timeout,
                   absl::Duration command_timeout)
    : address_(std::move(address)),
      connect_timeout_(connect_timeout),
      command_timeout_(command_timeout) {}

NodeLink::~NodeLink() { Drop(); }

void NodeLink::Drop() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

absl::Status NodeLink::Failed(absl::string_view error) {
  std::string message(error);  // it may be the context's, freed by Drop
  Drop();
  return absl::UnavailableError(absl::StrCat("redis ", address_.ToString(), ": ", message));
}

absl::Status NodeLink::EnsureConnected() {
  if (context_ != nullptr) return absl::OkStatus();
  context_ = redisConnectWithTimeout(address_.host.c_str(), address_.port,
                                     absl::ToTimeval(connect_timeout_));
  if (context_ == nullptr || context_->err != 0) {
    return Failed(context_ != nullptr ? context_->errstr : "out of memory");
  }
  redisSetTimeout(context_, absl::ToTimeval(command_timeout_));
  return LogIn();
}

absl::Status NodeLink::LogIn() {
  const std::shared_ptr<const RedisLogin> login = ProcessLogin();
  if (login == nullptr || login->user.empty()) return absl::OkStatus();
  auto* reply = static_cast<redisReply*>(
      redisCommand(context_, "AUTH %s %s", login->user.c_str(), login->password.c_str()));
  if (reply == nullptr) return Failed(context_->errstr);
  const bool refused = reply->type == REDIS_REPLY_ERROR;
  const std::string message = refused ? std::string(reply->str, reply->len) : "";
  freeReplyObject(reply);
  if (!refused) return absl::OkStatus();
  Drop();
  // UNAVAILABLE, as any failure to reach Redis: the caller retries (a server at its client
  // limit, a password mid-rotation), and readiness reports it; nothing is dead-lettered for it.
  return absl::UnavailableError(
      absl::StrCat("redis refused the login as '", login->user, "': ", message));
}

absl::Status NodeLink::Send(const std::vector<const std::vector<std::string>*>& commands) {
  if (absl::Status connected = EnsureConnected(); !connected.ok()) return connected;
  for (const std::vector<std::string>* argv : commands) AppendArgv(context_, *argv);
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(context_, &done) != REDIS_OK) return Failed(context_->errstr);
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisReply> NodeLink::Receive() {
  if (context_ == nullptr) return Failed("not connected");
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
    return Failed(context_->errstr);
  }
  auto* reply = static_cast<redisReply*>(raw);
  RedisReply converted = Convert(reply);
  freeReplyObject(reply);
  return converted;
}

}  // namespace choreo::redis
