#pragma once

// UserStore: the user service's records in Redis, and the events each change must publish.
//
// A user is the saga aggregate users.user:<username> (state:{users.user:<name>}), written
// through the same store as the saga runtime's, so its ProfileRequested handler reads the very
// same record. Every change commits, in ONE Lua step, the new record and a handled marker that
// holds the change's encoded events (the outbox). A schedule (OutboxSchedule: sorted sets sharded
// by username) indexes changes whose events the broker has not acknowledged yet; the Outbox
// relays them. Together: a change that was committed is published at least once, with the same
// event ids every time.
//
// Thread-safe (one guarded connection pair). Transport failures are UNAVAILABLE.

#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "choreo/users/v1/state.pb.h"
#include "edges/redis/redis_connection.h"
#include "edges/redis/sharded_schedule.h"
#include "platform/record/record.h"
#include "saga/publish/publisher.h"
#include "saga/store/handled_outcome.h"
#include "saga/store/redis_aggregate_store.h"

namespace choreo::users {

inline constexpr char kService[] = "users";
inline constexpr char kUserAggregate[] = "user";

struct StoredUser {
  v1::UserRecord record;
  int64_t version = 0;
};

// A committed change whose events may not be published yet.
struct PendingChange {
  std::string username;
  std::string change_id;
  std::string index_key;  // the key it was found in (PendingSince); empty: its username's shard
};

// Changes to publish: 16 sorted sets "users:outbox:{users:outbox:<n>}" by username; the unsharded
// "users:outbox" of earlier releases is still relayed.
redis::ShardedSchedule OutboxSchedule();

class UserStore {
 public:
  explicit UserStore(redis::RedisConnection::Options redis,
                     absl::Duration marker_retention = absl::Hours(24 * 7),
                     store::MarkerHeaders marker_headers = store::MarkerHeaders::kDerived);

  // nullopt for an unknown user.
  absl::StatusOr<std::optional<StoredUser>> Get(const std::string& username);

  // Writes `record` if the user's version is still `expected_version` (0: a new user) together
  // with `events` (the outbox), under `change_id` (unique per change). ALREADY_EXISTS when
  // creating a user that exists, ABORTED when an update lost a race (reload and retry).
  absl::Status Commit(const std::string& username, int64_t expected_version,
                      const v1::UserRecord& record, const std::string& change_id,
                      const std::vector<KafkaRecord>& events, absl::Time now);

  // The events of a committed change (from its marker); NOT_FOUND once the marker expired.
  absl::StatusOr<std::vector<KafkaRecord>> ChangeEvents(const PendingChange& change);
  absl::Status MarkPublished(const PendingChange& change);
  // Changes indexed at or before `cutoff`, oldest first per shard, at most `limit` per shard; none
  // while another instance relays (it holds the schedule's lease).
  absl::StatusOr<std::vector<PendingChange>> PendingSince(absl::Time cutoff, int limit);
  // Gives the outbox's lease up (after a failed relay pass), for another instance to relay.
  absl::Status ReleaseRelay();

  // Counts one attempt of `kind` ("login", "registration") from `client` (an address) in the
  // current fixed window of `window` and returns the count (1 for the window's first attempt).
  absl::StatusOr<int64_t> CountAttempt(absl::string_view kind, const std::string& client,
                                       absl::Duration window);

 private:
  absl::Mutex mu_;
  store::RedisAggregateStore store_ ABSL_GUARDED_BY(mu_);
  redis::RedisConnection redis_ ABSL_GUARDED_BY(mu_);
  const absl::Duration marker_retention_;
  const store::MarkerHeaders marker_headers_;
  const redis::ShardedSchedule outbox_;
  const std::string holder_;  // this instance, to the outbox's lease
};

// Publishes changes' events and relays the ones a failed publish (or a crash) left behind.
// Start/Stop from one owning thread; Publish from any thread.
class Outbox {
 public:
  struct Options {
    absl::Duration relay_every = absl::Seconds(1);
    // Changes younger than this are left to the request that made them.
    absl::Duration grace = absl::Seconds(5);
  };
  // Publishes through `publisher` (its ack timeout and observers apply). Not owned.
  Outbox(UserStore* store, const publish::Publisher* publisher, Options options);
  ~Outbox();

  // Publishes `events` and waits for the broker; on success marks the change published. On
  // failure the change stays indexed and the relay publishes it later.
  absl::Status Publish(const PendingChange& change, const std::vector<KafkaRecord>& events);
  // Publishes every change indexed before now - grace, if this instance holds the outbox's
  // lease (one instance relays at a time). Returns how many were published.
  absl::StatusOr<int> RelayOnce(absl::Time now);

  void Start();
  void Stop() noexcept;

 private:
  absl::StatusOr<int> RelayDue(absl::Time now);  // RelayOnce, but the lease kept on failure
  UserStore* store_;
  const publish::Publisher* publisher_;
  const Options options_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread relay_;
};

}  // namespace choreo::users
