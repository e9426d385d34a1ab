// choreo-http-bench: what the HTTP/JSON transcoding adds to the gateway's gRPC API, measured on
// one running system: CreateOrder and GetOrder, each open-loop at the same rate through native
// gRPC and through HTTP/JSON (libcurl, keep-alive), in alternating phases.
//
//   choreo-http-bench [--create-rate 100] [--get-rate 400] [--duration 10s] [--rounds 2] ...
//
// Prints per phase p50/p90/p99/max, errors, and CPU per request of the gateway (where the
// transcoding runs) and of the whole system; then HTTP minus gRPC: the added latency and CPU.

#include <curl/curl.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "platform/config/flag_set.h"
#include "tests/bench/open_loop.h"
#include "tests/e2e/system.h"

namespace choreo::bench {
namespace {

struct HttpBenchConfig {
  int create_rate = 100;
  int get_rate = 400;
  absl::Duration duration = absl::Seconds(10);
  absl::Duration warmup = absl::Seconds(2);
  int rounds = 2;  // gRPC, HTTP, gRPC, HTTP...: drift of the shared machine hits both alike
  int users = 20;
  std::string broker = "kafka";  // or "dev": the embedded dev broker
  std::string kafka_brokers;     // a running Kafka instead
  std::string json_out;
};

// Asynchronous HTTP requests on one libcurl multi handle, driven by its own thread. Submit is
// thread-safe and does not block; `done` runs on the driver thread.
class HttpLoad {
 public:
  using Done = std::function<void(long status, const std::string& body)>;

  HttpLoad() : multi_(curl_multi_init()), driver_([this] { Drive(); }) {}
  ~HttpLoad() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_);
    driver_.join();
    curl_multi_cleanup(multi_);
  }

  void Submit(const std::string& method, const std::string& url, std::string body,
              const std::string& token, Done done) {
    auto* request = new Request{.body = std::move(body), .done = std::move(done)};
    request->easy = curl_easy_init();
    request->headers = curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str());
    request->headers = curl_slist_append(request->headers, "Content-Type: application/json");
    curl_easy_setopt(request->easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(request->easy, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!request->body.empty()) {
      curl_easy_setopt(request->easy, CURLOPT_POSTFIELDS, request->body.data());
      curl_easy_setopt(request->easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(request->body.size()));
    }
    curl_easy_setopt(request->easy, CURLOPT_HTTPHEADER, request->headers);
    curl_easy_setopt(request->easy, CURLOPT_WRITEFUNCTION, &Request::OnBody);
    curl_easy_setopt(request->easy, CURLOPT_WRITEDATA, request);
    curl_easy_setopt(request->easy, CURLOPT_PRIVATE, request);
    curl_easy_setopt(request->easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(request->easy, CURLOPT_NOSIGNAL, 1L);
    {
      absl::MutexLock lock(&mu_);
      queued_.push_back(request);
    }
    curl_multi_wakeup(multi_);
  }

 private:
  struct Request {
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string body;
    std::string response;
    Done done;
    static size_t OnBody(char* data, size_t size, size_t count, void* self) {
      static_cast<Request*>(self)->response.append(data, size * count);
      return size * count;
    }
  };

  void Drive() {
    while (true) {
      std::deque<Request*> added;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_ && queued_.empty() && running_ == 0) return;
        added.swap(queued_);
        running_ += static_cast<int>(added.size());
      }
      for (Request* request : added) curl_multi_add_handle(multi_, request->easy);
      int still_running = 0;
      curl_multi_perform(multi_, &still_running);
      int left = 0;
      while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
        if (message->msg != CURLMSG_DONE) continue;
        Request* request = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &request);
        long status = 0;
        if (message->data.result == CURLE_OK) {
          curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        }
        curl_multi_remove_handle(multi_, request->easy);
        request->done(status, request->response);
        curl_easy_cleanup(request->easy);
        curl_slist_free_all(request->headers);
        delete request;
        absl::MutexLock lock(&mu_);
        --running_;
      }
      curl_multi_poll(multi_, nullptr, 0, 100, nullptr);
    }
  }

  CURLM* multi_;
  absl::Mutex mu_;
  std::deque<Request*> queued_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread driver_;
};

// The orders created so far, for GetOrder to read back.
class CreatedOrders {
 public:
  void Add(std::string user, std::string order_id) {
    absl::MutexLock lock(&mu_);
    orders_.emplace_back(std::move(user), std::move(order_id));
  }
  std::pair<std::string, std::string> Pick(int64_t i) const {
    absl::MutexLock lock(&mu_);
    return orders_[static_cast<size_t>(i) % orders_.size()];
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return orders_.size();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::pair<std::string, std::string>> orders_ ABSL_GUARDED_BY(mu_);
};

std::string StatusOutcome(const gateway::v1::Order& order) {
  const std::string name = orders::v1::OrderStatus_Name(order.status());
  return name.substr(name.find("STATUS_") + 7);
}

class Drivers {
 public:
  Drivers(const e2e::LocalSystem& system, e2e::TestUsers& users, int user_count, CreatedOrders& orders)
      : http_base_(system.gateway_http()),
        channel_(grpc::CreateChannel(system.gateway(), grpc::InsecureChannelCredentials())),
        stub_(gateway::v1::OrderService::NewStub(channel_)),
        users_(users),
        user_count_(user_count),
        orders_(orders) {}

  void GrpcCreate(int64_t i, absl::Time due, Recorder& recorder, const std::string& phase) {
    struct Call {
      grpc::ClientContext context;
      gateway::v1::CreateOrderRequest request;
      gateway::v1::Order response;
    };
    auto call = std::make_shared<Call>();
    const std::string user = User(i);
    users_.Authorize(user, call->context);
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    call->request = e2e::OrderRequest(absl::StrCat(phase, "-", i));
    stub_->async()->CreateOrder(&call->context, &call->request, &call->response,
                                [this, call, user, due, &recorder](grpc::Status status) {
                                  if (status.ok()) orders_.Add(user, call->response.order_id());
                                  recorder.Done(due, status.ok() ? StatusOutcome(call->response)
                                                                 : absl::StrCat("grpc ", status.error_code()),
                                                status.ok());
                                });
  }

  void HttpCreate(int64_t i, absl::Time due, Recorder& recorder, const std::string& phase) {
    std::string body;
    static_cast<void>(google::protobuf::util::MessageToJsonString(
        e2e::OrderRequest(absl::StrCat(phase, "-", i)), &body));
    const std::string user = User(i);
    http_.Submit("POST", http_base_ + "/v1/orders", std::move(body), users_.Token(user),
                 [this, user, due, &recorder](long status, const std::string& response) {
                   gateway::v1::Order order;
                   const bool ok = status == 200 && google::protobuf::util::JsonStringToMessage(response, &order).ok();
                   if (ok) orders_.Add(user, order.order_id());
                   recorder.Done(due, ok ? StatusOutcome(order) : absl::StrCat("http ", status), ok);
                 });
  }

  void GrpcGet(int64_t i, absl::Time due, Recorder& recorder) {
    struct Call {
      grpc::ClientContext context;
      gateway::v1::GetOrderRequest request;
      gateway::v1::Order response;
    };
    auto call = std::make_shared<Call>();
    const auto [user, order_id] = orders_.Pick(i);
    users_.Authorize(user, call->context);
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    call->request.set_order_id(order_id);
    stub_->async()->GetOrder(&call->context, &call->request, &call->response,
                             [call, due, &recorder](grpc::Status status) {
                               recorder.Done(due, status.ok() ? "found" : absl::StrCat("grpc ", status.error_code()),
                                             status.ok());
                             });
  }

  void HttpGet(int64_t i, absl::Time due, Recorder& recorder) {
    const auto [user, order_id] = orders_.Pick(i);
    http_.Submit("GET", absl::StrCat(http_base_, "/v1/orders/", order_id), "", users_.Token(user),
                 [due, &recorder](long status, const std::string&) {
                   recorder.Done(due, status == 200 ? "found" : absl::StrCat("http ", status), status == 200);
                 });
  }

 private:
  std::string User(int64_t i) const { return absl::StrCat("hb", i % user_count_); }

  const std::string http_base_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gateway::v1::OrderService::Stub> stub_;
  e2e::TestUsers& users_;
  const int user_count_;
  CreatedOrders& orders_;
  HttpLoad http_;
};

double CpuPerRequestMs(const Phase& phase, const std::string& process) {
  auto it = phase.usage.find(process);
  if (it == phase.usage.end() || phase.sent == 0) return 0;
  return Ms(it->second.cpu) / static_cast<double>(phase.sent);
}

double SystemCpuPerRequestMs(const Phase& phase) {
  double total = 0;
  for (const auto& [process, usage] : phase.usage) {
    if (process != "bench") total += Ms(usage.cpu);
  }
  return phase.sent == 0 ? 0 : total / static_cast<double>(phase.sent);
}

void PrintPhase(const Phase& phase) {
  std::printf("  %-12s %6.1f/s  p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms  errors %lld  "
              "gateway CPU %.3f ms/req  system CPU %.3f ms/req\n",
              phase.name.c_str(), phase.achieved(), Ms(phase.latency.Percentile(50)),
              Ms(phase.latency.Percentile(90)), Ms(phase.latency.Percentile(99)), Ms(phase.latency.max()),
              static_cast<long long>(phase.error_count()), CpuPerRequestMs(phase, "gateway"),
              SystemCpuPerRequestMs(phase));
}

// The phases of one kind merged: latencies together, CPU summed.
Phase Merge(const std::vector<Phase>& phases, const std::string& name) {
  Phase merged;
  merged.name = name;
  for (const Phase& phase : phases) {
    if (phase.name.rfind(name, 0) != 0) continue;
    merged.latency.Merge(phase.latency);
    merged.sent += phase.sent;
    merged.ok += phase.ok;
    merged.span += phase.span;
    for (const auto& [code, count] : phase.errors) merged.errors[code] += count;
    for (const auto& [process, usage] : phase.usage) merged.usage[process].cpu += usage.cpu;
  }
  return merged;
}

std::string PhaseJson(const Phase& phase) {
  return absl::StrFormat(
      R"({"name":"%s","achieved":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"errors":%d,"gateway_cpu_ms_per_request":%.4f,"system_cpu_ms_per_request":%.4f})",
      phase.name, phase.achieved(), Ms(phase.latency.Percentile(50)), Ms(phase.latency.Percentile(90)),
      Ms(phase.latency.Percentile(99)), Ms(phase.latency.max()), phase.error_count(),
      CpuPerRequestMs(phase, "gateway"), SystemCpuPerRequestMs(phase));
}

}  // namespace
}  // namespace choreo::bench

int main(int argc, char** argv) {
  using namespace choreo;
  using namespace choreo::bench;
  HttpBenchConfig config;
  config::FlagSet flags("choreo-http-bench",
                        "HTTP/JSON transcoding against native gRPC on one running system.");
  flags.Add("create-rate", &config.create_rate, "CreateOrder requests per second")
      .Add("get-rate", &config.get_rate, "GetOrder requests per second")
      .Add("duration", &config.duration, "each phase's length")
      .Add("warmup", &config.warmup, "unrecorded load before the phases")
      .Add("rounds", &config.rounds, "gRPC/HTTP phase pairs per method")
      .Add("users", &config.users, "users taking turns")
      .Add("broker", &config.broker,
           "kafka: Apache Kafka (one KRaft node, started here); dev: the embedded dev broker")
      .Add("kafka-brokers", &config.kafka_brokers, "a running Kafka to use instead")
      .Add("json-out", &config.json_out, "also write the results as JSON here");
  config::ParseOrExit(flags, argc, argv, [&] {
    if (config.broker != "kafka" && config.broker != "dev") {
      return absl::InvalidArgumentError("--broker must be kafka or dev");
    }
    if (config.create_rate < 1 || config.get_rate < 1 || config.rounds < 1 || config.users < 1) {
      return absl::InvalidArgumentError("rates, --rounds and --users must be >= 1");
    }
    return absl::OkStatus();
  });
  curl_global_init(CURL_GLOBAL_DEFAULT);

  e2e::LocalSystem system(e2e::Binaries::Built(),
                          {.broker = config.broker == "dev" ? e2e::LocalSystem::Broker::kDevBroker
                                                            : e2e::LocalSystem::Broker::kApacheKafka,
                           .kafka_fast_start = false,
                           .kafka_brokers = config.kafka_brokers,
                           .redis_appendfsync = "always"});
  if (absl::Status started = system.Start(); !started.ok()) {
    std::fprintf(stderr, "choreo-http-bench: %s\n", std::string(started.message()).c_str());
    return 1;
  }
  std::map<std::string, pid_t> pids = system.NamedPids();
  e2e::TestUsers users(system.gateway());
  for (int u = 0; u < config.users; ++u) {
    if (grpc::Status funded = users.SignUpFunded(absl::StrCat("hb", u), 1'000'000'000); !funded.ok()) {
      std::fprintf(stderr, "choreo-http-bench: sign-up failed: %s\n", funded.error_message().c_str());
      return 1;
    }
  }
  CreatedOrders orders;
  std::vector<Phase> phases;
  {
    Drivers drivers(system, users, config.users, orders);
    std::fprintf(stderr, "choreo-http-bench: warming up\n");
    RunOpenLoop("warmup-grpc", config.create_rate, config.warmup, pids,
                [&](int64_t i, absl::Time due, Recorder& r) { drivers.GrpcCreate(i, due, r, "warm-grpc"); });
    RunOpenLoop("warmup-http", config.create_rate, config.warmup, pids,
                [&](int64_t i, absl::Time due, Recorder& r) { drivers.HttpCreate(i, due, r, "warm-http"); });
    for (int round = 0; round < config.rounds; ++round) {
      const std::string tag = absl::StrCat("r", round);
      phases.push_back(RunOpenLoop("create-grpc", config.create_rate, config.duration, pids,
                                   [&](int64_t i, absl::Time due, Recorder& r) {
                                     drivers.GrpcCreate(i, due, r, tag + "-grpc");
                                   }));
      phases.push_back(RunOpenLoop("create-http", config.create_rate, config.duration, pids,
                                   [&](int64_t i, absl::Time due, Recorder& r) {
                                     drivers.HttpCreate(i, due, r, tag + "-http");
                                   }));
    }
    for (int round = 0; round < config.rounds; ++round) {
      phases.push_back(RunOpenLoop("get-grpc", config.get_rate, config.duration, pids,
                                   [&](int64_t i, absl::Time due, Recorder& r) { drivers.GrpcGet(i, due, r); }));
      phases.push_back(RunOpenLoop("get-http", config.get_rate, config.duration, pids,
                                   [&](int64_t i, absl::Time due, Recorder& r) { drivers.HttpGet(i, due, r); }));
    }
  }

  std::printf("\nchoreo-http-bench: %s, %d users, %u hardware threads, %d round(s) of %.0f s per phase\n",
              !config.kafka_brokers.empty() ? config.kafka_brokers.c_str()
              : config.broker == "dev"      ? "embedded dev broker"
                                            : "Apache Kafka (one KRaft node)",
              config.users, std::thread::hardware_concurrency(), config.rounds,
              absl::ToDoubleSeconds(config.duration));
  std::printf("\nPhases (open loop; latency from each request's due time):\n");
  for (const Phase& phase : phases) PrintPhase(phase);
  std::printf("\nMerged over rounds, and what HTTP/JSON adds:\n");
  std::vector<std::string> json;
  for (const std::string method : {"create", "get"}) {
    const Phase grpc_phase = Merge(phases, method + "-grpc");
    const Phase http_phase = Merge(phases, method + "-http");
    PrintPhase(grpc_phase);
    PrintPhase(http_phase);
    std::printf("  %-12s added p50 %+.2f ms, p99 %+.2f ms; gateway CPU %+.3f ms/req (%.0f%%)\n",
                (method + " +http").c_str(),
                Ms(http_phase.latency.Percentile(50) - grpc_phase.latency.Percentile(50)),
                Ms(http_phase.latency.Percentile(99) - grpc_phase.latency.Percentile(99)),
                CpuPerRequestMs(http_phase, "gateway") - CpuPerRequestMs(grpc_phase, "gateway"),
                100.0 * (CpuPerRequestMs(http_phase, "gateway") / std::max(1e-9, CpuPerRequestMs(grpc_phase, "gateway")) - 1));
    json.push_back(PhaseJson(grpc_phase));
    json.push_back(PhaseJson(http_phase));
  }
  if (!config.json_out.empty()) std::ofstream(config.json_out) << "[" << absl::StrJoin(json, ",") << "]\n";
  int64_t errors = 0;
  for (const Phase& phase : phases) errors += phase.error_count();
  curl_global_cleanup();
  return errors == 0 ? 0 : 3;
}
