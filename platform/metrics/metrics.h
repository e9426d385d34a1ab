#pragma once

// Metrics: one process's Prometheus metrics, on prometheus-cpp. Families are registered once at
// start-up; recording (Counter::Increment, Histogram::Observe) is lock-free after a labelled
// child is looked up (a short mutex in Family::Add). Values that live elsewhere (consumer lag,
// exporter counts) are read at scrape time through callbacks.
//
// Names follow Prometheus conventions: snake_case, base units (seconds), `_total` on counters.
// Thread-safe.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_type.h"
#include "prometheus/registry.h"

namespace choreo::metrics {

// Bucket bounds in seconds.
// A hop of the saga (Redis round trips with fsync, broker acks): 0.5 ms .. 10 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();
// One Redis round trip: 50 us .. 1 s.
const prometheus::Histogram::BucketBoundaries& FastLatencyBuckets();
// A whole saga: 5 ms .. 60 s.
const prometheus::Histogram::BucketBoundaries& SagaBuckets();

inline double Seconds(absl::Duration duration) { return absl::ToDoubleSeconds(duration); }

// One sample of a callback metric.
struct Sample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

class Metrics {
 public:
  Metrics();

  prometheus::Family<prometheus::Counter>& Counter(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Gauge>& Gauge(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Histogram>& Histogram(const std::string& name,
                                                       const std::string& help);

  // A metric read at scrape time. `read` runs on the scraping thread and must not block long.
  void CounterCallback(std::string name, std::string help, std::function<std::vector<Sample>()> read);
  void GaugeCallback(std::string name, std::string help, std::function<std::vector<Sample>()> read);

  // The Prometheus text exposition format (version 0.0.4) of every metric.
  std::string Scrape() const;

 private:
  struct Callback;
  void AddCallback(std::string name, std::string help, prometheus::MetricType type,
                   std::function<std::vector<Sample>()> read);
  std::shared_ptr<prometheus::Registry> registry_;
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<Callback>> callbacks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace choreo::metrics
