#include "tests/bench/service_metrics.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace choreo::bench {
namespace {

constexpr double kShown = 0.01;  // per order: a kind less frequent is left out of a line

// " (a 3.00, b 1.00)": each kind's count per order, the most frequent first, those under
// kShown left out; "" when none is left.
std::string KindsPerOrder(const std::map<std::string, double>& counts, double orders) {
  std::vector<std::pair<double, std::string>> kinds;  // count, kind
  for (const auto& [kind, count] : counts) {
    if (count / orders >= kShown) kinds.emplace_back(count, kind);
  }
  if (kinds.empty()) return "";
  std::sort(kinds.begin(), kinds.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> parts;
  for (const auto& [count, kind] : kinds) {
    parts.push_back(absl::StrFormat("%s %.2f", kind, count / orders));
  }
  return absl::StrCat(" (", absl::StrJoin(parts, ", "), ")");
}

}  // namespace

ServiceMetrics ReadServiceMetrics(absl::string_view exposition) {
  std::map<std::string, double> requests;
  for (const auto& [labels, value] : SamplesNamed(exposition, "choreo_kafka_requests_total")) {
    requests[LabelValue(labels, "request")] += value;
  }
  return {HistogramByLabel(exposition, "choreo_event_queue_seconds", "topic"),
          HistogramByLabel(exposition, "choreo_event_handling_seconds", "topic"),
          HistogramByLabel(exposition, "choreo_redis_command_duration_seconds", "command"),
          std::move(requests)};
}

MetricsByService MetricsAdded(const MetricsByService& before, const MetricsByService& after) {
  static const ServiceMetrics kNothing;
  MetricsByService added;
  for (const auto& [service, now] : after) {
    auto then = before.find(service);
    const ServiceMetrics& start = then == before.end() ? kNothing : then->second;
    std::map<std::string, double> requests;
    for (const auto& [request, count] : now.kafka_requests) {
      auto earlier = start.kafka_requests.find(request);
      // A client that went (a replaced producer) takes its counts along: never below zero.
      requests[request] =
          std::max(0.0, count - (earlier == start.kafka_requests.end() ? 0 : earlier->second));
    }
    added[service] = {Added(start.queued, now.queued), Added(start.handled, now.handled),
                      Added(start.redis, now.redis), std::move(requests)};
  }
  return added;
}

std::string RecordTimesBreakdown(const MetricsByService& phase) {
  std::string out;
  for (const auto& [service, metrics] : phase) {
    for (const auto& [topic, handling] : metrics.handled) {
      if (handling.count < 1) continue;
      auto wait = metrics.queued.find(topic);
      const double queue_ms = wait == metrics.queued.end() || wait->second.count < 1
                                  ? 0
                                  : 1000 * wait->second.sum / wait->second.count;
      absl::StrAppendFormat(&out, "       %-13s %-24s n %6.0f  queued %6.1f ms  handled %6.1f ms\n",
                            service, topic, handling.count, queue_ms,
                            1000 * handling.sum / handling.count);
    }
  }
  return out;
}

std::string RoundTripsBreakdown(const MetricsByService& phase, double orders) {
  std::string out;
  if (orders <= 0) return out;
  for (const auto& [service, metrics] : phase) {
    CountAndSum total;
    std::map<std::string, double> commands;  // round trips by command
    for (const auto& [command, trips] : metrics.redis) {
      total.count += trips.count;
      total.sum += trips.sum;
      commands[command] = trips.count;
    }
    if (total.count / orders < kShown) continue;
    absl::StrAppendFormat(&out, "       %-13s %5.2f per order, mean %.2f ms%s\n", service,
                          total.count / orders, 1000 * total.sum / total.count,
                          KindsPerOrder(commands, orders));
  }
  return out;
}

std::string KafkaRequestsBreakdown(const MetricsByService& phase, double orders) {
  std::string out;
  if (orders <= 0) return out;
  for (const auto& [service, metrics] : phase) {
    double total = 0;
    for (const auto& [request, count] : metrics.kafka_requests) total += count;
    if (total / orders < kShown) continue;
    absl::StrAppendFormat(&out, "       %-13s %5.2f per order%s\n", service, total / orders,
                          KindsPerOrder(metrics.kafka_requests, orders));
  }
  return out;
}

}  // namespace choreo::bench
