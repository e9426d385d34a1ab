#include "saga/publish/publisher.h"

#include <memory>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "contracts/topics/acls.h"
#include "platform/ids/trace_context.h"
#include "platform/tracing/messaging.h"

namespace choreo::publish {
namespace {

absl::BitGen& ThreadRandom() {
  thread_local absl::BitGen random;
  return random;
}

}  // namespace

absl::Status KafkaSink::Send(const KafkaRecord& record, SendCallback done) {
  return producer_->Produce(
      record, [done = std::move(done)](absl::StatusOr<kafka::Delivery> delivery) mutable {
        std::move(done)(delivery.status());
      });
}

Origin Origin::CausedBy(const common::v1::EventMeta& cause) {
  return {.correlation_id = ids::CorrelationId(cause.correlation_id()),
          .causation_id = ids::EventId(cause.event_id()),
          .traceparent = cause.traceparent(),
          .tracestate = cause.tracestate()};
}

Origin Origin::Command(ids::CorrelationId correlation_id, std::string traceparent) {
  return {.correlation_id = std::move(correlation_id), .traceparent = std::move(traceparent)};
}

Publisher::Publisher(RecordSink* sink, Options options)
    : sink_(sink), options_(std::move(options)) {}

absl::StatusOr<StampedEvent> Publisher::Stamp(google::protobuf::Message& event,
                                              absl::string_view topic, std::string key,
                                              const Origin& origin) const {
  tracing::Span send =
      tracing::StartSendSpan(tracing::TracerOr(options_.tracer), topic, origin.traceparent);
  absl::BitGen& random = ThreadRandom();
  codec::StampMeta(event,
                   {.event_id = origin.event_id.empty() ? ids::RandomHex(random, 16)
                                                        : origin.event_id.value(),
                    .correlation_id = origin.correlation_id.value(),
                    .causation_id = origin.causation_id.value(),
                    .traceparent = send.traceparent(),
                    .tracestate = origin.tracestate,
                    .producer = options_.service,
                    .occurred_at = options_.clock()},
                   random);
  absl::StatusOr<KafkaRecord> record = codec_.Encode(event, topic, std::move(key));
  if (!record.ok()) {
    send.Discard();
    return record.status();
  }
  tracing::SetSendAttributes(send, *record);
  return StampedEvent{*std::move(record), std::move(send)};
}

absl::Status Publisher::SendAndWait(std::vector<StampedEvent> events) const {
  std::vector<KafkaRecord> records;
  std::vector<tracing::Span> spans;
  records.reserve(events.size());
  spans.reserve(events.size());
  for (StampedEvent& event : events) {
    records.push_back(std::move(event.record));
    spans.push_back(std::move(event.send));
  }
  return SendAll(records, &spans);
}

absl::Status Publisher::SendAndWait(const std::vector<KafkaRecord>& records) const {
  return SendAll(records, nullptr);
}

absl::Status Publisher::SendAll(const std::vector<KafkaRecord>& records,
                                std::vector<tracing::Span>* spans) const {
  if (records.empty()) return absl::OkStatus();
  // Shared with the callbacks, which may run after a timed-out wait returned.
  struct Pending {
    absl::Mutex mu;
    size_t left ABSL_GUARDED_BY(mu) = 0;
    absl::Status first_error ABSL_GUARDED_BY(mu);
    std::vector<absl::Status> answers ABSL_GUARDED_BY(mu);
  };
  auto pending = std::make_shared<Pending>();
  {
    absl::MutexLock lock(&pending->mu);
    pending->left = records.size();
    pending->answers.assign(records.size(), absl::OkStatus());
  }
  auto answer = [pending](size_t i, absl::Status status) {
    absl::MutexLock lock(&pending->mu);
    if (!status.ok() && pending->first_error.ok()) pending->first_error = status;
    pending->answers[i] = std::move(status);
    --pending->left;
  };
  for (size_t i = 0; i < records.size(); ++i) {
    absl::Status queued = sink_->Send(
        records[i], [answer, i](absl::Status status) mutable { answer(i, std::move(status)); });
    if (!queued.ok()) answer(i, std::move(queued));
  }
  absl::MutexLock lock(&pending->mu);
  auto done = [&pending]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(pending->mu) {
    return pending->left == 0;
  };
  const bool acknowledged =
      pending->mu.AwaitWithTimeout(absl::Condition(&done), options_.ack_timeout);
  absl::Status result = !acknowledged
                            ? absl::DeadlineExceededError("outgoing events not acknowledged in time")
                            : pending->first_error;
  if (spans != nullptr) {
    for (size_t i = 0; i < spans->size(); ++i) {
      if (!acknowledged) {
        (*spans)[i].SetError(result.ToString());
      } else if (!pending->answers[i].ok()) {
        (*spans)[i].SetError(pending->answers[i].ToString());
      }
      (*spans)[i].End();
    }
  }
  if (result.ok() && options_.on_published) {
    for (const KafkaRecord& record : records) options_.on_published(record);
  }
  return result;
}

void Publisher::Send(StampedEvent event, SendCallback done) const {
  auto span = std::make_shared<tracing::Span>(std::move(event.send));
  auto shared_done = std::make_shared<SendCallback>(std::move(done));
  absl::Status queued =
      sink_->Send(event.record, [span, shared_done](absl::Status status) mutable {
        if (!status.ok()) span->SetError(status.ToString());
        span->End();
        std::move (*shared_done)(std::move(status));
      });
  if (!queued.ok()) {
    span->SetError(queued.ToString());
    span->End();
    std::move (*shared_done)(std::move(queued));
  }
}

absl::Status Publisher::Publish(google::protobuf::Message& event, absl::string_view topic,
                                std::string key, const Origin& origin) const {
  absl::StatusOr<StampedEvent> stamped = Stamp(event, topic, std::move(key), origin);
  if (!stamped.ok()) return stamped.status();
  std::vector<StampedEvent> events;
  events.push_back(*std::move(stamped));
  return SendAndWait(std::move(events));
}

absl::StatusOr<std::unique_ptr<KafkaPublisher>> KafkaPublisher::Create(
    const kafka::KafkaConfig& producer_config, Publisher::Options options,
    absl::Duration flush_timeout) {
  absl::StatusOr<std::unique_ptr<kafka::KafkaProducer>> producer =
      kafka::KafkaProducer::Create(producer_config, topics::ProducedTopics(options.service));
  if (!producer.ok()) return producer.status();
  return std::unique_ptr<KafkaPublisher>(
      new KafkaPublisher(*std::move(producer), std::move(options), flush_timeout));
}

KafkaPublisher::KafkaPublisher(std::unique_ptr<kafka::KafkaProducer> producer,
                               Publisher::Options options, absl::Duration flush_timeout)
    : producer_(std::move(producer)),
      sink_(producer_.get()),
      publisher_(&sink_, std::move(options)),
      flush_timeout_(flush_timeout) {}

KafkaPublisher::~KafkaPublisher() { static_cast<void>(producer_->Flush(flush_timeout_)); }

absl::Status RecordingSink::Send(const KafkaRecord& record, SendCallback done) {
  {
    absl::MutexLock lock(&mu_);
    if (!fail_.ok()) return fail_;
    sent_.push_back(record);
  }
  std::move(done)(absl::OkStatus());
  return absl::OkStatus();
}

void RecordingSink::FailWith(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_ = std::move(status);
}

std::vector<KafkaRecord> RecordingSink::sent() const {
  absl::MutexLock lock(&mu_);
  return sent_;
}

}  // namespace choreo::publish
