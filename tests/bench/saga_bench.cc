// choreo-bench: saga latency and throughput through the gateway's gRPC API, against the floor of
// a trivial four-hop relay chain on the same broker, in the same run.
//
//   choreo-bench [--mode fixed|search] [--rate N] [--duration 10s] [--broker kafka|dev] ...
//
// It starts the whole system as processes (LocalSystem: Apache Kafka, one node, unless --broker
// dev (the embedded dev broker) or --kafka-brokers (a running Kafka with the topics created),
// redis-server with appendfsync always, users, order, billing, notification, gateway), signs up
// --users users with plenty of money, then drives CreateOrder open-loop: request i is due at
// start + i/rate whatever happened to earlier ones, and its latency counts from when it was due
// (so a slow answer cannot hide the queueing it causes). Then the same schedule through the
// relay chain. Prints text (and JSON with --json-out) with percentiles from an HDR-style
// histogram, outcomes, errors, and CPU and peak RSS of every process.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "contracts/topics/topics.h"
#include "edges/redis/redis_connection.h"
#include "grpcpp/grpcpp.h"
#include "platform/config/flag_set.h"
#include "platform/ids/trace_context.h"
#include "platform/proto_time/proto_time.h"
#include "saga/codec/event_codec.h"
#include "saga/service/service_host.h"
#include "testing/http_client.h"
#include "testing/http_receiver.h"
#include "testing/topic_reader.h"
#include "testing/wait.h"
#include "tests/bench/latency_histogram.h"
#include "tests/bench/open_loop.h"
#include "tests/bench/process_usage.h"
#include "tests/bench/relay_chain.h"
#include "tests/bench/service_metrics.h"
#include "tests/e2e/system.h"

namespace choreo::bench {
namespace {

// The saga's hops: orders.requests, orders.created, billing.payments, orders.status.
constexpr int kHops = 4;

struct BenchConfig {
  std::string broker = "kafka";  // or "dev": the embedded dev broker
  std::string kafka_brokers;     // a running Kafka instead
  std::string mode = "fixed";
  int rate = 200;
  absl::Duration duration = absl::Seconds(10);
  // Unmeasured load first; -1s: 20 s on Apache Kafka (the broker's JIT compiles its hot paths
  // in its first tens of seconds: after 2 s its CPU per order is about twice what it is after
  // 20 s), 2 s on the dev broker and an external Kafka.
  absl::Duration warmup = absl::Seconds(-1);
  absl::Duration p99_bound = absl::Milliseconds(100);
  int start_rate = 100;
  int step_percent = 40;  // each search step offers this much more
  int max_rate = 20000;
  absl::Duration step_duration = absl::Seconds(5);
  int users = 100;
  int partitions = 4;
  int fetch_wait_max_ms = 0;  // 0: 1 on the dev broker, the services' default on Kafka
  int workers = 0;            // 0: the services' default
  int instances = 1;          // of every service (users, order, billing, notification)
  int redis_cluster_masters = 0;  // > 0: a Redis Cluster of this many masters (a replica each)
  std::string redis_appendfsync = "always";
  bool floor = true;
  bool saga = true;
  bool trace = false;
  std::string gateway_flags;
  std::string json_out;
};

// A CreateOrder call's ends: when it was due, when the bench sent it (late by its own pacing and
// the request's building), and when its answer arrived.
struct CallEnds {
  absl::Time due;
  absl::Time sent;
  absl::Time answered;
};

// The saga through the gateway: one CreateOrder per request, users taking turns.
class SagaDriver {
 public:
  SagaDriver(const std::string& gateway, e2e::TestUsers* users, int user_count)
      : channel_(grpc::CreateChannel(gateway, grpc::InsecureChannelCredentials())),
        orders_(gateway::v1::OrderService::NewStub(channel_)),
        users_(users),
        user_count_(user_count) {
    absl::BitGen random;
    run_ = ids::RandomHex(random, 4);
  }

  // One CreateOrder, waited for: how long the client waited, or the call's error.
  absl::StatusOr<absl::Duration> CreateOne(const std::string& user, const std::string& phase) {
    grpc::ClientContext context;
    users_->Authorize(user, context);
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    gateway::v1::Order response;
    const absl::Time start = absl::Now();
    const grpc::Status status = orders_->CreateOrder(
        &context, e2e::OrderRequest(absl::StrCat(run_, "-", phase)), &response);
    if (!status.ok()) return absl::UnknownError(status.error_message());
    return absl::Now() - start;
  }

  // From now on, keeps each answered call's ends (CallEnds), by its saga's correlation id: the
  // ends of a saga that no event's time shows (see SagaLegs). Off until called, so that the
  // warm-up's and the search's calls are not kept.
  void KeepCallEnds() {
    absl::MutexLock lock(&mu_);
    keep_call_ends_ = true;
  }
  std::map<std::string, CallEnds> Calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

  void Issue(int64_t i, absl::Time due, Recorder& recorder, const std::string& phase) {
    struct Call {
      grpc::ClientContext context;
      gateway::v1::CreateOrderRequest request;
      gateway::v1::Order response;
    };
    auto call = std::make_shared<Call>();
    const std::string user = absl::StrCat("bench", i % user_count_);
    users_->Authorize(user, call->context);
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    call->request = e2e::OrderRequest(absl::StrCat(run_, "-", phase, "-", i));
    const absl::Time sent = absl::Now();
    orders_->async()->CreateOrder(
        &call->context, &call->request, &call->response,
        [this, call, due, sent, &recorder](grpc::Status status) {
          if (status.ok()) {
            {
              absl::MutexLock lock(&mu_);
              if (keep_call_ends_)
                calls_[call->response.correlation_id()] = {due, sent, absl::Now()};
            }
            std::string outcome = orders::v1::OrderStatus_Name(call->response.status());
            recorder.Done(due, outcome.substr(outcome.find("STATUS_") + 7), true);
          } else {
            recorder.Done(due, absl::StatusCodeToString(
                                   static_cast<absl::StatusCode>(status.error_code())),
                          false);
          }
        });
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gateway::v1::OrderService::Stub> orders_;
  e2e::TestUsers* users_;
  const int user_count_;
  std::string run_;
  mutable absl::Mutex mu_;
  bool keep_call_ends_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, CallEnds> calls_ ABSL_GUARDED_BY(mu_);
};

// A real OrderCreationRequested record, so the floor moves the saga's record sizes.
KafkaRecord SampleRecord() {
  orders::v1::OrderCreationRequested event;
  event.set_request_id("0123456789abcdef-fixed-0000001");
  event.set_username("bench42");
  event.add_roles("user");
  auto* item = event.add_items();
  item->set_sku("PEN-004");
  item->set_quantity(1);
  auto* address = event.mutable_delivery_address();
  address->set_recipient("Bench");
  address->set_line1("1 Load Street");
  address->set_city("Throughput");
  address->set_country("US");
  event.set_payment_method(orders::v1::PAYMENT_METHOD_ACCOUNT_BALANCE);
  *event.mutable_created_at() = ToProtoTime(absl::Now());
  absl::BitGen random;
  codec::StampMeta(event,
                   {.event_id = ids::RandomHex(random, 16),
                    .correlation_id = ids::RandomHex(random, 16),
                    .producer = "gateway",
                    .occurred_at = absl::Now()},
                   random);
  return *codec::EventCodec().Encode(event, topics::kOrdersRequests, "key");
}

void PrintPhase(const Phase& phase) {
  std::printf("%-6s offered %6d/s  achieved %8.1f/s  n=%-7lld p50 %7.1f  p90 %7.1f  p99 %7.1f  "
              "p99.9 %7.1f  max %7.1f ms  errors %lld\n",
              phase.name.c_str(), phase.offered_rate, phase.achieved(),
              static_cast<long long>(phase.latency.count()), Ms(phase.latency.Percentile(50)),
              Ms(phase.latency.Percentile(90)), Ms(phase.latency.Percentile(99)),
              Ms(phase.latency.Percentile(99.9)), Ms(phase.latency.max()),
              static_cast<long long>(phase.error_count()));
  std::vector<std::string> outcomes;
  for (const auto& [outcome, count] : phase.outcomes) outcomes.push_back(absl::StrCat(outcome, " ", count));
  for (const auto& [error, count] : phase.errors) outcomes.push_back(absl::StrCat("error ", error, " ", count));
  std::printf("       outcomes: %s\n", absl::StrJoin(outcomes, ", ").c_str());
  if (!phase.redis_stalls.empty()) {
    std::printf("       redis stalls: %s\n", phase.redis_stalls.c_str());
  }
}

// `cpu` spent over the phase, in µs per request it sent.
double PerRequest(const Phase& phase, absl::Duration cpu) {
  return phase.sent > 0 ? absl::ToDoubleMicroseconds(cpu) / static_cast<double>(phase.sent) : 0;
}

// CPU per request of the phase's processes whose name contains `part` ("" for all of them).
double CpuPerRequest(const Phase& phase, absl::string_view part = "") {
  absl::Duration cpu;
  for (const auto& [process, usage] : phase.usage) {
    if (absl::StrContains(process, part)) cpu += usage.cpu;
  }
  return PerRequest(phase, cpu);
}

// The phase's CPU table, and its sum: per request, and the cores every process used together.
void PrintUsage(const Phase& phase) {
  std::printf("       %-14s %10s %12s %12s\n", "process", "cpu s", "cpu us/req", "peak RSS MB");
  absl::Duration total;
  for (const auto& [process, usage] : phase.usage) {
    // A process's children (Redis's AOF rewrites) count in its CPU, once they have ended.
    const std::string children = usage.children_cpu > absl::ZeroDuration()
                                     ? absl::StrFormat("   (%.0f us/req of it in forked children)",
                                                       PerRequest(phase, usage.children_cpu))
                                     : "";
    std::printf("       %-14s %10.2f %12.0f %12.1f%s\n", process.c_str(),
                absl::ToDoubleSeconds(usage.cpu), PerRequest(phase, usage.cpu),
                usage.peak_rss_kib / 1024.0, children.c_str());
    total += usage.cpu;
  }
  const double cores = phase.usage_window > absl::ZeroDuration()
                           ? absl::FDivDuration(total, phase.usage_window)
                           : 0.0;
  std::printf("       %-14s %10.2f %12.0f   (%.2f of the machine's cores)\n", "all",
              absl::ToDoubleSeconds(total), PerRequest(phase, total), cores);
}

// Each process's CPU and voluntary context switches (each one a sleep and a wake-up) per
// request, by the kind of thread (bench::ThreadKind): its own threads, librdkafka's, gRPC's
// (which run the RPC handlers too). Only the processes with Kafka clients: the services, and
// the bench's own (its floor relays and gRPC client); not Redis or the broker.
void PrintThreadKinds(const Phase& phase) {
  std::printf("       %-14s %24s %24s %24s\n", "process", "choreo: cpu us, switches", "librdkafka",
              "grpc");
  auto per_request = [&phase](int64_t n) {
    return phase.sent > 0 ? static_cast<double>(n) / static_cast<double>(phase.sent) : 0.0;
  };
  for (const auto& [process, usage] : phase.usage) {
    if (!usage.threads.contains("librdkafka")) continue;
    auto kind = [&usage](const char* name) {
      auto it = usage.threads.find(name);
      return it != usage.threads.end() ? it->second : ThreadsUsage{};
    };
    const ThreadsUsage librdkafka = kind("librdkafka");
    const ThreadsUsage grpc = kind("grpc");
    // The process's own: the rest of its CPU, so that a thread that ended counts somewhere.
    const absl::Duration own =
        std::max(absl::ZeroDuration(), usage.cpu - librdkafka.cpu - grpc.cpu);
    std::printf("       %-14s %16.0f %7.1f %16.0f %7.1f %16.0f %7.1f\n", process.c_str(),
                PerRequest(phase, own), per_request(kind("choreo").switches),
                PerRequest(phase, librdkafka.cpu), per_request(librdkafka.switches),
                PerRequest(phase, grpc.cpu), per_request(grpc.switches));
  }
}

std::string PhaseJson(const Phase& phase) {
  std::vector<std::string> outcomes, errors, usage;
  for (const auto& [k, v] : phase.outcomes) outcomes.push_back(absl::StrFormat(R"("%s":%d)", k, v));
  for (const auto& [k, v] : phase.errors) errors.push_back(absl::StrFormat(R"("%s":%d)", k, v));
  for (const auto& [k, v] : phase.usage) {
    std::vector<std::string> threads;
    for (const auto& [kind, used] : v.threads) {
      threads.push_back(absl::StrFormat(R"("%s":{"cpu_seconds":%.3f,"voluntary_switches":%d})",
                                        kind, absl::ToDoubleSeconds(used.cpu), used.switches));
    }
    usage.push_back(absl::StrFormat(R"("%s":{"cpu_seconds":%.3f,"peak_rss_kib":%d,"threads":{%s}})",
                                    k, absl::ToDoubleSeconds(v.cpu), v.peak_rss_kib,
                                    absl::StrJoin(threads, ",")));
  }
  return absl::StrFormat(
      R"({"name":"%s","offered_rate":%d,"achieved_rate":%.1f,"duration_s":%.1f,"sent":%d,)"
      R"("ok":%d,"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"p99_9":%.3f,"max":%.3f,)"
      R"("mean":%.3f},"outcomes":{%s},"errors":{%s},"processes":{%s},)"
      R"("processes_window_s":%.3f,"redis_stalls":%s})",
      phase.name, phase.offered_rate, phase.achieved(), absl::ToDoubleSeconds(phase.duration),
      phase.sent, phase.ok, Ms(phase.latency.Percentile(50)), Ms(phase.latency.Percentile(90)),
      Ms(phase.latency.Percentile(99)), Ms(phase.latency.Percentile(99.9)), Ms(phase.latency.max()),
      Ms(phase.latency.mean()), absl::StrJoin(outcomes, ","), absl::StrJoin(errors, ","),
      absl::StrJoin(usage, ","), absl::ToDoubleSeconds(phase.usage_window),
      phase.redis_stalls_json.empty() ? "null" : phase.redis_stalls_json);
}

// Adds the calls of each command in an INFO commandstats reply to `counts`.
void AddCommandCounts(absl::string_view info, std::map<std::string, int64_t>& counts) {
  for (absl::string_view line : absl::StrSplit(info, '\n')) {
    // cmdstat_get:calls=12,usec=...
    if (!absl::ConsumePrefix(&line, "cmdstat_")) continue;
    const size_t colon = line.find(':');
    const size_t calls = line.find("calls=");
    if (colon == absl::string_view::npos || calls == absl::string_view::npos) continue;
    int64_t n = 0;
    absl::string_view number = line.substr(calls + 6);
    number = number.substr(0, number.find(','));
    if (absl::SimpleAtoi(number, &n)) counts[std::string(line.substr(0, colon))] += n;
  }
}

// Calls `visit` with a connection and each master of a cluster (the one Redis otherwise) until
// one fails; that error, or why the masters are unknown.
absl::Status ForEveryMaster(
    const std::string& address,
    const std::function<absl::Status(redis::RedisConnection&, const redis::RedisAddress&)>& visit) {
  absl::StatusOr<redis::RedisConnection::Options> options =
      redis::RedisConnection::OptionsFor(address);
  if (!options.ok()) return options.status();
  redis::RedisConnection redis(*options);
  absl::StatusOr<std::vector<redis::RedisAddress>> masters = redis.Masters();
  if (!masters.ok()) return masters.status();
  for (const redis::RedisAddress& master : *masters) {
    if (absl::Status visited = visit(redis, master); !visited.ok()) return visited;
  }
  return absl::OkStatus();
}

// `command` on `master`: its reply, or an error for an error reply.
absl::StatusOr<redis::RedisReply> CommandOn(redis::RedisConnection& redis,
                                            const redis::RedisAddress& master,
                                            const std::vector<std::string>& command) {
  absl::StatusOr<redis::RedisReply> reply = redis.CommandOn(master, command);
  if (reply.ok() && reply->is_error()) {
    return absl::UnavailableError(absl::StrCat(absl::StrJoin(command, " "), ": ", reply->str));
  }
  return reply;
}

// `command` on every master; the first failure.
absl::Status RunOnEveryMaster(const std::string& address, const std::vector<std::string>& command) {
  return ForEveryMaster(address,
                        [&](redis::RedisConnection& redis, const redis::RedisAddress& master) {
                          return CommandOn(redis, master, command).status();
                        });
}

// INFO `section` of every master of a cluster (of the one Redis otherwise); masters that do not
// answer are left out.
std::vector<std::string> RedisInfo(const std::string& address, const std::string& section) {
  std::vector<std::string> texts;
  static_cast<void>(ForEveryMaster(
      address, [&](redis::RedisConnection& redis, const redis::RedisAddress& master) {
        absl::StatusOr<redis::RedisReply> info = CommandOn(redis, master, {"INFO", section});
        if (info.ok()) texts.push_back(info->str);
        return absl::OkStatus();
      }));
  return texts;
}

// The p50 round trip of one client's fsynced write (a SET of a small value, `appendfsync
// always`; on a cluster with replicas, with the WAIT the services add), over `n` writes in
// series: what each of the saga's fsynced writes costs at the least, for the bound the ratio
// line prints.
absl::StatusOr<absl::Duration> FsyncedWriteRoundTrip(const std::string& address, int n = 200) {
  absl::StatusOr<redis::RedisConnection::Options> options =
      redis::RedisConnection::OptionsFor(address);
  if (!options.ok()) return options.status();
  redis::RedisConnection redis(*options);
  LatencyHistogram round_trips;
  for (int i = 0; i < n; ++i) {
    const absl::Time start = absl::Now();
    absl::StatusOr<redis::RedisReply> set =
        redis.Command({"SET", "choreo-bench:probe", absl::StrCat("fsynced write ", i)});
    if (!set.ok()) return set.status();
    if (set->is_error()) return absl::UnavailableError(set->str);
    round_trips.Record(absl::Now() - start);
  }
  static_cast<void>(redis.Command({"DEL", "choreo-bench:probe"}));
  return round_trips.Percentile(50);
}

// Prints an estimate of the least the saga's p50 can be on this machine, and returns it as JSON
// ({"ratio":..,"fsynced_write_ms":..}, or null): the floor's p50 plus five fsynced Redis writes
// in series, each the p50 of one client's writes measured now (the phases are over). Not
// printed unless Redis fsyncs every write.
std::string LeastSagaP50(const BenchConfig& config, const std::string& redis, const Phase& floor) {
  const double floor_p50 = Ms(floor.latency.Percentile(50));
  if (config.redis_appendfsync != "always" || floor_p50 <= 0) return "null";
  absl::StatusOr<absl::Duration> write = FsyncedWriteRoundTrip(redis);
  if (!write.ok()) write = FsyncedWriteRoundTrip(redis);  // once more: a stall of the disk
  if (!write.ok()) {
    std::printf("the least p50, estimated: unknown (%s)\n",
                std::string(write.status().message()).c_str());
    return "null";
  }
  const double least = floor_p50 + 5 * Ms(*write);
  std::printf(
      "the least p50, estimated: the floor's p50 plus five fsynced Redis writes (%.2f ms "
      "each, p50 of one client's writes after the phases): %.1f ms, %.2fx the floor's\n",
      Ms(*write), least, least / floor_p50);
  return absl::StrFormat(R"({"ratio":%.3f,"fsynced_write_ms":%.3f})", least / floor_p50,
                         Ms(*write));
}

constexpr int kRedisStallMs = 20;

// The stalls one master recorded, added to `texts` and `jsons`.
absl::Status ReadStallsOf(redis::RedisConnection& redis, const redis::RedisAddress& master,
                          std::vector<std::string>& texts, std::vector<std::string>& jsons) {
  absl::StatusOr<redis::RedisReply> latest = CommandOn(redis, master, {"LATENCY", "LATEST"});
  if (!latest.ok()) return latest.status();
  for (const redis::RedisReply& event : latest->elements) {
    if (event.elements.size() < 4) continue;
    const std::string& name = event.elements[0].str;
    absl::StatusOr<redis::RedisReply> history =
        CommandOn(redis, master, {"LATENCY", "HISTORY", name});
    if (!history.ok()) return history.status();
    const std::string on = master.ToString();
    const long long max_ms = event.elements[3].integer;
    const size_t seconds = history->elements.size();
    texts.push_back(absl::StrFormat("%s max %lld ms in %zu s (%s)", name, max_ms, seconds, on));
    jsons.push_back(absl::StrFormat(R"({"master":"%s","event":"%s","max_ms":%lld,"seconds":%zu})",
                                    on, name, max_ms, seconds));
  }
  return absl::OkStatus();
}

// Redis's own record of the times its main thread stalled kRedisStallMs or more since the last
// LATENCY RESET (the monitor is turned on at start), per master and kind of event
// ("aof-fsync-always": the fsync every write waits for; "command": a slow command;
// "expire-cycle", ...): the longest (LATENCY LATEST's 4th field, the maximum since the reset),
// and in how many seconds it happened (LATENCY HISTORY: one sample per second, the last 160).
// What a phase's tail may owe to Redis rather than to the services. Sets the phase's text and
// JSON; unknown when the monitor was not reset (`reset`) or a master does not answer.
void ReadRedisStalls(const std::string& address, const absl::Status& reset, Phase& phase) {
  std::vector<std::string> texts, jsons;
  int masters = 0;
  absl::Status read = reset;
  if (read.ok()) {
    read = ForEveryMaster(address,
                          [&](redis::RedisConnection& redis, const redis::RedisAddress& master) {
                            ++masters;
                            return ReadStallsOf(redis, master, texts, jsons);
                          });
  }
  if (!read.ok()) {
    phase.redis_stalls = absl::StrCat("unknown: ", read.message());
    phase.redis_stalls_json = "null";
    return;
  }
  phase.redis_stalls =
      texts.empty()
          ? absl::StrCat("none of ", kRedisStallMs, " ms or more on ", masters, " master(s)")
          : absl::StrCat(absl::StrJoin(texts, ", "), "; ", kRedisStallMs, " ms or more");
  phase.redis_stalls_json = absl::StrCat("[", absl::StrJoin(jsons, ","), "]");
}

// Redis commands by name (INFO commandstats), to see the round trips an order costs; summed over
// every master.
std::map<std::string, int64_t> RedisCommandCounts(const std::string& address) {
  std::map<std::string, int64_t> counts;
  for (const std::string& info : RedisInfo(address, "commandstats")) AddCommandCounts(info, counts);
  return counts;
}

// A number in INFO `section` ("used_memory" of "memory": bytes of data held;
// "total_reads_processed" of "stats": reads of client input, about one per round trip), summed
// over every master.
int64_t RedisInfoNumber(const std::string& address, const std::string& section,
                        const std::string& field) {
  int64_t total = 0;
  const std::string prefix = field + ":";
  for (const std::string& info : RedisInfo(address, section)) {
    const size_t at = info.find(prefix);
    int64_t value = 0;
    if (at != std::string::npos &&
        absl::SimpleAtoi(absl::string_view(info).substr(at + prefix.size(),
                                                        info.find('\r', at) - at - prefix.size()),
                         &value)) {
      total += value;
    }
  }
  return total;
}

// One leg of a saga's path and the times it took, one per saga. `negative` counts times that
// came out below zero (clocks are one machine's, so none should; the histogram would keep 0).
struct Leg {
  std::string name;
  LatencyHistogram times;
  int64_t negative = 0;
};

// A saga's path, leg by leg: for every saga that started at or after `since` and has an event
// on each hop's topic, the time between consecutive hops' events (each event's occurred_at is
// stamped when its service decided); and, for the sagas of `calls`, the ends no event shows:
// from the call's due time to its sending, from its sending to its request's event, and from its
// status event to its answer. Legs no saga took are left out.
absl::StatusOr<std::vector<Leg>> SagaLegs(const std::string& kafka, absl::Time since,
                                          const std::map<std::string, CallEnds>& calls = {}) {
  // hops[h].first names the step from the event on hops[h-1] to the one on hops[h]: who
  // consumed the former and decided the latter (with the producer's publish before it).
  const std::vector<std::pair<std::string, absl::string_view>> hops = {
      {"", topics::kOrdersRequests},
      {"order: request->created", topics::kOrdersCreated},
      {"billing: created->payment", topics::kBillingPayments},
      {"order: payment->status", topics::kOrdersStatus}};
  // correlation id -> the latest occurred_at on each hop's topic
  std::map<std::string, std::vector<absl::Time>> sagas;
  for (size_t h = 0; h < hops.size(); ++h) {
    absl::StatusOr<std::vector<KafkaRecord>> records =
        testing::ReadTopicToEnd(kafka, std::string(hops[h].second), absl::Seconds(60));
    if (!records.ok()) return records.status();
    for (const KafkaRecord& record : *records) {
      absl::StatusOr<common::v1::EventMeta> meta = codec::DecodeMeta(record.value);
      if (!meta.ok()) continue;
      std::vector<absl::Time>& times = sagas[meta->correlation_id()];
      times.resize(hops.size(), absl::InfinitePast());
      times[h] = std::max(times[h], FromProtoTime(meta->occurred_at()));
    }
  }
  // legs[0..1]: the call's way in; legs[2..4]: the hops; legs[5]: the answer's way out.
  std::vector<Leg> legs(hops.size() + 2);
  legs[0].name = "bench: due->sent";
  legs[1].name = "gateway: sent->request";
  for (size_t h = 1; h < hops.size(); ++h) legs[h + 1].name = hops[h].first;
  legs.back().name = "status->answer";
  auto record = [](Leg& leg, absl::Duration time) {
    if (time < absl::ZeroDuration()) ++leg.negative;
    leg.times.Record(time);
  };
  for (const auto& [correlation, times] : sagas) {
    if (times[0] < since ||
        std::find(times.begin(), times.end(), absl::InfinitePast()) != times.end()) {
      continue;  // before `since`, or a hop missing (a rejected order has no payment)
    }
    for (size_t h = 1; h < hops.size(); ++h) record(legs[h + 1], times[h] - times[h - 1]);
    if (auto call = calls.find(correlation); call != calls.end()) {
      record(legs[0], call->second.sent - call->second.due);
      record(legs[1], times.front() - call->second.sent);
      record(legs.back(), call->second.answered - times.back());
    }
  }
  std::erase_if(legs, [](const Leg& leg) { return leg.times.count() == 0; });
  return legs;
}

std::string LegsText(const absl::StatusOr<std::vector<Leg>>& legs) {
  if (!legs.ok()) return absl::StrCat("       unknown: ", legs.status().message(), "\n");
  std::string out;
  for (const Leg& leg : *legs) {
    absl::StrAppendFormat(
        &out, "       %-26s p50 %6.1f  p90 %6.1f  p99 %6.1f  max %6.1f ms (%d sagas)%s\n", leg.name,
        Ms(leg.times.Percentile(50)), Ms(leg.times.Percentile(90)), Ms(leg.times.Percentile(99)),
        Ms(leg.times.max()), leg.times.count(),
        leg.negative > 0 ? absl::StrCat(", ", leg.negative, " below zero") : "");
  }
  return out;
}

std::string LegsJson(const absl::StatusOr<std::vector<Leg>>& legs) {
  if (!legs.ok()) return "null";
  std::vector<std::string> items;
  for (const Leg& leg : *legs) {
    items.push_back(
        absl::StrFormat(R"({"leg":"%s","p50":%.3f,"p90":%.3f,"p99":%.3f,"n":%d,"negative":%d})",
                        leg.name, Ms(leg.times.Percentile(50)), Ms(leg.times.Percentile(90)),
                        Ms(leg.times.Percentile(99)), leg.times.count(), leg.negative));
  }
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

// Every service's metrics as it reads them now (a service that does not answer is left out).
MetricsByService ScrapeServices(const e2e::LocalSystem& system) {
  MetricsByService metrics;
  for (const char* service : {"gateway", "users", "order", "billing", "notification"}) {
    const testing::HttpResult scrape =
        testing::HttpCall("GET", absl::StrCat(system.admin(service), "/metrics"));
    if (scrape.status == 200) metrics[service] = ReadServiceMetrics(scrape.body);
  }
  return metrics;
}

bool Passes(const Phase& phase, const BenchConfig& config) {
  return phase.error_count() == 0 && phase.latency.Percentile(99) <= config.p99_bound &&
         phase.achieved() >= 0.95 * phase.offered_rate;
}

int Main(int argc, char** argv) {
  BenchConfig config;
  config::FlagSet flags("choreo-bench",
                        "Saga latency and throughput against a four-hop relay floor.");
  flags
      .Add("broker", &config.broker,
           "kafka: Apache Kafka (one KRaft node, started here); dev: the embedded dev broker")
      .Add("kafka-brokers", &config.kafka_brokers,
           "a running Kafka to use instead (its topics created with choreo-topics)")
      .Add("mode", &config.mode, "fixed: --rate for --duration; search: the highest passing rate")
      .Add("rate", &config.rate, "fixed mode: requests per second")
      .Add("duration", &config.duration, "fixed mode: how long to offer load")
      .Add("warmup", &config.warmup,
           "unmeasured load at --start-rate before measuring (default: 20s on Apache Kafka "
           "started here, else 2s)")
      .Add("p99-bound", &config.p99_bound, "search mode: the p99 a passing step must keep")
      .Add("start-rate", &config.start_rate, "search mode: the first step's rate (and warm-up's)")
      .Add("step-percent", &config.step_percent, "search mode: how much each step adds")
      .Add("max-rate", &config.max_rate, "search mode: stop here")
      .Add("step-duration", &config.step_duration, "search mode: each step's length")
      .Add("users", &config.users, "users placing orders")
      .Add("partitions", &config.partitions, "partitions per topic (dev broker and floor)")
      .Add("fetch-wait-max-ms", &config.fetch_wait_max_ms,
           "every consumer's fetch.wait.max.ms, saga and floor alike (0: 1 on the dev broker, "
           "the services' default on Kafka)")
      .Add("workers", &config.workers, "the services' --workers (0: their default)")
      .Add("instances", &config.instances,
           "instances of every service (users, order, billing, notification); one gateway")
      .Add("redis-cluster-masters", &config.redis_cluster_masters,
           "0: one redis-server; N: a Redis Cluster of N masters with a replica each")
      .Add("redis-appendfsync", &config.redis_appendfsync, "Redis appendfsync: always, everysec")
      .Add("floor", &config.floor, "measure the relay-chain floor")
      .Add("saga", &config.saga, "measure the saga")
      .Add("trace", &config.trace,
           "every process exports its spans (OTLP/HTTP JSON) to a receiver in the bench")
      .Add("gateway-flags", &config.gateway_flags,
           "extra flags of the gateway, comma-separated (e.g. --timeline-indexer=false)")
      .Add("json-out", &config.json_out, "also write the results as JSON here");
  config::ParseOrExit(flags, argc, argv, [&]() -> absl::Status {
    if (config.broker != "kafka" && config.broker != "dev") {
      return absl::InvalidArgumentError("--broker must be kafka or dev");
    }
    if (config.mode != "fixed" && config.mode != "search") {
      return absl::InvalidArgumentError("--mode must be fixed or search");
    }
    if (config.rate < 1 || config.start_rate < 1 || config.users < 1 || config.step_percent < 1) {
      return absl::InvalidArgumentError("--rate, --start-rate, --users, --step-percent must be >= 1");
    }
    return absl::OkStatus();
  });

  const absl::Time began = absl::Now();
  std::fprintf(stderr, "choreo-bench: starting the system...\n");
  std::vector<std::string> worker_flags;
  if (config.workers > 0) worker_flags = {"--workers", absl::StrCat(config.workers)};
  // --trace: a receiver stands in for an OpenTelemetry collector, so the run pays for spans.
  testing::HttpReceiver collector;
  std::string otlp_endpoint;
  if (config.trace) {
    if (absl::Status listening = collector.Start(); !listening.ok()) {
      std::fprintf(stderr, "choreo-bench: %s\n", std::string(listening.message()).c_str());
      return 1;
    }
    otlp_endpoint = collector.url("/v1/traces");
  }
  std::vector<std::string> gateway_flags;
  for (absl::string_view flag : absl::StrSplit(config.gateway_flags, ',', absl::SkipEmpty())) {
    gateway_flags.emplace_back(flag);
  }
  const bool dev_broker = config.kafka_brokers.empty() && config.broker == "dev";
  if (config.warmup < absl::ZeroDuration()) {
    config.warmup = config.kafka_brokers.empty() && !dev_broker ? absl::Seconds(20) : absl::Seconds(2);
  }
  e2e::LocalSystem system(e2e::Binaries::Built(),
                          {.broker = dev_broker ? e2e::LocalSystem::Broker::kDevBroker
                                                : e2e::LocalSystem::Broker::kApacheKafka,
                           .kafka_fast_start = false,
                           .kafka_brokers = config.kafka_brokers,
                           .partitions = config.partitions,
                           .extra_topics = RelayChain::Topics(kHops),
                           .fetch_wait_max_ms = config.fetch_wait_max_ms,
                           .redis_appendfsync = config.redis_appendfsync,
                           .instances = config.instances,
                           .redis_cluster_masters = config.redis_cluster_masters,
                           .order_flags = worker_flags,
                           .billing_flags = worker_flags,
                           .gateway_flags = gateway_flags,
                           .notification_flags = worker_flags,
                           .otlp_endpoint = otlp_endpoint});
  if (absl::Status started = system.Start(); !started.ok()) {
    std::fprintf(stderr, "choreo-bench: %s\n", std::string(started.message()).c_str());
    return 1;
  }
  std::map<std::string, pid_t> pids = system.NamedPids();
  pids["bench"] = getpid();
  const std::string broker =
      !config.kafka_brokers.empty() ? "Kafka at " + config.kafka_brokers
      : dev_broker                  ? "embedded dev broker (librdkafka mock cluster)"
                                    : absl::StrCat("Apache Kafka ", testing::KafkaCluster::Version(),
                                                   " (KRaft, 1 node) at ", system.kafka());

  // An operator sends traffic once every process reports ready: on a fresh broker a consumer
  // group's first JoinGroup can meet "not coordinator" (the offsets topic is still loading), and
  // librdkafka joins again about 2 s later, so an order sent before the order service is ready
  // waits for that (1.7-1.9 s in about 4 of 10 starts here).
  const absl::Time started_at = absl::Now();
  if (absl::Status ready = system.WaitAllReady(absl::Seconds(120)); !ready.ok()) {
    std::fprintf(stderr, "choreo-bench: %s\n", std::string(ready.message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "choreo-bench: every process ready %.0f ms after all were serving\n",
               absl::ToDoubleMilliseconds(absl::Now() - started_at));
  const absl::Status latency_monitor = RunOnEveryMaster(
      system.redis(), {"CONFIG", "SET", "latency-monitor-threshold", absl::StrCat(kRedisStallMs)});
  e2e::TestUsers users(system.gateway());
  SagaDriver saga(system.gateway(), &users, config.users);
  // The first order once every process is ready: one user signed up and funded, then one
  // CreateOrder.
  absl::StatusOr<absl::Duration> first_order = absl::UnknownError("no user");
  if (grpc::Status first = users.SignUpFunded("bench0", 1'000'000'000); first.ok()) {
    const absl::Time first_start = absl::Now();
    first_order = saga.CreateOne("bench0", "first");
    // Where the first order's time went, hop by hop (its one saga).
    std::fprintf(stderr, "%s", LegsText(SagaLegs(system.kafka(), first_start)).c_str());
  }
  const std::string first_order_text =
      first_order.ok() ? absl::StrFormat("%.1f ms", Ms(*first_order))
                       : std::string(first_order.status().message());
  std::fprintf(stderr, "choreo-bench: the first order after start took %s\n",
               first_order_text.c_str());
  std::fprintf(stderr, "choreo-bench: signing up %d users...\n", config.users);
  {
    grpc::Status signed_up;
    for (int u = 1; u < config.users && signed_up.ok(); ++u) {
      signed_up = users.SignUpFunded(absl::StrCat("bench", u), 1'000'000'000);  // 10 million USD
    }
    if (!signed_up.ok()) {
      std::fprintf(stderr, "choreo-bench: sign-up failed: %s\n", signed_up.error_message().c_str());
      return 1;
    }
  }
  Recorder* floor_recorder = nullptr;
  absl::Mutex floor_mu;
  service::ServiceConfig services;  // the services' client settings, as LocalSystem runs them
  if (std::optional<int> fetch_wait = system.fetch_wait_max_ms()) {
    services.fetch_wait_max_ms = *fetch_wait;
  }
  services.session_timeout_ms = 6000;
  services.max_poll_interval_ms = 10000;
  RelayChain chain({.kafka_brokers = system.kafka(),
                    .hops = kHops,
                    .partitions = config.partitions,
                    .create_topics = !config.kafka_brokers.empty(),
                    .consumer_overrides = services.RuntimeOptions("bench", {}).consumer_overrides,
                    .sample = SampleRecord()},
                   [&](absl::Time due) {
                     absl::MutexLock lock(&floor_mu);
                     if (floor_recorder != nullptr) floor_recorder->Done(due, "RELAYED", true);
                   });
  if (config.floor) {
    std::fprintf(stderr, "choreo-bench: starting the relay chain...\n");
    if (absl::Status started = chain.Start(absl::Seconds(60)); !started.ok()) {
      std::fprintf(stderr, "choreo-bench: %s\n", std::string(started.message()).c_str());
      return 1;
    }
  }
  int64_t sequence = 0;
  auto run_saga = [&](int rate, absl::Duration duration, const std::string& name) {
    const absl::Status reset = latency_monitor.ok()
                                   ? RunOnEveryMaster(system.redis(), {"LATENCY", "RESET"})
                                   : latency_monitor;
    Phase phase = RunOpenLoop(
        name, rate, duration, pids,
        [&](int64_t i, absl::Time due, Recorder& r) { saga.Issue(sequence + i, due, r, name); });
    ReadRedisStalls(system.redis(), reset, phase);
    return phase;
  };
  auto run_floor = [&](int rate, absl::Duration duration, const std::string& name) {
    return RunOpenLoop(name, rate, duration, pids, [&](int64_t i, absl::Time due, Recorder& r) {
      {
        absl::MutexLock lock(&floor_mu);
        floor_recorder = &r;
      }
      if (!chain.Send(absl::StrCat("ord-", sequence + i), due).ok()) r.Done(due, "PRODUCE", false);
    });
  };
  auto detach_floor = [&] {
    absl::MutexLock lock(&floor_mu);
    floor_recorder = nullptr;
  };

  if (config.warmup > absl::ZeroDuration()) {
    std::fprintf(stderr, "choreo-bench: warming up for %s...\n",
                 absl::FormatDuration(config.warmup).c_str());
    if (config.saga) run_saga(config.start_rate, config.warmup, "warmup");
    if (config.floor) run_floor(config.start_rate, config.warmup, "warmup");
    detach_floor();
  }

  std::vector<Phase> saga_phases, floor_phases;
  std::string redis_per_order;
  std::string record_times;  // each saga service's queue and handling per record, saga phase
  std::string round_trips;   // each service's Redis round trips per order, saga phase
  std::string kafka_requests;         // each service's Kafka requests per order, saga phase
  double redis_memory_per_order = 0;  // bytes kept per order (markers, views, indexes)
  std::string redis_json = "null";    // the same as JSON, with the command and round-trip totals
  absl::Time saga_started = absl::InfiniteFuture();
  if (config.mode == "fixed") {
    if (config.saga) {
      const std::map<std::string, int64_t> before = RedisCommandCounts(system.redis());
      const int64_t memory_before = RedisInfoNumber(system.redis(), "memory", "used_memory");
      const int64_t reads_before =
          RedisInfoNumber(system.redis(), "stats", "total_reads_processed");
      const MetricsByService metrics_before = ScrapeServices(system);
      saga.KeepCallEnds();
      saga_started = absl::Now();
      saga_phases.push_back(run_saga(config.rate, config.duration, "saga"));
      const MetricsByService phase_metrics = MetricsAdded(metrics_before, ScrapeServices(system));
      const double sent = static_cast<double>(std::max<int64_t>(1, saga_phases.back().sent));
      record_times = RecordTimesBreakdown(phase_metrics);
      round_trips = RoundTripsBreakdown(phase_metrics, sent);
      kafka_requests = KafkaRequestsBreakdown(phase_metrics, sent);
      redis_memory_per_order =
          static_cast<double>(RedisInfoNumber(system.redis(), "memory", "used_memory") -
                              memory_before) /
          sent;
      const double reads_per_order =
          static_cast<double>(RedisInfoNumber(system.redis(), "stats", "total_reads_processed") -
                              reads_before) /
          sent;
      std::vector<std::string> parts;
      double total = 0;
      for (const auto& [command, calls] : RedisCommandCounts(system.redis())) {
        const double per_order =
            static_cast<double>(calls - (before.contains(command) ? before.at(command) : 0)) / sent;
        total += per_order;
        if (per_order >= 0.05) parts.push_back(absl::StrFormat("%s %.1f", command, per_order));
      }
      redis_per_order = absl::StrFormat("%.1f (%s) in %.1f round trips", total,
                                        absl::StrJoin(parts, ", "), reads_per_order);
      redis_json = absl::StrFormat(
          R"({"commands_per_order":%.2f,"round_trips_per_order":%.2f,"memory_per_order":%.0f})",
          total, reads_per_order, redis_memory_per_order);
    }
    sequence += 1'000'000;
    if (config.floor) floor_phases.push_back(run_floor(config.rate, config.duration, "floor"));
    detach_floor();
  } else {
    for (auto [phases, name] : {std::pair{&saga_phases, "saga"}, std::pair{&floor_phases, "floor"}}) {
      if ((std::string(name) == "saga" && !config.saga) ||
          (std::string(name) == "floor" && !config.floor)) {
        continue;
      }
      for (double rate = config.start_rate; rate <= config.max_rate;
           rate *= 1.0 + config.step_percent / 100.0) {
        sequence += 1'000'000;
        Phase step = std::string(name) == "saga"
                         ? run_saga(static_cast<int>(rate), config.step_duration, name)
                         : run_floor(static_cast<int>(rate), config.step_duration, name);
        detach_floor();
        const bool passed = Passes(step, config);
        std::fprintf(stderr, "choreo-bench: %s at %d/s: p99 %.1f ms, %lld errors: %s\n", name,
                     step.offered_rate, Ms(step.latency.Percentile(99)),
                     static_cast<long long>(step.error_count()), passed ? "pass" : "FAIL");
        phases->push_back(std::move(step));
        if (!passed) break;
      }
    }
  }
  chain.Stop();

  auto best = [&](const std::vector<Phase>& phases) -> const Phase* {
    const Phase* found = nullptr;
    for (const Phase& phase : phases) {
      if (Passes(phase, config)) found = &phase;
    }
    return found;
  };
  std::printf("\nchoreo-bench: %s mode on %s, %d partitions, %d users, %d hardware threads, "
              "fetch.wait.max.ms %d, redis appendfsync %s\n",
              config.mode.c_str(), broker.c_str(), config.partitions, config.users,
              static_cast<int>(std::thread::hardware_concurrency()), services.fetch_wait_max_ms,
              config.redis_appendfsync.c_str());
  for (const auto* phases : {&saga_phases, &floor_phases}) {
    for (const Phase& phase : *phases) PrintPhase(phase);
  }
  const Phase* saga_result = config.mode == "fixed" ? (saga_phases.empty() ? nullptr : &saga_phases[0]) : best(saga_phases);
  const Phase* floor_result = config.mode == "fixed" ? (floor_phases.empty() ? nullptr : &floor_phases[0]) : best(floor_phases);
  if (saga_result != nullptr) {
    std::printf("\nprocesses during the saga phase at %d/s:\n", saga_result->offered_rate);
    PrintUsage(*saga_result);
    std::printf(
        "their threads by kind, per order: CPU in us and voluntary context switches (each one "
        "a sleep and a wake-up):\n");
    PrintThreadKinds(*saga_result);
  }
  if (floor_result != nullptr) {
    // The same processes while only the relays work: what the broker spends on the floor's
    // records, against the saga's.
    std::printf(
        "\nprocesses during the floor phase at %d/s (the services idle, or finishing "
        "what the saga phase left them):\n",
        floor_result->offered_rate);
    PrintUsage(*floor_result);
  }
  if (saga_result != nullptr && floor_result != nullptr && CpuPerRequest(*floor_result) > 0) {
    std::printf("CPU per request, saga/floor: all processes %.2fx",
                CpuPerRequest(*saga_result) / CpuPerRequest(*floor_result));
    if (const double jvm = CpuPerRequest(*floor_result, "(JVM)"); jvm > 0) {
      std::printf(", the broker's JVM %.2fx", CpuPerRequest(*saga_result, "(JVM)") / jvm);
    }
    std::printf("\n");
  }
  if (!redis_per_order.empty()) {
    std::printf("\nRedis commands per order (all services): %s\n", redis_per_order.c_str());
    std::printf("Redis memory per order: %.0f bytes (held until markers and views expire)\n",
                redis_memory_per_order);
    std::printf("Redis round trips per order, by service (from the services' metrics):\n%s",
                round_trips.c_str());
    std::printf(
        "Kafka requests per order, by service (its clients' statistics, "
        "choreo_kafka_requests_total):\n%s",
        kafka_requests.c_str());
  }
  std::string legs_json = "null";
  if (config.mode == "fixed" && config.saga) {
    const absl::StatusOr<std::vector<Leg>> legs =
        SagaLegs(system.kafka(), saga_started, saga.Calls());
    legs_json = LegsJson(legs);
    std::printf("\ntime between the saga's events (from their occurred_at), saga phase:\n%s",
                LegsText(legs).c_str());
    std::printf(
        "\na record's time in each service, saga phase (means from the services' metrics; "
        "queued: polled until a lane took it; handled: then until its offset was stored, "
        "acknowledgements and effects included, a batch's records each counting the "
        "whole batch):\n%s",
        record_times.c_str());
  }
  std::string ratios;
  if (saga_result != nullptr && floor_result != nullptr) {
    const double p50 = Ms(saga_result->latency.Percentile(50)) / Ms(floor_result->latency.Percentile(50));
    const double p99 = Ms(saga_result->latency.Percentile(99)) / Ms(floor_result->latency.Percentile(99));
    if (config.mode == "fixed") {
      std::printf("\nsaga/floor at %d/s: p50 %.2fx, p99 %.2fx\n", config.rate, p50, p99);
      // Five fsynced writes lie on an order's path, in series, which the floor does not have:
      // the claim, three commits, the answer's view (see tests/bench/README.md).
      const std::string least = LeastSagaP50(config, system.redis(), *floor_result);
      ratios = absl::StrFormat(R"({"p50":%.3f,"p99":%.3f,"p50_least":%s})", p50, p99, least);
    } else {
      const double throughput = saga_result->achieved() / floor_result->achieved();
      std::printf("\nhighest passing rate (p99 <= %.0f ms, no errors): saga %d/s, floor %d/s; "
                  "saga/floor throughput %.2fx (p50 %.2fx, p99 %.2fx at those rates)\n",
                  Ms(config.p99_bound), saga_result->offered_rate, floor_result->offered_rate,
                  throughput, p50, p99);
      ratios = absl::StrFormat(R"({"p50":%.3f,"p99":%.3f,"max_throughput":%.3f})", p50, p99,
                               throughput);
    }
  }
  // Redis background work that can stall a run (AOF rewrites fork and compete for the disk).
  {
    std::map<std::string, int64_t> persistence;
    if (absl::StatusOr<redis::RedisAddress> address = redis::ParseRedisAddress(system.redis());
        address.ok()) {
      redis::RedisConnection redis({.address = *address});
      if (absl::StatusOr<redis::RedisReply> info = redis.Command({"INFO", "persistence"});
          info.ok()) {
        for (absl::string_view line : absl::StrSplit(info->str, '\n')) {
          for (const char* field : {"aof_rewrites", "aof_current_size", "aof_delayed_fsync"}) {
            if (absl::ConsumePrefix(&line, absl::StrCat(field, ":"))) {
              static_cast<void>(absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &persistence[field]));
            }
          }
        }
      }
    }
    std::printf("redis: %lld AOF rewrite(s), AOF %.1f MB, %lld delayed fsync(s)\n",
                static_cast<long long>(persistence["aof_rewrites"]),
                persistence["aof_current_size"] / 1e6,
                static_cast<long long>(persistence["aof_delayed_fsync"]));
  }
  // Transient failures the services retried (each costs at least one backoff, 50 ms first).
  std::vector<std::string> retries;
  for (const char* service : {"gateway", "users", "order", "billing", "notification"}) {
    std::ifstream log(system.LogOf(service));
    std::string line, example;
    int count = 0;
    while (std::getline(log, line)) {
      if (line.find("retrying") != std::string::npos) {
        ++count;
        if (example.empty()) example = line.substr(0, 300);
      }
    }
    if (count > 0) retries.push_back(absl::StrCat(service, " ", count, " (e.g. ", example, ")"));
  }
  std::printf("first order after start: %s\n", first_order_text.c_str());
  std::printf("retried records: %s\n", retries.empty() ? "none" : absl::StrJoin(retries, "; ").c_str());
  if (config.trace) {
    size_t bytes = 0;
    const std::vector<testing::HttpReceiver::Request> exports = collector.requests();
    for (const auto& request : exports) bytes += request.body.size();
    std::printf("tracing: %zu OTLP export requests, %.1f MB of span JSON\n", exports.size(),
                static_cast<double>(bytes) / 1e6);
  }
  std::printf("total run time %.1f s\n", absl::ToDoubleSeconds(absl::Now() - began));
  if (!config.json_out.empty()) {
    std::vector<std::string> saga_json, floor_json;
    for (const Phase& phase : saga_phases) saga_json.push_back(PhaseJson(phase));
    for (const Phase& phase : floor_phases) floor_json.push_back(PhaseJson(phase));
    std::ofstream(config.json_out) << absl::StrFormat(
        R"({"mode":"%s","broker":"%s","partitions":%d,"users":%d,"first_order_ms":%s,"saga":[%s],)"
        R"("floor":[%s],"ratios":%s,"redis":%s,"legs_ms":%s})"
        "\n",
        config.mode, broker, config.partitions, config.users,
        first_order.ok() ? absl::StrFormat("%.3f", Ms(*first_order)) : "null",
        absl::StrJoin(saga_json, ","), absl::StrJoin(floor_json, ","),
        ratios.empty() ? "null" : ratios, redis_json, legs_json);
  }
  const bool any_errors = [&] {
    for (const auto* phases : {&saga_phases, &floor_phases}) {
      for (const Phase& phase : *phases) {
        if (config.mode == "fixed" && phase.error_count() > 0) return true;
      }
    }
    return false;
  }();
  return any_errors ? 3 : 0;
}

}  // namespace
}  // namespace choreo::bench

int main(int argc, char** argv) { return choreo::bench::Main(argc, argv); }
