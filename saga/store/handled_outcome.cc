#include "saga/store/handled_outcome.h"

#include "choreo/saga/v1/outcome.pb.h"

namespace choreo::store {

std::string EncodeHandledOutcome(const std::vector<KafkaRecord>& records) {
  saga::v1::HandledOutcome outcome;
  for (const KafkaRecord& record : records) {
    saga::v1::StoredRecord* stored = outcome.add_records();
    stored->set_topic(record.topic);
    stored->set_key(record.key);
    stored->set_value(record.value);
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
    for (const saga::v1::StoredHeader& header : stored.headers()) {
      record.AddHeader(header.key(), header.value());
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace choreo::store
