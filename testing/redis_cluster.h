#pragma once

// RedisCluster: a real Redis Cluster started for one test: `masters` masters with `replicas`
// replicas each, every node a RedisServer (127.0.0.1, free ports, its own dir, append-only
// file), joined by `redis-cli --cluster create`.
//
// Promises: Start() returns once every slot is served, the cluster says ok on every node, every
// node names the masters alone as masters, and every replica is in sync with its master. A test
// kills a master (node(i)->Kill()) and waits for its replica to take over with WaitHealthy. The
// nodes die with the test. Not thread-safe.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "testing/redis_server.h"

namespace choreo::testing {

class RedisCluster {
 public:
  struct Options {
    int masters = 3;
    int replicas = 1;  // per master
    // Every node's options: appendfsync, ACL file and admin password (cluster_node is set).
    RedisServer::Options node;
    absl::Duration startup_timeout = absl::Seconds(60);
  };
  static absl::StatusOr<std::unique_ptr<RedisCluster>> Start(Options options);

  // Every node, "host:port,host:port,...", as the processes' --redis takes it.
  std::string seeds() const;
  int size() const { return static_cast<int>(nodes_.size()); }
  RedisServer& node(int i) { return *nodes_[i]; }
  // The index of the node that is master of `key`'s slot now, as a running node tells it.
  absl::StatusOr<int> MasterOf(absl::string_view key);
  // The index of a replica of node `master`.
  absl::StatusOr<int> ReplicaOf(int master);
  // Waits until every running node says the cluster is ok (every slot served by a live master)
  // and names `masters` masters, as a client reads its CLUSTER NODES (redis::SlotTable), and, if
  // given, every master has `replicas_online` replicas in sync.
  absl::Status WaitHealthy(std::optional<int> replicas_online, absl::Duration timeout);
  // One command on a node as admin (or the default user without an ACL file): the reply as
  // text (a status, a string, or an array's elements joined by newlines); an error reply is
  // UNAVAILABLE.
  absl::StatusOr<std::string> Ask(int node, const std::vector<std::string>& argv) const;

 private:
  explicit RedisCluster(Options options) : options_(std::move(options)) {}
  absl::Status Create();

  Options options_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

}  // namespace choreo::testing
