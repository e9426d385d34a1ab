#include "edges/redis/redis_connection.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "edges/redis/node_link.h"

namespace choreo::redis {
namespace {

// Redirects one command may follow in one call (a slot moved, then asked elsewhere, ...).
constexpr int kMaxRedirects = 5;

const std::vector<std::string>& AskingCommand() {
  static const auto* asking = new std::vector<std::string>{"ASKING"};
  return *asking;
}

}  // namespace

// Read at every connect; set once at start-up.
std::atomic<std::shared_ptr<const RedisLogin>>& LoginSlot() {
  static auto* login = new std::atomic<std::shared_ptr<const RedisLogin>>();
  return *login;
}

void SetProcessLogin(RedisLogin login) {
  LoginSlot().store(std::make_shared<const RedisLogin>(std::move(login)));
}

std::shared_ptr<const RedisLogin> ProcessLogin() { return LoginSlot().load(); }

absl::StatusOr<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  if (!file || !std::getline(file, line) || absl::StripAsciiWhitespace(line).empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("password file ", path, " cannot be read or is empty"));
  }
  return std::string(absl::StripAsciiWhitespace(line));
}

// Read on every round trip of every thread, replaced rarely: an atomic shared_ptr, so a round
// trip in flight keeps the observer it loaded.
std::atomic<std::shared_ptr<const RoundTripObserver>>& ProcessObserver() {
  static auto* observer = new std::atomic<std::shared_ptr<const RoundTripObserver>>();
  return *observer;
}

void SetRoundTripObserver(RoundTripObserver observer) {
  ProcessObserver().store(observer ? std::make_shared<const RoundTripObserver>(std::move(observer))
                                   : nullptr);
}

// A command on its way: which one, to which server, and whether ASKING goes first.
struct RedisConnection::Routed {
  size_t index;
  NodeLink* to;
  bool asking = false;
};

absl::StatusOr<RedisConnection::Options> RedisConnection::OptionsFor(absl::string_view addresses) {
  absl::StatusOr<std::vector<RedisAddress>> parsed = ParseRedisAddresses(addresses);
  if (!parsed.ok()) return parsed.status();
  Options options;
  options.address = parsed->front();
  options.more_seeds.assign(parsed->begin() + 1, parsed->end());
  return options;
}

RedisConnection::RedisConnection(Options options) : options_(std::move(options)) {}

RedisConnection::~RedisConnection() = default;

NodeLink& RedisConnection::LinkTo(const RedisAddress& address) {
  std::unique_ptr<NodeLink>& link = links_[address.ToString()];
  if (link == nullptr) {
    link = std::make_unique<NodeLink>(address, options_.connect_timeout, options_.command_timeout);
  }
  return *link;
}

void RedisConnection::DropAll() {
  for (auto& [name, link] : links_) link->Drop();
}

absl::Status RedisConnection::Discover() {
  std::vector<RedisAddress> candidates;
  if (slots_ != nullptr) {
    for (const SlotTable::Master& master : slots_->masters()) candidates.push_back(master.address);
  }
  candidates.push_back(options_.address);
  candidates.insert(candidates.end(), options_.more_seeds.begin(), options_.more_seeds.end());
  static const auto* ask = new std::vector<std::string>{"CLUSTER", "NODES"};
  absl::Status last = absl::UnavailableError("redis: no address to reach");
  for (const RedisAddress& address : candidates) {
    NodeLink& link = LinkTo(address);
    absl::StatusOr<RedisReply> reply;
    if (absl::Status sent = link.Send({ask}); sent.ok()) {
      reply = link.Receive();
    } else {
      reply = sent;
    }
    if (!reply.ok()) {
      last = reply.status();
      continue;
    }
    if (reply->is_error() && absl::StrContains(reply->str, "cluster support disabled")) {
      mode_ = Mode::kSingle;
      single_ = address;
      stale_ = false;
      return absl::OkStatus();
    }
    if (reply->is_error()) {  // LOADING, NOAUTH, NOPERM: this one cannot say; ask another
      last = absl::UnavailableError(
          absl::StrCat("redis ", address.ToString(), ": CLUSTER NODES: ", reply->str));
      continue;
    }
    absl::StatusOr<SlotTable> table = SlotTable::FromClusterNodes(reply->str, address);
    if (table.ok() && table->masters().empty()) table = absl::UnavailableError("no slot is served");
    if (!table.ok()) {
      last = absl::UnavailableError(absl::StrCat("redis ", address.ToString(),
                                                 ": CLUSTER NODES: ", table.status().message()));
      continue;
    }
    slots_ = std::make_unique<SlotTable>(*std::move(table));
    mode_ = Mode::kCluster;
    stale_ = false;
    return absl::OkStatus();
  }
  return last;
}

absl::Status RedisConnection::KnowTopology() {
  if (mode_ != Mode::kUnknown && !stale_) return absl::OkStatus();
  return Discover();
}

absl::StatusOr<bool> RedisConnection::IsCluster() {
  if (absl::Status known = KnowTopology(); !known.ok()) return known;
  return mode_ == Mode::kCluster;
}

absl::StatusOr<std::vector<RedisAddress>> RedisConnection::Masters() {
  absl::StatusOr<bool> cluster = IsCluster();
  if (!cluster.ok()) return cluster.status();
  if (!*cluster) return std::vector<RedisAddress>{single_};
  std::vector<RedisAddress> masters;
  for (const SlotTable::Master& master : slots_->masters()) masters.push_back(master.address);
  return masters;
}

absl::StatusOr<RedisReply> RedisConnection::CommandOn(const RedisAddress& server,
                                                      const std::vector<std::string>& argv) {
  NodeLink& link = LinkTo(server);
  if (absl::Status sent = link.Send({&argv}); !sent.ok()) return sent;
  return link.Receive();
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  const std::shared_ptr<const RoundTripObserver> observer = ProcessObserver().load();
  if (observer == nullptr) return RoundTrip(commands);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<RedisReply>> replies = RoundTrip(commands);
  const std::string name = commands.size() == 1 && !commands[0].empty()
                               ? absl::AsciiStrToLower(commands[0][0])
                               : std::string("pipeline");
  (*observer)(name, absl::Now() - start);
  return replies;
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::RoundTrip(
    const std::vector<std::vector<std::string>>& commands) {
  std::vector<RedisReply> replies(commands.size());
  if (absl::Status routed = Route(commands, replies); !routed.ok()) {
    // Replies not yet read are on the open links: close them. On a cluster, the failure may be
    // a failover: ask for the slot table again.
    DropAll();
    if (mode_ == Mode::kCluster) stale_ = true;
    return routed;
  }
  return replies;
}

absl::Status RedisConnection::Route(const std::vector<std::vector<std::string>>& commands,
                                    std::vector<RedisReply>& replies) {
  if (absl::Status known = KnowTopology(); !known.ok()) return known;
  std::vector<Routed> batch;
  batch.reserve(commands.size());
  if (mode_ == Mode::kSingle) {
    NodeLink* single = &LinkTo(single_);
    for (size_t i = 0; i < commands.size(); ++i) batch.push_back({i, single});
  }
  std::vector<std::pair<const SlotTable::Master*, NodeLink*>> links;  // the few masters used
  for (size_t i = 0; mode_ == Mode::kCluster && i < commands.size(); ++i) {
    const std::optional<absl::string_view> key = RoutingKey(commands[i]);
    const int slot = key ? KeySlot(*key) : -1;
    const SlotTable::Master* master = key ? slots_->MasterOf(slot) : &slots_->masters().front();
    if (master == nullptr) {
      return absl::UnavailableError(absl::StrCat("redis cluster: no master serves slot ", slot));
    }
    auto known = std::find_if(links.begin(), links.end(),
                              [master](const auto& link) { return link.first == master; });
    if (known == links.end()) known = links.insert(links.end(), {master, &LinkTo(master->address)});
    batch.push_back({i, known->second});
  }
  for (int round = 0; !batch.empty(); ++round) {
    if (round > kMaxRedirects) {
      return absl::UnavailableError("redis cluster: a command was redirected too often");
    }
    // A redirect to a master the slot table does not know (new in a reshard): learn it, and its
    // replicas, before writing there.
    if (round > 0 && mode_ == Mode::kCluster &&
        std::any_of(batch.begin(), batch.end(),
                    [this](const Routed& r) { return !slots_->Knows(r.to->address()); })) {
      if (absl::Status found = Discover(); !found.ok()) return found;
    }
    std::vector<Routed> redirected;
    if (absl::Status done = SendAndReceive(commands, batch, replies, redirected); !done.ok()) {
      return done;
    }
    batch = std::move(redirected);
  }
  return absl::OkStatus();
}

absl::Status RedisConnection::SendAndReceive(const std::vector<std::vector<std::string>>& commands,
                                             std::vector<Routed>& batch,
                                             std::vector<RedisReply>& replies,
                                             std::vector<Routed>& redirected) {
  // One group per server, in order of first appearance; each sent before any is read.
  struct Group {
    NodeLink* link;
    std::vector<const Routed*> routed;
    bool wait = false;  // a WAIT for one replica follows the group's commands
  };
  std::vector<Group> groups;
  for (const Routed& r : batch) {
    auto group =
        std::find_if(groups.begin(), groups.end(), [&r](const Group& g) { return g.link == r.to; });
    if (group == groups.end()) group = groups.insert(groups.end(), Group{r.to, {}});
    group->routed.push_back(&r);
  }
  const std::vector<std::string> wait = {
      "WAIT", "1", absl::StrCat(absl::ToInt64Milliseconds(options_.replication_timeout))};
  for (Group& group : groups) {
    std::vector<const std::vector<std::string>*> argv;
    // Only a cluster master with a replica is waited for: on one Redis no command is looked at.
    const bool replicated = mode_ == Mode::kCluster && ReplicasOf(group.link->address()) > 0;
    for (const Routed* r : group.routed) {
      if (r->asking) argv.push_back(&AskingCommand());
      argv.push_back(&commands[r->index]);
      group.wait = group.wait || (replicated && MayWrite(commands[r->index]));
    }
    if (group.wait) argv.push_back(&wait);
    if (absl::Status sent = group.link->Send(argv); !sent.ok()) return sent;
  }
  for (Group& group : groups) {
    bool wrote = false;  // a write of the group ran here (was not redirected)
    for (const Routed* r : group.routed) {
      if (r->asking) {
        if (absl::StatusOr<RedisReply> ok = group.link->Receive(); !ok.ok()) return ok.status();
      }
      absl::StatusOr<RedisReply> reply = group.link->Receive();
      if (!reply.ok()) return reply.status();
      if (reply->is_error()) {
        if (std::optional<Redirect> to = ParseRedirect(reply->str, group.link->address())) {
          if (to->kind == Redirect::Kind::kMoved) {
            if (slots_ != nullptr) slots_->Move(to->slot, to->to);
            stale_ = true;  // more slots may have moved: ask for the table before the next call
          }
          redirected.push_back({r->index, &LinkTo(to->to), to->kind == Redirect::Kind::kAsk});
          continue;
        }
        if (IsClusterTransient(reply->str)) {
          return absl::UnavailableError(
              absl::StrCat("redis ", group.link->address().ToString(), ": ", reply->str));
        }
      }
      wrote = wrote || (group.wait && MayWrite(commands[r->index]));
      replies[r->index] = *std::move(reply);
    }
    if (!group.wait) continue;
    // Read even when every write was redirected: then the WAIT is moot (and a demoted master,
    // now a replica, refuses it).
    absl::StatusOr<RedisReply> copies = group.link->Receive();
    if (!copies.ok()) return copies.status();
    if (wrote && (copies->type != RedisReply::Type::kInteger || copies->integer < 1)) {
      return absl::UnavailableError(absl::StrCat(
          "redis ", group.link->address().ToString(), ": a write is not on its replica after ",
          absl::FormatDuration(options_.replication_timeout), " (", copies->str, ")"));
    }
  }
  return absl::OkStatus();
}

int RedisConnection::ReplicasOf(const RedisAddress& master) const {
  const SlotTable::Master* known = slots_ == nullptr ? nullptr : slots_->Find(master);
  return known == nullptr ? 0 : known->replicas;
}

absl::StatusOr<RedisReply> RedisConnection::Command(const std::vector<std::string>& argv) {
  absl::StatusOr<std::vector<RedisReply>> replies = Pipeline({argv});
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

absl::StatusOr<std::string> RedisConnection::ScriptSha(const std::string& script) {
  if (auto sha = script_shas_.find(script); sha != script_shas_.end()) return sha->second;
  absl::StatusOr<RedisReply> loaded = Command({"SCRIPT", "LOAD", script});
  if (!loaded.ok()) return loaded.status();
  if (loaded->type != RedisReply::Type::kString) {
    return absl::InternalError(absl::StrCat("redis SCRIPT LOAD: ", loaded->str));
  }
  return script_shas_.emplace(script, loaded->str).first->second;
}

absl::StatusOr<RedisReply> RedisConnection::Eval(const std::string& script,
                                                 const std::vector<std::string>& keys,
                                                 const std::vector<std::string>& args) {
  absl::StatusOr<std::vector<RedisReply>> replies = EvalMany(script, {{keys, args}});
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::EvalMany(
    const std::string& script, const std::vector<ScriptCall>& calls) {
  absl::StatusOr<std::string> sha = ScriptSha(script);
  if (!sha.ok()) return sha.status();
  auto command = [&](const std::string& verb, const std::string& body, const ScriptCall& call) {
    std::vector<std::string> argv;
    argv.reserve(3 + call.keys.size() + call.args.size());
    argv.insert(argv.end(), {verb, body, absl::StrCat(call.keys.size())});
    argv.insert(argv.end(), call.keys.begin(), call.keys.end());
    argv.insert(argv.end(), call.args.begin(), call.args.end());
    return argv;
  };
  std::vector<std::vector<std::string>> commands;
  commands.reserve(calls.size());
  for (const ScriptCall& call : calls) commands.push_back(command("EVALSHA", *sha, call));
  absl::StatusOr<std::vector<RedisReply>> replies = Pipeline(commands);
  if (!replies.ok()) return replies.status();
  // NOSCRIPT: that server lost its script cache (a restart, SCRIPT FLUSH) or never had it (another
  // master of a cluster): run the script whole there, which caches it too.
  std::vector<size_t> again;
  std::vector<std::vector<std::string>> whole;
  for (size_t i = 0; i < calls.size(); ++i) {
    const RedisReply& reply = (*replies)[i];
    if (reply.is_error() && absl::StartsWith(reply.str, "NOSCRIPT")) {
      again.push_back(i);
      whole.push_back(command("EVAL", script, calls[i]));
    }
  }
  if (again.empty()) return replies;
  absl::StatusOr<std::vector<RedisReply>> retried = Pipeline(whole);
  if (!retried.ok()) return retried.status();
  for (size_t k = 0; k < again.size(); ++k) (*replies)[again[k]] = std::move((*retried)[k]);
  return replies;
}

}  // namespace choreo::redis
