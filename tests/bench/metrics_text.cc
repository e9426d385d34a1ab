#include "tests/bench/metrics_text.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace choreo::bench {

std::map<std::string, double> SamplesNamed(absl::string_view exposition, absl::string_view name) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (line.empty() || line.front() == '#' || !absl::ConsumePrefix(&line, name)) continue;
    std::string labels;
    if (absl::ConsumePrefix(&line, "{")) {
      const size_t end = line.rfind('}');
      if (end == absl::string_view::npos) continue;
      labels = std::string(line.substr(0, end));
      line.remove_prefix(end + 1);
    }
    // A sample is "name[{labels}] value [timestamp]"; anything else only shares the prefix.
    if (!absl::ConsumePrefix(&line, " ")) continue;
    double value = 0;
    const absl::string_view number = line.substr(0, line.find(' '));
    if (absl::SimpleAtod(number, &value)) samples[labels] += value;
  }
  return samples;
}

std::string LabelValue(absl::string_view labels, absl::string_view key) {
  const std::string prefix = absl::StrCat(key, "=\"");
  for (absl::string_view pair : absl::StrSplit(labels, ',')) {
    if (absl::ConsumePrefix(&pair, prefix) && absl::ConsumeSuffix(&pair, "\"")) {
      return std::string(pair);
    }
  }
  return "";
}

std::map<std::string, CountAndSum> HistogramByLabel(absl::string_view exposition,
                                                    absl::string_view histogram,
                                                    absl::string_view label) {
  std::map<std::string, CountAndSum> by_label;
  for (const auto& [labels, count] : SamplesNamed(exposition, absl::StrCat(histogram, "_count"))) {
    by_label[LabelValue(labels, label)].count += count;
  }
  for (const auto& [labels, sum] : SamplesNamed(exposition, absl::StrCat(histogram, "_sum"))) {
    by_label[LabelValue(labels, label)].sum += sum;
  }
  return by_label;
}

std::map<std::string, CountAndSum> Added(const std::map<std::string, CountAndSum>& before,
                                         const std::map<std::string, CountAndSum>& after) {
  std::map<std::string, CountAndSum> added;
  for (const auto& [key, now] : after) {
    auto it = before.find(key);
    const CountAndSum then = it == before.end() ? CountAndSum{} : it->second;
    added[key] = {now.count - then.count, now.sum - then.sum};
  }
  return added;
}

}  // namespace choreo::bench
