#include "services/order/order_service.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "saga/codec/event_codec.h"
#include "saga/ids/stable_id.h"
#include "saga/logging/logger.h"
#include "saga/topics/topics.h"

namespace choreo::order {
namespace {

constexpr char kDeadlineIndex[] = "order:deadlines";

int64_t UnixMillis(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000 + ts.nanos() / 1000000;
}

}  // namespace

std::vector<std::string> OrderTopics() {
  return {std::string(topics::kOrdersRequests), std::string(topics::kBillingPayments),
          std::string(topics::kOrdersDeadlines)};
}

absl::StatusOr<saga::HandlerRegistry> OrderRegistry(const Catalog& catalog, OrderPolicy policy) {
  using orders::v1::Order;
  saga::HandlerRegistry registry;
  absl::Status status = registry.On<orders::v1::OrderCreationRequested, Order>(
      kAggregate,
      [](const orders::v1::OrderCreationRequested& e) {
        return e.username().empty() || e.request_id().empty()
                   ? std::string()
                   : OrderIdFor(e.username(), e.request_id());
      },
      [&catalog, policy](const Order& state, const orders::v1::OrderCreationRequested& request,
                         const saga::EventContext& context) -> absl::StatusOr<OrderReaction> {
        return OnOrderRequested(state, request, catalog, policy, context.now);
      });
  if (status.ok()) {
    status = registry.On<billing::v1::PaymentProcessed, Order>(
        kAggregate, [](const billing::v1::PaymentProcessed& e) { return e.order_id(); },
        [](const Order& state, const billing::v1::PaymentProcessed& payment,
           const saga::EventContext& context) {
          return OnPaymentProcessed(state, payment, context.now);
        });
  }
  if (status.ok()) {
    status = registry.On<billing::v1::PaymentRefunded, Order>(
        kAggregate, [](const billing::v1::PaymentRefunded& e) { return e.order_id(); },
        [](const Order& state, const billing::v1::PaymentRefunded& refund,
           const saga::EventContext& context) {
          return OnPaymentRefunded(state, refund, context.now);
        });
  }
  if (status.ok()) {
    status = registry.On<orders::v1::OrderDeadlinePassed, Order>(
        kAggregate, [](const orders::v1::OrderDeadlinePassed& e) { return e.order_id(); },
        [](const Order& state, const orders::v1::OrderDeadlinePassed& deadline,
           const saga::EventContext& context) -> absl::StatusOr<OrderReaction> {
          return OnDeadlinePassed(state, deadline, context.now);
        });
  }
  if (!status.ok()) return status;
  return registry;
}

OrderAdminService::OrderAdminService(const Catalog& catalog, redis::RedisConnection::Options redis)
    : catalog_(catalog), store_(std::move(redis)) {}

grpc::Status OrderAdminService::GetOrder(grpc::ServerContext*,
                                         const orders::v1::GetOrderRequest* request,
                                         orders::v1::Order* response) {
  if (request->order_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "order_id: required");
  }
  absl::StatusOr<store::AggregateSnapshot> snapshot;
  {
    absl::MutexLock lock(&mu_);
    snapshot = store_.Load({absl::StrCat(kService, ".", kAggregate), request->order_id()}, "");
  }
  if (!snapshot.ok()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(snapshot.status().message()));
  }
  if (snapshot->version == 0 || !response->ParseFromString(snapshot->state)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no order ", request->order_id()));
  }
  return grpc::Status::OK;
}

grpc::Status OrderAdminService::ListCatalog(grpc::ServerContext*,
                                            const orders::v1::ListCatalogRequest*,
                                            orders::v1::ListCatalogResponse* response) {
  for (const orders::v1::CatalogItem& item : catalog_.items()) *response->add_items() = item;
  return grpc::Status::OK;
}

DeadlineScanner::DeadlineScanner(Options options)
    : options_(std::move(options)), index_(options_.redis), scan_(options_.redis) {}

DeadlineScanner::~DeadlineScanner() { Stop(); }

absl::Status DeadlineScanner::Start() {
  absl::StatusOr<std::unique_ptr<kafka::KafkaProducer>> producer =
      kafka::KafkaProducer::Create(kafka::ProducerDefaults(options_.kafka_brokers));
  if (!producer.ok()) return producer.status();
  producer_ = *std::move(producer);
  thread_ = std::thread([this] {
    while (true) {
      {
        absl::MutexLock lock(&stop_mu_);
        auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stop_mu_) { return stopping_; };
        if (stop_mu_.AwaitWithTimeout(absl::Condition(&stopping), options_.interval)) return;
      }
      absl::StatusOr<int> scanned = ScanOnce(absl::Now());
      if (!scanned.ok()) {
        logging::Warn(absl::StrCat("deadline scan: ", scanned.status().message()));
      }
    }
  });
  return absl::OkStatus();
}

void DeadlineScanner::Stop() noexcept {
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void DeadlineScanner::OnPublished(const KafkaRecord& record) {
  std::vector<std::string> command;
  const std::string correlation(record.Header("ce_correlationid").value_or(""));
  if (record.topic == topics::kOrdersCreated) {
    orders::v1::OrderCreated created;
    if (!created.ParseFromString(record.value)) return;
    const int64_t deadline =
        UnixMillis(created.created_at()) + absl::ToInt64Milliseconds(options_.expiry);
    command = {"ZADD", kDeadlineIndex, absl::StrCat(deadline),
               absl::StrCat(created.order_id(), " ", correlation)};
  } else if (record.topic == topics::kOrdersStatus) {
    orders::v1::OrderStatusUpdated updated;
    if (!updated.ParseFromString(record.value) || !IsTerminal(updated.status())) return;
    command = {"ZREM", kDeadlineIndex, absl::StrCat(updated.order_id(), " ", correlation)};
  } else {
    return;
  }
  absl::MutexLock lock(&index_mu_);
  absl::StatusOr<redis::RedisReply> reply = index_.Command(command);
  if (!reply.ok() || reply->is_error()) {
    logging::Warn(absl::StrCat("deadline index: ", reply.ok() ? absl::string_view(reply->str)
                                                              : reply.status().message()));
  }
}

absl::StatusOr<int> DeadlineScanner::ScanOnce(absl::Time now) {
  absl::StatusOr<redis::RedisReply> due =
      scan_.Command({"ZRANGEBYSCORE", kDeadlineIndex, "-inf",
                     absl::StrCat(absl::ToUnixMillis(now)), "LIMIT", "0", "500"});
  if (!due.ok()) return due.status();
  codec::EventCodec codec;
  int published = 0;
  for (const redis::RedisReply& member : due->elements) {
    std::vector<std::string> parts = absl::StrSplit(member.str, absl::MaxSplits(' ', 1));
    orders::v1::OrderDeadlinePassed event;
    common::v1::EventMeta* meta = event.mutable_meta();
    meta->set_event_id(ids::StableId("deadline", {parts[0]}));
    meta->set_schema_version(1);
    meta->set_correlation_id(parts.size() > 1 && !parts[1].empty() ? parts[1] : parts[0]);
    meta->set_producer(kService);
    meta->mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(now));
    event.set_order_id(parts[0]);
    absl::StatusOr<KafkaRecord> record = codec.Encode(event, topics::kOrdersDeadlines, parts[0]);
    if (!record.ok()) return record.status();
    absl::StatusOr<kafka::Delivery> delivered = producer_->ProduceAndWait(*record, absl::Seconds(10));
    if (!delivered.ok()) return delivered.status();
    absl::StatusOr<redis::RedisReply> removed = scan_.Command({"ZREM", kDeadlineIndex, member.str});
    if (!removed.ok()) return removed.status();
    ++published;
  }
  return published;
}

}  // namespace choreo::order
