#include "services/users/user_service.h"

#include "absl/strings/str_cat.h"
#include "contracts/topics/topics.h"
#include "platform/ids/trace_context.h"
#include "platform/logging/logger.h"
#include "platform/proto_time/proto_time.h"
#include "platform/tracing/messaging.h"
#include "saga/service/grpc_metadata.h"
#include "saga/service/grpc_status.h"
#include "saga/service/peer_auth.h"
#include "services/users/core/user_decisions.h"

namespace choreo::users {
namespace {

using service::MetadataValue;
using service::ToGrpc;

// The user a profile call acts for: the one the gateway asserts (service::CallingUser), which a
// request that names a user must match.
absl::StatusOr<std::string> ActingUser(const grpc::ServerContext& context,
                                       absl::string_view requested) {
  absl::StatusOr<std::string> caller = service::CallingUser(context);
  if (!caller.ok()) return caller.status();
  if (!requested.empty() && requested != *caller) {
    return absl::PermissionDeniedError("a user may read and change only their own profile");
  }
  return caller;
}

constexpr int kUpdateAttempts = 5;

}  // namespace

std::vector<std::string> UserTopics() { return {std::string(topics::kUsersProfile)}; }

absl::StatusOr<saga::HandlerRegistry> UserRegistry() {
  saga::HandlerRegistry registry;
  absl::Status added = registry.On<v1::ProfileRequested, v1::UserRecord>(
      kUserAggregate, [](const v1::ProfileRequested& request) { return request.username(); },
      [](const v1::UserRecord& user, const v1::ProfileRequested& request,
         const saga::EventContext&) -> absl::StatusOr<saga::Reaction<v1::UserRecord>> {
        return AnswerProfileRequest(user, request);
      });
  if (!added.ok()) return added;
  return registry;
}

UserServiceImpl::UserServiceImpl(UserStore* store, Outbox* outbox, const credentials::TokenIssuer* issuer,
                                 UserServiceOptions options)
    : store_(store), outbox_(outbox), issuer_(issuer), options_(options) {
  absl::BitGen random;
  decoy_hash_ = credentials::HashPassword(ids::RandomHex(random, 16), options_.password_hash).value_or("");
}

absl::Status UserServiceImpl::CommitAndPublish(const grpc::ServerContext& context,
                                               const std::string& username,
                                               int64_t expected_version,
                                               saga::Reaction<v1::UserRecord> change) {
  std::string correlation_id = MetadataValue(context, "x-correlation-id");
  if (correlation_id.empty()) {
    absl::MutexLock lock(&random_mu_);
    correlation_id = ids::RandomHex(random_, 16);
  }
  // The call's server span is the parent (the interceptor put it in the metadata).
  const publish::Origin origin =
      publish::Origin::Command(ids::CorrelationId(correlation_id), MetadataValue(context, "traceparent"));
  std::vector<KafkaRecord> records;
  std::vector<tracing::Span> sends;  // end when the events are published (or fail)
  std::string change_id;
  for (saga::OutgoingEvent& outgoing : change.events) {
    absl::StatusOr<publish::StampedEvent> stamped =
        options_.publisher->Stamp(*outgoing.event, outgoing.topic, outgoing.key, origin);
    if (!stamped.ok()) return stamped.status();
    if (change_id.empty()) change_id = codec::MetaOf(*outgoing.event).event_id();
    records.push_back(std::move(stamped->record));
    sends.push_back(std::move(stamped->send));
  }
  if (absl::Status committed = store_->Commit(username, expected_version, *change.state,
                                              change_id, records, absl::Now());
      !committed.ok()) {
    for (tracing::Span& send : sends) send.Discard();  // these events will never exist
    return committed;
  }
  // Committed: the change stands even if publishing fails now (the outbox relays it).
  if (absl::Status published = outbox_->Publish({username, change_id}, records); !published.ok()) {
    for (tracing::Span& send : sends) send.SetError(published.ToString());
    logging::Warn(absl::StrCat("publish deferred to the outbox relay: ", published.message()),
                  {{"username", username}});
  }
  return absl::OkStatus();
}

namespace {

// One of the service's password-check slots for as long as it lives, if one was free.
class PasswordCheckSlot {
 public:
  PasswordCheckSlot(std::atomic<int>& in_flight, int capacity) : in_flight_(in_flight) {
    int now = in_flight_.load();
    while (now < capacity && !in_flight_.compare_exchange_weak(now, now + 1)) {
    }
    taken_ = now < capacity;
  }
  ~PasswordCheckSlot() {
    if (taken_) in_flight_.fetch_sub(1);
  }
  PasswordCheckSlot(const PasswordCheckSlot&) = delete;
  PasswordCheckSlot& operator=(const PasswordCheckSlot&) = delete;

  // RESOURCE_EXHAUSTED when no slot was free.
  grpc::Status status() const {
    if (taken_) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "too many password checks in progress; retry in a moment");
  }

 private:
  std::atomic<int>& in_flight_;
  bool taken_ = false;
};

}  // namespace

grpc::Status UserServiceImpl::CountAttempt(const grpc::ServerContext& context,
                                           absl::string_view kind, const AttemptLimit& limit) {
  std::string client = service::AssertedClientAddress(
      service::AuthenticatedPeer(context), MetadataValue(context, service::kClientAddressMetadata));
  client = client.empty() ? "unknown" : AttemptBucket(client);
  absl::StatusOr<int64_t> attempt = store_->CountAttempt(kind, client, limit.window);
  if (!attempt.ok()) return ToGrpc(attempt.status());
  if (AttemptAllowed(*attempt, limit)) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      absl::StrCat("too many ", kind, " attempts from ", client,
                                   "; try again within ", absl::FormatDuration(limit.window)));
}

grpc::Status UserServiceImpl::Register(grpc::ServerContext* context,
                                       const v1::RegisterRequest* request,
                                       v1::RegisterResponse* response) {
  if (grpc::Status denied = service::RequirePeer(*context, {service::kGatewayPeer}); !denied.ok()) {
    return denied;
  }
  if (absl::Status valid = ValidateUsername(request->username()); !valid.ok()) return ToGrpc(valid);
  if (absl::Status valid = ValidatePassword(request->password(), request->username());
      !valid.ok()) {
    return ToGrpc(valid);
  }
  // The slot first: a refusal for a busy server costs the client none of its attempts.
  const PasswordCheckSlot slot(password_checks_in_flight_, options_.password_checks);
  if (!slot.status().ok()) return slot.status();
  if (grpc::Status counted = CountAttempt(*context, "registration", options_.registration_limit);
      !counted.ok()) {
    return counted;
  }
  absl::StatusOr<std::optional<StoredUser>> existing = store_->Get(request->username());
  if (!existing.ok()) return ToGrpc(existing.status());
  if (existing->has_value()) {
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                        absl::StrCat("username: ", request->username(), " is taken"));
  }
  absl::StatusOr<std::string> hash = credentials::HashPassword(request->password(), options_.password_hash);
  if (!hash.ok()) return ToGrpc(hash.status());
  absl::StatusOr<saga::Reaction<v1::UserRecord>> registered =
      users::Register({.username = request->username(),
                       .email = request->email(),
                       .display_name = request->display_name(),
                       .password_hash = *std::move(hash)},
                      absl::Now());
  if (!registered.ok()) return ToGrpc(registered.status());
  const v1::Profile profile = registered->state->profile();
  if (absl::Status done = CommitAndPublish(*context, request->username(), 0, *std::move(registered));
      !done.ok()) {
    return ToGrpc(done);
  }
  *response->mutable_profile() = profile;
  return grpc::Status::OK;
}

grpc::Status UserServiceImpl::Login(grpc::ServerContext* context, const v1::LoginRequest* request,
                                    v1::LoginResponse* response) {
  if (grpc::Status denied = service::RequirePeer(*context, {service::kGatewayPeer}); !denied.ok()) {
    return denied;
  }
  const grpc::Status refused(grpc::StatusCode::UNAUTHENTICATED, "wrong username or password");
  if (!ValidateUsername(request->username()).ok()) return refused;
  const PasswordCheckSlot slot(password_checks_in_flight_, options_.password_checks);
  if (!slot.status().ok()) return slot.status();
  if (grpc::Status counted = CountAttempt(*context, "login", options_.login_limit); !counted.ok()) {
    return counted;
  }
  absl::StatusOr<std::optional<StoredUser>> user = store_->Get(request->username());
  if (!user.ok()) return ToGrpc(user.status());
  if (!user->has_value()) {
    static_cast<void>(credentials::VerifyPassword(decoy_hash_, request->password()));
    return refused;
  }
  if (!credentials::VerifyPassword((*user)->record.password_hash(), request->password())) return refused;
  const v1::UserRecord& record = (*user)->record;
  credentials::TokenIssuer::Issued issued =
      issuer_->Issue(request->username(), {record.roles().begin(), record.roles().end()},
                     absl::Now());
  response->set_access_token(std::move(issued.token));
  response->set_token_type("Bearer");
  *response->mutable_expires_at() = ToProtoTime(issued.expires_at);
  return grpc::Status::OK;
}

grpc::Status UserServiceImpl::GetProfile(grpc::ServerContext* context,
                                         const v1::GetProfileRequest* request,
                                         v1::Profile* response) {
  absl::StatusOr<std::string> caller = ActingUser(*context, request->username());
  if (!caller.ok()) return ToGrpc(caller.status());
  absl::StatusOr<std::optional<StoredUser>> user = store_->Get(*caller);
  if (!user.ok()) return ToGrpc(user.status());
  if (!user->has_value()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such user");
  *response = (*user)->record.profile();
  return grpc::Status::OK;
}

grpc::Status UserServiceImpl::UpdateProfile(grpc::ServerContext* context,
                                            const v1::UpdateProfileRequest* request,
                                            v1::Profile* response) {
  absl::StatusOr<std::string> caller = ActingUser(*context, request->profile().username());
  if (!caller.ok()) return ToGrpc(caller.status());
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<std::optional<StoredUser>> user = store_->Get(*caller);
    if (!user.ok()) return ToGrpc(user.status());
    if (!user->has_value()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such user");
    absl::StatusOr<saga::Reaction<v1::UserRecord>> change = users::UpdateProfile(
        (*user)->record, request->profile(), request->update_mask(), absl::Now());
    if (!change.ok()) return ToGrpc(change.status());
    const v1::Profile profile = change->state->profile();
    absl::Status done = CommitAndPublish(*context, *caller, (*user)->version, *std::move(change));
    if (absl::IsAborted(done) && attempt < kUpdateAttempts) continue;  // raced another change
    if (!done.ok()) return ToGrpc(done);
    *response = profile;
    return grpc::Status::OK;
  }
}

}  // namespace choreo::users
