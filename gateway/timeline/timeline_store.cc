#include "gateway/timeline/timeline_store.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/timeline/core/timeline_rules.h"
#include "platform/proto_time/proto_time.h"

namespace choreo::gateway::timeline {
namespace {

std::string HopsKey(const std::string& correlation_id) {
  return absl::StrCat("tl:hops:{", correlation_id, "}");
}
std::string OrderKey(const std::string& order_id) { return absl::StrCat("tl:order:{", order_id, "}"); }
std::string UserKey(const std::string& username) { return absl::StrCat("tl:user:{", username, "}"); }

// A hop as its saga's hash holds it: without the correlation id, which the key names.
std::string StoredHop(const v1::IndexedHop& hop) {
  v1::IndexedHop stored = hop;
  stored.clear_correlation_id();
  return stored.SerializeAsString();
}

}  // namespace

absl::Status TimelineStore::Add(const std::vector<v1::IndexedHop>& hops) {
  if (hops.empty()) return absl::OkStatus();
  const absl::Time now = absl::Now();
  Plan plan;
  {
    absl::MutexLock lock(&mu_);
    plan = PlanAdd(hops, now);
  }
  if (absl::Status written = Run(plan.commands).status(); !written.ok()) return written;
  absl::MutexLock lock(&mu_);
  for (auto& [key, value] : plan.written) recent_.Mark(std::move(key), std::move(value), now);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<redis::RedisReply>> TimelineStore::Run(
    const std::vector<std::vector<std::string>>& commands) {
  absl::StatusOr<std::vector<redis::RedisReply>> replies = pool_.Run(commands);
  if (!replies.ok()) {
    // Reads and writes share the pool's connections: a failure on any of them may be a Redis
    // restarted or replaced, which may not hold what this store remembers writing.
    absl::MutexLock lock(&mu_);
    recent_.Forget();
  }
  return replies;
}

std::vector<std::vector<std::string>> TimelineStore::AddCommands(
    const std::vector<v1::IndexedHop>& hops) {
  absl::MutexLock lock(&mu_);
  return PlanAdd(hops, absl::Now()).commands;
}

TimelineStore::Plan TimelineStore::PlanAdd(const std::vector<v1::IndexedHop>& hops,
                                           absl::Time now) {
  // One write per key for the whole batch: a saga's hops arrive close together, so a batch
  // holds several hops of one saga, one order and one user.
  std::map<std::string, std::vector<std::string>> saga_fields;   // hops key -> field, value...
  std::map<std::string, std::string> order_sagas;                 // order key -> correlation id
  std::map<std::string, std::map<std::string, int64_t>> user_sagas;  // user key -> id -> ms
  for (const v1::IndexedHop& hop : hops) {
    std::vector<std::string>& fields = saga_fields[HopsKey(hop.correlation_id())];
    fields.push_back(HopField(hop.hop()));
    fields.push_back(StoredHop(hop));
    if (!hop.order_id().empty()) order_sagas[OrderKey(hop.order_id())] = hop.correlation_id();
    // A saga is listed under the user its first event names (the root: no cause), once.
    if (!hop.username().empty() && hop.hop().causation_id().empty()) {
      const int64_t at_ms = absl::ToUnixMillis(FromProtoTime(hop.hop().occurred_at()));
      auto [it, added] = user_sagas[UserKey(hop.username())].try_emplace(hop.correlation_id(), at_ms);
      if (!added) it->second = std::min(it->second, at_ms);
    }
  }
  const std::string ttl = absl::StrCat(absl::ToInt64Seconds(options_.retention));
  Plan plan;
  // What only sets an expiry (or writes the same value again) is left out when written lately.
  auto once = [&](const std::string& key, const std::string& value) {
    if (recent_.Fresh(key, value, now)) return false;
    plan.written.emplace_back(key, value);
    return true;
  };
  std::vector<std::vector<std::string>>& commands = plan.commands;
  for (auto& [key, fields] : saga_fields) {
    std::vector<std::string> hset = {"HSET", key};
    hset.insert(hset.end(), std::make_move_iterator(fields.begin()),
                std::make_move_iterator(fields.end()));
    commands.push_back(std::move(hset));
    if (once(key, "")) commands.push_back({"EXPIRE", key, ttl});
  }
  for (const auto& [key, correlation_id] : order_sagas) {
    if (once(key, correlation_id)) commands.push_back({"SET", key, correlation_id, "EX", ttl});
  }
  for (const auto& [key, sagas] : user_sagas) {
    // LT: a saga's score is the earliest of its events seen, whatever order they arrive in.
    std::vector<std::string> zadd = {"ZADD", key, "LT"};
    for (const auto& [correlation_id, at_ms] : sagas) {
      zadd.push_back(absl::StrCat(at_ms));
      zadd.push_back(correlation_id);
    }
    commands.push_back(std::move(zadd));
    if (once(key, "")) {
      commands.push_back(
          {"ZREMRANGEBYRANK", key, "0", absl::StrCat(-options_.max_sagas_per_user - 1)});
      commands.push_back({"EXPIRE", key, ttl});
    }
  }
  return plan;
}

absl::StatusOr<std::vector<v1::IndexedHop>> TimelineStore::Hops(const std::string& correlation_id) {
  absl::StatusOr<std::vector<std::vector<v1::IndexedHop>>> hops = HopsOfMany({correlation_id});
  if (!hops.ok()) return hops.status();
  return std::move(hops->front());
}

absl::StatusOr<std::vector<std::vector<v1::IndexedHop>>> TimelineStore::HopsOfMany(
    const std::vector<std::string>& correlation_ids) {
  if (correlation_ids.empty()) return std::vector<std::vector<v1::IndexedHop>>{};
  std::vector<std::vector<std::string>> commands;
  for (const std::string& id : correlation_ids) commands.push_back({"HGETALL", HopsKey(id)});
  absl::StatusOr<std::vector<redis::RedisReply>> replies = Run(commands);
  if (!replies.ok()) return replies.status();
  std::vector<std::vector<v1::IndexedHop>> sagas;
  for (size_t saga = 0; saga < replies->size(); ++saga) {
    const redis::RedisReply& reply = (*replies)[saga];
    std::vector<v1::IndexedHop>& hops = sagas.emplace_back();
    for (size_t i = 1; i < reply.elements.size(); i += 2) {
      v1::IndexedHop hop;
      if (!hop.ParseFromString(reply.elements[i].str)) {
        return absl::DataLossError(
            absl::StrCat("timeline hop ", reply.elements[i - 1].str, " is corrupt"));
      }
      // Stored without it since 2026-12-04 (hops stored before hold the same id already).
      hop.set_correlation_id(correlation_ids[saga]);
      hops.push_back(std::move(hop));
    }
  }
  return sagas;
}

absl::StatusOr<std::string> TimelineStore::SagaOfOrder(const std::string& order_id) {
  absl::StatusOr<std::vector<redis::RedisReply>> replies = Run({{"GET", OrderKey(order_id)}});
  if (!replies.ok()) return replies.status();
  return replies->front().str;
}

absl::StatusOr<std::vector<std::string>> TimelineStore::SagasOfUser(const std::string& username,
                                                                    int offset, int limit) {
  // The set may hold a few sagas beyond the newest max_sagas_per_user until its next trim.
  limit = std::min(limit, options_.max_sagas_per_user - offset);
  if (offset < 0 || limit <= 0) return std::vector<std::string>{};
  absl::StatusOr<std::vector<redis::RedisReply>> replies = Run(
      {{"ZREVRANGE", UserKey(username), absl::StrCat(offset), absl::StrCat(offset + limit - 1)}});
  if (!replies.ok()) return replies.status();
  std::vector<std::string> ids;
  for (const redis::RedisReply& element : replies->front().elements) ids.push_back(element.str);
  return ids;
}

}  // namespace choreo::gateway::timeline
