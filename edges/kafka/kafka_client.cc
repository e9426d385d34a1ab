#include "edges/kafka/kafka_client.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "platform/logging/logger.h"

namespace choreo::kafka {

KafkaConfig Merged(KafkaConfig base, const KafkaConfig& overrides) {
  base.insert(base.end(), overrides.begin(), overrides.end());
  return base;
}

KafkaConfig ProducerDefaults(absl::string_view bootstrap_servers) {
  return {
      {"bootstrap.servers", std::string(bootstrap_servers)},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "0"},
      {"socket.nagle.disable", "true"},
      {"statistics.interval.ms", "1000"},
      {"message.timeout.ms", "30000"},
      {"reconnect.backoff.max.ms", "1000"},
  };
}

KafkaConfig AdminDefaults(absl::string_view bootstrap_servers) {
  return Merged(ProducerDefaults(bootstrap_servers), {{"enable.idempotence", "false"}});
}

KafkaConfig ConsumerDefaults(absl::string_view bootstrap_servers, absl::string_view group_id) {
  return {
      {"bootstrap.servers", std::string(bootstrap_servers)},
      {"group.id", std::string(group_id)},
      {"enable.auto.offset.store", "false"},
      {"enable.auto.commit", "true"},
      // Each tick wakes the client's main thread; a crash re-reads about a second of records
      // (more while commits fail), and every consumer handles a record twice harmlessly
      // (deploy/kafka/README.md).
      {"auto.commit.interval.ms", "1000"},
      {"auto.offset.reset", "earliest"},
      {"isolation.level", "read_committed"},
      {"socket.nagle.disable", "true"},
      {"statistics.interval.ms", "1000"},
      {"reconnect.backoff.max.ms", "1000"},
      // A member that died without leaving stalls its partitions this long (librdkafka: 45 s,
      // longer than a client waits for a saga); deploy/kafka/README.md has the reasoning.
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      {"max.poll.interval.ms", "30000"},
  };
}

KafkaConfig BatchedFetch(absl::Duration max_wait) {
  return {{"fetch.wait.max.ms", absl::StrCat(absl::ToInt64Milliseconds(max_wait))},
          {"fetch.min.bytes", "65536"}};
}

KafkaConfig BatchedProduce(absl::Duration linger) {
  return {{"linger.ms", absl::StrCat(absl::ToInt64Milliseconds(linger))}};
}

namespace {

// librdkafka's own log lines (syslog levels) as the process's JSON lines.
void LogToProcessLog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const logging::Level ours = level <= 3   ? logging::Level::kError
                              : level == 4 ? logging::Level::kWarn
                              : level <= 6 ? logging::Level::kInfo
                                           : logging::Level::kDebug;
  if (!logging::Enabled(ours)) return;
  logging::Log(ours, message, {{"component", "librdkafka"}, {"client", rd_kafka_name(rk)},
                               {"facility", facility}});
}

absl::Mutex process_properties_mu(absl::kConstInit);
KafkaConfig* process_properties ABSL_GUARDED_BY(process_properties_mu) = nullptr;

KafkaConfig ProcessClientProperties() {
  absl::MutexLock lock(&process_properties_mu);
  return process_properties == nullptr ? KafkaConfig{} : *process_properties;
}

}  // namespace

void SetProcessClientProperties(KafkaConfig properties) {
  absl::MutexLock lock(&process_properties_mu);
  delete process_properties;
  process_properties = new KafkaConfig(std::move(properties));
}

absl::StatusOr<KafkaConfig> ReadClientProperties(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read ", path));
  KafkaConfig properties;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    const size_t equals = text.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": expected name=value"));
    }
    properties.emplace_back(std::string(absl::StripAsciiWhitespace(text.substr(0, equals))),
                            std::string(absl::StripAsciiWhitespace(text.substr(equals + 1))));
  }
  return properties;
}

absl::Status UseClientPropertiesFile(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<KafkaConfig> properties = ReadClientProperties(path);
  if (!properties.ok()) {
    return absl::Status(properties.status().code(),
                        absl::StrCat("--kafka-properties: ", properties.status().message()));
  }
  SetProcessClientProperties(*std::move(properties));
  return absl::OkStatus();
}

absl::StatusOr<ConfPtr> MakeConf(const KafkaConfig& config) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &LogToProcessLog);
  char error[512];
  const KafkaConfig process = ProcessClientProperties();
  for (const KafkaConfig* properties : {&process, &config}) {
    for (const auto& [name, value] : *properties) {
      if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof error) !=
          RD_KAFKA_CONF_OK) {
        const bool secret = absl::StrContains(name, "password") || absl::StrContains(name, "key");
        return absl::InvalidArgumentError(
            absl::StrCat("kafka property ", name, "=", secret ? "(secret)" : value, ": ", error));
      }
    }
  }
  return conf;
}

absl::StatusOr<HandlePtr> MakeHandle(rd_kafka_type_t type, ConfPtr conf) {
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), error, sizeof error);
  if (rk == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create kafka client: ", error));
  }
  conf.release();  // rd_kafka_new took ownership
  return HandlePtr(rk);
}

absl::Status ErrorToStatus(rd_kafka_resp_err_t err, absl::string_view context) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  std::string message = absl::StrCat(context, ": ", rd_kafka_err2str(err));
  switch (err) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return absl::DeadlineExceededError(message);
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    // A fatal producer's records: the producer replaces itself (KafkaProducer), so a retry
    // succeeds; and records purged from a producer that stops.
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
      return absl::UnavailableError(message);
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

KafkaRecord RecordFromMessage(const rd_kafka_message_t& message) {
  KafkaRecord record;
  if (message.rkt != nullptr) record.topic = rd_kafka_topic_name(message.rkt);
  record.partition = message.partition;
  record.offset = message.offset;
  if (message.key != nullptr) {
    record.key.assign(static_cast<const char*>(message.key), message.key_len);
  }
  if (message.payload != nullptr) {
    record.value.assign(static_cast<const char*>(message.payload), message.len);
  }
  rd_kafka_timestamp_type_t timestamp_type;
  int64_t timestamp = rd_kafka_message_timestamp(&message, &timestamp_type);
  if (timestamp_type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) record.timestamp_ms = timestamp;

  rd_kafka_headers_t* headers = nullptr;
  // rd_kafka_message_headers takes a non-const message but only reads it.
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(&message), &headers) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    record.headers.reserve(rd_kafka_header_cnt(headers));  // one allocation, not one per doubling
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      record.AddHeader(name, value == nullptr ? std::string()
                                              : std::string(static_cast<const char*>(value), size));
    }
  }
  return record;
}

rd_kafka_headers_t* HeadersFromRecord(const KafkaRecord& record) {
  rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
  for (const RecordHeader& header : record.headers) {
    rd_kafka_header_add(headers, header.key.data(), static_cast<ssize_t>(header.key.size()),
                        header.value.data(), static_cast<ssize_t>(header.value.size()));
  }
  return headers;
}

}  // namespace choreo::kafka
