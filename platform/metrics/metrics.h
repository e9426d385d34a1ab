#pragma once

// Metrics: one process's Prometheus metrics, on prometheus-cpp. Families are registered once at
// start-up with their label names; recording finds a family's child by its label values
// (Family::With: one hash lookup under a reader lock; the first use of a label set also takes
// the writer lock and prometheus-cpp's), then Counter::Increment is lock-free and
// Histogram::Observe takes the child's own short mutex. Values that live elsewhere (consumer
// lag, exporter counts) are read at scrape time through callbacks.
//
// Names follow Prometheus conventions: snake_case, base units (seconds), `_total` on counters.
// Thread-safe.

#include <cassert>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/detail/builder.h"
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

// The metrics of one name, a child per set of label values. With() finds a child by its values
// without building a metric: prometheus-cpp 1.0's own Family::Add constructs a new child (a
// histogram with all its buckets) on every call and throws it away when the labels exist, and
// the services look children up several times per record. A child is added to the family on
// its first use and never removed. Thread-safe.
template <typename T>
class Family {
 public:
  // `add` adds (or finds) the child of a label set in `family`.
  Family(std::vector<std::string> label_names, std::function<T&(const prometheus::Labels&)> add)
      : label_names_(std::move(label_names)), add_(std::move(add)) {}
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // The child of `values`, one per label name, in the order the names were registered.
  T& With(std::initializer_list<absl::string_view> values) {
    assert(values.size() == label_names_.size());
    std::string key;
    for (absl::string_view value : values) absl::StrAppend(&key, value.size(), ":", value);
    {
      absl::ReaderMutexLock lock(&mu_);
      if (auto found = children_.find(key); found != children_.end()) return *found->second;
    }
    prometheus::Labels labels;
    auto name = label_names_.begin();
    for (absl::string_view value : values) {
      if (name == label_names_.end()) break;
      labels.emplace(*name++, std::string(value));
    }
    T& child = add_(labels);  // the same child for the same labels, whoever adds it first
    absl::MutexLock lock(&mu_);
    children_.emplace(std::move(key), &child);
    return child;
  }

 private:
  const std::vector<std::string> label_names_;
  const std::function<T&(const prometheus::Labels&)> add_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, T*> children_ ABSL_GUARDED_BY(mu_);
};

class Metrics {
 public:
  Metrics();

  // A family and the names of its labels (none: one child, With({})).
  Family<prometheus::Counter>& Counter(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names);
  Family<prometheus::Gauge>& Gauge(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names);
  // Every child has `buckets`.
  Family<prometheus::Histogram>& Histogram(const std::string& name, const std::string& help,
                                           std::vector<std::string> label_names,
                                           const prometheus::Histogram::BucketBoundaries& buckets);

  // A metric read at scrape time. `read` runs on the scraping thread and must not block long.
  void CounterCallback(std::string name, std::string help, std::function<std::vector<Sample>()> read);
  void GaugeCallback(std::string name, std::string help, std::function<std::vector<Sample>()> read);

  // The Prometheus text exposition format (version 0.0.4) of every metric.
  std::string Scrape() const;

 private:
  struct Callback;
  void AddCallback(std::string name, std::string help, prometheus::MetricType type,
                   std::function<std::vector<Sample>()> read);
  // Registers a prometheus family; its children are added with `child_args` (a histogram's
  // buckets).
  template <typename T, typename... ChildArgs>
  Family<T>& Register(prometheus::detail::Builder<T> builder, const std::string& name,
                      const std::string& help, std::vector<std::string> label_names,
                      ChildArgs... child_args);

  std::shared_ptr<prometheus::Registry> registry_;
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<Callback>> callbacks_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<void>> families_ ABSL_GUARDED_BY(mu_);  // Family<T>s, kept alive
};

}  // namespace choreo::metrics
