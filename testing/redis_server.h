#pragma once

// RedisServer: a real redis-server started for one test.
//
// Promises: it listens on 127.0.0.1 on a port that was free (picked by binding port 0), keeps
// its files in its own temp dir with appendonly on, and answers PING before Start() returns.
// The destructor kills it (it also dies with the test process) and removes the directory.
// Stop() and Restart() let a test take Redis away and bring it back on the same port with the
// same data (the append-only file survives). Not thread-safe: one test thread drives it.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "edges/redis/redis_connection.h"
#include "testing/child_process.h"
#include "testing/temp_dir.h"

namespace choreo::testing {

class RedisServer {
 public:
  struct Options {
    // "always" where money lives (ARCHITECTURE.md §3); tests that only need speed may relax it.
    std::string appendfsync = "always";
    absl::Duration startup_timeout = absl::Seconds(15);
    // The server binary; "redis-server" on PATH unless CHOREO_REDIS_SERVER names another.
    std::string binary;
    // Non-empty: the server's ACL file (its users; stores::RedisAclFile), and the password of
    // its "admin" user, which Ping logs in as.
    std::string acl_file_text;
    std::string admin_password;
    // A Redis Cluster node (cluster-enabled, its bus on a second free port, a failure noticed
    // after `cluster_node_timeout`); testing::RedisCluster joins the nodes. With an ACL file,
    // a replica logs in to its master as admin.
    bool cluster_node = false;
    absl::Duration cluster_node_timeout = absl::Seconds(1);
  };

  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start() { return Start(Options{}); }
  ~RedisServer();

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:port"
  // What a RedisConnection or RedisPool needs to reach it.
  redis::RedisConnection::Options ConnectionOptions() const;
  pid_t pid() const { return process_ == nullptr ? 0 : process_->pid(); }  // 0 when stopped
  const std::string& dir() const { return dir_.path(); }

  // One PING over a fresh connection: OK on PONG, UNAVAILABLE otherwise.
  absl::Status Ping(absl::Duration timeout = absl::Seconds(1)) const;

  // Shuts the server down (SIGTERM; it flushes the append-only file). Port and dir are kept.
  absl::Status Stop();
  // SIGKILL, as a crash: what the append-only file holds survives (everything written, with
  // appendfsync always). Port and dir are kept.
  absl::Status Kill();
  // Starts it again on the same port and dir and waits for PING.
  absl::Status Restart();
  bool running();

 private:
  RedisServer(Options options, TempDir dir) : options_(std::move(options)), dir_(std::move(dir)) {}
  absl::Status Launch();

  Options options_;
  TempDir dir_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  int bus_port_ = 0;  // cluster nodes
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace choreo::testing
