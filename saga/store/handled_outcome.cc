#include "saga/store/handled_outcome.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "choreo/saga/v1/outcome.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
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

using google::protobuf::internal::WireFormatLite;

// A value's last top-level field: its number and where its tag begins.
struct LastField {
  uint32_t number = 0;
  size_t start = 0;
};

// `value` with `state` appended as length-delimited field `number`, written by protobuf's own
// coded stream (its tag and length as a serializer writes them).
std::string WithStateField(std::string value, uint32_t number, absl::string_view state) {
  {
    google::protobuf::io::StringOutputStream appended(&value);  // writes after value's bytes
    google::protobuf::io::CodedOutputStream out(&appended);
    out.WriteTag(WireFormatLite::MakeTag(static_cast<int>(number),
                                         WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    out.WriteVarint32(static_cast<uint32_t>(state.size()));
    out.WriteRaw(state.data(), static_cast<int>(state.size()));
  }  // the stream trims `value` to what was written
  return value;
}

// The last field of `value` when it holds exactly `state`: appending `state` as that field to
// the bytes before it gives `value` back, byte for byte (a length-delimited field, its tag and
// length written as protobuf writes them, a field number above 0).
std::optional<LastField> StateField(absl::string_view value, absl::string_view state) {
  if (state.empty() || !absl::EndsWith(value, state)) return std::nullopt;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(value.data()),
                                            static_cast<int>(value.size()));
  std::optional<LastField> last;
  while (!in.ExpectAtEnd()) {
    const size_t start = static_cast<size_t>(in.CurrentPosition());
    const uint32_t tag = in.ReadTag();
    if (tag == 0 || !WireFormatLite::SkipField(&in, tag)) return std::nullopt;
    last = LastField{static_cast<uint32_t>(WireFormatLite::GetTagFieldNumber(tag)), start};
  }
  if (!last || last->number == 0 ||
      WithStateField(std::string(value.substr(0, last->start)), last->number, state) != value) {
    return std::nullopt;
  }
  return last;
}

}  // namespace

std::string EncodeHandledOutcome(const std::vector<KafkaRecord>& records, MarkerHeaders headers,
                                 const SnapshotsOfState& snapshots) {
  saga::v1::HandledOutcome outcome;
  for (size_t i = 0; i < records.size(); ++i) {
    const KafkaRecord& record = records[i];
    saga::v1::StoredRecord* stored = outcome.add_records();
    stored->set_topic(record.topic);
    stored->set_key(record.key);
    std::optional<LastField> state_field;
    if (snapshots.keep == MarkerSnapshots::kByState && i < snapshots.carries_state.size() &&
        snapshots.carries_state[i]) {
      state_field = StateField(record.value, snapshots.state);
    }
    if (state_field) {
      stored->set_state_field(state_field->number);
      stored->set_value(record.value.substr(0, state_field->start));
    } else {
      stored->set_value(record.value);
    }
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

absl::StatusOr<std::vector<KafkaRecord>> DecodeHandledOutcome(
    const std::string& bytes, std::optional<absl::string_view> state) {
  saga::v1::HandledOutcome outcome;
  if (!outcome.ParseFromString(bytes)) {
    return absl::DataLossError("stored handled marker is not a HandledOutcome");
  }
  std::vector<KafkaRecord> records;
  for (const saga::v1::StoredRecord& stored : outcome.records()) {
    if (stored.state_field() != 0 && !state) {
      return absl::DataLossError(
          absl::StrCat("stored handled marker: a snapshot on ", stored.topic(),
                       " was stored without its state, and its aggregate has none to fill it in"));
    }
    KafkaRecord record;
    record.topic = stored.topic();
    record.key = stored.key();
    record.value = stored.state_field() != 0
                       ? WithStateField(stored.value(), stored.state_field(), *state)
                       : stored.value();
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
