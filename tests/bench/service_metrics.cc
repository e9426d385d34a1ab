#include "tests/bench/service_metrics.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace choreo::bench {

ServiceMetrics ReadServiceMetrics(absl::string_view exposition) {
  return {HistogramByLabel(exposition, "choreo_event_queue_seconds", "topic"),
          HistogramByLabel(exposition, "choreo_event_handling_seconds", "topic"),
          HistogramByLabel(exposition, "choreo_redis_command_duration_seconds", "command")};
}

MetricsByService MetricsAdded(const MetricsByService& before, const MetricsByService& after) {
  static const ServiceMetrics kNothing;
  MetricsByService added;
  for (const auto& [service, now] : after) {
    auto then = before.find(service);
    const ServiceMetrics& start = then == before.end() ? kNothing : then->second;
    added[service] = {Added(start.queued, now.queued), Added(start.handled, now.handled),
                      Added(start.redis, now.redis)};
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
  constexpr double kShown = 0.01;  // per order
  std::string out;
  if (orders <= 0) return out;
  for (const auto& [service, metrics] : phase) {
    CountAndSum total;
    std::vector<std::pair<double, std::string>> commands;  // round trips, command
    for (const auto& [command, trips] : metrics.redis) {
      total.count += trips.count;
      total.sum += trips.sum;
      if (trips.count / orders >= kShown) commands.emplace_back(trips.count, command);
    }
    if (total.count / orders < kShown) continue;
    std::sort(commands.begin(), commands.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::string> parts;
    for (const auto& [count, command] : commands) {
      parts.push_back(absl::StrFormat("%s %.2f", command, count / orders));
    }
    absl::StrAppendFormat(&out, "       %-13s %5.2f per order, mean %.2f ms%s\n", service,
                          total.count / orders, 1000 * total.sum / total.count,
                          parts.empty() ? "" : absl::StrCat(" (", absl::StrJoin(parts, ", "), ")"));
  }
  return out;
}

}  // namespace choreo::bench
