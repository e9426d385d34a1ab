#pragma once

// SagaMetrics: the saga runtime's Prometheus metrics (a SagaObserver):
//   choreo_events_consumed_total{topic,type,outcome}     records finished (handled, duplicate,
//                                                          dead_lettered, ignored)
//   choreo_events_produced_total{topic,type}              records acknowledged by the broker
//   choreo_events_failed_total{topic,type,code}           failed handling attempts (retried)
//   choreo_events_dead_lettered_total{topic,type,reason}  records copied to dlq.<service>
//   choreo_event_handling_seconds{topic,type}             taking a record to storing its offset
//   choreo_event_queue_seconds{topic}                     polled to taken by a worker
// Thread-safe; recording takes short locks only (metrics::Family::With's lookup, a histogram's
// own mutex).

#include "platform/metrics/metrics.h"
#include "saga/runtime/saga_runtime.h"

namespace choreo::telemetry {

class SagaMetrics final : public saga::SagaObserver {
 public:
  explicit SagaMetrics(metrics::Metrics& metrics);

  void OnRecordDone(const KafkaRecord& record, absl::string_view event_type, Outcome outcome,
                    absl::Duration handling, absl::Duration queued) override;
  void OnRetry(const KafkaRecord& record, const absl::Status& error, int attempt) override;
  void OnPublished(const KafkaRecord& record) override;

 private:
  metrics::Family<prometheus::Counter>& consumed_;
  metrics::Family<prometheus::Counter>& produced_;
  metrics::Family<prometheus::Counter>& failed_;
  metrics::Family<prometheus::Counter>& dead_lettered_;
  metrics::Family<prometheus::Histogram>& handling_;
  metrics::Family<prometheus::Histogram>& queued_;
};

// A consumer group member whose lag is exported.
struct ConsumerLagSource {
  std::string group;
  std::function<std::vector<kafka::PartitionLag>()> read;
};
// A runtime's lag (the runtime must outlive the scrapes).
ConsumerLagSource LagOf(const saga::SagaRuntime& runtime);

// choreo_kafka_consumer_lag{group,topic,partition}, read from the sources (librdkafka's
// statistics) at scrape time.
void AddConsumerLag(metrics::Metrics& metrics, std::vector<ConsumerLagSource> sources);

// choreo_kafka_requests_total{client,request}: the requests this process's Kafka clients sent,
// by client and request type ("Produce", "Fetch", "OffsetCommit", ...), from each live client's
// latest statistics (kafka::LiveClients, refreshed every second) at scrape time. `client` names
// the client and its librdkafka handle ("producer rdkafka#producer-1", "consumer <group>
// rdkafka#consumer-2"): one series per handle, so each only rises; a producer replaced after a
// fatal error continues in a new series.
void AddKafkaRequests(metrics::Metrics& metrics);

}  // namespace choreo::telemetry
