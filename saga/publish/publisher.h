#pragma once

// Publisher: the one way an event leaves a choreo process.
//
// Stamp() fills the event's EventMeta (event id, the type's schema version, correlation and
// causation ids, trace context, time, producer), encodes it, and opens its "send <topic>"
// PRODUCER span, a child of the origin's trace context, whose context the event carries.
// Send() hands stamped events (or stored records, such as an outbox's or a handled record's
// events published again) to a RecordSink and reports the broker's acknowledgement; a send span
// ends when its record is acknowledged (with the error when it failed).
//
// Thread-safe; stamping uses a per-thread random generator, so lanes never contend.
// RecordingSink is the test double that keeps what was published.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "choreo/common/v1/event.pb.h"
#include "google/protobuf/message.h"
#include "saga/codec/event_codec.h"
#include "platform/ids/named_id.h"
#include "edges/kafka/kafka_producer.h"
#include "platform/record/record.h"
#include "platform/tracing/tracer.h"

namespace choreo::publish {

// Runs once with the broker's answer: OK once the record is acknowledged.
using SendCallback = absl::AnyInvocable<void(absl::Status) &&>;

// Where records go. Send() either returns an error (the callback never runs) or returns OK and
// runs `done` exactly once, on any thread; `done` must not block.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual absl::Status Send(const KafkaRecord& record, SendCallback done) = 0;
};

// A RecordSink over a KafkaProducer (not owned).
class KafkaSink final : public RecordSink {
 public:
  explicit KafkaSink(kafka::KafkaProducer* producer) : producer_(producer) {}
  absl::Status Send(const KafkaRecord& record, SendCallback done) override;

 private:
  kafka::KafkaProducer* producer_;
};

// What an outgoing event follows: the event that caused it, or a command that starts (or joins)
// a saga.
struct Origin {
  ids::CorrelationId correlation_id;
  ids::EventId causation_id;  // the cause's event id; empty for a command
  std::string traceparent;    // the cause's (or the calling span's) context; may be empty
  std::string tracestate;
  ids::EventId event_id;      // empty: a random id; else this one (ids that must be stable)

  // An event caused by `cause`: its saga, a child of its trace.
  static Origin CausedBy(const common::v1::EventMeta& cause);
  // A command in saga `correlation_id`, a child of `traceparent` (e.g. a gRPC call's span).
  static Origin Command(ids::CorrelationId correlation_id, std::string traceparent);
};

// A stamped, encoded event and its open send span.
struct StampedEvent {
  KafkaRecord record;
  tracing::Span send;  // ends when the record is acknowledged (or discarded)
};

class Publisher {
 public:
  struct Options {
    std::string service;                      // EventMeta.producer
    const tracing::Tracer* tracer = nullptr;  // null: spans are not recorded
    std::function<absl::Time()> clock = [] { return absl::Now(); };
    absl::Duration ack_timeout = absl::Seconds(10);  // SendAndWait's limit
    // Runs for every record the broker acknowledged through SendAndWait (observers only).
    std::function<void(const KafkaRecord&)> on_published;
  };
  // `sink` is not owned and must outlive the publisher.
  Publisher(RecordSink* sink, Options options);

  // Stamps `event` (its meta is overwritten) and encodes it for `topic` under `key`.
  // INVALID_ARGUMENT when the event cannot be encoded (its span is discarded).
  absl::StatusOr<StampedEvent> Stamp(google::protobuf::Message& event, absl::string_view topic,
                                     std::string key, const Origin& origin) const;

  // Sends every event and waits until the broker acknowledged all of them: OK, the first
  // error, or DEADLINE_EXCEEDED after ack_timeout (records may still be delivered later).
  absl::Status SendAndWait(std::vector<StampedEvent> events) const;
  absl::Status SendAndWait(const std::vector<KafkaRecord>& records) const;

  // Sends one event without waiting; `done` runs once with the broker's answer (on the sink's
  // thread: it must not block). UNAVAILABLE from the sink is reported through `done` too.
  void Send(StampedEvent event, SendCallback done) const;

  // Stamp, then SendAndWait.
  absl::Status Publish(google::protobuf::Message& event, absl::string_view topic, std::string key,
                       const Origin& origin) const;

  const std::string& service() const { return options_.service; }

 private:
  // Sends `records` and waits; spans[i] (when given) ends with records[i]'s answer.
  absl::Status SendAll(const std::vector<KafkaRecord>& records,
                       std::vector<tracing::Span>* spans) const;

  RecordSink* sink_;
  Options options_;
  codec::EventCodec codec_;  // Encode only: needs no registration
};

// A Publisher over a Kafka producer of its own, for a process's work beside its saga runtimes
// (a gRPC API's events, a scanner). Destruction flushes what is queued (up to `flush_timeout`).
class KafkaPublisher {
 public:
  // `producer_config` is typically kafka::ProducerDefaults(bootstrap) plus overrides.
  static absl::StatusOr<std::unique_ptr<KafkaPublisher>> Create(
      const kafka::KafkaConfig& producer_config, Publisher::Options options,
      absl::Duration flush_timeout = absl::Seconds(5));
  ~KafkaPublisher();
  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;

  const Publisher& publisher() const { return publisher_; }
  // The producer underneath (its statistics, an explicit flush at a chosen point of a stop).
  kafka::KafkaProducer& producer() const { return *producer_; }

 private:
  KafkaPublisher(std::unique_ptr<kafka::KafkaProducer> producer, Publisher::Options options,
                 absl::Duration flush_timeout);

  std::unique_ptr<kafka::KafkaProducer> producer_;
  KafkaSink sink_;
  Publisher publisher_;
  absl::Duration flush_timeout_;
};

// Keeps every record sent to it and acknowledges it at once (or fails with the status set by
// FailWith). For tests of code that publishes. Thread-safe.
class RecordingSink final : public RecordSink {
 public:
  absl::Status Send(const KafkaRecord& record, SendCallback done) override;
  // Every following Send is refused with `status` (OK: accepted again).
  void FailWith(absl::Status status);
  std::vector<KafkaRecord> sent() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<KafkaRecord> sent_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
};

}  // namespace choreo::publish
