#pragma once

// The notification service's wiring. Three consumer groups, each its own saga runtime; every
// decision is pure, the I/O runs in effects after the commit:
//
//   choreo-notification-profiles  users.snapshots, users.profile.response -> the local profile
//                                 view (notification.profile:<username>): a projection of the
//                                 compacted users.snapshots, backfilled from its start by a new
//                                 group; ready once caught up. A miss asks users.profile.
//   choreo-notification           orders.status -> one NotificationRequested for the recipient
//                                 from the local view (on a miss it asks on users.profile and
//                                 waits, bounded), an effect alone that stores nothing: its event
//                                 id derives from (order, status), so repeats are one request.
//   choreo-notification-sender    notifications.requested -> delivery through a channel and
//                                 NotificationSent, an effect alone (its completion record, on
//                                 notification.inbox:<username>, is all the runtime stores).
//                                 notifications.sent -> the outcome recorded in the user's inbox
//                                 (InboxStore: its own marker, one Lua step).
//
// Plus NotificationAdmin.ListNotifications over the inbox (the gateway's ListNotifications).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "choreo/notifications/v1/admin.grpc.pb.h"
#include "choreo/users/v1/user.pb.h"
#include "edges/redis/redis_connection.h"
#include "saga/publish/publisher.h"
#include "saga/runtime/handler_registry.h"
#include "saga/runtime/saga_runtime.h"
#include "saga/store/redis_aggregate_store.h"
#include "services/notification/channels/notification_channel.h"
#include "services/notification/inbox_store.h"

namespace choreo::notification {

inline constexpr char kService[] = "notification";

// ProfileLookup: a user's profile from the local view, asking the user service on a miss.
// Used by an effect after the commit: Get() blocks its caller (a runtime worker) for at most
// `wait` past the request's acknowledgement; it returns UNAVAILABLE when no answer came in time
// (the runtime retries the effect with backoff, asking again), NOT_FOUND when the user service
// answered that no such user exists (the record is dead-lettered with that reason). It is also
// the saga observer that wakes waiters when the view changes in this process; changes made by
// another instance are seen by re-reading every `recheck`.
// Thread-safe.
class ProfileLookup final : public saga::SagaObserver {
 public:
  struct Options {
    redis::RedisConnection::Options redis;
    absl::Duration wait = absl::Seconds(2);
    absl::Duration recheck = absl::Milliseconds(100);
  };
  explicit ProfileLookup(Options options);

  // On a miss, ProfileRequested goes out through `publisher` from `origin` (the effect that
  // needs the profile: its saga and trace).
  absl::StatusOr<users::v1::Profile> Get(const std::string& username,
                                         const publish::Origin& origin,
                                         const publish::Publisher& publisher);
  // Get for several users (`origins[i]` asks for `usernames[i]`): the profiles the view holds
  // are read in one round trip, and each one it lacks is then asked for as Get does, one after
  // the other. One result per username, in order.
  std::vector<absl::StatusOr<users::v1::Profile>> GetMany(
      const std::vector<std::string>& usernames, const std::vector<const publish::Origin*>& origins,
      const publish::Publisher& publisher);

  void OnRecordDone(const KafkaRecord& record, absl::string_view event_type, Outcome outcome,
                    absl::Duration handling, absl::Duration queued) override;

 private:
  struct Seen {
    std::optional<users::v1::Profile> profile;
    absl::Time not_found_at = absl::InfinitePast();
  };
  absl::StatusOr<Seen> Read(const std::string& username);  // ReadMany of one
  // Each user's view, in one round trip; a view that cannot be parsed fails alone.
  absl::StatusOr<std::vector<absl::StatusOr<Seen>>> ReadMany(
      const std::vector<std::string>& usernames);
  // For a user the view lacks: asks the user service and waits for its answer to land.
  absl::StatusOr<users::v1::Profile> AskAndWait(const std::string& username,
                                                const publish::Origin& origin,
                                                const publish::Publisher& publisher);
  absl::Status Ask(const std::string& username, const publish::Origin& origin,
                   const publish::Publisher& publisher);

  const Options options_;
  absl::Mutex store_mu_;
  store::RedisAggregateStore store_ ABSL_GUARDED_BY(store_mu_);
  absl::Mutex mu_;
  uint64_t view_changes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
};

// The three groups' topics and handlers (see the file comment).
std::vector<std::string> ProfileViewTopics();
absl::StatusOr<saga::HandlerRegistry> ProfileViewRegistry();
// Rebuilds the local profile view from users.snapshots, online (what `choreo-views --view
// profiles` runs): the view's own handlers (ProfileViewRegistry) in a saga runtime of a consumer
// group of its own (`options.group_id`, new: it starts at the topic's start) until it has caught
// up, then stops. The runtime's de-duplication skips snapshots the view already holds: after a
// Redis loss every profile is applied again; an intact view costs one check per snapshot.
// `progress` gets the group's remaining lag about once a second. DEADLINE_EXCEEDED after `timeout`.
absl::Status RebuildProfileView(saga::SagaRuntimeOptions options, absl::Duration timeout,
                                const std::function<void(int64_t lag)>& progress);

std::vector<std::string> StatusTopics();
absl::StatusOr<saga::HandlerRegistry> StatusRegistry(ProfileLookup* lookup);
std::vector<std::string> SenderTopics();
absl::StatusOr<saga::HandlerRegistry> SenderRegistry(NotificationChannel* channel,
                                                     InboxStore* inbox);

// NotificationAdmin over the inbox in Redis. Thread-safe.
class NotificationAdminService final : public notifications::v1::NotificationAdmin::Service {
 public:
  explicit NotificationAdminService(InboxStore& inbox) : inbox_(inbox) {}
  grpc::Status ListNotifications(grpc::ServerContext* context,
                                 const notifications::v1::ListNotificationsRequest* request,
                                 notifications::v1::ListNotificationsResponse* response) override;

 private:
  InboxStore& inbox_;
};

}  // namespace choreo::notification
