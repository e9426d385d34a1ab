#pragma once

// W3C trace context (traceparent "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>").

#include <string>

#include "absl/random/random.h"
#include "absl/strings/string_view.h"

namespace choreo::ids {

// `bytes` random bytes as lowercase hex.
std::string RandomHex(absl::BitGen& random, int bytes);

bool IsValidTraceparent(absl::string_view traceparent);

// The child of `parent`: the same trace id and flags, a new span id; or the start of a new,
// sampled trace when `parent` is missing or malformed.
std::string ChildTraceparent(absl::string_view parent, absl::BitGen& random);

// The parts of a valid traceparent; empty (false for IsSampled) when it is not valid.
absl::string_view TraceIdOf(absl::string_view traceparent);
absl::string_view SpanIdOf(absl::string_view traceparent);
bool IsSampled(absl::string_view traceparent);

}  // namespace choreo::ids
