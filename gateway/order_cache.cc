#include "gateway/order_cache.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
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

// `stored` is the reply of SET <request key> <fingerprint> NX GET: nil when this call claimed
// the id, else the fingerprint recorded by the first.
absl::Status CheckClaim(const RedisReply& stored, const std::string& fingerprint,
                        const std::string& request_id) {
  if (stored.type == RedisReply::Type::kString && stored.str != fingerprint) {
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
  if (!reply.ok()) return Noted(reply.status());
  return ParseView((*reply)[0]);
}

absl::Status OrderCache::ClaimRequest(const ids::Username& username, const std::string& kind,
                                      const std::string& request_id,
                                      const std::string& fingerprint) {
  const std::string key = RequestKey(username, kind, request_id);
  absl::StatusOr<std::vector<RedisReply>> replies =
      pool_.Run({{"SET", key, fingerprint, "NX", "GET", "EX", kRequestTtlSeconds}});
  if (!replies.ok()) return Noted(replies.status());
  return CheckClaim((*replies)[0], fingerprint, request_id);
}

namespace {

// KEYS[1] request key, KEYS[2] view key, KEYS[3] the user's index.
// ARGV[1] fingerprint, ARGV[2] request TTL (s), ARGV[3] initial view, ARGV[4] view TTL (s),
// ARGV[5] creation ms, ARGV[6] order id.
// {'refused', fingerprint} | {'existing', view} | {'new'}: four commands in all for a new order.
constexpr char kClaimOrderScript[] = R"lua(
local claimed = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'GET', 'EX', ARGV[2])
if claimed and claimed ~= ARGV[1] then return {'refused', claimed} end
local before = redis.call('SET', KEYS[2], ARGV[3], 'NX', 'GET', 'EX', ARGV[4])
if before then return {'existing', before} end
redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[6])
return {'new'}
)lua";

}  // namespace

namespace {

// One claim's result from the claim script's reply.
absl::StatusOr<OrderCache::Claimed> ClaimResult(const RedisReply& reply,
                                                const OrderCache::OrderClaim& claim) {
  if (reply.type != RedisReply::Type::kArray || reply.elements.empty()) {
    return absl::UnavailableError("redis: unexpected reply to the order claim");
  }
  const std::string& verdict = reply.elements[0].str;
  if (verdict == "refused") {
    absl::Status refused = CheckClaim(reply.elements[1], claim.fingerprint, claim.request_id);
    return refused.ok() ? absl::InternalError("order claim refused a matching body") : refused;
  }
  if (verdict == "new") return OrderCache::Claimed{*claim.initial, false};
  absl::StatusOr<std::optional<gateway::v1::Order>> view = ParseView(reply.elements[1]);
  if (!view.ok()) return view.status();
  return OrderCache::Claimed{view->value_or(*claim.initial), true};
}

}  // namespace

absl::StatusOr<std::vector<absl::StatusOr<OrderCache::Claimed>>> OrderCache::ClaimOrders(
    const std::vector<OrderClaim>& claims) {
  std::vector<redis::RedisConnection::ScriptCall> calls;
  calls.reserve(claims.size());
  for (const OrderClaim& claim : claims) {
    const gateway::v1::Order& initial = *claim.initial;
    calls.push_back(
        {{RequestKey(claim.username, "order", claim.request_id),
          ViewKey(claim.username, initial.order_id()), IndexKey(claim.username)},
         {claim.fingerprint, kRequestTtlSeconds, initial.SerializeAsString(), kViewTtlSeconds,
          absl::StrCat(Millis(initial.created_at())), initial.order_id()}});
  }
  // Each claim's reply on its own: one claim's error reply fails that claim alone.
  absl::StatusOr<std::vector<RedisReply>> replies = pool_.EvalEach(kClaimOrderScript, calls);
  if (!replies.ok()) return Noted(replies.status());
  std::vector<absl::StatusOr<Claimed>> results;
  results.reserve(claims.size());
  for (size_t i = 0; i < claims.size(); ++i) {
    const RedisReply& reply = (*replies)[i];
    if (reply.is_error()) {
      results.push_back(Noted(absl::UnavailableError(absl::StrCat("redis: ", reply.str))));
    } else {
      results.push_back(ClaimResult(reply, claims[i]));
    }
  }
  return results;
}

namespace {

// Writes a snapshot's view unless the stored one is as new, deciding in Redis, in the same
// step as the read: one round trip per batch and no lost update whatever the gateway's writers
// (each instance's feed, the view projector, a CreateOrder's claim) interleave. The rule is
// gateway::ApplySnapshot's on revisions: a stored view of revision 0 (a claim) or of a lower
// revision is replaced; one of a higher revision is kept; at an equal revision it is replaced
// only under SnapshotRule::kReproject, and only if it differs. The stored revision is field 13
// of the serialized gateway.v1.Order (a varint), found by walking the fields.
// KEYS[1] view, KEYS[2] the user's index. ARGV[1] the new view, ARGV[2] its revision, ARGV[3]
// '1' to replace at an equal revision, ARGV[4] TTL (s), ARGV[5] creation ms, ARGV[6] order id.
// Returns {written (0/1), stored before ('' if none)}.
constexpr char kWriteViewScript[] = R"lua(
local function revision(bytes)
  local at, size, found = 1, #bytes, 0
  local function varint()
    local value, scale = 0, 1
    repeat
      local byte = string.byte(bytes, at)
      if not byte then error('order view: truncated') end
      at = at + 1
      value = value + (byte % 128) * scale
      scale = scale * 128
    until byte < 128
    return value
  end
  while at <= size do
    local tag = varint()
    local field, wire = math.floor(tag / 8), tag % 8
    if wire == 0 then
      local value = varint()
      if field == 13 then found = value end
    elseif wire == 2 then at = at + varint()
    elseif wire == 1 then at = at + 8
    elseif wire == 5 then at = at + 4
    else error('order view: wire type ' .. wire) end
  end
  return found
end
local stored = redis.call('GET', KEYS[1])
if stored then
  local have, offered = revision(stored), tonumber(ARGV[2])
  if have > 0 and (have > offered or (have == offered and (ARGV[3] ~= '1' or stored == ARGV[1]))) then
    return {0, stored}
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
if not stored then redis.call('ZADD', KEYS[2], 'NX', ARGV[5], ARGV[6]) end
return {1, stored or ''}
)lua";

}  // namespace

absl::StatusOr<std::vector<std::pair<gateway::v1::Order, bool>>> OrderCache::ApplySnapshots(
    const std::vector<const orders::v1::Order*>& events, SnapshotRule rule) {
  struct Touched {
    ids::Username owner;
    std::string order_id;
    std::vector<size_t> events;  // indexes into `events` (snapshots), in the order given
  };
  std::vector<Touched> touched;                     // one per view key, in first-seen order
  absl::flat_hash_map<std::string, size_t> by_key;  // view key -> index in `touched`
  for (size_t e = 0; e < events.size(); ++e) {
    ids::Username owner(events[e]->username());
    auto [it, added] = by_key.try_emplace(ViewKey(owner, events[e]->order_id()), touched.size());
    if (added) touched.push_back({std::move(owner), events[e]->order_id()});
    touched[it->second].events.push_back(e);
  }
  // Each view's candidate: its snapshots applied in order to no view. The script keeps the
  // stored view instead when that is as new.
  std::vector<redis::RedisConnection::ScriptCall> writes;
  for (const Touched& view : touched) {
    gateway::v1::Order candidate;
    for (size_t e : view.events) gateway::ApplySnapshot(*events[e], candidate, rule);
    writes.push_back({{ViewKey(view.owner, view.order_id), IndexKey(view.owner)},
                      {candidate.SerializeAsString(), absl::StrCat(candidate.revision()),
                       rule == SnapshotRule::kNewer ? "0" : "1", kViewTtlSeconds,
                       absl::StrCat(Millis(candidate.created_at())), view.order_id}});
  }
  const uint64_t failures_before = Failures();
  absl::StatusOr<std::vector<RedisReply>> written = pool_.EvalMany(kWriteViewScript, writes);
  if (!written.ok()) return Noted(written.status());
  // Each snapshot's result, decided again from the view as it was stored before: the same
  // rule, so the view after the last of them is what the script left stored.
  std::vector<std::pair<gateway::v1::Order, bool>> results(events.size());
  std::vector<std::pair<std::string, int64_t>> stored_revisions;  // view key -> revision
  stored_revisions.reserve(touched.size());
  for (size_t k = 0; k < touched.size(); ++k) {
    const RedisReply& reply = (*written)[k];
    if (reply.is_error()) {
      // The script's own errors name the view ("order view: ..."); others are Redis's.
      return absl::StrContains(reply.str, "order view:")
                 ? absl::DataLossError(absl::StrCat("cached ", reply.str))
                 : Noted(absl::UnavailableError(absl::StrCat("redis view write: ", reply.str)));
    }
    if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2) {
      return absl::UnavailableError("redis: unexpected reply to a view write");
    }
    // '' (none stored) parses as an empty view, which every snapshot replaces.
    absl::StatusOr<std::optional<gateway::v1::Order>> stored = ParseView(reply.elements[1]);
    if (!stored.ok()) return stored.status();
    gateway::v1::Order view = **stored;
    for (size_t e : touched[k].events) {
      const bool applied = gateway::ApplySnapshot(*events[e], view, rule);
      results[e] = {view, applied};
    }
    stored_revisions.emplace_back(ViewKey(touched[k].owner, touched[k].order_id), view.revision());
  }
  RememberStored(stored_revisions, failures_before);
  return results;
}

std::vector<const orders::v1::Order*> OrderCache::MayChange(
    const std::vector<const orders::v1::Order*>& orders) {
  std::vector<const orders::v1::Order*> may_change;
  may_change.reserve(orders.size());
  absl::MutexLock lock(&mu_);
  for (const orders::v1::Order* order : orders) {
    auto it = stored_.find(ViewKey(ids::Username(order->username()), order->order_id()));
    // A stored revision of 0 is a claim, which every snapshot replaces.
    if (it == stored_.end() || it->second == 0 || it->second < order->revision()) {
      may_change.push_back(order);
    }
  }
  return may_change;
}

uint64_t OrderCache::Failures() {
  absl::MutexLock lock(&mu_);
  return failures_;
}

void OrderCache::RememberStored(const std::vector<std::pair<std::string, int64_t>>& revisions,
                                uint64_t failures_before) {
  absl::MutexLock lock(&mu_);
  if (failures_ != failures_before) return;
  for (const auto& [view_key, revision] : revisions) {
    if (stored_.size() >= kRememberedViews && !stored_.contains(view_key)) stored_.clear();
    int64_t& stored = stored_[view_key];
    stored = std::max(stored, revision);
  }
}

absl::Status OrderCache::Noted(absl::Status status) {
  if (!status.ok()) {
    absl::MutexLock lock(&mu_);
    stored_.clear();
    ++failures_;
  }
  return status;
}

absl::Status OrderCache::Index(const std::vector<const orders::v1::Order*>& orders) {
  std::vector<std::vector<std::string>> commands;
  for (const orders::v1::Order* order : orders) {
    commands.push_back({"ZADD", IndexKey(ids::Username(order->username())), "NX",
                        absl::StrCat(Millis(order->created_at())), order->order_id()});
  }
  if (commands.empty()) return absl::OkStatus();
  return Noted(pool_.Run(commands).status());
}

absl::StatusOr<std::vector<std::pair<gateway::v1::Order, int64_t>>> OrderCache::List(
    const ids::Username& username, int64_t before_ms, int limit) {
  const std::string max = before_ms > 0 ? absl::StrCat("(", before_ms) : "+inf";
  absl::StatusOr<std::vector<RedisReply>> ids =
      pool_.Run({{"ZREVRANGEBYSCORE", IndexKey(username), max, "-inf", "WITHSCORES", "LIMIT", "0",
            absl::StrCat(limit)}});
  if (!ids.ok()) return Noted(ids.status());
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
  if (!found.ok()) return Noted(found.status());
  for (size_t i = 0; i < found->size(); ++i) {
    gateway::v1::Order view;
    if ((*found)[i].type == RedisReply::Type::kString && view.ParseFromString((*found)[i].str)) {
      views.emplace_back(std::move(view), scores[i]);
    }
  }
  return views;
}

}  // namespace choreo::gateway
