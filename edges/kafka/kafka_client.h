#pragma once

// The librdkafka edge: configuration, error conversion, and record conversion between
// choreo::KafkaRecord and librdkafka's messages. Nothing above this library includes rdkafka.h
// except the mock-cluster host and tests that inject broker faults.

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/record/record.h"

namespace choreo::kafka {

// librdkafka properties in the order they are applied (later entries override earlier ones).
using KafkaConfig = std::vector<std::pair<std::string, std::string>>;

// `base` with `overrides` applied over it (librdkafka takes the last value of a property).
KafkaConfig Merged(KafkaConfig base, const KafkaConfig& overrides);

// Producer settings chosen for safety and latency instead of librdkafka 2.0's defaults:
// idempotent (acks=all, no reordering or duplicates on retry), linger.ms=0 (a record is sent at
// once; under load batches form while earlier requests are in flight), socket.nagle.disable,
// reconnecting within 1 s, statistics every second for metrics.
KafkaConfig ProducerDefaults(absl::string_view bootstrap_servers);

// A connection for admin requests only (topics, metadata): a producer without idempotence, so it
// needs no producer id from the broker.
KafkaConfig AdminDefaults(absl::string_view bootstrap_servers);

// Consumer-group settings: offsets are stored explicitly after a record's effects are committed
// (enable.auto.offset.store=false), read_committed, earliest on a new group, a dead member
// noticed within 10 s (session.timeout.ms), a rebalance waiting at most 30 s for members. fetch.wait.max.ms
// is left to the caller: Kafka long-polls so larger is free there, the dev broker holds empty
// fetches for the full value so the local stack uses ~1 ms (ARCHITECTURE.md §3).
KafkaConfig ConsumerDefaults(absl::string_view bootstrap_servers, absl::string_view group_id);

// For a consumer off the client's critical path (notifications, the timeline): the broker answers
// a fetch once fetch.min.bytes (64 KiB) have gathered or after `max_wait`, so one fetch carries
// many records instead of one each. Far fewer requests for the broker and wake-ups for the
// client, for up to `max_wait` of delay. Overrides for ConsumerDefaults.
KafkaConfig BatchedFetch(absl::Duration max_wait);

// For a producer off the client's critical path: a record waits up to `linger` for others to
// its partition, so a burst goes out in a few requests. Overrides for ProducerDefaults.
KafkaConfig BatchedProduce(absl::Duration linger);

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

// Who this process is to Kafka: properties every client of the process starts from (MakeConf
// applies them before its own), such as security.protocol, sasl.mechanisms, sasl.username,
// sasl.password and ssl.*. Set once at start (--kafka-properties), before any client exists; a
// client's own config overrides them (a test's client with another identity). Thread-safe.
void SetProcessClientProperties(KafkaConfig properties);

// librdkafka properties from a file: `name=value` lines (spaces around both trimmed), blank lines
// and lines starting with # skipped. FAILED_PRECONDITION for a file that cannot be read,
// INVALID_ARGUMENT naming a line without '='.
absl::StatusOr<KafkaConfig> ReadClientProperties(const std::string& path);

// ReadClientProperties(path), then SetProcessClientProperties: a process's --kafka-properties.
// No-op for an empty path; the error names the flag.
absl::Status UseClientPropertiesFile(const std::string& path);

// A librdkafka configuration holding the process's client properties, then `config`;
// INVALID_ARGUMENT naming the bad property (a secret's value is not repeated).
absl::StatusOr<ConfPtr> MakeConf(const KafkaConfig& config);

// A producer or consumer handle; takes ownership of `conf` only on success.
absl::StatusOr<HandlePtr> MakeHandle(rd_kafka_type_t type, ConfPtr conf);

// librdkafka error -> absl::Status: timeouts and transport errors are UNAVAILABLE or
// DEADLINE_EXCEEDED (retry), configuration and message errors INVALID_ARGUMENT, the rest
// INTERNAL. `context` prefixes the message.
absl::Status ErrorToStatus(rd_kafka_resp_err_t err, absl::string_view context);

// A consumed (or delivered) librdkafka message as a KafkaRecord, headers included.
KafkaRecord RecordFromMessage(const rd_kafka_message_t& message);

// New librdkafka headers holding `record`'s headers (caller owns the result).
rd_kafka_headers_t* HeadersFromRecord(const KafkaRecord& record);

}  // namespace choreo::kafka
