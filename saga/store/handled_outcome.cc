#include "saga/store/handled_outcome.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "choreo/saga/v1/outcome.pb.h"
#include "saga/codec/event_codec.h"

namespace choreo::store {
namespace {

// The event type whose derived headers (codec::EventHeaders) `record` carries, exactly and in
// order; empty when it carries any others.
std::string DerivedHeadersType(const KafkaRecord& record) {
  const std::optional<absl::string_view> type = record.Header(codec::kHeaderType);
  if (!type) return "";
  absl::StatusOr<common::v1::EventMeta> meta = codec::DecodeMeta(record.value);
  if (!meta.ok() || record.headers != codec::EventHeaders(*type, *meta)) return "";
  return std::string(*type);
}

}  // namespace

std::string EncodeHandledOutcome(const std::vector<KafkaRecord>& records) {
  saga::v1::HandledOutcome outcome;
  for (const KafkaRecord& record : records) {
    saga::v1::StoredRecord* stored = outcome.add_records();
    stored->set_topic(record.topic);
    stored->set_key(record.key);
    stored->set_value(record.value);
    if (std::string type = DerivedHeadersType(record); !type.empty()) {
      stored->set_event_type(std::move(type));
      continue;
    }
    for (const RecordHeader& header : record.headers) {
      saga::v1::StoredHeader* h = stored->add_headers();
      h->set_key(header.key);
      h->set_value(header.value);
    }
  }
  return outcome.SerializeAsString();
}

absl::StatusOr<std::vector<KafkaRecord>> DecodeHandledOutcome(const std::string& bytes) {
  saga::v1::HandledOutcome outcome;
  if (!outcome.ParseFromString(bytes)) {
    return absl::DataLossError("stored handled marker is not a HandledOutcome");
  }
  std::vector<KafkaRecord> records;
  for (const saga::v1::StoredRecord& stored : outcome.records()) {
    KafkaRecord record;
    record.topic = stored.topic();
    record.key = stored.key();
    record.value = stored.value();
    if (!stored.event_type().empty()) {
      absl::StatusOr<common::v1::EventMeta> meta = codec::DecodeMeta(record.value);
      if (!meta.ok()) {
        return absl::DataLossError(
            absl::StrCat("stored handled marker: a ", stored.event_type(),
                         " record's value has no EventMeta: ", meta.status().message()));
      }
      record.headers = codec::EventHeaders(stored.event_type(), *meta);
    }
    for (const saga::v1::StoredHeader& header : stored.headers()) {
      record.AddHeader(header.key(), header.value());
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace choreo::store
