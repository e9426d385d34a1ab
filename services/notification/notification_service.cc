#include "services/notification/notification_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "choreo/notifications/v1/events.pb.h"
#include "choreo/notifications/v1/state.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/users/v1/events.pb.h"
#include "saga/ids/trace_context.h"
#include "saga/proto_time/proto_time.h"
#include "saga/store/load_state.h"
#include "saga/topics/topics.h"
#include "saga/tracing/messaging.h"
#include "services/notification/core/notification_decisions.h"

namespace choreo::notification {
namespace {

constexpr char kOrderAggregate[] = "order";
constexpr char kProfileAggregate[] = "profile";
constexpr char kInboxAggregate[] = "inbox";

store::AggregateRef Ref(absl::string_view aggregate, const std::string& id) {
  return {absl::StrCat(kService, ".", aggregate), id};
}

}  // namespace

ProfileLookup::ProfileLookup(Options options) : options_(options), store_(options.redis) {
  static_cast<void>(codec_.Register<users::v1::ProfileRequested>());
}

absl::StatusOr<ProfileLookup::Seen> ProfileLookup::Read(const std::string& username) {
  absl::StatusOr<store::VersionedState<notifications::v1::ProfileView>> loaded;
  {
    absl::MutexLock lock(&store_mu_);
    loaded = store::LoadState<notifications::v1::ProfileView>(store_,
                                                               Ref(kProfileAggregate, username));
  }
  if (!loaded.ok()) return loaded.status();
  const notifications::v1::ProfileView& view = loaded->state;
  Seen seen;
  if (view.known()) seen.profile = view.profile();
  if (view.has_not_found_at()) seen.not_found_at = FromProtoTime(view.not_found_at());
  return seen;
}

absl::Status ProfileLookup::Ask(const std::string& username, const common::v1::EventMeta& cause) {
  users::v1::ProfileRequested request;
  request.set_username(username);
  request.set_requester(kService);
  // A child of the context of the event that needs the profile.
  tracing::Span send = tracing::StartSendSpan(
      tracing::TracerOr(options_.tracer), topics::kUsersProfile,
      cause.traceparent());
  {
    absl::MutexLock lock(&mu_);
    request.set_request_id(ids::RandomHex(random_, 16));
    codec::StampMeta(request,
                     {.event_id = request.request_id(),
                      .correlation_id = cause.correlation_id(),
                      .causation_id = cause.event_id(),
                      .traceparent = send.traceparent(),
                      .tracestate = cause.tracestate(),
                      .producer = kService,
                      .occurred_at = absl::Now()},
                     random_);
  }
  absl::StatusOr<KafkaRecord> record = codec_.Encode(request, topics::kUsersProfile, username);
  if (!record.ok()) return record.status();
  tracing::SetSendAttributes(send, *record);
  return options_.producer->ProduceAndWait(*record, options_.wait).status();
}

absl::StatusOr<users::v1::Profile> ProfileLookup::Get(const std::string& username,
                                                      const common::v1::EventMeta& cause) {
  absl::StatusOr<Seen> seen = Read(username);
  if (!seen.ok()) return seen.status();
  if (seen->profile) return *seen->profile;

  const absl::Time asked_at = absl::Now();
  const absl::Time deadline = asked_at + options_.wait;
  if (absl::Status asked = Ask(username, cause); !asked.ok()) return asked;
  while (true) {
    uint64_t changes;
    {
      absl::MutexLock lock(&mu_);
      changes = view_changes_;
    }
    seen = Read(username);
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
  if (record.topic != topics::kUsersRegistered && record.topic != topics::kUsersProfileResponse) {
    return;
  }
  absl::MutexLock lock(&mu_);
  ++view_changes_;
}

std::vector<std::string> ProfileViewTopics() {
  return {std::string(topics::kUsersRegistered), std::string(topics::kUsersProfileResponse)};
}

absl::StatusOr<saga::HandlerRegistry> ProfileViewRegistry() {
  saga::HandlerRegistry registry;
  using notifications::v1::ProfileView;
  using Result = absl::StatusOr<saga::Reaction<ProfileView>>;
  absl::Status added = registry.On<users::v1::UserRegistered, ProfileView>(
      kProfileAggregate, [](const users::v1::UserRegistered& e) { return e.username(); },
      [](const ProfileView& view, const users::v1::UserRegistered& e,
         const saga::EventContext&) -> Result { return ApplyProfile(view, e.profile()); });
  if (added.ok()) {
    added = registry.On<users::v1::ProfileUpdated, ProfileView>(
        kProfileAggregate, [](const users::v1::ProfileUpdated& e) { return e.username(); },
        [](const ProfileView& view, const users::v1::ProfileUpdated& e,
           const saga::EventContext&) -> Result { return ApplyProfile(view, e.profile()); });
  }
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

std::vector<std::string> StatusTopics() { return {std::string(topics::kOrdersStatus)}; }

absl::StatusOr<saga::HandlerRegistry> StatusRegistry(ProfileLookup* lookup) {
  saga::HandlerRegistry registry;
  using notifications::v1::NotifiedOrder;
  // Statuses that are never notified (PENDING_VALIDATION: half of all) cost nothing.
  absl::Status added = registry.OnlyFor<orders::v1::OrderStatusUpdated, NotifiedOrder>(
      [](const orders::v1::OrderStatusUpdated& e) {
        return NotificationTypeFor(e.status()).has_value();
      },
      kOrderAggregate, [](const orders::v1::OrderStatusUpdated& e) { return e.order_id(); },
      [lookup](const NotifiedOrder& order, const orders::v1::OrderStatusUpdated& status,
               const saga::EventContext& context)
          -> absl::StatusOr<saga::Reaction<NotifiedOrder>> {
        // Ask for the profile only when the decision can need it.
        saga::Reaction<NotifiedOrder> without =
            DecideNotification(order, status, users::v1::Profile(), context.now);
        if (!without.state.has_value()) return without;
        absl::StatusOr<users::v1::Profile> recipient = lookup->Get(status.username(), context.meta);
        if (!recipient.ok()) return recipient.status();
        return DecideNotification(order, status, *recipient, context.now);
      });
  if (!added.ok()) return added;
  return registry;
}

std::vector<std::string> SenderTopics() { return {std::string(topics::kNotificationsRequested)}; }

absl::StatusOr<saga::HandlerRegistry> SenderRegistry(NotificationChannel* channel) {
  saga::HandlerRegistry registry;
  using notifications::v1::Inbox;
  absl::Status added = registry.On<notifications::v1::NotificationRequested, Inbox>(
      kInboxAggregate, [](const notifications::v1::NotificationRequested& n) { return n.username(); },
      [channel](const Inbox& inbox, const notifications::v1::NotificationRequested& n,
                const saga::EventContext& context) -> absl::StatusOr<saga::Reaction<Inbox>> {
        if (AlreadyRecorded(inbox, n.notification_id())) return saga::Reaction<Inbox>();
        const DeliveryResult result = channel->Deliver(n);
        return RecordDelivery(inbox, n, result, context.now);
      });
  if (!added.ok()) return added;
  return registry;
}

NotificationAdminService::NotificationAdminService(redis::RedisConnection::Options redis)
    : store_(std::move(redis)) {}

grpc::Status NotificationAdminService::ListNotifications(
    grpc::ServerContext* /*context*/, const notifications::v1::ListNotificationsRequest* request,
    notifications::v1::ListNotificationsResponse* response) {
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
  absl::StatusOr<store::VersionedState<notifications::v1::Inbox>> loaded;
  {
    absl::MutexLock lock(&mu_);
    loaded = store::LoadState<notifications::v1::Inbox>(store_,
                                                         Ref(kInboxAggregate, request->username()));
  }
  if (!loaded.ok()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(loaded.status().message()));
  }
  const notifications::v1::Inbox& inbox = loaded->state;
  const int page_size = request->page_size() == 0 ? 20 : request->page_size();
  const int end = std::min(inbox.records_size(), start + page_size);
  for (int i = start; i < end; ++i) *response->add_notifications() = inbox.records(i);
  if (end < inbox.records_size()) response->set_next_page_token(absl::StrCat(end));
  return grpc::Status::OK;
}

}  // namespace choreo::notification
