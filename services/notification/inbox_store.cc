#include "services/notification/inbox_store.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "saga/store/redis_aggregate_store.h"

namespace choreo::notification {
namespace {

using notifications::v1::NotificationRecord;
using redis::RedisReply;

// One user's records, in order: KEYS[1] the list, KEYS[1 + i] record i's marker; ARGV[1] keep,
// ARGV[2] marker retention in ms, ARGV[2 + i] record i. Each record whose marker was absent is
// pushed, then the list is trimmed once; one answer per record (1: recorded). One atomic step,
// so a user's records are all recorded in their order or none is. Three commands for one new
// record (SET NX, LPUSH, LTRIM), one for one seen before.
constexpr char kRecordScript[] = R"lua(
local recorded, pushed = {}, false
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[2]) then
    redis.call('LPUSH', KEYS[1], ARGV[i + 1])
    recorded[i - 1], pushed = 1, true
  else
    recorded[i - 1] = 0
  end
end
if pushed then redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1) end
return recorded
)lua";

// The aggregate every outcome was written to before this store (read, never written).
std::string OlderInboxKey(const std::string& username) {
  return store::RedisAggregateStore::StateKey({"notification.inbox", username});
}

}  // namespace

std::string InboxStore::ListKey(const std::string& username) {
  return absl::StrCat("notification:inbox:{", username, "}");
}

std::string InboxStore::MarkerKey(const std::string& username, const std::string& notification_id) {
  return absl::StrCat("notification:sent:{", username, "}:", notification_id);
}

absl::StatusOr<bool> InboxStore::Record(const std::string& username,
                                        const NotificationRecord& record) {
  absl::StatusOr<std::vector<bool>> recorded = RecordMany({{username, record}});
  if (!recorded.ok()) return recorded.status();
  return recorded->front();
}

absl::StatusOr<std::vector<bool>> InboxStore::RecordMany(const std::vector<Entry>& entries) {
  // One Lua step per user, with that user's records in their order.
  std::vector<std::string> users;
  absl::flat_hash_map<std::string, std::vector<size_t>> of_user;  // user -> entry indices
  for (size_t i = 0; i < entries.size(); ++i) {
    std::vector<size_t>& indices = of_user[entries[i].username];
    if (indices.empty()) users.push_back(entries[i].username);
    indices.push_back(i);
  }
  const std::string retention_ms =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.marker_retention)));
  std::vector<redis::RedisConnection::ScriptCall> calls;
  calls.reserve(users.size());
  for (const std::string& user : users) {
    redis::RedisConnection::ScriptCall& call = calls.emplace_back();
    call.keys.push_back(ListKey(user));
    call.args = {absl::StrCat(options_.keep), retention_ms};
    for (size_t i : of_user[user]) {
      call.keys.push_back(MarkerKey(user, entries[i].record.notification_id()));
      call.args.push_back(entries[i].record.SerializeAsString());
    }
  }
  absl::StatusOr<std::vector<RedisReply>> replies = pool_.EvalMany(kRecordScript, calls);
  if (!replies.ok()) return replies.status();
  std::vector<bool> recorded(entries.size(), false);
  for (size_t u = 0; u < users.size(); ++u) {
    const std::vector<size_t>& indices = of_user[users[u]];
    const RedisReply& reply = (*replies)[u];
    if (reply.type != RedisReply::Type::kArray || reply.elements.size() != indices.size()) {
      return absl::InternalError("redis inbox record: unexpected reply");
    }
    for (size_t k = 0; k < indices.size(); ++k) {
      recorded[indices[k]] =
          reply.elements[k].type == RedisReply::Type::kInteger && reply.elements[k].integer == 1;
    }
  }
  return recorded;
}

absl::StatusOr<InboxStore::Page> InboxStore::List(const std::string& username, int start,
                                                  int count) {
  absl::StatusOr<std::vector<RedisReply>> replies =
      pool_.Run({{"LRANGE", ListKey(username), "0", absl::StrCat(options_.keep - 1)},
                 {"HGET", OlderInboxKey(username), "s"}});
  if (!replies.ok()) return replies.status();
  std::vector<NotificationRecord> newer;
  for (const RedisReply& element : (*replies)[0].elements) {
    if (!newer.emplace_back().ParseFromString(element.str)) {
      return absl::DataLossError(
          absl::StrCat(ListKey(username), " holds a record that is not a NotificationRecord"));
    }
  }
  notifications::v1::Inbox older;
  if ((*replies)[1].type == RedisReply::Type::kString &&
      !older.ParseFromString((*replies)[1].str)) {
    return absl::DataLossError(absl::StrCat(OlderInboxKey(username), " is not an Inbox"));
  }
  std::vector<NotificationRecord> all = MergeInboxes(std::move(newer), older, options_.keep);
  Page page;
  const size_t first = static_cast<size_t>(std::max(0, start));
  const size_t end = first + static_cast<size_t>(std::max(0, count));  // no overflow: both < 2^31
  for (size_t i = first; i < all.size() && i < end; ++i) page.records.push_back(std::move(all[i]));
  page.more = end < all.size();
  return page;
}

std::vector<NotificationRecord> MergeInboxes(std::vector<NotificationRecord> newer,
                                             const notifications::v1::Inbox& older, int keep) {
  absl::flat_hash_set<std::string> seen;
  std::vector<NotificationRecord> merged;
  for (NotificationRecord& record : newer) {
    if (static_cast<int>(merged.size()) >= keep) break;
    if (seen.insert(record.notification_id()).second) merged.push_back(std::move(record));
  }
  for (const NotificationRecord& record : older.records()) {
    if (static_cast<int>(merged.size()) >= keep) break;
    if (seen.insert(record.notification_id()).second) merged.push_back(record);
  }
  return merged;
}

}  // namespace choreo::notification
