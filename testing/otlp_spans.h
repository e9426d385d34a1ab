#pragma once

// Reads the spans out of OTLP/HTTP JSON trace export bodies, for tests that run a receiver
// (HttpReceiver) in place of a collector. Test use only.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace choreo::testing {

struct ReceivedSpan {
  std::string service;  // the resource's service.name
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;
  std::string name;
  int kind = 0;
  std::map<std::string, std::string> attributes;  // every value as text
  int status_code = 0;
};

// INVALID_ARGUMENT when `body` is not OTLP JSON.
absl::StatusOr<std::vector<ReceivedSpan>> ParseOtlpSpans(absl::string_view body);

}  // namespace choreo::testing
