#pragma once

// InboxStore: each user's inbox of notification outcomes in Redis, newest first, at most `keep`.
// Keys (one hash tag per user, so it runs on Redis Cluster unchanged):
//   notification:inbox:{<username>}               list of NotificationRecord bytes, newest first
//   notification:sent:{<username>}:<notification id>   the record's marker, kept `marker_retention`
// Recording an outcome is one Lua step, O(1) in the inbox's size: the marker is set if absent,
// and only then the record pushed and the list trimmed (a user's several outcomes in one step,
// in their order). So an outcome is recorded exactly once
// however often its NotificationSent is handled (re-deliveries, a crash before the offset store),
// and an outcome older than the marker's retention would be recorded again.
//
// Inboxes written before this store (one `notification.inbox:<username>` aggregate holding every
// record, rewritten whole on each outcome) are still read: List shows their records after the
// list's, until `keep` are shown; they are never written again. Thread-safe (the pool is).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "choreo/notifications/v1/state.pb.h"
#include "edges/redis/redis_pool.h"

namespace choreo::notification {

struct InboxStoreOptions {
  int keep = 100;
  absl::Duration marker_retention = absl::Hours(24 * 7);
};

class InboxStore {
 public:
  InboxStore(redis::RedisPool& pool, InboxStoreOptions options) : pool_(pool), options_(options) {}

  // Records `record` (its notification id names it) in `username`'s inbox unless it is there
  // already. True when this call recorded it.
  absl::StatusOr<bool> Record(const std::string& username,
                              const notifications::v1::NotificationRecord& record);
  // The same for several, in one round trip: one Lua step per user, which records that user's
  // entries in their order, all or none of them; one answer each, in the entries' order.
  struct Entry {
    std::string username;
    notifications::v1::NotificationRecord record;
  };
  absl::StatusOr<std::vector<bool>> RecordMany(const std::vector<Entry>& entries);

  // The inbox, newest first: `count` records from position `start`, and whether more follow.
  struct Page {
    std::vector<notifications::v1::NotificationRecord> records;
    bool more = false;
  };
  absl::StatusOr<Page> List(const std::string& username, int start, int count);

  static std::string ListKey(const std::string& username);
  static std::string MarkerKey(const std::string& username, const std::string& notification_id);

 private:
  redis::RedisPool& pool_;
  const InboxStoreOptions options_;
};

// Pure: the records to show, newest first: the list's, then the older inbox aggregate's that
// are not in the list, at most `keep` in all.
std::vector<notifications::v1::NotificationRecord> MergeInboxes(
    std::vector<notifications::v1::NotificationRecord> newer, const notifications::v1::Inbox& older,
    int keep);

}  // namespace choreo::notification
