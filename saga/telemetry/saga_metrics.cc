#include "saga/telemetry/saga_metrics.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "edges/kafka/live_clients.h"
#include "edges/kafka/statistics.h"
#include "saga/dlq/dead_letter.h"

namespace choreo::telemetry {
namespace {

absl::string_view TypeOf(const KafkaRecord& record) {
  return record.Header("ce_type").value_or("unknown");
}

}  // namespace

SagaMetrics::SagaMetrics(metrics::Metrics& metrics)
    : consumed_(metrics.Counter("choreo_events_consumed_total",
                                "Records this service finished with, by outcome.",
                                {"topic", "type", "outcome"})),
      produced_(metrics.Counter("choreo_events_produced_total",
                                "Records this service produced and the broker acknowledged.",
                                {"topic", "type"})),
      failed_(
          metrics.Counter("choreo_events_failed_total",
                          "Failed attempts to handle a record (each is retried or dead-lettered).",
                          {"topic", "type", "code"})),
      dead_lettered_(
          metrics.Counter("choreo_events_dead_lettered_total",
                          "Records copied to this service's dead-letter topic, by reason.",
                          {"topic", "type", "reason"})),
      handling_(metrics.Histogram("choreo_event_handling_seconds",
                                  "From a worker taking a record to its offset being stored "
                                  "(decode, Redis, decision, publish, retries).",
                                  {"topic", "type"}, metrics::LatencyBuckets())),
      queued_(metrics.Histogram("choreo_event_queue_seconds",
                                "From a record being polled to a worker taking it.", {"topic"},
                                metrics::LatencyBuckets())) {}

void SagaMetrics::OnRecordDone(const KafkaRecord& record, absl::string_view event_type,
                               Outcome outcome, absl::Duration handling, absl::Duration queued) {
  const absl::string_view type = event_type.empty() ? TypeOf(record) : event_type;
  consumed_.With({record.topic, type, OutcomeName(outcome)}).Increment();
  handling_.With({record.topic, type}).Observe(metrics::Seconds(handling));
  queued_.With({record.topic}).Observe(metrics::Seconds(queued));
}

void SagaMetrics::OnRetry(const KafkaRecord& record, const absl::Status& error, int /*attempt*/) {
  failed_.With({record.topic, TypeOf(record), absl::StatusCodeToString(error.code())}).Increment();
}

void SagaMetrics::OnPublished(const KafkaRecord& record) {
  produced_.With({record.topic, TypeOf(record)}).Increment();
  if (std::optional<absl::string_view> reason = record.Header(dlq::kErrorKind)) {
    dead_lettered_.With({record.Header(dlq::kOriginalTopic).value_or(""), TypeOf(record), *reason})
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

void AddKafkaRequests(metrics::Metrics& metrics) {
  metrics.CounterCallback(
      "choreo_kafka_requests_total",
      "Requests this process's Kafka clients sent to the brokers, by client and request type "
      "(librdkafka's statistics, refreshed every second).",
      [] {
        std::map<std::pair<std::string, std::string>, int64_t> counts;  // (client, request)
        for (const kafka::LiveClients::Reading& client : kafka::LiveClients::Process().Read()) {
          // One series per librdkafka handle: a handle's counters only rise, and a client's
          // new handle (a producer replaced after a fatal error) starts a series of its own.
          const std::string handle = kafka::HandleNameFromStatistics(client.statistics);
          const std::string name =
              handle.empty() ? client.label : absl::StrCat(client.label, " ", handle);
          for (const auto& [request, count] : kafka::RequestsFromStatistics(client.statistics)) {
            counts[{name, request}] += count;
          }
        }
        std::vector<metrics::Sample> samples;
        for (const auto& [key, count] : counts) {
          samples.push_back({.labels = {{"client", key.first}, {"request", key.second}},
                             .value = static_cast<double>(count)});
        }
        return samples;
      });
}

}  // namespace choreo::telemetry
