#pragma once

// The gateway's public gRPC API (proto/choreo/gateway/v1/gateway.proto) on the callback API.
// Reactors never block: Redis work runs on a WorkPool, waits are Waiters completed by the
// EventFeed or by their deadline, calls to the services use async stubs.
//
// Caller identity: every call but Register and Login needs a valid bearer token (auth.h). A
// user reaches only their own orders, balance, profile and notifications: the requests name no
// user, and another user's order id is NOT_FOUND (as if it did not exist, so ids leak nothing).

#include <memory>
#include <string>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "choreo/billing/v1/admin.grpc.pb.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "choreo/notifications/v1/admin.grpc.pb.h"
#include "choreo/orders/v1/admin.grpc.pb.h"
#include "choreo/users/v1/user_service.grpc.pb.h"
#include "gateway/auth.h"
#include "gateway/order_cache.h"
#include "gateway/waiters.h"
#include "gateway/work_pool.h"
#include "saga/codec/event_codec.h"
#include "saga/kafka/kafka_producer.h"
#include "saga/metrics/metrics.h"
#include "saga/tracing/tracer.h"

namespace choreo::gateway {

grpc::Status ToGrpc(const absl::Status& status);

// The gateway's view of whole sagas, from CreateOrder's side (each saga counted once, by the
// instance its client called):
//   choreo_sagas_completed_total{outcome}   outcome: the terminal status (paid,
//                                           insufficient_funds, rejected, expired) or timeout
//   choreo_saga_duration_seconds{outcome}   from CreateOrder's arrival to the terminal status
class SagaOutcomeMetrics {
 public:
  explicit SagaOutcomeMetrics(metrics::Metrics& metrics);
  void Record(absl::string_view outcome, absl::Duration took);

 private:
  prometheus::Family<prometheus::Counter>& completed_;
  prometheus::Family<prometheus::Histogram>& duration_;
};

struct GatewayDeps {
  OrderCache* cache;
  Waiters* waiters;
  WorkPool* pool;
  kafka::KafkaProducer* producer;
  orders::v1::OrderAdmin::Stub* order_admin;
  billing::v1::BillingAdmin::Stub* billing_admin;
  users::v1::UserService::Stub* users;
  notifications::v1::NotificationAdmin::Stub* notifications;
  const Authenticator* auth;
  absl::Duration max_wait = absl::Seconds(30);  // CreateOrder's server-side limit
  const tracing::Tracer* tracer = nullptr;       // the "send" spans of published commands
  SagaOutcomeMetrics* saga_metrics = nullptr;    // CreateOrder's end-to-end outcomes
};

// Publishes `event` (meta filled in here) and reports delivery failures to `on_error`. Each
// publication is a "send <topic>" PRODUCER span, a child of `client_traceparent` (the call's
// server span), whose context the event carries.
class CommandPublisher {
 public:
  CommandPublisher(kafka::KafkaProducer* producer, const tracing::Tracer* tracer)
      : producer_(producer), tracer_(tracing::TracerOr(tracer)) {}
  void Publish(google::protobuf::Message& event, absl::string_view topic, std::string key,
               const std::string& event_id, const std::string& correlation_id,
               absl::string_view client_traceparent, std::function<void(absl::Status)> on_error);

 private:
  kafka::KafkaProducer* producer_;
  const tracing::Tracer& tracer_;
  codec::EventCodec codec_;
  absl::Mutex random_mu_;
  absl::BitGen random_ ABSL_GUARDED_BY(random_mu_);
};

class OrderServiceImpl final : public gateway::v1::OrderService::CallbackService {
 public:
  explicit OrderServiceImpl(GatewayDeps deps) : deps_(deps), publisher_(deps.producer, deps.tracer) {}

  grpc::ServerUnaryReactor* CreateOrder(grpc::CallbackServerContext* context,
                                        const gateway::v1::CreateOrderRequest* request,
                                        gateway::v1::Order* response) override;
  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* context,
                                     const gateway::v1::GetOrderRequest* request,
                                     gateway::v1::Order* response) override;
  grpc::ServerUnaryReactor* ListOrders(grpc::CallbackServerContext* context,
                                       const gateway::v1::ListOrdersRequest* request,
                                       gateway::v1::ListOrdersResponse* response) override;
  grpc::ServerWriteReactor<gateway::v1::OrderStatusChange>* WatchOrder(
      grpc::CallbackServerContext* context,
      const gateway::v1::WatchOrderRequest* request) override;
  grpc::ServerUnaryReactor* ListCatalog(grpc::CallbackServerContext* context,
                                        const gateway::v1::ListCatalogRequest* request,
                                        gateway::v1::ListCatalogResponse* response) override;

 private:
  GatewayDeps deps_;
  CommandPublisher publisher_;
};

class AccountServiceImpl final : public gateway::v1::AccountService::CallbackService {
 public:
  explicit AccountServiceImpl(GatewayDeps deps) : deps_(deps), publisher_(deps.producer, deps.tracer) {}

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* context,
                                     const gateway::v1::RegisterRequest* request,
                                     users::v1::Profile* response) override;
  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* context,
                                  const gateway::v1::LoginRequest* request,
                                  gateway::v1::LoginResponse* response) override;
  grpc::ServerUnaryReactor* GetProfile(grpc::CallbackServerContext* context,
                                       const gateway::v1::GetProfileRequest* request,
                                       users::v1::Profile* response) override;
  grpc::ServerUnaryReactor* UpdateProfile(grpc::CallbackServerContext* context,
                                          const gateway::v1::UpdateProfileRequest* request,
                                          users::v1::Profile* response) override;
  grpc::ServerUnaryReactor* ListNotifications(
      grpc::CallbackServerContext* context, const gateway::v1::ListNotificationsRequest* request,
      gateway::v1::ListNotificationsResponse* response) override;
  grpc::ServerUnaryReactor* GetBalance(grpc::CallbackServerContext* context,
                                       const gateway::v1::GetBalanceRequest* request,
                                       gateway::v1::Balance* response) override;
  grpc::ServerUnaryReactor* Deposit(grpc::CallbackServerContext* context,
                                    const gateway::v1::DepositRequest* request,
                                    gateway::v1::DepositResponse* response) override;

 private:
  GatewayDeps deps_;
  CommandPublisher publisher_;
};

}  // namespace choreo::gateway
