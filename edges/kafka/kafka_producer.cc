#include "edges/kafka/kafka_producer.h"

#include "contracts/topics/topics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace choreo::kafka {

absl::StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(const KafkaConfig& config,
                                                                     absl::Duration close_timeout) {
  absl::StatusOr<ConfPtr> conf = MakeConf(config);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer(close_timeout));
  rd_kafka_conf_set_opaque(conf->get(), producer.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaProducer::OnDelivery);
  rd_kafka_conf_set_stats_cb(conf->get(), &KafkaProducer::OnStatistics);
  absl::StatusOr<HandlePtr> handle = MakeHandle(RD_KAFKA_PRODUCER, *std::move(conf));
  if (!handle.ok()) return handle.status();
  producer->handle_ = *std::move(handle);
  producer->poller_ = std::thread([p = producer.get()] { p->PollLoop(); });
  return producer;
}

KafkaProducer::~KafkaProducer() {
  if (handle_ != nullptr) {
    rd_kafka_flush(handle_.get(), static_cast<int>(absl::ToInt64Milliseconds(close_timeout_)));
    rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  }
  stopping_.store(true);
  if (poller_.joinable()) poller_.join();
  if (handle_ != nullptr) rd_kafka_poll(handle_.get(), 0);  // serve the purged records' callbacks
  for (rd_kafka_topic_t* topic : known_topics_) rd_kafka_topic_destroy(topic);
}

void KafkaProducer::LearnMissionTopics() {
  for (const std::string& name : topics::MissionTopics()) {
    if (rd_kafka_topic_t* topic = rd_kafka_topic_new(handle_.get(), name.c_str(), nullptr)) {
      known_topics_.push_back(topic);
    }
  }
  // One request for every topic: the reply updates each topic handle above. Best effort: a
  // broker that does not answer in time only leaves the first records to wait for the scan.
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(handle_.get(), 1, nullptr, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_metadata_destroy(metadata);
  }
}

void KafkaProducer::PollLoop() {
  LearnMissionTopics();
  while (!stopping_.load(std::memory_order_relaxed)) rd_kafka_poll(handle_.get(), 100);
}

absl::Status KafkaProducer::Produce(const KafkaRecord& record, DeliveryCallback on_delivery) {
  auto* callback = new DeliveryCallback(std::move(on_delivery));
  rd_kafka_headers_t* headers = HeadersFromRecord(record);
  rd_kafka_resp_err_t err = rd_kafka_producev(
      handle_.get(), RD_KAFKA_V_TOPIC(record.topic.c_str()),
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
      rd_kafka_flush(handle_.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout))),
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

}  // namespace choreo::kafka
