#include "testing/redis_cluster.h"

#include <hiredis/hiredis.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "edges/redis/cluster_slots.h"
#include "testing/child_process.h"
#include "testing/wait.h"

namespace choreo::testing {
namespace {

std::string Text(const redisReply* reply) {
  switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(reply->str, reply->len);
    case REDIS_REPLY_INTEGER:
      return absl::StrCat(reply->integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<std::string> parts;
      for (size_t i = 0; i < reply->elements; ++i) parts.push_back(Text(reply->element[i]));
      return absl::StrJoin(parts, "\n");
    }
    default:
      return "";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisCluster>> RedisCluster::Start(Options options) {
  options.node.cluster_node = true;
  std::unique_ptr<RedisCluster> cluster(new RedisCluster(std::move(options)));
  const int nodes = cluster->options_.masters * (1 + cluster->options_.replicas);
  for (int i = 0; i < nodes; ++i) {
    absl::StatusOr<std::unique_ptr<RedisServer>> node = RedisServer::Start(cluster->options_.node);
    if (!node.ok()) return node.status();
    cluster->nodes_.push_back(*std::move(node));
  }
  if (absl::Status created = cluster->Create(); !created.ok()) return created;
  if (absl::Status healthy =
          cluster->WaitHealthy(cluster->options_.replicas, cluster->options_.startup_timeout);
      !healthy.ok()) {
    return healthy;
  }
  return cluster;
}

absl::Status RedisCluster::Create() {
  ChildProcess::Options create;
  create.argv = {"redis-cli", "--cluster", "create"};
  for (const auto& node : nodes_) create.argv.push_back(node->address());
  create.argv.insert(create.argv.end(),
                     {"--cluster-replicas", absl::StrCat(options_.replicas), "--cluster-yes"});
  if (!options_.node.admin_password.empty()) {
    create.argv.insert(create.argv.end(), {"--user", "admin", "--pass",
                                           options_.node.admin_password, "--no-auth-warning"});
  }
  create.log_path = nodes_.front()->dir() + "/cluster-create.log";
  absl::StatusOr<ChildProcess> process = ChildProcess::Start(create);
  if (!process.ok()) return process.status();
  absl::StatusOr<int> exit = process->Wait(options_.startup_timeout);
  if (!exit.ok()) return exit.status();
  if (*exit != 0) {
    return absl::InternalError(
        absl::StrCat("redis-cli --cluster create exited ", *exit, " (log: ", create.log_path, ")"));
  }
  return absl::OkStatus();
}

std::string RedisCluster::seeds() const {
  std::vector<std::string> addresses;
  for (const auto& node : nodes_) addresses.push_back(node->address());
  return absl::StrJoin(addresses, ",");
}

absl::StatusOr<std::string> RedisCluster::Ask(int node,
                                              const std::vector<std::string>& argv) const {
  const RedisServer& server = *nodes_[node];
  const timeval timeout = absl::ToTimeval(absl::Seconds(1));
  redisContext* context = redisConnectWithTimeout(server.host().c_str(), server.port(), timeout);
  if (context == nullptr || context->err != 0) {
    const std::string error = context != nullptr ? context->errstr : "out of memory";
    if (context != nullptr) redisFree(context);
    return absl::UnavailableError(absl::StrCat("redis ", server.address(), ": ", error));
  }
  redisSetTimeout(context, timeout);
  if (!options_.node.admin_password.empty()) {
    freeReplyObject(redisCommand(context, "AUTH admin %s", options_.node.admin_password.c_str()));
  }
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
  for (const std::string& arg : argv) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), pointers.data(), lengths.data()));
  absl::StatusOr<std::string> text =
      reply == nullptr
          ? absl::UnavailableError(absl::StrCat("redis ", server.address(), ": ", context->errstr))
          : absl::StatusOr<std::string>(Text(reply));
  if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
    text = absl::UnavailableError(absl::StrCat("redis ", server.address(), ": ", *text));
  }
  if (reply != nullptr) freeReplyObject(reply);
  redisFree(context);
  return text;
}

absl::StatusOr<int> RedisCluster::MasterOf(absl::string_view key) {
  const int slot = redis::KeySlot(key);
  for (int i = 0; i < size(); ++i) {
    if (!nodes_[i]->running()) continue;
    absl::StatusOr<std::string> table = Ask(i, {"CLUSTER", "NODES"});
    if (!table.ok()) continue;
    // <id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges...>
    for (absl::string_view line : absl::StrSplit(*table, '\n', absl::SkipEmpty())) {
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (fields.size() < 9 || !absl::StrContains(fields[2], "master") ||
          absl::StrContains(fields[2], "fail")) {
        continue;
      }
      for (size_t f = 8; f < fields.size(); ++f) {
        std::pair<absl::string_view, absl::string_view> range = absl::StrSplit(fields[f], '-');
        int first = 0;
        int last = 0;
        if (!absl::SimpleAtoi(range.first, &first)) continue;
        if (range.second.empty() ? (last = first, false) : !absl::SimpleAtoi(range.second, &last)) {
          continue;
        }
        if (slot < first || slot > last) continue;
        const absl::string_view address = fields[1].substr(0, fields[1].find('@'));
        for (int n = 0; n < size(); ++n) {
          if (nodes_[n]->address() == address) return n;
        }
      }
    }
    return absl::NotFoundError(absl::StrCat("no live master serves slot ", slot));
  }
  return absl::UnavailableError("no node of the cluster answers");
}

absl::StatusOr<int> RedisCluster::ReplicaOf(int master) {
  const std::string port = absl::StrCat("master_port:", nodes_[master]->port(), "\r");
  for (int i = 0; i < size(); ++i) {
    if (i == master || !nodes_[i]->running()) continue;
    absl::StatusOr<std::string> role = Ask(i, {"INFO", "replication"});
    if (role.ok() && absl::StrContains(*role, "role:slave") && absl::StrContains(*role, port)) {
      return i;
    }
  }
  return absl::NotFoundError(absl::StrCat(nodes_[master]->address(), " has no live replica"));
}

absl::Status RedisCluster::WaitHealthy(std::optional<int> replicas_online, absl::Duration timeout) {
  std::string last = "not asked yet";
  const bool healthy = WaitUntil(
      [&] {
        for (int i = 0; i < size(); ++i) {
          if (!nodes_[i]->running()) continue;
          absl::StatusOr<std::string> info = Ask(i, {"CLUSTER", "INFO"});
          if (!info.ok() || !absl::StrContains(*info, "cluster_state:ok")) {
            last = info.ok() ? absl::StrCat(nodes_[i]->address(), " says the cluster is not ok")
                             : std::string(info.status().message());
            return false;
          }
          // Right after create, gossip may not yet have told every node which are replicas: a
          // client learning the cluster there would take them for masters without slots.
          absl::StatusOr<std::string> nodes = Ask(i, {"CLUSTER", "NODES"});
          absl::StatusOr<redis::SlotTable> table =
              nodes.ok() ? redis::SlotTable::FromClusterNodes(
                               *nodes, {nodes_[i]->host(), nodes_[i]->port()})
                         : absl::StatusOr<redis::SlotTable>(nodes.status());
          if (!table.ok() || table->masters().size() != static_cast<size_t>(options_.masters)) {
            last = absl::StrCat(nodes_[i]->address(), " does not know ", options_.masters,
                                " masters, as a client reads it");
            return false;
          }
          absl::StatusOr<std::string> role = Ask(i, {"INFO", "replication"});
          if (!role.ok()) return false;
          int online = 0;
          for (size_t at = role->find("state=online"); at != std::string::npos;
               at = role->find("state=online", at + 1)) {
            ++online;
          }
          if (replicas_online && absl::StrContains(*role, "role:master") &&
              online < *replicas_online) {
            last = absl::StrCat(nodes_[i]->address(), " has not ", *replicas_online,
                                " replica(s) in sync");
            return false;
          }
        }
        return true;
      },
      timeout);
  if (healthy) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat("redis cluster not healthy: ", last));
}

}  // namespace choreo::testing
