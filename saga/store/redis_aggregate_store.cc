#include "saga/store/redis_aggregate_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace choreo::store {
namespace {

using redis::RedisReply;

// KEYS[1] state hash, KEYS[2] marker.
// ARGV[1] expected version, ARGV[2] "1" to write the state, ARGV[3] state, ARGV[4] outcome,
// ARGV[5] marker retention in ms.
// The usual path (version matches, event new) is three commands: HGET, SET NX, HSET. The marker
// is read only when the version differs (a duplicate or a conflict) or SET NX finds it.
constexpr char kCommitScript[] = R"lua(
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if version ~= tonumber(ARGV[1]) then
  local handled = redis.call('GET', KEYS[2])
  if handled then return {'handled', handled} end
  return {'conflict', tostring(version)}
end
if not redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', ARGV[5]) then
  return {'handled', redis.call('GET', KEYS[2])}
end
if ARGV[2] == '1' then
  version = version + 1
  redis.call('HSET', KEYS[1], 'v', version, 's', ARGV[3])
end
return {'committed', tostring(version)}
)lua";

absl::Status ReplyError(absl::string_view what, const RedisReply& reply) {
  // LOADING, BUSY, TRYAGAIN, MASTERDOWN...: the server is there but not ready: retry.
  if (reply.str.rfind("LOADING", 0) == 0 || reply.str.rfind("BUSY", 0) == 0 ||
      reply.str.rfind("TRYAGAIN", 0) == 0 || reply.str.rfind("MASTERDOWN", 0) == 0 ||
      reply.str.rfind("CLUSTERDOWN", 0) == 0) {
    return absl::UnavailableError(absl::StrCat("redis ", what, ": ", reply.str));
  }
  return absl::InternalError(absl::StrCat("redis ", what, ": ", reply.str));
}

}  // namespace

RedisAggregateStore::RedisAggregateStore(redis::RedisConnection::Options options)
    : connection_(std::move(options)) {}

std::string RedisAggregateStore::StateKey(const AggregateRef& aggregate) {
  return absl::StrCat("state:{", aggregate.type, ":", aggregate.id, "}");
}

std::string RedisAggregateStore::MarkerKey(const AggregateRef& aggregate,
                                           absl::string_view event_id) {
  return absl::StrCat("done:{", aggregate.type, ":", aggregate.id, "}:", event_id);
}

std::string RedisAggregateStore::EffectKey(const AggregateRef& aggregate,
                                           absl::string_view event_id) {
  return absl::StrCat("effect:{", aggregate.type, ":", aggregate.id, "}:", event_id);
}

absl::StatusOr<AggregateSnapshot> RedisAggregateStore::Load(const AggregateRef& aggregate,
                                                            absl::string_view event_id) {
  absl::StatusOr<std::vector<AggregateSnapshot>> snapshots =
      LoadMany({{aggregate, std::string(event_id)}});
  if (!snapshots.ok()) return snapshots.status();
  return std::move(snapshots->front());
}

absl::StatusOr<std::vector<AggregateSnapshot>> RedisAggregateStore::LoadMany(
    const std::vector<AggregateEvent>& items) {
  // Per item: GET marker (unless the event id is empty: the state alone), HMGET state.
  std::vector<std::vector<std::string>> commands;
  commands.reserve(2 * items.size());
  for (const AggregateEvent& item : items) {
    if (!item.event_id.empty())
      commands.push_back({"GET", MarkerKey(item.aggregate, item.event_id)});
    commands.push_back({"HMGET", StateKey(item.aggregate), "v", "s"});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = connection_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  std::vector<AggregateSnapshot> snapshots(items.size());
  size_t next = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    AggregateSnapshot& snapshot = snapshots[i];
    if (!items[i].event_id.empty()) {
      const RedisReply& marker = (*replies)[next++];
      if (marker.is_error()) return ReplyError("GET marker", marker);
      if (marker.type == RedisReply::Type::kString) snapshot.handled_outcome = marker.str;
    }
    const RedisReply& state = (*replies)[next++];
    if (state.is_error()) return ReplyError("HMGET state", state);
    if (state.type == RedisReply::Type::kArray && state.elements.size() == 2 &&
        state.elements[0].type == RedisReply::Type::kString) {
      if (!absl::SimpleAtoi(state.elements[0].str, &snapshot.version)) {
        return absl::DataLossError(absl::StrCat(StateKey(items[i].aggregate), " has version '",
                                                state.elements[0].str, "'"));
      }
      snapshot.state = state.elements[1].str;
    }
  }
  return snapshots;
}

absl::StatusOr<CommitResult> RedisAggregateStore::Commit(
    const AggregateRef& aggregate, absl::string_view event_id, int64_t expected_version,
    const std::optional<std::string>& new_state, const std::string& outcome,
    absl::Duration retention) {
  absl::StatusOr<std::vector<CommitResult>> results = CommitMany(
      {{aggregate, std::string(event_id), expected_version, new_state, outcome}}, retention);
  if (!results.ok()) return results.status();
  return std::move(results->front());
}

absl::StatusOr<std::vector<CommitResult>> RedisAggregateStore::CommitMany(
    const std::vector<CommitRequest>& commits, absl::Duration retention) {
  const std::string retention_ms =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(retention)));
  std::vector<redis::RedisConnection::ScriptCall> calls;
  calls.reserve(commits.size());
  for (const CommitRequest& commit : commits) {
    calls.push_back({{StateKey(commit.aggregate), MarkerKey(commit.aggregate, commit.event_id)},
                     {absl::StrCat(commit.expected_version), commit.new_state ? "1" : "0",
                      commit.new_state.value_or(""), commit.outcome, retention_ms}});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = connection_.EvalMany(kCommitScript, calls);
  if (!replies.ok()) return replies.status();
  std::vector<CommitResult> results(commits.size());
  for (size_t i = 0; i < commits.size(); ++i) {
    const RedisReply& reply = (*replies)[i];
    if (reply.is_error()) return ReplyError("commit script", reply);
    if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2) {
      return absl::InternalError("redis commit script: unexpected reply shape");
    }
    const std::string& verdict = reply.elements[0].str;
    CommitResult& result = results[i];
    if (verdict == "handled") {
      result.outcome = CommitOutcome::kAlreadyHandled;
      result.handled_outcome = reply.elements[1].str;
      continue;
    }
    if (!absl::SimpleAtoi(reply.elements[1].str, &result.version)) {
      return absl::InternalError("redis commit script: bad version in reply");
    }
    result.outcome =
        verdict == "committed" ? CommitOutcome::kCommitted : CommitOutcome::kVersionConflict;
  }
  return results;
}

absl::StatusOr<bool> RedisAggregateStore::EffectDone(const AggregateRef& aggregate,
                                                     absl::string_view event_id) {
  absl::StatusOr<std::vector<bool>> done = EffectsDone({{aggregate, std::string(event_id)}});
  if (!done.ok()) return done.status();
  return done->front();
}

absl::Status RedisAggregateStore::MarkEffectDone(const AggregateRef& aggregate,
                                                 absl::string_view event_id,
                                                 absl::Duration retention) {
  return MarkEffectsDone({{aggregate, std::string(event_id)}}, retention);
}

absl::StatusOr<std::vector<bool>> RedisAggregateStore::EffectsDone(
    const std::vector<AggregateEvent>& items) {
  std::vector<std::vector<std::string>> commands;
  commands.reserve(items.size());
  for (const AggregateEvent& item : items) {
    commands.push_back({"EXISTS", EffectKey(item.aggregate, item.event_id)});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = connection_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  std::vector<bool> done;
  done.reserve(replies->size());
  for (const RedisReply& reply : *replies) {
    if (reply.is_error()) return ReplyError("EXISTS effect", reply);
    done.push_back(reply.type == RedisReply::Type::kInteger && reply.integer == 1);
  }
  return done;
}

absl::Status RedisAggregateStore::MarkEffectsDone(const std::vector<AggregateEvent>& items,
                                                  absl::Duration retention) {
  const std::string retention_ms =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(retention)));
  std::vector<std::vector<std::string>> commands;
  commands.reserve(items.size());
  for (const AggregateEvent& item : items) {
    commands.push_back({"SET", EffectKey(item.aggregate, item.event_id), "1", "PX", retention_ms});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = connection_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  for (const RedisReply& reply : *replies) {
    if (reply.is_error()) return ReplyError("SET effect", reply);
  }
  return absl::OkStatus();
}

}  // namespace choreo::store
