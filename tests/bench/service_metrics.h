#pragma once

// What the services' own Prometheus metrics say about a phase of the bench, service by service:
// where their records' time went, and the Redis round trips they made. The bench scrapes each
// service before and after the phase; these functions read the scrapes and print the difference.

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "tests/bench/metrics_text.h"

namespace choreo::bench {

// One service's reading: its records' wait in a lane's queue (choreo_event_queue_seconds) and
// their handling (choreo_event_handling_seconds), by topic; its Redis round trips
// (choreo_redis_command_duration_seconds), by command; the requests its Kafka clients sent
// (choreo_kafka_requests_total), by request type over all its clients.
struct ServiceMetrics {
  std::map<std::string, CountAndSum> queued;
  std::map<std::string, CountAndSum> handled;
  std::map<std::string, CountAndSum> redis;
  std::map<std::string, double> kafka_requests;
};
using MetricsByService = std::map<std::string, ServiceMetrics>;

// A service's reading from its /metrics text.
ServiceMetrics ReadServiceMetrics(absl::string_view exposition);

// What every service's metrics gained from `before` to `after` (a service only in `after`
// counts from zero).
MetricsByService MetricsAdded(const MetricsByService& before, const MetricsByService& after);

// One line per service and topic that handled records in `phase`: the mean wait and handling of
// a record (a batch's records each count the batch's whole handling).
std::string RecordTimesBreakdown(const MetricsByService& phase);

// One line per service that made Redis round trips in `phase`: how many per order (a pipeline
// counts once), their mean time as the service saw it, and the commands they were, the most
// frequent first (those under 0.01 per order left out).
std::string RoundTripsBreakdown(const MetricsByService& phase, double orders);

// One line per service whose Kafka clients sent requests in `phase`: how many per order, and of
// which types, the most frequent first (those under 0.01 per order left out).
std::string KafkaRequestsBreakdown(const MetricsByService& phase, double orders);

}  // namespace choreo::bench
