#pragma once

// Reading the services' own Prometheus metrics, for the bench's before/after deltas: what each
// service says about where a record's time went (its queue in the lane, its handling).

#include <map>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace choreo::bench {

// The samples of the text exposition format (version 0.0.4) named `name`, by their label set as
// written ("" when a sample has none). Comments and other metrics are skipped, as is a line that
// does not parse.
std::map<std::string, double> SamplesNamed(absl::string_view exposition, absl::string_view name);

// The value of label `key` in a label set as SamplesNamed keys it (`topic="a",type="b"`); ""
// when absent. Label values are taken to hold no comma and no escaped quote (choreo's topics,
// types and outcomes do not).
std::string LabelValue(absl::string_view labels, absl::string_view key);

// A histogram's count and sum (its _count and _sum samples), added up by the value of one label,
// e.g. by topic over every type.
struct CountAndSum {
  double count = 0;
  double sum = 0;
};
std::map<std::string, CountAndSum> HistogramByLabel(absl::string_view exposition,
                                                    absl::string_view histogram,
                                                    absl::string_view label);

// after - before, per key (a key only in `after` counts from zero): what a phase added.
std::map<std::string, CountAndSum> Added(const std::map<std::string, CountAndSum>& before,
                                         const std::map<std::string, CountAndSum>& after);

}  // namespace choreo::bench
