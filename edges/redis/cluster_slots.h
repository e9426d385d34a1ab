#pragma once

// The pure half of Redis Cluster support (https://redis.io/docs/reference/cluster-spec/): which
// hash slot a key lives in, which key routes a command, what a redirect says, and which master
// serves each slot (from a CLUSTER NODES reply). No I/O; RedisConnection does the talking.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "edges/redis/redis_reply.h"

namespace choreo::redis {

inline constexpr int kClusterSlots = 16384;

// CRC16-CCITT (XModem), the cluster's key hash: Crc16("123456789") == 0x31C3.
uint16_t Crc16(absl::string_view bytes);

// The hash slot of `key`: CRC16 of the key, or of its hash tag (the text between the first '{'
// and the next '}', when that is not empty), modulo 16384. Keys with one tag share a slot, so a
// script or a pipeline over them runs on one node.
int KeySlot(absl::string_view key);

// The key a command is routed by: the first key of EVAL/EVALSHA/FCALL (none with 0 keys), none
// for commands without keys (PING, INFO, SCRIPT, CLUSTER, WAIT, ...), else the first argument.
std::optional<absl::string_view> RoutingKey(const std::vector<std::string>& argv);

// False for the commands that only read (GET, HMGET, ZRANGEBYSCORE, ...) and for the
// connection's own (PING, SCRIPT, WAIT, ...): a write must be on the replicas before it counts.
bool MayWrite(const std::vector<std::string>& argv);

// A cluster's redirect: "MOVED <slot> <host>:<port>" (the slot lives there now) or
// "ASK <slot> <host>:<port>" (this one command, during a migration, after ASKING).
struct Redirect {
  enum class Kind { kMoved, kAsk };
  Kind kind = Kind::kMoved;
  int slot = 0;
  RedisAddress to;
};
// The redirect an error reply holds, if it is one. An empty host means `replied_by`'s host.
std::optional<Redirect> ParseRedirect(absl::string_view error, const RedisAddress& replied_by);

// Errors that mean "the cluster is changing, ask again shortly": nothing ran.
bool IsClusterTransient(absl::string_view error);

// Which master serves each slot, and how many replicas it has.
class SlotTable {
 public:
  struct Master {
    RedisAddress address;
    // Replicas the cluster does not consider failed, synced or still syncing (CLUSTER SLOTS
    // would leave out one still syncing, and a write acknowledged then would be on no replica).
    int replicas = 0;
  };
  // From a CLUSTER NODES reply, as `replied_by` sent it (an empty host is its host). Every master
  // not flagged failed is known (one serving no slot yet too, with its replicas); one flagged
  // failed ("fail", not a single node's suspicion "fail?") serves nothing. INVALID_ARGUMENT for
  // a line of another shape.
  static absl::StatusOr<SlotTable> FromClusterNodes(absl::string_view nodes,
                                                    const RedisAddress& replied_by);

  // The master of `slot`; null if no master serves it (the cluster is incomplete).
  const Master* MasterOf(int slot) const;
  // Every master known (serving slots or not yet), the first serving slots first.
  const std::vector<Master>& masters() const { return masters_; }
  bool Knows(const RedisAddress& address) const { return Find(address) != nullptr; }
  // The known master at `address`; null if none.
  const Master* Find(const RedisAddress& address) const;
  // After a MOVED: `slot` is `to`'s now. A master not known yet is left to the next CLUSTER
  // NODES (its replicas are not known either).
  void Move(int slot, const RedisAddress& to);

 private:
  int IndexOf(const RedisAddress& address);
  std::vector<Master> masters_;
  std::vector<int16_t> owner_ = std::vector<int16_t>(kClusterSlots, -1);  // slot -> masters_ index
};

}  // namespace choreo::redis
