#include "services/notification/inbox_store.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "saga/store/redis_aggregate_store.h"

namespace choreo::notification {
namespace {

using notifications::v1::NotificationRecord;
using redis::RedisReply;

// KEYS[1] the list, KEYS[2] the record's marker. ARGV[1] the record, ARGV[2] keep,
// ARGV[3] marker retention in ms. Three commands when new (SET NX, LPUSH, LTRIM), one otherwise.
constexpr char kRecordScript[] = R"lua(
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1
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
  const std::string keep = absl::StrCat(options_.keep);
  const std::string retention_ms =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.marker_retention)));
  std::vector<redis::RedisConnection::ScriptCall> calls;
  calls.reserve(entries.size());
  for (const Entry& entry : entries) {
    calls.push_back(
        {{ListKey(entry.username), MarkerKey(entry.username, entry.record.notification_id())},
         {entry.record.SerializeAsString(), keep, retention_ms}});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = pool_.EvalMany(kRecordScript, calls);
  if (!replies.ok()) return replies.status();
  std::vector<bool> recorded;
  for (const RedisReply& reply : *replies) {
    if (reply.type != RedisReply::Type::kInteger) {
      return absl::InternalError("redis inbox record: unexpected reply");
    }
    recorded.push_back(reply.integer == 1);
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
