#include "saga/dlq/dead_letter.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "saga/codec/event_codec.h"
#include "edges/kafka/kafka_producer.h"
#include "saga/publish/publisher.h"
#include "edges/kafka/topic_reader.h"

namespace choreo::dlq {

std::string ErrorKind(const absl::Status& error) {
  if (auto kind = codec::DecodeErrorOf(error)) return std::string(codec::DecodeErrorName(*kind));
  if (error.code() == absl::StatusCode::kInvalidArgument ||
      error.code() == absl::StatusCode::kFailedPrecondition) {
    return "rejected";
  }
  return absl::StatusCodeToString(error.code());
}

KafkaRecord DeadLetterRecord(const KafkaRecord& original, absl::string_view service,
                             const absl::Status& error, int attempts, absl::Time now) {
  KafkaRecord record;
  record.topic = absl::StrCat("dlq.", service);
  record.key = original.key;
  record.value = original.value;
  record.headers = original.headers;
  record.AddHeader(std::string(kOriginalTopic), original.topic);
  record.AddHeader(std::string(kOriginalPartition), absl::StrCat(original.partition));
  record.AddHeader(std::string(kOriginalOffset), absl::StrCat(original.offset));
  record.AddHeader(std::string(kError), std::string(error.message()));
  record.AddHeader(std::string(kErrorKind), ErrorKind(error));
  record.AddHeader(std::string(kAttempts), absl::StrCat(attempts));
  record.AddHeader(std::string(kTime),
                   absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", now, absl::UTCTimeZone()));
  record.AddHeader(std::string(kService), std::string(service));
  return record;
}

absl::StatusOr<KafkaRecord> ReplayRecord(const KafkaRecord& dead_letter) {
  auto topic = dead_letter.Header(kOriginalTopic);
  if (!topic || topic->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("record at ", dead_letter.topic, "[",
                                                   dead_letter.partition, "]@", dead_letter.offset,
                                                   " has no ", kOriginalTopic, " header"));
  }
  KafkaRecord record;
  record.topic = std::string(*topic);
  record.key = dead_letter.key;
  record.value = dead_letter.value;
  for (const RecordHeader& header : dead_letter.headers) {
    if (!absl::StartsWith(header.key, "dlq_")) record.headers.push_back(header);
  }
  return record;
}

absl::StatusOr<std::vector<ReplayEntry>> ReplayDeadLetters(const ReplayOptions& options) {
  const kafka::KafkaConfig config =
      kafka::Merged({{"bootstrap.servers", options.kafka_brokers}}, options.overrides);
  std::unique_ptr<kafka::KafkaProducer> producer;
  if (!options.dry_run) {
    absl::StatusOr<std::unique_ptr<kafka::KafkaProducer>> created = kafka::KafkaProducer::Create(
        kafka::Merged(kafka::ProducerDefaults(options.kafka_brokers), options.overrides));
    if (!created.ok()) return created.status();
    producer = *std::move(created);
  }
  // Records are sent again as they were (their meta untouched), through the one publisher.
  publish::KafkaSink sink(producer.get());
  const publish::Publisher publisher(&sink, {.service = "dlq", .ack_timeout = absl::Seconds(30)});
  std::vector<ReplayEntry> entries;
  absl::Status read = kafka::ReadTopicToEnd(
      config, options.dlq_topic, options.timeout, [&](const KafkaRecord& dead_letter) {
        if (options.select && !options.select(dead_letter)) return absl::OkStatus();
        ReplayEntry entry;
        entry.partition = dead_letter.partition;
        entry.offset = dead_letter.offset;
        entry.original_topic = std::string(dead_letter.Header(kOriginalTopic).value_or(""));
        entry.event_id = std::string(dead_letter.Header("ce_id").value_or(""));
        entry.error_kind = std::string(dead_letter.Header(kErrorKind).value_or(""));
        entry.error = std::string(dead_letter.Header(kError).value_or(""));
        if (producer != nullptr) {
          absl::StatusOr<KafkaRecord> replay = ReplayRecord(dead_letter);
          if (!replay.ok()) return replay.status();
          if (absl::Status sent = publisher.SendAndWait({*std::move(replay)}); !sent.ok()) {
            return sent;
          }
          entry.replayed = true;
        }
        entries.push_back(std::move(entry));
        return absl::OkStatus();
      });
  if (!read.ok()) return read;
  return entries;
}

}  // namespace choreo::dlq
