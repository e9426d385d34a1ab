#include "gateway/order_cache.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/core/gateway_rules.h"

namespace choreo::gateway {
namespace {

using redis::RedisReply;
constexpr char kViewTtlSeconds[] = "2592000";     // 30 days
constexpr char kRequestTtlSeconds[] = "604800";   // 7 days

std::string ViewKey(const ids::Username& user, absl::string_view order_id) {
  return absl::StrCat("gw:order:{", user.value(), "}:", order_id);
}
std::string IndexKey(const ids::Username& user) {
  return absl::StrCat("gw:orders:{", user.value(), "}");
}

int64_t Millis(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000 + ts.nanos() / 1000000;
}


}  // namespace

OrderCache::OrderCache(redis::RedisConnection::Options options, int connections)
    : pool_(std::move(options), connections) {}

namespace {

absl::StatusOr<std::optional<gateway::v1::Order>> ParseView(const RedisReply& reply) {
  if (reply.type != RedisReply::Type::kString) return std::nullopt;
  gateway::v1::Order view;
  if (!view.ParseFromString(reply.str)) return absl::DataLossError("cached order view is corrupt");
  return view;
}

std::string RequestKey(const ids::Username& username, absl::string_view kind,
                       const std::string& request_id) {
  return absl::StrCat("gw:request:{", username.value(), "}:", kind, ":", request_id);
}

absl::Status CheckClaim(const RedisReply& stored, const std::string& fingerprint,
                        const std::string& request_id) {
  if (stored.str != fingerprint) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request_id: '", request_id, "' was already used with a different request body"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<gateway::v1::Order>> OrderCache::Get(const ids::Username& username,
                                                                  const ids::OrderId& order_id) {
  absl::StatusOr<std::vector<RedisReply>> reply =
      pool_.Run({{"GET", ViewKey(username, order_id.value())}});
  if (!reply.ok()) return reply.status();
  return ParseView((*reply)[0]);
}

absl::Status OrderCache::ClaimRequest(const ids::Username& username, const std::string& kind,
                                      const std::string& request_id,
                                      const std::string& fingerprint) {
  const std::string key = RequestKey(username, kind, request_id);
  absl::StatusOr<std::vector<RedisReply>> replies =
      pool_.Run({{"SET", key, fingerprint, "NX", "EX", kRequestTtlSeconds}, {"GET", key}});
  if (!replies.ok()) return replies.status();
  return CheckClaim((*replies)[1], fingerprint, request_id);
}

absl::StatusOr<std::optional<gateway::v1::Order>> OrderCache::ClaimOrder(
    const ids::Username& username, const std::string& request_id, const std::string& fingerprint,
    const ids::OrderId& order_id) {
  const std::string key = RequestKey(username, "order", request_id);
  absl::StatusOr<std::vector<RedisReply>> replies =
      pool_.Run({{"SET", key, fingerprint, "NX", "EX", kRequestTtlSeconds},
           {"GET", key},
           {"GET", ViewKey(username, order_id.value())}});
  if (!replies.ok()) return replies.status();
  if (absl::Status claimed = CheckClaim((*replies)[1], fingerprint, request_id); !claimed.ok()) {
    return claimed;
  }
  return ParseView((*replies)[2]);
}

absl::StatusOr<gateway::v1::Order> OrderCache::AddOrder(const ids::Username& username,
                                                       const gateway::v1::Order& view) {
  const std::string key = ViewKey(username, view.order_id());
  absl::StatusOr<std::vector<RedisReply>> replies =
      pool_.Run({{"SET", key, view.SerializeAsString(), "NX", "EX", kViewTtlSeconds},
           {"ZADD", IndexKey(username), "NX", absl::StrCat(Millis(view.created_at())),
            view.order_id()},
           {"GET", key}});
  if (!replies.ok()) return replies.status();
  absl::StatusOr<std::optional<gateway::v1::Order>> now = ParseView((*replies)[2]);
  if (!now.ok()) return now.status();
  return now->value_or(view);
}

absl::StatusOr<std::pair<gateway::v1::Order, bool>> OrderCache::ApplyStatus(
    const orders::v1::OrderStatusUpdated& update, const ids::CorrelationId& correlation_id) {
  // Every gateway instance applies the same events in the same (partition) order, so a plain
  // read-modify-write converges; ApplyStatus ignores what the view already holds.
  const ids::Username owner(update.username());
  absl::StatusOr<std::optional<gateway::v1::Order>> current =
      Get(owner, ids::OrderId(update.order_id()));
  if (!current.ok()) return current.status();
  gateway::v1::Order view = current->value_or(gateway::v1::Order());
  const bool created = !current->has_value();
  const bool changed = gateway::ApplyStatus(update, correlation_id.value(), view);
  if (!changed) return std::make_pair(std::move(view), false);
  std::vector<std::vector<std::string>> commands = {
      {"SET", ViewKey(owner, update.order_id()), view.SerializeAsString(), "EX",
       kViewTtlSeconds}};
  if (created) {
    commands.push_back({"ZADD", IndexKey(owner), "NX",
                        absl::StrCat(Millis(view.created_at())), view.order_id()});
  }
  absl::StatusOr<std::vector<RedisReply>> written = pool_.Run(commands);
  if (!written.ok()) return written.status();
  return std::make_pair(std::move(view), true);
}

absl::StatusOr<std::vector<std::pair<gateway::v1::Order, int64_t>>> OrderCache::List(
    const ids::Username& username, int64_t before_ms, int limit) {
  const std::string max = before_ms > 0 ? absl::StrCat("(", before_ms) : "+inf";
  absl::StatusOr<std::vector<RedisReply>> ids =
      pool_.Run({{"ZREVRANGEBYSCORE", IndexKey(username), max, "-inf", "WITHSCORES", "LIMIT", "0",
            absl::StrCat(limit)}});
  if (!ids.ok()) return ids.status();
  const std::vector<RedisReply>& members = (*ids)[0].elements;
  std::vector<std::vector<std::string>> gets;
  std::vector<int64_t> scores;
  for (size_t i = 0; i + 1 < members.size(); i += 2) {
    gets.push_back({"GET", ViewKey(username, members[i].str)});
    int64_t score = 0;
    absl::SimpleAtoi(members[i + 1].str, &score);
    scores.push_back(score);
  }
  std::vector<std::pair<gateway::v1::Order, int64_t>> views;
  if (gets.empty()) return views;
  absl::StatusOr<std::vector<RedisReply>> found = pool_.Run(gets);
  if (!found.ok()) return found.status();
  for (size_t i = 0; i < found->size(); ++i) {
    gateway::v1::Order view;
    if ((*found)[i].type == RedisReply::Type::kString && view.ParseFromString((*found)[i].str)) {
      views.emplace_back(std::move(view), scores[i]);
    }
  }
  return views;
}

}  // namespace choreo::gateway
