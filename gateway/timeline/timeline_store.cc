#include "gateway/timeline/timeline_store.h"

#include "absl/strings/str_cat.h"
#include "gateway/timeline/core/timeline_rules.h"
#include "saga/proto_time/proto_time.h"

namespace choreo::gateway::timeline {
namespace {

std::string HopsKey(const std::string& correlation_id) {
  return absl::StrCat("tl:hops:{", correlation_id, "}");
}
std::string OrderKey(const std::string& order_id) { return absl::StrCat("tl:order:{", order_id, "}"); }
std::string UserKey(const std::string& username) { return absl::StrCat("tl:user:{", username, "}"); }

}  // namespace

absl::Status TimelineStore::Add(const std::vector<v1::IndexedHop>& hops) {
  if (hops.empty()) return absl::OkStatus();
  const std::string ttl = absl::StrCat(absl::ToInt64Seconds(options_.retention));
  std::vector<std::vector<std::string>> commands;
  for (const v1::IndexedHop& hop : hops) AppendAdd(hop, ttl, commands);
  return pool_.Run(commands).status();
}

void TimelineStore::AppendAdd(const v1::IndexedHop& hop, const std::string& ttl,
                              std::vector<std::vector<std::string>>& commands) const {
  const std::string hops = HopsKey(hop.correlation_id());
  commands.push_back({"HSET", hops, HopField(hop.hop()), hop.SerializeAsString()});
  commands.push_back({"EXPIRE", hops, ttl});
  if (!hop.order_id().empty()) {
    commands.push_back({"SET", OrderKey(hop.order_id()), hop.correlation_id(), "EX", ttl});
  }
  if (!hop.username().empty()) {
    const std::string user = UserKey(hop.username());
    const int64_t at_ms = absl::ToUnixMillis(FromProtoTime(hop.hop().occurred_at()));
    // LT: a saga's score is the earliest of its events seen, whatever order they arrive in.
    commands.push_back({"ZADD", user, "LT", absl::StrCat(at_ms), hop.correlation_id()});
    commands.push_back(
        {"ZREMRANGEBYRANK", user, "0", absl::StrCat(-options_.max_sagas_per_user - 1)});
    commands.push_back({"EXPIRE", user, ttl});
  }
}

absl::StatusOr<std::vector<v1::IndexedHop>> TimelineStore::Hops(const std::string& correlation_id) {
  absl::StatusOr<std::vector<redis::RedisReply>> replies =
      pool_.Run({{"HGETALL", HopsKey(correlation_id)}});
  if (!replies.ok()) return replies.status();
  std::vector<v1::IndexedHop> hops;
  const std::vector<redis::RedisReply>& fields = replies->front().elements;
  for (size_t i = 1; i < fields.size(); i += 2) {
    v1::IndexedHop hop;
    if (!hop.ParseFromString(fields[i].str)) {
      return absl::DataLossError(absl::StrCat("timeline hop ", fields[i - 1].str, " is corrupt"));
    }
    hops.push_back(std::move(hop));
  }
  return hops;
}

absl::StatusOr<std::string> TimelineStore::SagaOfOrder(const std::string& order_id) {
  absl::StatusOr<std::vector<redis::RedisReply>> replies = pool_.Run({{"GET", OrderKey(order_id)}});
  if (!replies.ok()) return replies.status();
  return replies->front().str;
}

absl::StatusOr<std::vector<std::string>> TimelineStore::SagasOfUser(const std::string& username,
                                                                    int offset, int limit) {
  absl::StatusOr<std::vector<redis::RedisReply>> replies =
      pool_.Run({{"ZREVRANGE", UserKey(username), absl::StrCat(offset),
                  absl::StrCat(offset + limit - 1)}});
  if (!replies.ok()) return replies.status();
  std::vector<std::string> ids;
  for (const redis::RedisReply& element : replies->front().elements) ids.push_back(element.str);
  return ids;
}

}  // namespace choreo::gateway::timeline
