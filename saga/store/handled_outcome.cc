#include "saga/store/handled_outcome.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "choreo/saga/v1/outcome.pb.h"
#include "saga/codec/event_codec.h"

namespace choreo::store {
namespace {

// Whether `record`'s headers are exactly, and in order, those the codec derives from its value
// and its ce_type (codec::EventHeaders).
bool HeadersDerivable(const KafkaRecord& record) {
  const std::optional<absl::string_view> type = record.Header(codec::kHeaderType);
  if (!type) return false;
  absl::StatusOr<common::v1::EventMeta> meta = codec::DecodeMeta(record.value);
  return meta.ok() && record.headers == codec::EventHeaders(*type, *meta);
}

// The headers a marker keeps of derivable ones: what a reader of before 2026-12-04, which does
// not derive the rest, needs to re-publish a record consumers still decode (EventCodec::Decode
// needs no other).
bool KeptWhenDerived(const RecordHeader& header) {
  return header.key == codec::kHeaderSpecVersion || header.key == codec::kHeaderType;
}

}  // namespace

std::string EncodeHandledOutcome(const std::vector<KafkaRecord>& records, MarkerHeaders headers) {
  saga::v1::HandledOutcome outcome;
  for (const KafkaRecord& record : records) {
    saga::v1::StoredRecord* stored = outcome.add_records();
    stored->set_topic(record.topic);
    stored->set_key(record.key);
    stored->set_value(record.value);
    const bool derived = headers == MarkerHeaders::kDerived && HeadersDerivable(record);
    stored->set_headers_derived(derived);
    for (const RecordHeader& header : record.headers) {
      if (derived && !KeptWhenDerived(header)) continue;
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
    for (const saga::v1::StoredHeader& header : stored.headers()) {
      record.AddHeader(header.key(), header.value());
    }
    if (stored.headers_derived()) {
      const std::optional<absl::string_view> type = record.Header(codec::kHeaderType);
      absl::StatusOr<common::v1::EventMeta> meta = codec::DecodeMeta(record.value);
      if (!type || !meta.ok()) {
        return absl::DataLossError(absl::StrCat(
            "stored handled marker: a record on ", record.topic,
            " stored without its headers has no ce_type or no EventMeta to derive them from"));
      }
      record.headers = codec::EventHeaders(*type, *meta);
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace choreo::store
