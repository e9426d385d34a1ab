#include "edges/redis/redis_connection.h"

#include <hiredis/hiredis.h>

#include <atomic>
#include <fstream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

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
      for (size_t i = 0; i < reply->elements; ++i) out.elements.push_back(Convert(reply->element[i]));
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

// Read at every connect; set once at start-up.
std::atomic<std::shared_ptr<const RedisLogin>>& ProcessLogin() {
  static auto* login = new std::atomic<std::shared_ptr<const RedisLogin>>();
  return *login;
}

void SetProcessLogin(RedisLogin login) {
  ProcessLogin().store(std::make_shared<const RedisLogin>(std::move(login)));
}

absl::StatusOr<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  if (!file || !std::getline(file, line) || absl::StripAsciiWhitespace(line).empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("password file ", path, " cannot be read or is empty"));
  }
  return std::string(absl::StripAsciiWhitespace(line));
}

RedisConnection::RedisConnection(Options options) : options_(std::move(options)) {}

RedisConnection::~RedisConnection() { Drop(); }

void RedisConnection::Drop() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

absl::Status RedisConnection::EnsureConnected() {
  if (context_ != nullptr) return absl::OkStatus();
  const timeval connect_timeout = absl::ToTimeval(options_.connect_timeout);
  context_ = redisConnectWithTimeout(options_.address.host.c_str(), options_.address.port,
                                     connect_timeout);
  if (context_ == nullptr || context_->err != 0) {
    std::string error = context_ != nullptr ? context_->errstr : "out of memory";
    Drop();
    return absl::UnavailableError(absl::StrCat("redis ", options_.address.host, ":",
                                               options_.address.port, ": ", error));
  }
  redisSetTimeout(context_, absl::ToTimeval(options_.command_timeout));
  return LogIn();
}

absl::Status RedisConnection::LogIn() {
  const std::shared_ptr<const RedisLogin> login = ProcessLogin().load();
  if (login == nullptr || login->user.empty()) return absl::OkStatus();
  auto* reply = static_cast<redisReply*>(
      redisCommand(context_, "AUTH %s %s", login->user.c_str(), login->password.c_str()));
  if (reply == nullptr) {
    std::string error = context_->errstr;
    Drop();
    return absl::UnavailableError(
        absl::StrCat("redis ", options_.address.host, ":", options_.address.port, ": ", error));
  }
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

// Read on every round trip of every thread, replaced rarely: an atomic shared_ptr, so a round
// trip in flight keeps the observer it loaded.
std::atomic<std::shared_ptr<const RoundTripObserver>>& ProcessObserver() {
  static auto* observer = new std::atomic<std::shared_ptr<const RoundTripObserver>>();
  return *observer;
}

void SetRoundTripObserver(RoundTripObserver observer) {
  ProcessObserver().store(
      observer ? std::make_shared<const RoundTripObserver>(std::move(observer)) : nullptr);
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  const std::shared_ptr<const RoundTripObserver> observer = ProcessObserver().load();
  if (observer == nullptr) return RoundTrip(commands);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<RedisReply>> replies = RoundTrip(commands);
  const std::string name = commands.size() == 1 && !commands[0].empty()
                               ? absl::AsciiStrToLower(commands[0][0])
                               : std::string("pipeline");
  (*observer)(name, absl::Now() - start);
  return replies;
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::RoundTrip(
    const std::vector<std::vector<std::string>>& commands) {
  if (absl::Status connected = EnsureConnected(); !connected.ok()) return connected;
  for (const auto& argv : commands) AppendArgv(context_, argv);
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      std::string error = context_->errstr;
      Drop();
      return absl::UnavailableError(absl::StrCat("redis ", options_.address.host, ":",
                                                 options_.address.port, ": ", error));
    }
    auto* reply = static_cast<redisReply*>(raw);
    replies.push_back(Convert(reply));
    freeReplyObject(reply);
  }
  return replies;
}

absl::StatusOr<RedisReply> RedisConnection::Command(const std::vector<std::string>& argv) {
  absl::StatusOr<std::vector<RedisReply>> replies = Pipeline({argv});
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

absl::StatusOr<std::string> RedisConnection::ScriptSha(const std::string& script) {
  if (auto sha = script_shas_.find(script); sha != script_shas_.end()) return sha->second;
  absl::StatusOr<RedisReply> loaded = Command({"SCRIPT", "LOAD", script});
  if (!loaded.ok()) return loaded.status();
  if (loaded->type != RedisReply::Type::kString) {
    return absl::InternalError(absl::StrCat("redis SCRIPT LOAD: ", loaded->str));
  }
  return script_shas_.emplace(script, loaded->str).first->second;
}

absl::StatusOr<RedisReply> RedisConnection::Eval(const std::string& script,
                                                 const std::vector<std::string>& keys,
                                                 const std::vector<std::string>& args) {
  absl::StatusOr<std::vector<RedisReply>> replies = EvalMany(script, {{keys, args}});
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::EvalMany(
    const std::string& script, const std::vector<ScriptCall>& calls) {
  std::vector<RedisReply> replies(calls.size());
  std::vector<size_t> pending(calls.size());  // calls without their reply yet
  for (size_t i = 0; i < calls.size(); ++i) pending[i] = i;
  for (int attempt = 0; !pending.empty(); ++attempt) {
    absl::StatusOr<std::string> sha = ScriptSha(script);
    if (!sha.ok()) return sha.status();
    std::vector<std::vector<std::string>> commands;
    commands.reserve(pending.size());
    for (size_t i : pending) {
      const ScriptCall& call = calls[i];
      std::vector<std::string>& argv = commands.emplace_back();
      argv.reserve(3 + call.keys.size() + call.args.size());
      argv.insert(argv.end(), {"EVALSHA", *sha, absl::StrCat(call.keys.size())});
      argv.insert(argv.end(), call.keys.begin(), call.keys.end());
      argv.insert(argv.end(), call.args.begin(), call.args.end());
    }
    absl::StatusOr<std::vector<RedisReply>> got = Pipeline(commands);
    if (!got.ok()) return got.status();
    std::vector<size_t> again;
    for (size_t k = 0; k < pending.size(); ++k) {
      RedisReply& reply = (*got)[k];
      // NOSCRIPT: the server lost its script cache (a restart, SCRIPT FLUSH): load it once more.
      if (attempt == 0 && reply.is_error() && reply.str.rfind("NOSCRIPT", 0) == 0) {
        again.push_back(pending[k]);
      } else {
        replies[pending[k]] = std::move(reply);
      }
    }
    if (!again.empty()) script_shas_.erase(script);
    pending = std::move(again);
  }
  return replies;
}

}  // namespace choreo::redis
