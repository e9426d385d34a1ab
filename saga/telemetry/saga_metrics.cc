#include "saga/telemetry/saga_metrics.h"

#include <string>

#include "saga/dlq/dead_letter.h"

namespace choreo::telemetry {
namespace {

std::string TypeOf(const KafkaRecord& record) {
  return std::string(record.Header("ce_type").value_or("unknown"));
}


}  // namespace

SagaMetrics::SagaMetrics(metrics::Metrics& metrics)
    : consumed_(metrics.Counter("choreo_events_consumed_total",
                                "Records this service finished with, by outcome.")),
      produced_(metrics.Counter("choreo_events_produced_total",
                                "Records this service produced and the broker acknowledged.")),
      failed_(metrics.Counter("choreo_events_failed_total",
                              "Failed attempts to handle a record (each is retried or dead-lettered).")),
      dead_lettered_(metrics.Counter("choreo_events_dead_lettered_total",
                                     "Records copied to this service's dead-letter topic, by reason.")),
      handling_(metrics.Histogram("choreo_event_handling_seconds",
                                  "From a worker taking a record to its offset being stored "
                                  "(decode, Redis, decision, publish, retries).")),
      queued_(metrics.Histogram("choreo_event_queue_seconds",
                                "From a record being polled to a worker taking it.")) {}

void SagaMetrics::OnRecordDone(const KafkaRecord& record, absl::string_view event_type,
                               Outcome outcome, absl::Duration handling, absl::Duration queued) {
  const std::string type = event_type.empty() ? TypeOf(record) : std::string(event_type);
  consumed_.Add({{"topic", record.topic}, {"type", type}, {"outcome", std::string(OutcomeName(outcome))}})
      .Increment();
  handling_.Add({{"topic", record.topic}, {"type", type}}, metrics::LatencyBuckets())
      .Observe(metrics::Seconds(handling));
  queued_.Add({{"topic", record.topic}}, metrics::LatencyBuckets()).Observe(metrics::Seconds(queued));
}

void SagaMetrics::OnRetry(const KafkaRecord& record, const absl::Status& error, int /*attempt*/) {
  failed_.Add({{"topic", record.topic},
               {"type", TypeOf(record)},
               {"code", absl::StatusCodeToString(error.code())}})
      .Increment();
}

void SagaMetrics::OnPublished(const KafkaRecord& record) {
  produced_.Add({{"topic", record.topic}, {"type", TypeOf(record)}}).Increment();
  if (std::optional<absl::string_view> reason = record.Header(dlq::kErrorKind)) {
    dead_lettered_
        .Add({{"topic", std::string(record.Header(dlq::kOriginalTopic).value_or(""))},
              {"type", TypeOf(record)},
              {"reason", std::string(*reason)}})
        .Increment();
  }
}

ConsumerLagSource LagOf(const saga::SagaRuntime& runtime) {
  return {.group = runtime.group_id(), .read = [&runtime] { return runtime.ConsumerLag(); }};
}

void AddConsumerLag(metrics::Metrics& metrics, std::vector<ConsumerLagSource> sources) {
  metrics.GaugeCallback(
      "choreo_kafka_consumer_lag",
      "Records not yet consumed per assigned partition (high watermark minus committed offset).",
      [sources = std::move(sources)] {
        std::vector<metrics::Sample> samples;
        for (const ConsumerLagSource& source : sources) {
          for (const kafka::PartitionLag& lag : source.read()) {
            samples.push_back({.labels = {{"group", source.group},
                                          {"topic", lag.topic},
                                          {"partition", std::to_string(lag.partition)}},
                               .value = static_cast<double>(lag.lag)});
          }
        }
        return samples;
      });
}

}  // namespace choreo::telemetry
