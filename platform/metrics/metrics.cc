#include "platform/metrics/metrics.h"

#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace choreo::metrics {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

const prometheus::Histogram::BucketBoundaries& FastLatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
  return *buckets;
}

const prometheus::Histogram::BucketBoundaries& SagaBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return *buckets;
}

struct Metrics::Callback {
  std::string name;
  std::string help;
  prometheus::MetricType type;
  std::function<std::vector<Sample>()> read;

  prometheus::MetricFamily Collect() const {
    prometheus::MetricFamily family{.name = name, .help = help, .type = type, .metric = {}};
    for (Sample& sample : read()) {
      prometheus::ClientMetric metric;
      for (auto& [label, value] : sample.labels) {
        metric.label.push_back({.name = std::move(label), .value = std::move(value)});
      }
      if (type == prometheus::MetricType::Counter) {
        metric.counter.value = sample.value;
      } else {
        metric.gauge.value = sample.value;
      }
      family.metric.push_back(std::move(metric));
    }
    return family;
  }
};

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

template <typename T, typename... ChildArgs>
Family<T>& Metrics::Register(prometheus::detail::Builder<T> builder, const std::string& name,
                             const std::string& help, std::vector<std::string> label_names,
                             ChildArgs... child_args) {
  prometheus::Family<T>& family = builder.Name(name).Help(help).Register(*registry_);
  auto kept = std::make_shared<Family<T>>(
      std::move(label_names), [&family, child_args...](const prometheus::Labels& labels) -> T& {
        return family.Add(labels, child_args...);
      });
  absl::MutexLock lock(&mu_);
  families_.push_back(kept);
  return *kept;
}

Family<prometheus::Counter>& Metrics::Counter(const std::string& name, const std::string& help,
                                              std::vector<std::string> label_names) {
  return Register(prometheus::BuildCounter(), name, help, std::move(label_names));
}

Family<prometheus::Gauge>& Metrics::Gauge(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names) {
  return Register(prometheus::BuildGauge(), name, help, std::move(label_names));
}

Family<prometheus::Histogram>& Metrics::Histogram(
    const std::string& name, const std::string& help, std::vector<std::string> label_names,
    const prometheus::Histogram::BucketBoundaries& buckets) {
  return Register(prometheus::BuildHistogram(), name, help, std::move(label_names), buckets);
}

void Metrics::CounterCallback(std::string name, std::string help,
                              std::function<std::vector<Sample>()> read) {
  AddCallback(std::move(name), std::move(help), prometheus::MetricType::Counter, std::move(read));
}

void Metrics::GaugeCallback(std::string name, std::string help,
                            std::function<std::vector<Sample>()> read) {
  AddCallback(std::move(name), std::move(help), prometheus::MetricType::Gauge, std::move(read));
}

void Metrics::AddCallback(std::string name, std::string help, prometheus::MetricType type,
                          std::function<std::vector<Sample>()> read) {
  absl::MutexLock lock(&mu_);
  callbacks_.push_back(std::make_shared<Callback>(
      Callback{std::move(name), std::move(help), type, std::move(read)}));
}

std::string Metrics::Scrape() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  std::vector<std::shared_ptr<Callback>> callbacks;
  {
    absl::MutexLock lock(&mu_);
    callbacks = callbacks_;
  }
  for (const auto& callback : callbacks) families.push_back(callback->Collect());
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace choreo::metrics
