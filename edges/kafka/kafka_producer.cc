#include "edges/kafka/kafka_producer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "platform/logging/logger.h"
#include "platform/process/thread_name.h"

namespace choreo::kafka {
namespace {

std::atomic<int64_t> producers_replaced{0};

}  // namespace

int64_t ProducersReplacedInProcess() { return producers_replaced.load(); }

absl::StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(
    const KafkaConfig& config, std::vector<std::string> topics, absl::Duration close_timeout) {
  std::unique_ptr<KafkaProducer> producer(
      new KafkaProducer(config, std::move(topics), close_timeout));
  absl::StatusOr<std::shared_ptr<rd_kafka_t>> handle = producer->NewHandle();
  if (!handle.ok()) return handle.status();
  {
    absl::MutexLock lock(&producer->handle_mu_);
    producer->handle_ = *std::move(handle);
  }
  producer->poller_ = process::NamedThread("kafka-acks", [p = producer.get()] { p->PollLoop(); });
  producer->listed_ = LiveClients::Process().Add(
      "producer", [p = producer.get()] { return p->LatestStatistics(); });
  return producer;
}

absl::StatusOr<std::shared_ptr<rd_kafka_t>> KafkaProducer::NewHandle() {
  absl::StatusOr<ConfPtr> conf = MakeConf(config_);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaProducer::OnDelivery);
  rd_kafka_conf_set_stats_cb(conf->get(), &KafkaProducer::OnStatistics);
  rd_kafka_conf_set_error_cb(conf->get(), &KafkaProducer::OnError);
  absl::StatusOr<HandlePtr> handle = MakeHandle(RD_KAFKA_PRODUCER, *std::move(conf));
  if (!handle.ok()) return handle.status();
  return std::shared_ptr<rd_kafka_t>(std::move(*handle));
}

KafkaProducer::~KafkaProducer() {
  // The poll thread stops first: rd_kafka_flush serves the delivery callbacks itself.
  stopping_.store(true);
  if (poller_.joinable()) poller_.join();
  std::shared_ptr<rd_kafka_t> handle = Current();
  if (handle != nullptr) {
    rd_kafka_flush(handle.get(), static_cast<int>(absl::ToInt64Milliseconds(close_timeout_)));
    rd_kafka_purge(handle.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(handle.get(), 0);  // serve the purged records' callbacks
  }
  for (rd_kafka_topic_t* topic : known_topics_) rd_kafka_topic_destroy(topic);
}

std::shared_ptr<rd_kafka_t> KafkaProducer::Current() const {
  absl::MutexLock lock(&handle_mu_);
  return handle_;
}

rd_kafka_t* KafkaProducer::handle() const { return Current().get(); }

void KafkaProducer::LearnTopics(rd_kafka_t* handle) {
  if (topics_.empty()) return;
  for (const std::string& name : topics_) {
    if (rd_kafka_topic_t* topic = rd_kafka_topic_new(handle, name.c_str(), nullptr)) {
      known_topics_.push_back(topic);
    }
  }
  // One request for every topic: the reply updates each topic handle above. Best effort: a
  // broker that does not answer in time only leaves the first records to wait for the scan.
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(handle, 1, nullptr, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_metadata_destroy(metadata);
  }
}

void KafkaProducer::PollLoop() {
  LearnTopics(Current().get());
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (fatal_.load()) ReplaceFatalHandle();
    rd_kafka_poll(Current().get(), 100);
  }
}

void KafkaProducer::ReplaceFatalHandle() {
  std::shared_ptr<rd_kafka_t> old = Current();
  char reason[512] = "";
  const rd_kafka_resp_err_t err = rd_kafka_fatal_error(old.get(), reason, sizeof reason);
  absl::StatusOr<std::shared_ptr<rd_kafka_t>> fresh = NewHandle();
  if (!fresh.ok()) {
    // The same configuration made the old handle, so this is not expected; try again later.
    logging::Log(logging::Level::kError, "kafka producer: no new handle after a fatal error",
                 {{"error", fresh.status().ToString()}});
    rd_kafka_poll(old.get(), 1000);
    return;
  }
  fatal_.store(false);
  // The old handle's topic handles go before it does; LearnTopics makes the new ones.
  for (rd_kafka_topic_t* topic : known_topics_) rd_kafka_topic_destroy(topic);
  known_topics_.clear();
  {
    absl::MutexLock lock(&handle_mu_);
    handle_ = *std::move(fresh);
  }
  recoveries_.fetch_add(1);
  producers_replaced.fetch_add(1);
  logging::Log(logging::Level::kError,
               "kafka producer: fatal error; replaced by a new producer, its unacknowledged "
               "records failed for their callers to send again",
               {{"client", rd_kafka_name(old.get())},
                {"error", rd_kafka_err2name(err)},
                {"reason", reason}});
  // The old handle's records fail now (UNAVAILABLE) rather than at their message timeout.
  // Every one of them gets its callback before the handle goes: a caller waits for it. A Produce
  // still holding the old handle is refused at once (it is fatal), so nothing is added.
  rd_kafka_purge(old.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  const absl::Time deadline = absl::Now() + close_timeout_;
  do {
    rd_kafka_poll(old.get(), 10);
  } while (rd_kafka_outq_len(old.get()) > 0 && absl::Now() < deadline);
  old.reset();  // destroyed here, or by the last Produce still holding it
  LearnTopics(Current().get());
}

absl::Status KafkaProducer::Produce(const KafkaRecord& record, DeliveryCallback on_delivery) {
  const std::shared_ptr<rd_kafka_t> handle = Current();
  auto* callback = new DeliveryCallback(std::move(on_delivery));
  rd_kafka_headers_t* headers = HeadersFromRecord(record);
  rd_kafka_resp_err_t err = rd_kafka_producev(
      handle.get(), RD_KAFKA_V_TOPIC(record.topic.c_str()),
      RD_KAFKA_V_PARTITION(record.partition >= 0 ? record.partition : RD_KAFKA_PARTITION_UA),
      RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
      RD_KAFKA_V_OPAQUE(callback), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(headers);  // librdkafka owns them only on success
    delete callback;
    return ErrorToStatus(err, absl::StrCat("produce to ", record.topic));
  }
  return absl::OkStatus();
}

absl::StatusOr<Delivery> KafkaProducer::ProduceAndWait(const KafkaRecord& record,
                                                       absl::Duration timeout) {
  struct Waiter {
    absl::Notification done;
    absl::StatusOr<Delivery> result = absl::UnknownError("not delivered");
  };
  auto waiter = std::make_shared<Waiter>();
  absl::Status queued = Produce(record, [waiter](absl::StatusOr<Delivery> result) {
    waiter->result = std::move(result);
    waiter->done.Notify();
  });
  if (!queued.ok()) return queued;
  if (!waiter->done.WaitForNotificationWithTimeout(timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("no acknowledgement from ", record.topic, " within ", absl::FormatDuration(timeout)));
  }
  return waiter->result;
}

absl::Status KafkaProducer::Flush(absl::Duration timeout) {
  return ErrorToStatus(
      rd_kafka_flush(Current().get(), static_cast<int>(absl::ToInt64Milliseconds(timeout))),
      "flush");
}

std::string KafkaProducer::LatestStatistics() const {
  absl::MutexLock lock(&statistics_mu_);
  return statistics_;
}

void KafkaProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  std::unique_ptr<DeliveryCallback> callback(static_cast<DeliveryCallback*>(message->_private));
  if (callback == nullptr) return;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::move (*callback)(ErrorToStatus(
        message->err, absl::StrCat("deliver to ", rd_kafka_topic_name(message->rkt))));
    return;
  }
  std::move(*callback)(Delivery{rd_kafka_topic_name(message->rkt), message->partition,
                                message->offset});
}

int KafkaProducer::OnStatistics(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  absl::MutexLock lock(&self->statistics_mu_);
  self->statistics_.assign(json, json_len);
  return 0;  // librdkafka frees json
}

void KafkaProducer::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    self->fatal_.store(true);
    return;  // ReplaceFatalHandle logs it, with the underlying error
  }
  // Transient (a broker down, a connection lost): librdkafka retries by itself.
  logging::Log(logging::Level::kWarn, reason,
               {{"component", "librdkafka"},
                {"client", rd_kafka_name(rk)},
                {"error", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))}});
}

}  // namespace choreo::kafka
