#include "testing/redis_server.h"

#include <hiredis/hiredis.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "testing/wait.h"

namespace choreo::testing {

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(Options options) {
  if (options.binary.empty()) {
    const char* env = std::getenv("CHOREO_REDIS_SERVER");
    options.binary = env != nullptr && *env != '\0' ? env : "redis-server";
  }
  absl::StatusOr<TempDir> dir = TempDir::Create("choreo-redis-");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<RedisServer> server(new RedisServer(std::move(options), *std::move(dir)));
  // The picked port can be taken by someone else before redis binds it: try a few.
  absl::Status launched;
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<int> port = PickFreeTcpPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    if (server->options_.cluster_node) {
      absl::StatusOr<int> bus = PickFreeTcpPort();
      if (!bus.ok()) return bus.status();
      server->bus_port_ = *bus;
    }
    launched = server->Launch();
    if (launched.ok() || absl::IsNotFound(launched)) break;
  }
  if (!launched.ok()) return launched;
  return server;
}

RedisServer::~RedisServer() {
  if (process_ != nullptr) static_cast<void>(process_->Stop(absl::Seconds(5)));
}

std::string RedisServer::address() const { return absl::StrCat(host_, ":", port_); }

redis::RedisConnection::Options RedisServer::ConnectionOptions() const {
  return {.address = {.host = host_, .port = port_}};
}

absl::Status RedisServer::Launch() {
  ChildProcess::Options child;
  child.argv = {options_.binary,
                "--port", absl::StrCat(port_),
                "--bind", host_,
                "--dir", dir_.path(),
                "--appendonly", "yes",
                "--appendfsync", options_.appendfsync,
                "--save", "",
                "--daemonize", "no",
                "--protected-mode", "yes",
                "--logfile", ""};
  // The AOF rewrite's base file uncompressed: a third of the rewrite's CPU (LZF) for a base
  // about 16% larger (edges/redis/README.md, "Server settings").
  child.argv.insert(child.argv.end(), {"--rdbcompression", "no"});
  if (!options_.acl_file_text.empty()) {
    const std::string acl_file = dir_.File("users.acl");
    std::ofstream(acl_file) << options_.acl_file_text;
    child.argv.insert(child.argv.end(), {"--aclfile", acl_file});
  }
  if (options_.cluster_node) {
    child.argv.insert(child.argv.end(),
                      {"--cluster-enabled", "yes", "--cluster-config-file", dir_.File("nodes.conf"),
                       "--cluster-port", absl::StrCat(bus_port_), "--cluster-node-timeout",
                       absl::StrCat(absl::ToInt64Milliseconds(options_.cluster_node_timeout)),
                       // A replica takes over however long it has not heard from its master:
                       // what it holds is what the clients were told is written (they WAIT).
                       "--cluster-replica-validity-factor", "0",
                       // A new replica syncs at once (the default waits 5 s for others).
                       "--repl-diskless-sync-delay", "0"});
    if (!options_.admin_password.empty()) {
      child.argv.insert(child.argv.end(),
                        {"--masteruser", "admin", "--masterauth", options_.admin_password});
    }
  }
  child.log_path = dir_.File("redis.log");
  absl::StatusOr<ChildProcess> process = ChildProcess::Start(child);
  if (!process.ok()) return process.status();
  process_ = std::make_unique<ChildProcess>(*std::move(process));
  const bool ready = WaitUntil(
      [this] { return !process_->running() || Ping(absl::Milliseconds(200)).ok(); },
      options_.startup_timeout);
  if (ready && process_->running()) return absl::OkStatus();
  static_cast<void>(process_->Stop(absl::Seconds(2)));
  process_.reset();
  return absl::UnavailableError(absl::StrCat("redis-server on port ", port_,
                                             " did not answer PING (log: ",
                                             dir_.File("redis.log"), ")"));
}

absl::Status RedisServer::Ping(absl::Duration timeout) const {
  timeval tv = absl::ToTimeval(timeout);
  redisContext* context = redisConnectWithTimeout(host_.c_str(), port_, tv);
  if (context == nullptr) return absl::UnavailableError("redis: out of memory");
  absl::Status status;
  if (context->err != 0) {
    status = absl::UnavailableError(absl::StrCat("redis connect ", address(), ": ", context->errstr));
  } else {
    redisSetTimeout(context, tv);
    if (!options_.admin_password.empty()) {
      freeReplyObject(redisCommand(context, "AUTH admin %s", options_.admin_password.c_str()));
    }
    auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
    if (reply == nullptr) {
      status = absl::UnavailableError(absl::StrCat("redis PING ", address(), ": ", context->errstr));
    } else {
      if (reply->type != REDIS_REPLY_STATUS || std::strcmp(reply->str, "PONG") != 0) {
        status = absl::UnavailableError(absl::StrCat("redis PING ", address(), ": unexpected reply"));
      }
      freeReplyObject(reply);
    }
  }
  redisFree(context);
  return status;
}

absl::Status RedisServer::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  absl::StatusOr<int> exit = process_->Stop(absl::Seconds(10));
  process_.reset();
  return exit.status();
}

absl::Status RedisServer::Kill() {
  if (process_ == nullptr) return absl::OkStatus();
  process_->Signal(SIGKILL);
  absl::StatusOr<int> exit = process_->Wait(absl::Seconds(10));
  process_.reset();
  return exit.status();
}

absl::Status RedisServer::Restart() {
  if (process_ != nullptr && process_->running()) {
    return absl::FailedPreconditionError("redis-server is still running");
  }
  return Launch();
}

bool RedisServer::running() { return process_ != nullptr && process_->running(); }

}  // namespace choreo::testing
