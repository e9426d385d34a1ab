#pragma once

// RedisConnection: a client of one Redis or of a Redis Cluster, with timeouts and
// reconnect-on-demand, errors as absl::Status. The caller does not know which it talks to.
//
// - It learns which on first use (CLUSTER NODES, from its address or its further seeds).
// - On a cluster each command goes to the master of its key's slot (cluster_slots.h); a pipeline
//   is split by master, sent to all of them, then read, and the replies come back in order. A
//   MOVED reply updates the slot table and sends the command where it lives now; an ASK sends it
//   there once. A cross-slot command is Redis's to refuse (CROSSSLOT, an error reply).
// - On a cluster a write counts only once its master's replica has it too (WAIT 1, when the
//   master has a replica): a failover cannot lose what a caller was told is written. A WAIT that
//   times out is UNAVAILABLE: the write ran on the master, and the caller retries it (every
//   write here is idempotent or guarded by a marker).
// - A failed connect or I/O error, or a cluster in transition (CLUSTERDOWN, TRYAGAIN, ...),
//   drops what is open, makes it ask for the slot table again, and returns UNAVAILABLE; the next
//   call connects again. Commands of a failed pipeline may have run.
// - Any other Redis error reply is returned as a RedisReply of type kError (the command ran; the
//   caller decides), never as a failed status.
//
// Not thread-safe: one connection per thread (the saga runtime gives each worker its own).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "edges/redis/cluster_slots.h"
#include "edges/redis/redis_reply.h"

namespace choreo::redis {

// Who every connection of the process logs in as (a Redis ACL user): AUTH right after each
// connect, and a refused login fails the call that connected (UNAVAILABLE, naming the user and
// Redis's reason; the connection is dropped and the next call tries again). Set once at start-up,
// before connections are used. Empty user: no AUTH (the server's default user).
struct RedisLogin {
  std::string user;
  std::string password;
};
void SetProcessLogin(RedisLogin login);
// The login set by SetProcessLogin; null before.
std::shared_ptr<const RedisLogin> ProcessLogin();

// A password file's password: its first line, trimmed. FAILED_PRECONDITION naming the file if it
// cannot be read or holds none.
absl::StatusOr<std::string> ReadPasswordFile(const std::string& path);

// Called after every round trip of every connection in the process with the command's name
// (lowercase; "pipeline" for several) and the time it took, failures included. Set once at
// start-up, before connections are used (metrics); must be thread-safe and must not block.
using RoundTripObserver = std::function<void(absl::string_view command, absl::Duration took)>;
void SetRoundTripObserver(RoundTripObserver observer);

class NodeLink;

class RedisConnection {
 public:
  struct Options {
    RedisAddress address;  // a Redis, or any node of a Redis Cluster
    // Further nodes of the cluster, tried in turn when the ones known cannot be reached.
    std::vector<RedisAddress> more_seeds;
    absl::Duration connect_timeout = absl::Seconds(1);
    absl::Duration command_timeout = absl::Seconds(2);
    // How long a cluster write waits for its master's replica (WAIT) before it is UNAVAILABLE.
    absl::Duration replication_timeout = absl::Seconds(1);
  };
  // Options for "host:port[,host:port...]" (--redis): one Redis, or seeds of a cluster.
  static absl::StatusOr<Options> OptionsFor(absl::string_view addresses);

  explicit RedisConnection(Options options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // One command. UNAVAILABLE when Redis cannot be reached or the connection broke.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv);

  // Several commands in one round trip (one per master, in parallel, on a cluster); one reply per
  // command, in order.
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // Runs a Lua script by its SHA1 (EVALSHA); SCRIPT LOADs it first, and runs it whole (EVAL,
  // which also caches it there) on a server that answers NOSCRIPT (a restart, a new master).
  absl::StatusOr<RedisReply> Eval(const std::string& script, const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args);

  // Runs `script` once per call, all in one round trip; one reply per call, in order. Each call
  // runs exactly once (NOSCRIPT is not a run).
  struct ScriptCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  absl::StatusOr<std::vector<RedisReply>> EvalMany(const std::string& script,
                                                   const std::vector<ScriptCall>& calls);

  // Whether the server is a Redis Cluster (learns it if not known yet; UNAVAILABLE if no
  // server answers).
  absl::StatusOr<bool> IsCluster();
  // Every master of the cluster (the one server if not a cluster), to run per-server commands
  // (INFO, ACL, ...) on each with CommandOn.
  absl::StatusOr<std::vector<RedisAddress>> Masters();
  absl::StatusOr<RedisReply> CommandOn(const RedisAddress& server,
                                       const std::vector<std::string>& argv);

 private:
  struct Routed;  // a command on its way to a server
  absl::StatusOr<std::vector<RedisReply>> RoundTrip(
      const std::vector<std::vector<std::string>>& commands);
  // Sends each command to its server, receives the replies, follows redirects.
  absl::Status Route(const std::vector<std::vector<std::string>>& commands,
                     std::vector<RedisReply>& replies);
  absl::Status SendAndReceive(const std::vector<std::vector<std::string>>& commands,
                              std::vector<Routed>& batch, std::vector<RedisReply>& replies,
                              std::vector<Routed>& redirected);
  // Learns whether this is a cluster and, if so, its slot table.
  absl::Status Discover();
  // Discover, unless known and not stale.
  absl::Status KnowTopology();
  NodeLink& LinkTo(const RedisAddress& address);
  int ReplicasOf(const RedisAddress& master) const;  // 0 when not a known cluster master
  // The SHA1 of `script` (SCRIPT LOAD on first use).
  absl::StatusOr<std::string> ScriptSha(const std::string& script);
  void DropAll();

  Options options_;
  enum class Mode { kUnknown, kSingle, kCluster };
  Mode mode_ = Mode::kUnknown;
  bool stale_ = false;   // the slot table must be asked for again before the next command
  RedisAddress single_;  // kSingle: the server
  std::unique_ptr<SlotTable> slots_;                                   // kCluster
  absl::flat_hash_map<std::string, std::unique_ptr<NodeLink>> links_;  // "host:port" -> link
  absl::flat_hash_map<std::string, std::string> script_shas_;  // script text -> SHA1
};

}  // namespace choreo::redis
