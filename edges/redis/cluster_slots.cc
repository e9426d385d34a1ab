#include "edges/redis/cluster_slots.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace choreo::redis {
namespace {

constexpr std::array<uint16_t, 256> Crc16Table() {
  std::array<uint16_t, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}
constexpr std::array<uint16_t, 256> kCrc16 = Crc16Table();

bool OneOf(absl::string_view command, std::initializer_list<absl::string_view> names) {
  for (absl::string_view name : names) {
    if (absl::EqualsIgnoreCase(command, name)) return true;
  }
  return false;
}

RedisAddress WithHost(RedisAddress address, const RedisAddress& replied_by) {
  if (address.host.empty() || address.host == "?") address.host = replied_by.host;
  return address;
}

}  // namespace

uint16_t Crc16(absl::string_view bytes) {
  uint16_t crc = 0;
  for (unsigned char c : bytes)
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16[((crc >> 8) ^ c) & 0xff]);
  return crc;
}

int KeySlot(absl::string_view key) {
  const size_t open = key.find('{');
  if (open != absl::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != absl::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) & (kClusterSlots - 1);
}

std::optional<absl::string_view> RoutingKey(const std::vector<std::string>& argv) {
  if (argv.size() < 2) return std::nullopt;
  const absl::string_view command = argv[0];
  if (OneOf(command, {"EVALSHA", "EVAL", "EVALSHA_RO", "EVAL_RO", "FCALL", "FCALL_RO"})) {
    int keys = 0;
    if (argv.size() < 4 || !absl::SimpleAtoi(argv[2], &keys) || keys <= 0) return std::nullopt;
    return argv[3];
  }
  if (OneOf(command, {"PING",     "INFO",    "SCRIPT",   "CLUSTER", "WAIT",    "AUTH",
                      "HELLO",    "ACL",     "CONFIG",   "CLIENT",  "COMMAND", "ECHO",
                      "TIME",     "DBSIZE",  "FLUSHALL", "FLUSHDB", "KEYS",    "SCAN",
                      "FUNCTION", "SLOWLOG", "LATENCY",  "ROLE",    "SELECT",  "PUBLISH"})) {
    return std::nullopt;
  }
  return argv[1];
}

bool MayWrite(const std::vector<std::string>& argv) {
  if (argv.empty()) return false;
  return !OneOf(argv[0], {"GET",        "MGET",
                          "HGET",       "HMGET",
                          "HGETALL",    "EXISTS",
                          "TTL",        "PTTL",
                          "TYPE",       "STRLEN",
                          "ZRANGE",     "ZRANGEBYSCORE",
                          "ZREVRANGE",  "ZREVRANGEBYSCORE",
                          "ZSCORE",     "ZCARD",
                          "ZCOUNT",     "LRANGE",
                          "LLEN",       "SMEMBERS",
                          "SISMEMBER",  "SCARD",
                          "EVALSHA_RO", "EVAL_RO",
                          "PING",       "INFO",
                          "SCRIPT",     "CLUSTER",
                          "WAIT",       "ASKING",
                          "ECHO",       "TIME"});
}

std::optional<Redirect> ParseRedirect(absl::string_view error, const RedisAddress& replied_by) {
  std::vector<absl::string_view> parts = absl::StrSplit(error, ' ', absl::SkipEmpty());
  if (parts.size() != 3) return std::nullopt;
  Redirect redirect;
  if (parts[0] == "MOVED") {
    redirect.kind = Redirect::Kind::kMoved;
  } else if (parts[0] == "ASK") {
    redirect.kind = Redirect::Kind::kAsk;
  } else {
    return std::nullopt;
  }
  if (!absl::SimpleAtoi(parts[1], &redirect.slot) || redirect.slot < 0 ||
      redirect.slot >= kClusterSlots) {
    return std::nullopt;
  }
  const size_t colon = parts[2].rfind(':');
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(parts[2].substr(colon + 1), &redirect.to.port)) {
    return std::nullopt;
  }
  redirect.to.host = std::string(parts[2].substr(0, colon));
  redirect.to = WithHost(std::move(redirect.to), replied_by);
  return redirect;
}

bool IsClusterTransient(absl::string_view error) {
  return absl::StartsWith(error, "TRYAGAIN") || absl::StartsWith(error, "CLUSTERDOWN") ||
         absl::StartsWith(error, "MASTERDOWN") || absl::StartsWith(error, "LOADING");
}

absl::StatusOr<SlotTable> SlotTable::FromClusterNodes(absl::string_view nodes,
                                                      const RedisAddress& replied_by) {
  // <id> <ip:port@bus[,hostname]> <flags> <master id or -> <ping> <pong> <epoch> <link> <slots>...
  struct Line {
    std::string id;
    RedisAddress address;
    bool master = false;
    bool failed = false;
    std::string master_id;
    std::vector<absl::string_view> slots;
  };
  std::vector<Line> lines;
  for (absl::string_view text : absl::StrSplit(nodes, '\n', absl::SkipWhitespace())) {
    std::vector<absl::string_view> fields = absl::StrSplit(text, ' ', absl::SkipEmpty());
    absl::string_view endpoint = fields.size() >= 8 ? fields[1] : "";
    endpoint = endpoint.substr(0, endpoint.find_first_of("@,"));
    const size_t colon = endpoint.rfind(':');
    Line line;
    if (colon == absl::string_view::npos ||
        !absl::SimpleAtoi(endpoint.substr(colon + 1), &line.address.port)) {
      return absl::InvalidArgumentError(absl::StrCat("CLUSTER NODES line '", text, "'"));
    }
    line.id = std::string(fields[0]);
    line.address =
        WithHost({std::string(endpoint.substr(0, colon)), line.address.port}, replied_by);
    for (absl::string_view flag : absl::StrSplit(fields[2], ',')) {
      line.master = line.master || flag == "master";
      line.failed = line.failed || flag == "fail" || flag == "noaddr" || flag == "handshake";
    }
    line.master_id = std::string(fields[3]);
    line.slots.assign(fields.begin() + 8, fields.end());
    lines.push_back(std::move(line));
  }
  SlotTable table;
  // Masters serving slots first: keyless commands go to the first.
  std::stable_partition(lines.begin(), lines.end(),
                        [](const Line& line) { return !line.slots.empty(); });
  for (const Line& line : lines) {
    if (!line.master || line.failed) continue;
    const int index = table.IndexOf(line.address);
    for (const Line& other : lines) {
      if (!other.master && !other.failed && other.master_id == line.id) {
        ++table.masters_[index].replicas;
      }
    }
    for (absl::string_view range : line.slots) {
      if (absl::StartsWith(range, "[")) continue;  // a slot migrating or importing
      std::pair<absl::string_view, absl::string_view> ends = absl::StrSplit(range, '-');
      int first = 0;
      int last = 0;
      if (!absl::SimpleAtoi(ends.first, &first) ||
          !absl::SimpleAtoi(ends.second.empty() ? ends.first : ends.second, &last) || first < 0 ||
          last >= kClusterSlots || first > last) {
        return absl::InvalidArgumentError(absl::StrCat("CLUSTER NODES slot range '", range, "'"));
      }
      for (int slot = first; slot <= last; ++slot) table.owner_[slot] = static_cast<int16_t>(index);
    }
  }
  return table;
}

const SlotTable::Master* SlotTable::MasterOf(int slot) const {
  const int index = slot >= 0 && slot < kClusterSlots ? owner_[slot] : -1;
  return index < 0 ? nullptr : &masters_[index];
}

const SlotTable::Master* SlotTable::Find(const RedisAddress& address) const {
  auto found = std::find_if(masters_.begin(), masters_.end(),
                            [&](const Master& master) { return master.address == address; });
  return found == masters_.end() ? nullptr : &*found;
}

void SlotTable::Move(int slot, const RedisAddress& to) {
  if (slot < 0 || slot >= kClusterSlots || !Knows(to)) return;
  owner_[slot] = static_cast<int16_t>(IndexOf(to));
}

int SlotTable::IndexOf(const RedisAddress& address) {
  for (size_t i = 0; i < masters_.size(); ++i) {
    if (masters_[i].address == address) return static_cast<int>(i);
  }
  masters_.push_back({address, 0});
  return static_cast<int>(masters_.size()) - 1;
}

}  // namespace choreo::redis
