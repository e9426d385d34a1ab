#include "tests/e2e/system.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "contracts/stores/redis_acls.h"
#include "edges/redis/redis_connection.h"
#include "platform/ids/trace_context.h"
#include "platform/process/files.h"
#include "saga/service/grpc_tls.h"
#include "testing/http_client.h"
#include "testing/wait.h"

namespace choreo::e2e {
namespace {

std::string ReadFile(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return std::string(absl::StripAsciiWhitespace(text.str()));
}

}  // namespace

Binaries Binaries::Built() {
  return {.devbroker = CHOREO_DEVBROKER,
          .topics = CHOREO_TOPICS,
          .order = CHOREO_ORDER,
          .billing = CHOREO_BILLING,
          .users = CHOREO_USERS,
          .notification = CHOREO_NOTIFICATION,
          .gateway = CHOREO_GATEWAY,
          .views = CHOREO_VIEWS};
}

LocalSystem::LocalSystem(Binaries binaries, Options options)
    : binaries_(std::move(binaries)), options_(std::move(options)) {}

LocalSystem::~LocalSystem() {
  // Reverse order of start: the gateway first, the broker last.
  for (auto& [name, process] : processes_) {
    if (name.rfind("gateway", 0) == 0) static_cast<void>(process->Stop(absl::Seconds(15)));
  }
  for (const char* name : {"notification", "order", "billing", "users", "devbroker"}) {
    if (auto it = processes_.find(name); it != processes_.end()) {
      static_cast<void>(it->second->Stop(absl::Seconds(15)));
    }
  }
}

std::string LocalSystem::notification_file() const {
  return dir_ == nullptr ? "" : dir_->File("notifications.jsonl");
}

std::string LocalSystem::LogOf(const std::string& service) const {
  return dir_ == nullptr ? "" : dir_->File(service + ".log");
}

std::map<std::string, pid_t> LocalSystem::NamedPids() const {
  std::map<std::string, pid_t> pids;
  for (const auto& [name, process] : processes_) pids[name] = process->pid();
  if (kafka_cluster_ != nullptr) {
    for (int node = 0; node < kafka_cluster_->nodes(); ++node) {
      if (kafka_cluster_->pid(node) == 0) continue;
      pids[kafka_cluster_->nodes() == 1 ? "kafka (JVM)" : absl::StrCat("kafka-", node + 1, " (JVM)")] =
          kafka_cluster_->pid(node);
    }
  }
  if (redis_ != nullptr && redis_->pid() != 0) pids["redis"] = redis_->pid();
  for (int node = 0; redis_cluster_ != nullptr && node < redis_cluster_->size(); ++node) {
    if (redis_cluster_->node(node).pid() != 0) {
      pids[absl::StrCat("redis-", node + 1)] = redis_cluster_->node(node).pid();
    }
  }
  return pids;
}

std::vector<pid_t> LocalSystem::Pids() const {
  std::vector<pid_t> pids;
  for (const auto& [name, process] : processes_) pids.push_back(process->pid());
  return pids;
}

absl::StatusOr<std::string> LocalSystem::StartProcess(const std::string& name,
                                                      std::vector<std::string> argv) {
  const std::string port_file = dir_->File(name + ".port");
  const std::string admin_port_file = dir_->File(name + ".admin.port");
  const std::string health_port_file = dir_->File(name + ".health.port");
  for (const std::string& file : {port_file, admin_port_file, health_port_file}) {
    std::filesystem::remove(file);
  }
  argv.insert(argv.end(),
              {"--port-file", port_file, "--admin-port-file", admin_port_file, "--health-listen",
               "127.0.0.1:0", "--health-port-file", health_port_file});
  absl::StatusOr<testing::ChildProcess> process =
      testing::ChildProcess::Start({.argv = argv, .log_path = LogOf(name)});
  if (!process.ok()) return process.status();
  processes_[name] = std::make_unique<testing::ChildProcess>(*std::move(process));
  testing::ChildProcess& child = *processes_[name];
  if (!testing::WaitUntil(
          [&] { return std::filesystem::exists(health_port_file) || !child.running(); },
          absl::Seconds(90)) ||
      !child.running()) {
    // The log is removed with the test's directory: its last lines go with the error.
    return absl::UnavailableError(
        absl::StrCat(name, " did not start; its log ends:\n", testing::LastLines(LogOf(name), 20)));
  }
  // The admin port is bound before the gRPC one, the probes' health port after it.
  admin_[name] = absl::StrCat("http://127.0.0.1:", ReadFile(admin_port_file));
  health_[name] = absl::StrCat("127.0.0.1:", ReadFile(health_port_file));
  return absl::StrCat("127.0.0.1:", ReadFile(port_file));
}

absl::Status LocalSystem::Start() {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("choreo-e2e-");
  if (!dir.ok()) return dir.status();
  dir_ = std::make_unique<testing::TempDir>(*std::move(dir));
  absl::StatusOr<testing::LocalPki> pki = testing::LocalPki::Create(
      dir_->File("tls"), {"gateway", "order", "billing", "users", "notification", "operator"});
  if (!pki.ok()) return pki.status();
  pki_ = std::make_unique<testing::LocalPki>(*std::move(pki));
  testing::RedisServer::Options redis_options{.appendfsync = options_.redis_appendfsync};
  if (options_.redis_authentication) {
    absl::StatusOr<std::string> acls = stores::RedisAclFile(RedisPasswords());
    if (!acls.ok()) return acls.status();
    redis_options.acl_file_text = *acls;
    redis_options.admin_password = RedisPassword(stores::kRedisAdminUser);
    redis::SetProcessLogin(
        {.user = stores::kRedisAdminUser, .password = redis_options.admin_password});
    for (const auto& [user, password] : RedisPasswords()) {
      if (absl::Status written =
              process::WriteFileAtomically(RedisPasswordFile(user), password + "\n");
          !written.ok()) {
        return written;
      }
    }
  }
  if (options_.redis_cluster_masters > 0) {
    absl::StatusOr<std::unique_ptr<testing::RedisCluster>> cluster = testing::RedisCluster::Start(
        {.masters = options_.redis_cluster_masters, .replicas = 1, .node = redis_options});
    if (!cluster.ok()) return cluster.status();
    redis_cluster_ = *std::move(cluster);
    redis_address_ = redis_cluster_->seeds();
  } else {
    absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis =
        testing::RedisServer::Start(redis_options);
    if (!redis.ok()) return redis.status();
    redis_ = *std::move(redis);
    redis_address_ = redis_->address();
  }
  if (options_.network_proxy && redis_ == nullptr) {
    return absl::InvalidArgumentError("network_proxy fronts one redis-server, not a cluster");
  }
  if (options_.network_proxy) {
    absl::StatusOr<std::unique_ptr<testing::Toxiproxy>> proxy = testing::Toxiproxy::Start();
    if (!proxy.ok()) return proxy.status();
    proxy_ = *std::move(proxy);
    absl::StatusOr<int> port = proxy_->AddProxy("redis", redis_->address());
    if (!port.ok()) return port.status();
    redis_address_ = absl::StrCat("127.0.0.1:", *port);
  }

  if (absl::Status broker = StartBroker(); !broker.ok()) return broker;

  std::vector<std::string> common = {"--kafka-brokers", kafka_, "--redis", redis_address_};
  if (std::optional<int> fetch_wait = fetch_wait_max_ms()) {
    common.push_back("--fetch-wait-max-ms");
    common.push_back(absl::StrCat(*fetch_wait));
  }
  if (!options_.otlp_endpoint.empty()) {
    common.insert(common.end(), {"--otlp-endpoint", options_.otlp_endpoint});
  }
  const std::vector<std::string> public_key = {"--jwt-public-key", dir_->File("jwt.pub.pem")};
  struct Service {
    std::string name, binary;
    std::vector<std::string> flags;
  };
  // Cheaper password hashing than production's: tests sign up hundreds of users.
  std::vector<std::string> users_flags = {"--jwt-private-key", dir_->File("jwt.pem"),
                                          public_key[0], public_key[1], "--password-hash-ops",
                                          "1", "--password-hash-mib", "8"};
  // Every test client calls from loopback: the limits per client address are lifted unless a
  // test sets its own (a later flag wins).
  users_flags.insert(users_flags.end(),
                     {"--login-attempts", "1000000", "--registrations", "1000000"});
  users_flags.insert(users_flags.end(), options_.users_flags.begin(), options_.users_flags.end());
  const std::vector<Service> services = {
      {"users", binaries_.users, users_flags},
      {"order", binaries_.order, options_.order_flags},
      {"billing", binaries_.billing, options_.billing_flags},
      {"notification", binaries_.notification, options_.notification_flags}};
  // The gateway's target of each service: its address, or "ipv4:" and every instance's.
  std::map<std::string, std::string> targets;
  for (const Service& service : services) {

    std::vector<std::string> argv = {service.binary};
    argv.insert(argv.end(), common.begin(), common.end());
    for (const std::string& flag : IdentityFlags(service.name)) argv.push_back(flag);
    argv.push_back("--session-timeout-ms");
    argv.push_back(absl::StrCat(options_.session_timeout_ms));
    argv.push_back("--max-poll-interval-ms");
    argv.push_back(absl::StrCat(std::max(10000, options_.session_timeout_ms)));
    if (service.name == "notification") {  // test webhook receivers listen on 127.0.0.1
      argv.insert(argv.end(),
                  {"--notification-file", notification_file(), "--webhook-allow-private"});
    }
    argv.insert(argv.end(), service.flags.begin(), service.flags.end());
    argv_[service.name] = argv;
    if (std::find(options_.deferred.begin(), options_.deferred.end(), service.name) !=
        options_.deferred.end()) {
      continue;
    }
    if (absl::Status started = StartService(service.name); !started.ok()) return started;
    for (int i = 2; i <= options_.instances; ++i) {
      absl::StatusOr<std::string> more =
          StartInstance(service.name, absl::StrCat(service.name, "-", i));
      if (!more.ok()) return more.status();
      absl::StrAppend(&targets[service.name], ",", *more);
    }
  }
  // The gateway reaches services by address; a deferred service gets its port now.
  for (const std::string& name : options_.deferred) {
    absl::StatusOr<int> port = testing::PickFreeTcpPort();
    if (!port.ok()) return port.status();
    addresses_[name] = absl::StrCat("127.0.0.1:", *port);
    argv_[name].push_back("--grpc-listen");
    argv_[name].push_back(addresses_[name]);
  }
  auto target = [&](const std::string& service) {
    return targets[service].empty() ? addresses_[service]
                                    : absl::StrCat("ipv4:", addresses_[service], targets[service]);
  };
  std::vector<std::string> gateway = {
      binaries_.gateway,      "--order-address", target("order"), "--billing-address",
      target("billing"),      "--users-address", target("users"), "--notification-address",
      target("notification"), public_key[0],     public_key[1]};
  gateway.insert(gateway.end(), common.begin(), common.end());
  for (const std::string& flag : IdentityFlags("gateway")) gateway.push_back(flag);
  // Every test client is 127.0.0.1, and benchmarks open hundreds of connections.
  gateway.insert(gateway.end(), {"--http-max-connections-per-client", "4096"});
  if (options_.public_tls) {
    gateway.insert(gateway.end(), {"--public-tls-cert", pki_->cert("gateway"), "--public-tls-key",
                                   pki_->key("gateway")});
  }
  gateway.insert(gateway.end(), options_.gateway_flags.begin(), options_.gateway_flags.end());
  const std::string http_port_file = dir_->File("gateway.http.port");
  std::filesystem::remove(http_port_file);
  gateway.insert(gateway.end(), {"--http-port-file", http_port_file});
  argv_["gateway"] = gateway;
  absl::StatusOr<std::string> address = StartProcess("gateway", gateway);
  if (!address.ok()) return address.status();
  gateway_ = *address;
  addresses_["gateway"] = *address;  // Restart("gateway") comes back on it
  // The HTTP port is written just after the gRPC one.
  if (!testing::WaitUntil([&] { return std::filesystem::exists(http_port_file); }, absl::Seconds(10))) {
    return absl::UnavailableError("the gateway serves no HTTP; see " + LogOf("gateway"));
  }
  gateway_http_ = absl::StrCat(options_.public_tls ? "https://gateway:" : "http://127.0.0.1:",
                               ReadFile(http_port_file));
  return absl::OkStatus();
}

absl::StatusOr<int> LocalSystem::RunTool(const std::string& binary, std::vector<std::string> flags,
                                         const std::string& as, absl::Duration timeout,
                                         std::string* output) const {
  std::vector<std::string> argv = {binary, "--kafka-brokers", kafka_, "--redis", redis_address_};
  if (kafka_cluster_ != nullptr && options_.kafka_authentication) {
    argv.insert(argv.end(), {"--kafka-properties", kafka_cluster_->ClientPropertiesFile(as)});
  }
  if (options_.redis_authentication) {
    argv.insert(argv.end(), {"--redis-user", as, "--redis-password-file", RedisPasswordFile(as)});
  }
  argv.insert(argv.end(), flags.begin(), flags.end());
  const std::string log = dir_->File(absl::StrCat(std::filesystem::path(binary).filename().string(),
                                                  ".", absl::ToUnixNanos(absl::Now()), ".log"));
  absl::StatusOr<testing::ChildProcess> process =
      testing::ChildProcess::Start({.argv = argv, .log_path = log});
  if (!process.ok()) return process.status();
  absl::StatusOr<int> exit = process->Wait(timeout);
  if (output != nullptr) *output = ReadFile(log);
  return exit;
}

std::vector<std::string> LocalSystem::IdentityFlags(const std::string& process) const {
  std::vector<std::string> flags = pki_->TlsFlags(process);
  if (kafka_cluster_ != nullptr && options_.kafka_authentication) {
    flags.push_back("--kafka-properties");
    flags.push_back(kafka_cluster_->ClientPropertiesFile(process));
  }
  if (options_.redis_authentication) {
    flags.insert(flags.end(),
                 {"--redis-user", process, "--redis-password-file", RedisPasswordFile(process)});
  }
  return flags;
}

std::string LocalSystem::RedisPasswordFile(const std::string& user) const {
  return dir_->File(absl::StrCat(user, ".redis-password"));
}

const std::map<std::string, std::string>& LocalSystem::RedisPasswords() {
  static const auto* passwords = [] {
    absl::BitGen random;
    auto* made = new std::map<std::string, std::string>();
    (*made)[stores::kRedisAdminUser] = ids::RandomHex(random, 16);
    for (const stores::RedisAclUser& user : stores::MissionRedisUsers()) {
      (*made)[user.name] = ids::RandomHex(random, 16);
    }
    return made;
  }();
  return *passwords;
}

const std::string& LocalSystem::RedisPassword(const std::string& user) {
  return RedisPasswords().at(user);
}

std::shared_ptr<grpc::Channel> LocalSystem::ChannelTo(const std::string& service,
                                                      const std::string& as) const {
  absl::StatusOr<service::TlsMaterial> tls = absl::InternalError("no certificate");
  if (absl::Status added = pki_->Add(as); added.ok()) {
    tls = service::TlsMaterial::Load(
        {.ca = pki_->ca(), .cert = pki_->cert(as), .key = pki_->key(as)});
  }
  // Without one the channel is plaintext, and the service refuses the test's calls.
  if (!tls.ok())
    std::fprintf(stderr, "no certificate for %s: %s\n", as.c_str(),
                 tls.status().ToString().c_str());
  return service::ChannelTo(addresses_.at(service), service, tls.value_or(service::TlsMaterial{}));
}

std::optional<int> LocalSystem::fetch_wait_max_ms() const {
  if (options_.fetch_wait_max_ms > 0) return options_.fetch_wait_max_ms;
  if (options_.kafka_brokers.empty() && options_.broker == Broker::kDevBroker) return 1;
  return std::nullopt;
}

absl::Status LocalSystem::StartBroker() {
  if (!options_.kafka_brokers.empty()) {
    kafka_ = options_.kafka_brokers;
    return absl::OkStatus();
  }
  if (options_.broker == Broker::kApacheKafka) {
    testing::KafkaCluster::Options kafka{.nodes = options_.kafka_nodes,
                                         .partitions = options_.partitions,
                                         .extra_topics = options_.extra_topics,
                                         .heap = options_.kafka_fast_start ? "256m" : "1g",
                                         .fast_start = options_.kafka_fast_start,
                                         .authenticate = options_.kafka_authentication};
    if (proxy_ != nullptr) {  // the broker listens on one port and sends its clients to another
      absl::StatusOr<int> port = testing::PickFreeTcpPort();
      if (!port.ok()) return port.status();
      absl::StatusOr<int> advertised =
          proxy_->AddProxy("kafka", absl::StrCat("127.0.0.1:", *port));
      if (!advertised.ok()) return advertised.status();
      if (*advertised == *port) return absl::UnavailableError("Kafka's proxy took Kafka's port");
      kafka.ports = {*port};
      kafka.advertised_ports = {*advertised};
    }
    absl::StatusOr<std::unique_ptr<testing::KafkaCluster>> cluster =
        testing::KafkaCluster::Start(std::move(kafka));
    if (!cluster.ok()) return cluster.status();
    kafka_cluster_ = *std::move(cluster);
    kafka_ = kafka_cluster_->bootstrap_servers();
    return absl::OkStatus();
  }
  const std::string address_file = dir_->File("kafka.address");
  absl::StatusOr<testing::ChildProcess> broker = testing::ChildProcess::Start(
      {.argv = {binaries_.devbroker, "--partitions", absl::StrCat(options_.partitions),
                "--address-file", address_file, "--extra-topics",
                absl::StrJoin(options_.extra_topics, ",")},
       .log_path = LogOf("devbroker")});
  if (!broker.ok()) return broker.status();
  processes_["devbroker"] = std::make_unique<testing::ChildProcess>(*std::move(broker));
  if (!testing::WaitUntil([&] { return std::filesystem::exists(address_file); },
                          absl::Seconds(30))) {
    return absl::UnavailableError("the dev broker did not start");
  }
  kafka_ = ReadFile(address_file);
  return absl::OkStatus();
}

absl::Status LocalSystem::StartService(const std::string& service) {
  absl::StatusOr<std::string> address = StartProcess(service, argv_.at(service));
  if (!address.ok()) return address.status();
  addresses_[service] = *address;
  return absl::OkStatus();
}

absl::Status LocalSystem::Kill(const std::string& service) {
  auto it = processes_.find(service);
  if (it == processes_.end()) return absl::NotFoundError(service);
  it->second->Signal(SIGKILL);
  return it->second->Wait(absl::Seconds(10)).status();
}

absl::Status LocalSystem::Signal(const std::string& name, int signal) {
  auto it = processes_.find(name);
  if (it == processes_.end()) return absl::NotFoundError(name);
  it->second->Signal(signal);
  return absl::OkStatus();
}

std::string LocalSystem::admin(const std::string& process) const {
  auto it = admin_.find(process);
  return it == admin_.end() ? "" : it->second;
}

std::string LocalSystem::health(const std::string& process) const {
  auto it = health_.find(process);
  return it == health_.end() ? "" : it->second;
}

absl::Status LocalSystem::WaitReady(const std::string& process, absl::Duration timeout) const {
  const std::string url = admin(process) + "/readyz";
  testing::HttpResult last;
  if (testing::WaitUntil(
          [&] {
            last = testing::HttpCall("GET", url);
            return last.status == 200;
          },
          timeout)) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat(process, " not ready: ", last.status, " ", last.body));
}

absl::Status LocalSystem::WaitAllReady(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  for (const char* process : {"gateway", "order", "billing", "notification", "users"}) {
    if (admin(process).empty()) continue;  // deferred: not started
    if (absl::Status ready = WaitReady(process, deadline - absl::Now()); !ready.ok()) return ready;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LocalSystem::StartGateway(const std::string& name) {
  return StartInstance("gateway", name);
}

absl::StatusOr<std::string> LocalSystem::StartInstance(const std::string& service,
                                                       const std::string& name,
                                                       const std::vector<std::string>& flags) {
  std::vector<std::string> argv = argv_.at(service);
  argv.insert(argv.end(), flags.begin(), flags.end());
  return StartProcess(name, argv);
}

absl::Status LocalSystem::Stop(const std::string& name, absl::Duration grace) {
  auto it = processes_.find(name);
  if (it == processes_.end()) return absl::NotFoundError(name);
  return it->second->Stop(grace).status();
}

absl::Status LocalSystem::KillBroker() {
  if (kafka_cluster_ != nullptr) {
    kafka_cluster_->KillAll();
    return absl::OkStatus();
  }
  auto it = processes_.find("devbroker");
  if (it == processes_.end()) return absl::FailedPreconditionError("no broker started here");
  it->second->Signal(SIGKILL);
  return it->second->Wait(absl::Seconds(10)).status();
}

absl::Status LocalSystem::Upgrade(const std::string& service,
                                  const std::vector<std::string>& flags) {
  if (absl::Status stopped = Stop(service); !stopped.ok()) return stopped;
  std::vector<std::string>& argv = argv_.at(service);
  argv.insert(argv.end(), flags.begin(), flags.end());
  return Restart(service);
}

absl::Status LocalSystem::Restart(const std::string& service) {
  std::vector<std::string> argv = argv_.at(service);
  // Back on the same port, so that the gateway's channel to it reconnects.
  argv.push_back("--grpc-listen");
  argv.push_back(addresses_.at(service));
  return StartProcess(service, argv).status();
}

}  // namespace choreo::e2e

namespace choreo::e2e {

gateway::v1::CreateOrderRequest OrderRequest(const std::string& request_id,
                                             const std::string& sku, int quantity) {
  gateway::v1::CreateOrderRequest request;
  request.set_request_id(request_id);
  if (!sku.empty()) {
    orders::v1::OrderItem* item = request.add_items();
    item->set_sku(sku);
    item->set_quantity(quantity);
  }
  orders::v1::DeliveryAddress* address = request.mutable_delivery_address();
  address->set_recipient("Test Buyer");
  address->set_line1("1 Test Way");
  address->set_city("Testville");
  address->set_country("US");
  request.set_payment_method(orders::v1::PAYMENT_METHOD_ACCOUNT_BALANCE);
  return request;
}

TestUsers::TestUsers(const std::string& gateway)
    : accounts_(gateway::v1::AccountService::NewStub(
          grpc::CreateChannel(gateway, grpc::InsecureChannelCredentials()))) {}

grpc::Status TestUsers::SignUpFunded(const std::string& user, int64_t minor_units) {
  if (grpc::Status signed_up = SignUp(user); !signed_up.ok()) return signed_up;
  grpc::ClientContext context;
  Authorize(user, context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  context.set_wait_for_ready(true);
  gateway::v1::DepositRequest deposit;
  deposit.set_request_id("funding");
  deposit.mutable_amount()->set_minor_units(minor_units);
  deposit.mutable_amount()->set_currency("USD");
  gateway::v1::DepositResponse response;
  return accounts_->Deposit(&context, deposit, &response);
}

grpc::Status TestUsers::SignUp(const std::string& user, const std::string& email) {
  // Setup, not a test of availability: a gateway that is not reachable yet (its first
  // connection under load) is waited for, within the deadline.
  auto context = [] {
    auto call = std::make_unique<grpc::ClientContext>();
    call->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    call->set_wait_for_ready(true);
    return call;
  };
  gateway::v1::RegisterRequest registration;
  registration.set_username(user);
  registration.set_password(kPassword);
  registration.set_email(email);
  users::v1::Profile profile;
  grpc::Status registered = accounts_->Register(context().get(), registration, &profile);
  if (!registered.ok() && registered.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
    return grpc::Status(registered.error_code(), "register: " + registered.error_message());
  }
  gateway::v1::LoginRequest login;
  login.set_username(user);
  login.set_password(kPassword);
  gateway::v1::LoginResponse token;
  grpc::Status logged_in = accounts_->Login(context().get(), login, &token);
  if (!logged_in.ok()) {
    return grpc::Status(logged_in.error_code(), "login: " + logged_in.error_message());
  }
  absl::MutexLock lock(&mu_);
  tokens_[user] = token.access_token();
  return grpc::Status::OK;
}

void TestUsers::Authorize(const std::string& user, grpc::ClientContext& context) const {
  const std::string token = Token(user);
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
}

std::string TestUsers::Token(const std::string& user) const {
  absl::MutexLock lock(&mu_);
  auto it = tokens_.find(user);
  return it == tokens_.end() ? "" : it->second;
}

}  // namespace choreo::e2e
