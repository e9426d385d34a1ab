#include "services/notification/notification_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "choreo/notifications/v1/events.pb.h"
#include "choreo/notifications/v1/state.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/users/v1/events.pb.h"
#include "contracts/topics/topics.h"
#include "platform/ids/trace_context.h"
#include "platform/logging/logger.h"
#include "platform/proto_time/proto_time.h"
#include "saga/service/peer_auth.h"
#include "saga/store/load_state.h"
#include "services/notification/core/notification_decisions.h"

namespace choreo::notification {
namespace {

constexpr char kOrderAggregate[] = "order";
constexpr char kProfileAggregate[] = "profile";
constexpr char kInboxAggregate[] = "inbox";

store::AggregateRef Ref(absl::string_view aggregate, const std::string& id) {
  return store::ServiceAggregate(kService, aggregate, id);
}

}  // namespace

ProfileLookup::ProfileLookup(Options options) : options_(options), store_(options.redis) {}

absl::StatusOr<ProfileLookup::Seen> ProfileLookup::Read(const std::string& username) {
  absl::StatusOr<std::vector<absl::StatusOr<Seen>>> seen = ReadMany({username});
  if (!seen.ok()) return seen.status();
  return std::move(seen->front());
}

absl::StatusOr<std::vector<absl::StatusOr<ProfileLookup::Seen>>> ProfileLookup::ReadMany(
    const std::vector<std::string>& usernames) {
  std::vector<store::AggregateRef> views;
  views.reserve(usernames.size());
  for (const std::string& username : usernames) views.push_back(Ref(kProfileAggregate, username));
  absl::StatusOr<std::vector<absl::StatusOr<store::VersionedState<notifications::v1::ProfileView>>>>
      loaded;
  {
    absl::MutexLock lock(&store_mu_);
    loaded = store::LoadStates<notifications::v1::ProfileView>(store_, views);
  }
  if (!loaded.ok()) return loaded.status();
  std::vector<absl::StatusOr<Seen>> seen;
  seen.reserve(loaded->size());
  for (absl::StatusOr<store::VersionedState<notifications::v1::ProfileView>>& view : *loaded) {
    if (!view.ok()) {
      seen.push_back(view.status());
      continue;
    }
    Seen one;
    if (view->state.known()) one.profile = view->state.profile();
    if (view->state.has_not_found_at())
      one.not_found_at = FromProtoTime(view->state.not_found_at());
    seen.push_back(std::move(one));
  }
  return seen;
}

absl::Status ProfileLookup::Ask(const std::string& username, const publish::Origin& origin,
                                const publish::Publisher& publisher) {
  users::v1::ProfileRequested request;
  request.set_username(username);
  request.set_requester(kService);
  publish::Origin asking = origin;
  {
    absl::MutexLock lock(&mu_);
    request.set_request_id(ids::RandomHex(random_, 16));
  }
  asking.event_id = ids::EventId(request.request_id());
  return publisher.Publish(request, topics::kUsersProfile, username, asking);
}

absl::StatusOr<users::v1::Profile> ProfileLookup::Get(const std::string& username,
                                                      const publish::Origin& origin,
                                                      const publish::Publisher& publisher) {
  return std::move(GetMany({username}, {&origin}, publisher).front());
}

std::vector<absl::StatusOr<users::v1::Profile>> ProfileLookup::GetMany(
    const std::vector<std::string>& usernames, const std::vector<const publish::Origin*>& origins,
    const publish::Publisher& publisher) {
  std::vector<absl::StatusOr<users::v1::Profile>> profiles;
  profiles.reserve(usernames.size());
  absl::StatusOr<std::vector<absl::StatusOr<Seen>>> seen = ReadMany(usernames);
  for (size_t i = 0; i < usernames.size(); ++i) {
    if (!seen.ok()) {
      profiles.push_back(seen.status());
    } else if (!(*seen)[i].ok()) {
      profiles.push_back((*seen)[i].status());
    } else if ((*seen)[i]->profile) {
      profiles.push_back(*(*seen)[i]->profile);
    } else {
      profiles.push_back(AskAndWait(usernames[i], *origins[i], publisher));
    }
  }
  return profiles;
}

absl::StatusOr<users::v1::Profile> ProfileLookup::AskAndWait(const std::string& username,
                                                             const publish::Origin& origin,
                                                             const publish::Publisher& publisher) {
  const absl::Time asked_at = absl::Now();
  if (absl::Status asked = Ask(username, origin, publisher); !asked.ok()) return asked;
  const absl::Time deadline = absl::Now() + options_.wait;
  while (true) {
    uint64_t changes;
    {
      absl::MutexLock lock(&mu_);
      changes = view_changes_;
    }
    absl::StatusOr<Seen> seen = Read(username);
    if (!seen.ok()) return seen.status();
    if (seen->profile) return *seen->profile;
    if (seen->not_found_at >= asked_at) {
      return absl::NotFoundError(absl::StrCat("the user service knows no user ", username));
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::UnavailableError(absl::StrCat("no profile for ", username, " within ",
                                                 absl::FormatDuration(options_.wait),
                                                 " of asking users.profile"));
    }
    absl::MutexLock lock(&mu_);
    auto changed = [this, changes]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return view_changes_ != changes;
    };
    mu_.AwaitWithTimeout(absl::Condition(&changed),
                         std::min(options_.recheck, deadline - now));
  }
}

void ProfileLookup::OnRecordDone(const KafkaRecord& record, absl::string_view /*event_type*/,
                                 Outcome /*outcome*/, absl::Duration /*handling*/,
                                 absl::Duration /*queued*/) {
  if (record.topic != topics::kUsersSnapshots && record.topic != topics::kUsersProfileResponse) {
    return;
  }
  absl::MutexLock lock(&mu_);
  ++view_changes_;
}

std::vector<std::string> ProfileViewTopics() {
  return {std::string(topics::kUsersSnapshots), std::string(topics::kUsersProfileResponse)};
}

absl::StatusOr<saga::HandlerRegistry> ProfileViewRegistry() {
  saga::HandlerRegistry registry;
  using notifications::v1::ProfileView;
  using Result = absl::StatusOr<saga::Reaction<ProfileView>>;
  absl::Status added = registry.On<users::v1::ProfileSnapshot, ProfileView>(
      kProfileAggregate, [](const users::v1::ProfileSnapshot& e) { return e.username(); },
      [](const ProfileView& view, const users::v1::ProfileSnapshot& e,
         const saga::EventContext&) -> Result { return ApplyProfile(view, e.profile()); });
  if (added.ok()) {
    added = registry.On<users::v1::ProfileResponse, ProfileView>(
        kProfileAggregate, [](const users::v1::ProfileResponse& e) { return e.username(); },
        [](const ProfileView& view, const users::v1::ProfileResponse& e,
           const saga::EventContext& context) -> Result {
          return ApplyProfileResponse(view, e, context.now);
        });
  }
  if (!added.ok()) return added;
  return registry;
}

absl::Status RebuildProfileView(saga::SagaRuntimeOptions options, absl::Duration timeout,
                                const std::function<void(int64_t lag)>& progress) {
  absl::StatusOr<saga::HandlerRegistry> registry = ProfileViewRegistry();
  if (!registry.ok()) return registry.status();
  options.topics = {std::string(topics::kUsersSnapshots)};
  options.consumer_overrides.emplace_back("auto.offset.reset", "earliest");
  options.ready_once_caught_up = true;
  absl::StatusOr<std::unique_ptr<saga::SagaRuntime>> runtime =
      saga::SagaRuntime::Create(std::move(options), *std::move(registry));
  if (!runtime.ok()) return runtime.status();
  if (absl::Status started = (*runtime)->Start(); !started.ok()) return started;
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status caught_up = (*runtime)->Readiness();
  while (!caught_up.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Seconds(1));  // the progress report's pace
    int64_t lag = 0;
    for (const kafka::PartitionLag& partition : (*runtime)->ConsumerLag()) {
      lag += std::max<int64_t>(0, partition.lag);
    }
    if (progress) progress(lag);
    caught_up = (*runtime)->Readiness();
  }
  (*runtime)->Stop();
  if (!caught_up.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat("the profile view did not catch up in time: ", caught_up.message()));
  }
  if (progress) progress(0);
  return absl::OkStatus();
}

std::vector<std::string> StatusTopics() { return {std::string(topics::kOrdersStatus)}; }

namespace {

// The notification request a status calls for, for `recipient`, stamped for
// notifications.requested, or nothing (a recipient who wants none).
absl::StatusOr<std::optional<publish::StampedEvent>> StampedRequest(
    const orders::v1::OrderStatusUpdated& status, const users::v1::Profile& recipient,
    const saga::EffectContext& context) {
  std::optional<notifications::v1::NotificationRequested> request =
      NotificationFor(status, recipient, context.now);
  if (!request) return std::nullopt;
  publish::Origin origin = context.origin;
  origin.event_id = ids::EventId(request->notification_id());
  absl::StatusOr<publish::StampedEvent> stamped = context.publisher.Stamp(
      *request, topics::kNotificationsRequested, status.username(), origin);
  if (!stamped.ok()) return stamped.status();
  return std::optional<publish::StampedEvent>(*std::move(stamped));
}

// The requests a batch of statuses calls for, their recipients read in one round trip
// (ProfileLookup::GetMany); statuses that are never notified cost nothing.
absl::StatusOr<std::vector<publish::StampedEvent>> StampedRequests(
    ProfileLookup* lookup, const std::vector<const orders::v1::OrderStatusUpdated*>& statuses,
    const std::vector<const saga::EffectContext*>& contexts) {
  std::vector<size_t> notified;
  std::vector<std::string> usernames;
  std::vector<const publish::Origin*> origins;
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (!NotificationTypeFor(statuses[i]->status())) continue;
    notified.push_back(i);
    usernames.push_back(statuses[i]->username());
    origins.push_back(&contexts[i]->origin);
  }
  std::vector<publish::StampedEvent> requests;
  if (notified.empty()) return requests;
  std::vector<absl::StatusOr<users::v1::Profile>> recipients =
      lookup->GetMany(usernames, origins, contexts.front()->publisher);
  for (size_t k = 0; k < notified.size(); ++k) {
    absl::StatusOr<std::optional<publish::StampedEvent>> request =
        recipients[k].ok()
            ? StampedRequest(*statuses[notified[k]], *recipients[k], *contexts[notified[k]])
            : recipients[k].status();
    if (!request.ok()) {
      for (publish::StampedEvent& stamped : requests) stamped.send.Discard();
      return request.status();
    }
    if (request->has_value()) requests.push_back(**std::move(request));
  }
  return requests;
}

}  // namespace

absl::StatusOr<saga::HandlerRegistry> StatusRegistry(ProfileLookup* lookup) {
  saga::HandlerRegistry registry;
  using orders::v1::OrderStatusUpdated;
  // An effect alone, free to repeat: a request's event id is its notification id, derived from
  // the order and the status, so every repeat of a change (a re-delivery, the same change under
  // another event id) is the same event downstream, which the sender delivers once. Nothing is
  // stored here. For a batch of statuses, every request goes out at once and is acknowledged
  // together. Statuses that are never notified (REFUND_PENDING; PENDING_VALIDATION, which only an
  // order service of before 2026-12-03 publishes) cost nothing.
  absl::Status added = registry.Effect<OrderStatusUpdated>(
      kOrderAggregate, [](const OrderStatusUpdated& e) { return e.order_id(); },
      "notification request",
      [lookup](const OrderStatusUpdated& status, const saga::EffectContext& context) {
        absl::StatusOr<std::vector<publish::StampedEvent>> requests =
            StampedRequests(lookup, {&status}, {&context});
        if (!requests.ok()) return requests.status();
        if (requests->empty()) return absl::OkStatus();
        return context.publisher.SendAndWait(*std::move(requests));
      },
      [lookup](const std::vector<const OrderStatusUpdated*>& statuses,
               const std::vector<const saga::EffectContext*>& contexts) -> absl::Status {
        absl::StatusOr<std::vector<publish::StampedEvent>> requests =
            StampedRequests(lookup, statuses, contexts);
        if (!requests.ok()) return requests.status();
        if (requests->empty()) return absl::OkStatus();
        return contexts.front()->publisher.SendAndWait(*std::move(requests));
      },
      saga::HandlerRegistry::Repeats::kFreely);
  // A refused cancellation is the caller's answer, not news for the user.
  if (added.ok()) added = registry.Ignore<orders::v1::OrderCancellationRefused>();
  if (!added.ok()) return added;
  return registry;
}

std::vector<std::string> SenderTopics() {
  return {std::string(topics::kNotificationsRequested), std::string(topics::kNotificationsSent)};
}

namespace {

// Delivers `n` through its channel and stamps its outcome for notifications.sent.
absl::StatusOr<publish::StampedEvent> DeliverAndStamp(
    NotificationChannel* channel, const notifications::v1::NotificationRequested& n,
    const saga::EffectContext& context) {
  const DeliveryResult result = channel->Deliver(n);
  if (!result.detail.empty()) {
    logging::Warn(absl::StrCat("delivery failed: ", result.detail),
                  {{"notification_id", n.notification_id()}});
  }
  notifications::v1::NotificationSent sent = SentFor(n, result, context.now);
  publish::Origin origin = context.origin;
  origin.event_id = ids::EventId(SentEventIdFor(n.notification_id()));
  return context.publisher.Stamp(sent, topics::kNotificationsSent, n.username(), origin);
}

}  // namespace

absl::StatusOr<saga::HandlerRegistry> SenderRegistry(NotificationChannel* channel,
                                                     InboxStore* inbox) {
  saga::HandlerRegistry registry;
  using notifications::v1::NotificationRequested;
  using notifications::v1::NotificationSent;
  const auto user_of = [](const auto& event) { return event.username(); };
  // Delivery: an effect alone, once per notification id (its completion record). A batch's
  // outcomes go out at once and are acknowledged together.
  absl::Status added = registry.Effect<NotificationRequested>(
      kInboxAggregate, user_of, "delivery",
      [channel](const NotificationRequested& n, const saga::EffectContext& context) {
        absl::StatusOr<publish::StampedEvent> sent = DeliverAndStamp(channel, n, context);
        if (!sent.ok()) return sent.status();
        std::vector<publish::StampedEvent> one;
        one.push_back(*std::move(sent));
        return context.publisher.SendAndWait(std::move(one));
      },
      [channel](const std::vector<const NotificationRequested*>& requests,
                const std::vector<const saga::EffectContext*>& contexts) -> absl::Status {
        std::vector<publish::StampedEvent> outcomes;
        for (size_t i = 0; i < requests.size(); ++i) {
          absl::StatusOr<publish::StampedEvent> sent =
              DeliverAndStamp(channel, *requests[i], *contexts[i]);
          if (!sent.ok()) {
            for (publish::StampedEvent& stamped : outcomes) stamped.send.Discard();
            return sent.status();
          }
          outcomes.push_back(*std::move(sent));
        }
        return contexts.front()->publisher.SendAndWait(std::move(outcomes));
      },
      saga::HandlerRegistry::Repeats::kOnce);
  if (added.ok()) {
    // The inbox records the outcome with its own marker, in the same Lua step: an effect alone
    // that needs no completion record of the runtime's. A batch's outcomes in one round trip.
    added = registry.Effect<NotificationSent>(
        kInboxAggregate, user_of, "inbox",
        [inbox](const NotificationSent& sent, const saga::EffectContext&) -> absl::Status {
          return inbox->Record(sent.username(), InboxRecordFor(sent)).status();
        },
        [inbox](const std::vector<const NotificationSent*>& outcomes,
                const std::vector<const saga::EffectContext*>&) -> absl::Status {
          std::vector<InboxStore::Entry> entries;
          entries.reserve(outcomes.size());
          for (const NotificationSent* sent : outcomes) {
            entries.push_back({sent->username(), InboxRecordFor(*sent)});
          }
          return inbox->RecordMany(entries).status();
        },
        saga::HandlerRegistry::Repeats::kFreely);
  }
  if (!added.ok()) return added;
  return registry;
}

grpc::Status NotificationAdminService::ListNotifications(
    grpc::ServerContext* context, const notifications::v1::ListNotificationsRequest* request,
    notifications::v1::ListNotificationsResponse* response) {
  if (grpc::Status denied = service::RequirePeer(*context, service::kAdminReaders); !denied.ok()) {
    return denied;
  }
  if (request->username().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "username: required");
  }
  if (request->page_size() < 0 || request->page_size() > 100) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_size: must be 0..100");
  }
  int start = 0;
  if (!request->page_token().empty() &&
      (!absl::SimpleAtoi(request->page_token(), &start) || start < 0)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "page_token: not a token from a previous page");
  }
  const int page_size = request->page_size() == 0 ? 20 : request->page_size();
  absl::StatusOr<InboxStore::Page> page = inbox_.List(request->username(), start, page_size);
  if (!page.ok()) {
    // A record that does not parse is ours to fix, not the caller's to retry.
    return grpc::Status(page.status().code() == absl::StatusCode::kDataLoss
                            ? grpc::StatusCode::DATA_LOSS
                            : grpc::StatusCode::UNAVAILABLE,
                        std::string(page.status().message()));
  }
  for (notifications::v1::NotificationRecord& record : page->records) {
    *response->add_notifications() = std::move(record);
  }
  if (page->more) response->set_next_page_token(absl::StrCat(int64_t{start} + page_size));
  return grpc::Status::OK;
}

}  // namespace choreo::notification
