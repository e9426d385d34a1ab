#include "platform/logging/logger.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "platform/ids/trace_context.h"
#include "platform/json/json_text.h"

namespace choreo::logging {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};

// Set by Configure (at start-up); the previous name is kept alive, as a line being written may
// still read it.
std::atomic<const std::string*> service_name{new std::string("choreo")};

void AppendQuoted(std::string& out, absl::string_view text) { out.append(json::JsonQuote(text)); }

}  // namespace

absl::StatusOr<Level> ParseLevel(absl::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level '", name, "' (debug, info, warn or error)"));
}

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::string FormatLine(absl::Time time, Level level, absl::string_view service,
                       absl::string_view message, const Fields& fields) {
  std::string line = "{\"ts\":";
  AppendQuoted(line, absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone()));
  line.append(",\"level\":");
  AppendQuoted(line, LevelName(level));
  line.append(",\"service\":");
  AppendQuoted(line, service);
  line.append(",\"msg\":");
  AppendQuoted(line, message);
  for (const auto& [key, value] : fields) {
    line.push_back(',');
    AppendQuoted(line, key);
    line.push_back(':');
    AppendQuoted(line, value);
  }
  line.append("}\n");
  return line;
}

Fields EventFields(absl::string_view correlation_id, absl::string_view event_id,
                   absl::string_view traceparent) {
  return {{"correlation_id", std::string(correlation_id)},
          {"event_id", std::string(event_id)},
          {"trace_id", std::string(ids::TraceIdOf(traceparent))}};
}

Fields EventFields(const KafkaRecord& record) {
  Fields fields = EventFields(record.Header("ce_correlationid").value_or(""),
                              record.Header("ce_id").value_or(""),
                              record.Header("traceparent").value_or(""));
  fields.emplace_back("topic", record.topic);
  fields.emplace_back("partition", absl::StrCat(record.partition));
  fields.emplace_back("offset", absl::StrCat(record.offset));
  fields.emplace_back("key", record.key);
  return fields;
}

void Configure(std::string service, Level level) {
  service_name.store(new std::string(std::move(service)));  // the old one is left: see above
  min_level.store(static_cast<int>(level));
}

bool Enabled(Level level) { return static_cast<int>(level) >= min_level.load(); }

void Log(Level level, absl::string_view message, const Fields& fields) {
  if (!Enabled(level)) return;
  const std::string line = FormatLine(absl::Now(), level, *service_name.load(), message, fields);
  // One write per line: lines of concurrent threads never interleave.
  static_cast<void>(::write(STDERR_FILENO, line.data(), line.size()));
}

}  // namespace choreo::logging
