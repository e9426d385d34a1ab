#include "gateway/accounts.h"

#include <atomic>
#include <memory>
#include <utility>

#include "gateway/client_call.h"
#include "gateway/core/gateway_rules.h"
#include "gateway/event_feed.h"
#include "gateway/grpc_status.h"
#include "gateway/reactor_once.h"

namespace choreo::gateway {
namespace {

void CopyNotification(const notifications::v1::NotificationRecord& record,
                      gateway::v1::Notification& out) {
  out.set_notification_id(record.notification_id());
  out.set_order_id(record.order_id());
  out.set_type(record.type());
  out.set_channel(record.channel());
  out.set_subject(record.subject());
  out.set_body(record.body());
  out.set_delivered(record.delivered());
  out.set_attempts(record.attempts());
  out.set_failure_reason(record.failure_reason());
  *out.mutable_requested_at() = record.requested_at();
  *out.mutable_sent_at() = record.sent_at();
  out.set_correlation_id(record.correlation_id());
}

}  // namespace

grpc::ServerUnaryReactor* Accounts::Register(grpc::CallbackServerContext* context,
                                             const gateway::v1::RegisterRequest& request,
                                             users::v1::Profile* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto once = std::make_shared<Once>(reactor);
  const SagaIds<ids::Username> saga = RegistrationSagaIds(ids::Username(request.username()));
  auto profile = std::make_shared<users::v1::Profile>();
  auto left = std::make_shared<std::atomic<int>>(2);  // the user service's answer, the opening
  auto step_done = [once, left, profile, response] {
    if (left->fetch_sub(1) == 1) once->FinishWith([&] { *response = *profile; });
  };
  absl::StatusOr<uint64_t> waiter = deps_.waiters.Add(
      RegistrationWaitKey(saga.correlation_id), WaitDeadline(*context, deps_.max_wait),
      [step_done](const billing::v1::AccountOpened&) {
        step_done();
        return true;
      },
      [once] {
        once->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                  "the user exists but their account is not open yet; Login "
                                  "works, and the account opens shortly"));
      });
  if (!waiter.ok()) return once->Finish(ToGrpc(waiter.status())), reactor;

  auto call = std::make_shared<ServiceCall<users::v1::RegisterRequest, users::v1::RegisterResponse>>();
  call->request.set_username(request.username());
  call->request.set_password(request.password());
  call->request.set_email(request.email());
  call->request.set_display_name(request.display_name());
  PrepareServiceCall(*context, nullptr, call->context);
  call->context.AddMetadata("x-correlation-id", saga.correlation_id.value());
  deps_.users.async()->Register(
      &call->context, &call->request, &call->response,
      [waiters = &deps_.waiters, call, once, profile, step_done, id = *waiter](grpc::Status status) {
        if (!status.ok()) {
          if (waiters->Remove(id)) once->Finish(status);
          return;
        }
        *profile = call->response.profile();
        step_done();
      });
  return reactor;
}

grpc::ServerUnaryReactor* Accounts::Login(grpc::CallbackServerContext* context,
                                          const gateway::v1::LoginRequest& request,
                                          gateway::v1::LoginResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  users::v1::LoginRequest login;
  login.set_username(request.username());
  login.set_password(request.password());
  CallService<users::v1::LoginResponse>(
      *context, reactor, nullptr, std::move(login),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.users.async()->Login(call, request, answer, std::move(done));
      },
      [response](users::v1::LoginResponse& answer) {
        response->set_access_token(std::move(*answer.mutable_access_token()));
        response->set_token_type(answer.token_type());
        *response->mutable_expires_at() = answer.expires_at();
      });
  return reactor;
}

grpc::ServerUnaryReactor* Accounts::GetProfile(grpc::CallbackServerContext* context,
                                               const Caller& caller, users::v1::Profile* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  users::v1::GetProfileRequest get;
  get.set_username(caller.username.value());
  CallService<users::v1::Profile>(
      *context, reactor, &caller, std::move(get),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.users.async()->GetProfile(call, request, answer, std::move(done));
      },
      [response](users::v1::Profile& answer) { *response = std::move(answer); });
  return reactor;
}

grpc::ServerUnaryReactor* Accounts::UpdateProfile(grpc::CallbackServerContext* context,
                                                  const Caller& caller,
                                                  const gateway::v1::UpdateProfileRequest& request,
                                                  users::v1::Profile* response) {
  if (!request.profile().username().empty() &&
      request.profile().username() != caller.username.value()) {
    // Naming someone else is refused outright: a profile has no id to guess, so there is
    // nothing to hide by pretending it does not exist.
    return Refuse(context, grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                        "a user may change only their own profile"));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  users::v1::UpdateProfileRequest update;
  *update.mutable_profile() = request.profile();
  update.mutable_profile()->set_username(caller.username.value());
  *update.mutable_update_mask() = request.update_mask();
  CallService<users::v1::Profile>(
      *context, reactor, &caller, std::move(update),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.users.async()->UpdateProfile(call, request, answer, std::move(done));
      },
      [response](users::v1::Profile& answer) { *response = std::move(answer); });
  return reactor;
}

grpc::ServerUnaryReactor* Accounts::ListNotifications(
    grpc::CallbackServerContext* context, const Caller& caller,
    const gateway::v1::ListNotificationsRequest& request,
    gateway::v1::ListNotificationsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  notifications::v1::ListNotificationsRequest list;
  list.set_username(caller.username.value());
  list.set_page_size(request.page_size());
  list.set_page_token(request.page_token());
  CallService<notifications::v1::ListNotificationsResponse>(
      *context, reactor, &caller, std::move(list),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.notifications.async()->ListNotifications(call, request, answer, std::move(done));
      },
      [response](notifications::v1::ListNotificationsResponse& answer) {
        for (const notifications::v1::NotificationRecord& record : answer.notifications()) {
          CopyNotification(record, *response->add_notifications());
        }
        response->set_next_page_token(answer.next_page_token());
      });
  return reactor;
}

grpc::ServerUnaryReactor* Accounts::GetBalance(grpc::CallbackServerContext* context,
                                               const Caller& caller, gateway::v1::Balance* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  billing::v1::GetBalanceRequest get;
  get.set_username(caller.username.value());
  CallService<billing::v1::Balance>(
      *context, reactor, &caller, std::move(get),
      [this](auto* call, auto* request, auto* answer, auto done) {
        deps_.billing_admin.async()->GetBalance(call, request, answer, std::move(done));
      },
      [response](billing::v1::Balance& answer) {
        response->set_username(answer.username());
        *response->mutable_balance() = answer.balance();
      });
  return reactor;
}

}  // namespace choreo::gateway
