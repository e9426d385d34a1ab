#pragma once

// Dead letters: a record a service could not handle, copied untouched (key, value, original
// headers) to dlq.<service> with headers saying where it came from and why; and the way back.
//
//   dlq_original_topic, dlq_original_partition, dlq_original_offset,
//   dlq_error (the status message), dlq_error_kind (unknown_type, undecodable,
//   unsupported_major_version, rejected: the handler's INVALID_ARGUMENT/FAILED_PRECONDITION...,
//   or the status code name), dlq_attempts, dlq_time (RFC 3339 UTC), dlq_service.
//
// DeadLetterRecord and ReplayRecord are pure. ReplayDeadLetters reads a dead-letter topic
// through Kafka and, unless it is a dry run, produces each selected record back to its original
// topic (consumers dedupe by event id, so replaying a record that was since handled is harmless).

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "edges/kafka/kafka_client.h"
#include "platform/record/record.h"

namespace choreo::dlq {

inline constexpr absl::string_view kOriginalTopic = "dlq_original_topic";
inline constexpr absl::string_view kOriginalPartition = "dlq_original_partition";
inline constexpr absl::string_view kOriginalOffset = "dlq_original_offset";
inline constexpr absl::string_view kError = "dlq_error";
inline constexpr absl::string_view kErrorKind = "dlq_error_kind";
inline constexpr absl::string_view kAttempts = "dlq_attempts";
inline constexpr absl::string_view kTime = "dlq_time";
inline constexpr absl::string_view kService = "dlq_service";

// The kind recorded in dlq_error_kind for `error`: the codec's kind when it has one, "rejected"
// for INVALID_ARGUMENT / FAILED_PRECONDITION from a handler, else the code's name.
std::string ErrorKind(const absl::Status& error);

// The dead-letter copy of `original` for `service`.
KafkaRecord DeadLetterRecord(const KafkaRecord& original, absl::string_view service,
                             const absl::Status& error, int attempts, absl::Time now);

// The record to put back on its original topic: same key, value and original headers (dlq_*
// headers removed). INVALID_ARGUMENT if `dead_letter` has no dlq_original_topic.
absl::StatusOr<KafkaRecord> ReplayRecord(const KafkaRecord& dead_letter);

struct ReplayOptions {
  std::string kafka_brokers;
  std::string dlq_topic;  // e.g. "dlq.billing"
  bool dry_run = true;
  // Which dead letters to replay; all when unset.
  std::function<bool(const KafkaRecord& dead_letter)> select;
  kafka::KafkaConfig overrides;  // extra client properties (security, ...)
  absl::Duration timeout = absl::Seconds(30);
};

struct ReplayEntry {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string original_topic;
  std::string event_id;  // ce_id
  std::string error_kind;
  std::string error;
  bool replayed = false;  // false in a dry run or when not selected
};

// Reads `dlq_topic` from its beginning up to its end at the time of the call and replays the
// selected records (or, in a dry run, only lists what it would do). Returns one entry per
// selected dead letter, in partition-then-offset order of reading.
absl::StatusOr<std::vector<ReplayEntry>> ReplayDeadLetters(const ReplayOptions& options);

}  // namespace choreo::dlq
