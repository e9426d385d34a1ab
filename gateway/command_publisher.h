#pragma once

// CommandPublisher: how the gateway sends a client's command (OrderCreationRequested,
// DepositRequested) to its topic. Thread-safe; failures are reported through the callback,
// never thrown.

#include <functional>
#include <string>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "saga/codec/event_codec.h"
#include "saga/kafka/kafka_producer.h"
#include "saga/tracing/tracer.h"

namespace choreo::gateway {

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

}  // namespace choreo::gateway
