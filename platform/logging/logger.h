#pragma once

// The process's log: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-22T08:00:01.123456Z","level":"warn","service":"billing","msg":"...",
//    "correlation_id":"...","event_id":"...","trace_id":"...","topic":"orders.created",...}
//
// Every line about an event carries correlation_id, event_id and trace_id (EventFields), so a
// log search for one correlation id finds the saga in every service. Lines below the process's
// level (--log-level: debug, info, warn, error; info by default) are skipped before they are
// formatted.
//
// Thread-safe: lines are written whole, one write each. Configure once at start-up.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "platform/record/record.h"

namespace choreo::logging {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

absl::StatusOr<Level> ParseLevel(absl::string_view name);
absl::string_view LevelName(Level level);

// Extra members of a line, in order; values are JSON strings.
using Fields = std::vector<std::pair<std::string, std::string>>;

// One line (with its '\n'). Pure.
std::string FormatLine(absl::Time time, Level level, absl::string_view service,
                       absl::string_view message, const Fields& fields);

// correlation_id, event_id and trace_id of a record (from its CloudEvents and traceparent
// headers), then topic, partition, offset and key.
Fields EventFields(const KafkaRecord& record);
// The same three ids from an event's own values.
Fields EventFields(absl::string_view correlation_id, absl::string_view event_id,
                   absl::string_view traceparent);

// Process-wide settings: the service name on every line and the lowest level written.
void Configure(std::string service, Level level);
bool Enabled(Level level);

void Log(Level level, absl::string_view message, const Fields& fields = {});
inline void Debug(absl::string_view message, const Fields& fields = {}) {
  Log(Level::kDebug, message, fields);
}
inline void Info(absl::string_view message, const Fields& fields = {}) {
  Log(Level::kInfo, message, fields);
}
inline void Warn(absl::string_view message, const Fields& fields = {}) {
  Log(Level::kWarn, message, fields);
}
inline void Error(absl::string_view message, const Fields& fields = {}) {
  Log(Level::kError, message, fields);
}

}  // namespace choreo::logging
