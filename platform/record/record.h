#pragma once

// KafkaRecord: one Kafka record as plain data, independent of any client library, so that the
// codec and decision code can be tested without a broker. edges/kafka converts it to and from
// librdkafka's messages.

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

namespace choreo {

struct RecordHeader {
  std::string key;
  std::string value;

  friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

struct KafkaRecord {
  std::string topic;
  int32_t partition = -1;  // -1: not yet assigned (a record about to be produced)
  int64_t offset = -1;     // -1: not yet appended
  std::string key;
  std::string value;
  std::vector<RecordHeader> headers;  // in wire order; keys may repeat
  int64_t timestamp_ms = 0;           // broker or producer timestamp; 0 if unknown

  // The value of the last header named `name` (Kafka headers may repeat; the last one wins, as
  // with rd_kafka_header_get_last), or nullopt.
  std::optional<absl::string_view> Header(absl::string_view name) const {
    for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
      if (it->key == name) return absl::string_view(it->value);
    }
    return std::nullopt;
  }

  void AddHeader(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value)});
  }
};

}  // namespace choreo
