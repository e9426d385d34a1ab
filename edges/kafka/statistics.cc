#include "edges/kafka/statistics.h"

#include <algorithm>
#include <functional>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace choreo::kafka {

namespace {

absl::StatusOr<google::protobuf::Struct> ParseStatistics(absl::string_view json) {
  google::protobuf::Struct root;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &root, options).ok()) {
    return absl::InvalidArgumentError("librdkafka statistics are not valid JSON");
  }
  return root;
}

// What follows `"key":` (whitespace stripped) at every occurrence of the key in `json`, in
// order, up to the end of the text: a text scan, no parse. A client's statistics are tens of KB
// of JSON and readiness looks at them every second; a full parse there cost each process about
// 2% of a core. librdkafka's keys never appear inside its string values.
std::vector<absl::string_view> ValuesOf(absl::string_view json, absl::string_view key) {
  const std::string quoted = absl::StrCat("\"", key, "\"");
  std::vector<absl::string_view> values;
  for (size_t at = json.find(quoted); at != absl::string_view::npos;
       at = json.find(quoted, at + quoted.size())) {
    absl::string_view rest = absl::StripLeadingAsciiWhitespace(json.substr(at + quoted.size()));
    if (!absl::ConsumePrefix(&rest, ":")) continue;
    values.push_back(absl::StripLeadingAsciiWhitespace(rest));
  }
  return values;
}

// The string values of every `"key": "..."` in `json`, in order (ValuesOf): an object named
// like `key` (a topic, say) is followed by `{`, not a string, and is skipped.
std::vector<absl::string_view> StringValues(absl::string_view json, absl::string_view key) {
  std::vector<absl::string_view> values;
  for (absl::string_view rest : ValuesOf(json, key)) {
    if (!absl::ConsumePrefix(&rest, "\"")) continue;
    const size_t end = rest.find('"');
    if (end == absl::string_view::npos) break;
    values.push_back(rest.substr(0, end));
  }
  return values;
}

// UNAVAILABLE unless `json` shows a broker "state": "UP" (a text scan; the consumer group's
// "state" is lowercase "up", and other states are "idemp_state", "fetch_state", ...).
absl::Status BrokerUpByScan(absl::string_view json) {
  if (json.empty()) return absl::UnavailableError("Kafka: no client statistics yet");
  for (absl::string_view state : StringValues(json, "state")) {
    if (state == "UP") return absl::OkStatus();
  }
  return absl::UnavailableError("Kafka: no broker reachable");
}

// A client's statistics, parsed once (tens of KB of JSON), when they show a broker UP;
// UNAVAILABLE otherwise (none, no statistics yet, not JSON).
absl::StatusOr<google::protobuf::Struct> ReachableStatistics(absl::string_view json) {
  if (absl::Status up = BrokerUpByScan(json); !up.ok()) return up;
  absl::StatusOr<google::protobuf::Struct> root = ParseStatistics(json);
  if (!root.ok()) return absl::UnavailableError(root.status().message());
  return root;
}

using PartitionFields = google::protobuf::Map<std::string, google::protobuf::Value>;

// Calls `visit(topic, partition id, fields)` for every partition in the statistics (librdkafka's
// internal partition "-1" included) until one returns an error, which is returned.
absl::Status ForEachPartition(
    const google::protobuf::Struct& root,
    const std::function<absl::Status(const std::string&, const std::string&,
                                      const PartitionFields&)>& visit) {
  auto topics = root.fields().find("topics");
  if (topics == root.fields().end()) return absl::OkStatus();
  for (const auto& [topic, topic_value] : topics->second.struct_value().fields()) {
    auto partitions = topic_value.struct_value().fields().find("partitions");
    if (partitions == topic_value.struct_value().fields().end()) continue;
    for (const auto& [id, partition] : partitions->second.struct_value().fields()) {
      if (absl::Status visited = visit(topic, id, partition.struct_value().fields());
          !visited.ok()) {
        return visited;
      }
    }
  }
  return absl::OkStatus();
}

// Calls `check(name, fields)` for each of `partitions` as `root` shows it, in order, until one
// returns an error; UNAVAILABLE when one is missing from `root` or not fetching there yet
// (statistics older than an assignment prove nothing about it).
absl::Status ForEachFetching(
    const google::protobuf::Struct& root, const std::vector<TopicPartition>& partitions,
    const std::function<absl::Status(const std::string&, const PartitionFields&)>& check) {
  std::map<std::string, const PartitionFields*> seen;  // "topic[id]" -> fields
  static_cast<void>(ForEachPartition(root, [&seen](const std::string& topic, const std::string& id,
                                                   const PartitionFields& fields) {
    seen[absl::StrCat(topic, "[", id, "]")] = &fields;
    return absl::OkStatus();
  }));
  for (const TopicPartition& partition : partitions) {
    const std::string name = absl::StrCat(partition.topic, "[", partition.partition, "]");
    auto found = seen.find(name);
    if (found == seen.end()) {
      return absl::UnavailableError(absl::StrCat("Kafka: no statistics for ", name, " yet"));
    }
    const PartitionFields& fields = *found->second;
    auto state = fields.find("fetch_state");
    const std::string fetch = state == fields.end() ? "" : state->second.string_value();
    if (fetch != "active") {
      return absl::UnavailableError(
          absl::StrCat("Kafka: ", name, " is not fetching yet (", fetch, ")"));
    }
    if (absl::Status checked = check(name, fields); !checked.ok()) return checked;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckBrokersReachable(absl::string_view json) { return BrokerUpByScan(json); }

absl::Status CheckConsumerReady(absl::string_view json) {
  if (absl::Status up = BrokerUpByScan(json); !up.ok()) return up;
  bool looking = false;
  for (absl::string_view state : StringValues(json, "fetch_state")) {
    looking = looking || state == "offset-query" || state == "offset-wait";
  }
  if (!looking) return absl::OkStatus();
  // Rare (the first second of an assignment): parse, to name the partition.
  absl::StatusOr<google::protobuf::Struct> root = ReachableStatistics(json);
  if (!root.ok()) return root.status();
  return ForEachPartition(*root, [](const std::string& topic, const std::string& id,
                                    const PartitionFields& fields) {
    auto state = fields.find("fetch_state");
    if (state == fields.end()) return absl::OkStatus();
    const std::string& fetch = state->second.string_value();
    if (fetch == "offset-query" || fetch == "offset-wait") {
      return absl::UnavailableError(
          absl::StrCat("Kafka: ", topic, "[", id, "] is still looking up its offset"));
    }
    return absl::OkStatus();
  });
}

absl::Status CheckFetching(absl::string_view json, const std::vector<TopicPartition>& partitions) {
  absl::StatusOr<google::protobuf::Struct> root = ReachableStatistics(json);
  if (!root.ok()) return root.status();
  return ForEachFetching(*root, partitions, [](const std::string&, const PartitionFields&) {
    return absl::OkStatus();
  });
}

absl::Status CheckCaughtUp(absl::string_view json, const std::vector<TopicPartition>& assigned) {
  absl::StatusOr<google::protobuf::Struct> root = ReachableStatistics(json);
  if (!root.ok()) return root.status();
  return ForEachFetching(
      *root, assigned, [](const std::string& name, const PartitionFields& fields) {
        auto number = [&fields](const char* field) -> int64_t {
          auto it = fields.find(field);
          return it == fields.end() ? -1 : static_cast<int64_t>(it->second.number_value());
        };
        const int64_t end = number("ls_offset") >= 0 ? number("ls_offset") : number("hi_offset");
        if (end < 0)
          return absl::UnavailableError(absl::StrCat("Kafka: ", name, " has no end offset yet"));
        const int64_t done = std::max(number("committed_offset"), number("stored_offset"));
        if (done >= end || number("lo_offset") == end) return absl::OkStatus();
        return absl::UnavailableError(
            absl::StrCat(name, ": ", done < 0 ? "nothing" : absl::StrCat(end - done, " records"),
                         " of ", end, " not handled yet"));
      });
}

absl::Status CheckProducerIdAssigned(absl::string_view json) {
  if (json.empty()) return absl::UnavailableError("Kafka: no client statistics yet");
  const std::vector<absl::string_view> states = StringValues(json, "idemp_state");
  if (states.empty()) {
    if (json.find("\"idemp_state\"") != absl::string_view::npos) {
      return absl::UnavailableError("Kafka: bad statistics");
    }
    return absl::OkStatus();  // no idempotence to wait for
  }
  const absl::string_view state = states.front();
  if (state == "Assigned") return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("Kafka: the producer has no producer id yet (", state, ")"));
}

absl::Status CheckProducerReady(absl::string_view json) {
  if (absl::Status reachable = CheckBrokersReachable(json); !reachable.ok()) return reachable;
  return CheckProducerIdAssigned(json);
}

absl::StatusOr<std::vector<PartitionLag>> ConsumerLagFromStatistics(absl::string_view json) {
  absl::StatusOr<google::protobuf::Struct> parsed = ParseStatistics(json);
  if (!parsed.ok()) return parsed.status();
  std::vector<PartitionLag> lags;
  static_cast<void>(ForEachPartition(*parsed, [&lags](const std::string& topic,
                                                       const std::string& id,
                                                       const PartitionFields& fields) {
    PartitionLag lag;
    lag.topic = topic;
    if (!absl::SimpleAtoi(id, &lag.partition) || lag.partition < 0) return absl::OkStatus();
    auto consumer_lag = fields.find("consumer_lag");
    if (consumer_lag == fields.end() || consumer_lag->second.number_value() < 0) {
      return absl::OkStatus();
    }
    lag.lag = static_cast<int64_t>(consumer_lag->second.number_value());
    lags.push_back(std::move(lag));
    return absl::OkStatus();
  }));
  return lags;
}

std::map<std::string, int64_t> RequestsFromStatistics(absl::string_view json) {
  // Each broker's counters: "req": { "Produce": 12, "Fetch": 40, ... }, flat, numbers only. A
  // topic named "req" has an object there too, with objects inside: it is skipped.
  std::map<std::string, int64_t> requests;
  for (absl::string_view rest : ValuesOf(json, "req")) {
    if (!absl::ConsumePrefix(&rest, "{")) continue;
    const absl::string_view object = rest.substr(0, rest.find('}'));
    if (absl::StrContains(object, '{')) continue;
    for (absl::string_view pair : absl::StrSplit(object, ',', absl::SkipWhitespace())) {
      std::vector<absl::string_view> parts = absl::StrSplit(pair, absl::MaxSplits(':', 1));
      int64_t count = 0;
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &count) || count <= 0) continue;
      const absl::string_view name = absl::StripAsciiWhitespace(parts[0]);
      if (name.size() < 3 || name.front() != '"' || name.back() != '"') continue;
      requests[std::string(name.substr(1, name.size() - 2))] += count;
    }
  }
  return requests;
}

std::string HandleNameFromStatistics(absl::string_view json) {
  const std::vector<absl::string_view> names = StringValues(json, "name");
  return names.empty() ? "" : std::string(names.front());
}

}  // namespace choreo::kafka
