#include "gateway/command_publisher.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "saga/tracing/messaging.h"

namespace choreo::gateway {

void CommandPublisher::Publish(google::protobuf::Message& event, absl::string_view topic,
                               std::string key, const std::string& event_id,
                               const std::string& correlation_id,
                               absl::string_view client_traceparent,
                               std::function<void(absl::Status)> on_error) {
  auto span = std::make_shared<tracing::Span>(
      tracing::StartSendSpan(tracer_, topic, client_traceparent));
  {
    absl::MutexLock lock(&random_mu_);
    codec::StampMeta(event,
                     {.event_id = event_id,
                      .correlation_id = correlation_id,
                      .traceparent = span->traceparent(),
                      .producer = "gateway",
                      .occurred_at = absl::Now()},
                     random_);
  }
  absl::StatusOr<KafkaRecord> record = codec_.Encode(event, topic, std::move(key));
  if (!record.ok()) {
    span->SetError(record.status().ToString());
    return on_error(record.status());
  }
  tracing::SetSendAttributes(*span, *record);
  absl::Status queued = producer_->Produce(
      *record, [on_error, span](absl::StatusOr<kafka::Delivery> delivery) {
        if (!delivery.ok()) {
          span->SetError(delivery.status().ToString());
          on_error(absl::UnavailableError(
              absl::StrCat("cannot publish the request: ", delivery.status().message())));
        }
        span->End();
      });
  if (!queued.ok()) {
    span->SetError(queued.ToString());
    on_error(absl::UnavailableError(queued.message()));
  }
}

}  // namespace choreo::gateway
