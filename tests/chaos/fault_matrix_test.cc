// The fault matrix, short form (CI): one system on Apache Kafka and a real redis-server, one phase
// per fault. Each phase places orders from concurrent clients (retrying UNAVAILABLE and
// DEADLINE_EXCEEDED with the same request id, as the API says), injects its fault once a third
// of them have completed, heals it after kFaultLength, lets every order finish, then checks the
// invariants (invariants.h) over every order placed so far, until they hold or kSettle has
// passed. It prints the table: fault x invariant (violations first seen in that phase), the time
// from the heal to the next completed order, and the p99 latency of the CreateOrder calls in
// flight during the fault (from the client's first call to its answer, retries included).
// Every invariant cell must be zero.

#include <csignal>
#include <cstdlib>
#include <functional>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "choreo/billing/v1/admin.pb.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "contracts/orders/orders.h"
#include "contracts/topics/topics.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/redis/redis_connection.h"
#include "testing/topic_reader.h"
#include "testing/wait.h"
#include "tests/chaos/facts.h"
#include "tests/chaos/invariants.h"
#include "tests/e2e/system.h"

namespace choreo::chaos {
namespace {

using e2e::LocalSystem;

constexpr int kUsers = 10;
constexpr int kClients = 6;
constexpr int kOrdersPerPhase = 45;
constexpr absl::Duration kFaultLength = absl::Seconds(3);
constexpr absl::Duration kSettle = absl::Seconds(90);

struct Fault {
  std::string name;
  std::function<absl::Status(LocalSystem&)> inject;
  std::function<absl::Status(LocalSystem&)> heal;
};

// The saga's hop topics, each read by a service that dead-letters what it cannot handle.
constexpr absl::string_view kHopTopics[] = {
    topics::kOrdersRequests, topics::kOrdersCreated,          topics::kBillingPayments,
    topics::kOrdersStatus,   topics::kNotificationsRequested, topics::kBillingDeposits};

// Records on every dead-letter topic.
size_t DeadLettered(const std::string& kafka) {
  size_t count = 0;
  for (absl::string_view service : topics::kServices) {
    count += testing::ReadTopicToEnd(kafka, topics::DeadLetterTopic(service))
                 .value_or(std::vector<KafkaRecord>{})
                 .size();
  }
  return count;
}

absl::Status ProduceAll(const std::string& kafka, const std::vector<KafkaRecord>& records) {
  absl::StatusOr<std::unique_ptr<kafka::KafkaProducer>> producer =
      kafka::KafkaProducer::Create(kafka::ProducerDefaults(kafka));
  if (!producer.ok()) return producer.status();
  for (KafkaRecord record : records) {
    record.partition = -1;  // by its key, as the first time
    absl::StatusOr<kafka::Delivery> sent = (*producer)->ProduceAndWait(record, absl::Seconds(30));
    if (!sent.ok()) return sent.status();
  }
  return absl::OkStatus();
}

// Delivered again, newest first: the last 20 records of each hop topic, as they are (same ids):
// every service must take them as the duplicates they are.
absl::Status DuplicateAndReorder(const std::string& kafka) {
  std::vector<KafkaRecord> copies;
  for (absl::string_view topic : kHopTopics) {
    absl::StatusOr<std::vector<KafkaRecord>> records =
        testing::ReadTopicToEnd(kafka, std::string(topic));
    if (!records.ok()) return records.status();
    const size_t from = records->size() > 20 ? records->size() - 20 : 0;
    copies.insert(copies.end(), records->rbegin(), records->rend() - static_cast<long>(from));
  }
  return ProduceAll(kafka, copies);
}

// Three poison records on each hop topic: bytes that are no event, an event type nobody knows,
// and a real event cut short. Each must be dead-lettered and its partition keep flowing.
constexpr int kPoisonPerTopic = 3;
absl::Status Poison(const std::string& kafka) {
  std::vector<KafkaRecord> poison;
  for (absl::string_view topic : kHopTopics) {
    absl::StatusOr<std::vector<KafkaRecord>> records =
        testing::ReadTopicToEnd(kafka, std::string(topic));
    if (!records.ok() || records->empty()) return absl::FailedPreconditionError("no record to spoil");
    KafkaRecord garbage = records->back();
    garbage.value = "\xff\xfe not an event";
    garbage.headers.clear();
    KafkaRecord unknown = records->back();
    for (RecordHeader& header : unknown.headers) {
      if (header.key == "ce_type") header.value = "choreo.nobody.v1.UnknownEvent";
    }
    KafkaRecord truncated = records->back();
    truncated.value.resize(truncated.value.size() / 2);
    poison.insert(poison.end(), {garbage, unknown, truncated});
  }
  return ProduceAll(kafka, poison);
}

std::vector<Fault> Faults() {
  std::vector<Fault> faults;
  for (const char* process : {"order", "billing", "notification", "users", "gateway"}) {
    const std::string name = process;
    faults.push_back({absl::StrCat("SIGKILL ", name),
                      [name](LocalSystem& s) { return s.Kill(name); },
                      [name](LocalSystem& s) { return s.Restart(name); }});
  }
  for (const char* process : {"order", "billing", "notification", "users", "gateway"}) {
    const std::string name = process;
    faults.push_back({absl::StrCat("SIGSTOP ", name),
                      [name](LocalSystem& s) { return s.Signal(name, SIGSTOP); },
                      [name](LocalSystem& s) { return s.Signal(name, SIGCONT); }});
  }
  // Redis and the broker: frozen (every call to them hangs until its timeout), then killed.
  auto signal = [](pid_t pid, int signal) {
    return pid > 0 && ::kill(pid, signal) == 0 ? absl::OkStatus()
                                               : absl::FailedPreconditionError("no such process");
  };
  faults.push_back({"SIGSTOP redis",
                    [signal](LocalSystem& s) { return signal(s.redis_server().pid(), SIGSTOP); },
                    [signal](LocalSystem& s) { return signal(s.redis_server().pid(), SIGCONT); }});
  faults.push_back({"SIGSTOP kafka",
                    [signal](LocalSystem& s) { return signal(s.kafka_cluster()->pid(0), SIGSTOP); },
                    [signal](LocalSystem& s) { return signal(s.kafka_cluster()->pid(0), SIGCONT); }});
  faults.push_back({"redelivered+reordered",
                    [](LocalSystem& s) { return DuplicateAndReorder(s.kafka()); },
                    [](LocalSystem&) { return absl::OkStatus(); }});
  faults.push_back({"SIGKILL redis", [](LocalSystem& s) { return s.redis_server().Kill(); },
                    [](LocalSystem& s) { return s.redis_server().Restart(); }});
  // The only broker: everything waits for it (a node of a 3-node cluster is the saga e2e test's).
  faults.push_back({"SIGKILL kafka", [](LocalSystem& s) { return s.kafka_cluster()->Kill(0); },
                    [](LocalSystem& s) { return s.kafka_cluster()->Restart(0); }});
  // Last: its dead letters are counted when it ends.
  faults.push_back({"poison records", [](LocalSystem& s) { return Poison(s.kafka()); },
                    [](LocalSystem&) { return absl::OkStatus(); }});
  return faults;
}

// One CreateOrder call as the client saw it.
struct Call {
  absl::Time sent;
  absl::Time answered;
  bool ok = false;
};

class Clients {
 public:
  // The clients' channel reconnects within 250 ms of the gateway's return (gRPC's default backoff
  // would add its own seconds to the gateway's recovery time).
  Clients(const std::string& gateway, const e2e::TestUsers& users)
      : users_(users), stub_(gateway::v1::OrderService::NewStub(Channel(gateway))) {}

  // Places `count` orders from kClients threads; `completed` counts the answered ones.
  std::vector<PlacedOrder> Place(int phase, int count, std::atomic<int>& completed,
                                 std::vector<Call>& calls) {
    std::vector<PlacedOrder> placed(count);
    calls.assign(count, Call{});
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([&, c] {
        std::mt19937 random(phase * 100 + c);
        for (int i = next++; i < count; i = next++) {
          placed[i] = {absl::StrCat("user", random() % kUsers), absl::StrCat("p", phase, "-", i)};
          gateway::v1::CreateOrderRequest request =
              e2e::OrderRequest(placed[i].request_id, random() % 4 == 0 ? "BOOK-001" : "PEN-004",
                                1 + static_cast<int>(random() % 2));
          calls[i].sent = absl::Now();
          calls[i].ok = Retrying(placed[i].user, request);
          calls[i].answered = absl::Now();
          ++completed;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    return placed;
  }

 private:
  static std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  }

  bool Retrying(const std::string& user, const gateway::v1::CreateOrderRequest& request) {
    const absl::Time give_up = absl::Now() + absl::Seconds(240);
    grpc::Status status;
    do {
      grpc::ClientContext context;
      users_.Authorize(user, context);
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      gateway::v1::Order order;
      status = stub_->CreateOrder(&context, request, &order);
      if (status.ok()) return true;
      absl::SleepFor(absl::Milliseconds(50));  // a client's backoff before its retry
    } while ((status.error_code() == grpc::StatusCode::UNAVAILABLE ||
              status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) &&
             absl::Now() < give_up);
    return false;
  }

  const e2e::TestUsers& users_;
  std::unique_ptr<gateway::v1::OrderService::Stub> stub_;
};

struct Row {
  std::string fault;
  int orders = 0;
  std::map<std::string, int> violations;  // by invariant, first seen in this phase
  double recovery_s = 0;
  double fault_p99_ms = 0;
};

void PrintTable(const std::vector<Row>& rows) {
  std::string table = absl::StrFormat("%-22s %6s", "fault", "orders");
  for (const std::string& name : InvariantNames()) absl::StrAppendFormat(&table, " %3s", name);
  absl::StrAppendFormat(&table, " %10s %14s\n", "recovery_s", "fault_p99_ms");
  for (const Row& row : rows) {
    absl::StrAppendFormat(&table, "%-22s %6d", row.fault, row.orders);
    for (const std::string& name : InvariantNames()) {
      auto it = row.violations.find(name);
      absl::StrAppendFormat(&table, " %3d", it == row.violations.end() ? 0 : it->second);
    }
    absl::StrAppendFormat(&table, " %10.1f %14.0f\n", row.recovery_s, row.fault_p99_ms);
  }
  std::printf("fault matrix:\n%s", table.c_str());
}

// The p99 latency of the calls in flight during [injected, healed], and the time from the heal
// to the first answer after it.
void Measure(const std::vector<Call>& calls, absl::Time injected, absl::Time healed, Row& row) {
  std::vector<double> during;
  absl::Time first_after = absl::InfiniteFuture();
  for (const Call& call : calls) {
    if (call.sent <= healed && call.answered >= injected) {
      during.push_back(absl::ToDoubleMilliseconds(call.answered - call.sent));
    }
    if (call.answered >= healed) first_after = std::min(first_after, call.answered);
  }
  std::sort(during.begin(), during.end());
  row.fault_p99_ms = during.empty() ? 0 : during[static_cast<size_t>(0.99 * (during.size() - 1))];
  row.recovery_s =
      first_after == absl::InfiniteFuture() ? 0 : absl::ToDoubleSeconds(first_after - healed);
}

class FaultMatrixTest : public ::testing::Test {
 protected:
  // Apache Kafka nodes: 1, or 3 (RF 3, min.insync.replicas 2) for a broker's failover.
  virtual int KafkaNodes() const { return 1; }

  void SetUp() override {
    system_ = std::make_unique<LocalSystem>(
        e2e::Binaries::Built(),
        LocalSystem::Options{.kafka_nodes = KafkaNodes(), .redis_appendfsync = "always"});
    ASSERT_TRUE(system_->Start().ok());
    users_ = std::make_unique<e2e::TestUsers>(system_->gateway());
    for (int u = 0; u < kUsers; ++u) {
      const std::string user = absl::StrCat("user", u);
      ASSERT_TRUE(users_->SignUpFunded(user, 100000 + 50000 * u).ok()) << user;
      deposited_[user] = 100000 + 50000 * u;
    }
    addresses_ = {system_->gateway(), system_->order(), system_->kafka()};
    clients_ = std::make_unique<Clients>(system_->gateway(), *users_);
  }

  // One phase: load, the fault from a third of the way for kFaultLength, the invariants over
  // every order so far once settled. Violations already reported by an earlier phase are not
  // counted again.
  Row RunPhase(const Fault& fault) {
    Row row{.fault = fault.name, .orders = kOrdersPerPhase};
    std::atomic<int> completed{0};
    std::vector<Call> calls;
    std::thread load([&] {
      std::vector<PlacedOrder> placed =
          clients_->Place(++phase_, kOrdersPerPhase, completed, calls);
      placed_.insert(placed_.end(), placed.begin(), placed.end());
    });
    EXPECT_TRUE(testing::WaitUntil([&] { return completed.load() >= kOrdersPerPhase / 3; },
                                   absl::Seconds(120)))
        << fault.name << ": no progress before the fault";
    const absl::Time injected = absl::Now();
    EXPECT_TRUE(fault.inject(*system_).ok()) << fault.name;
    absl::SleepFor(kFaultLength);  // the fault's length: not a wait for anything
    const absl::Time healed = absl::Now();
    EXPECT_TRUE(fault.heal(*system_).ok()) << fault.name;
    load.join();
    for (const Call& call : calls) EXPECT_TRUE(call.ok) << fault.name;
    Measure(calls, injected, healed, row);
    for (const Violation& v : SettledViolations()) {
      if (!reported_.insert(absl::StrCat(v.invariant, " ", v.subject, " ", v.detail)).second) {
        continue;
      }
      ++row.violations[v.invariant];
      ADD_FAILURE() << fault.name << ": " << v.invariant << " " << v.subject << ": " << v.detail;
    }
    return row;
  }

  // The violations once the system has settled (notifications and views follow their sagas a
  // little later), or those left after kSettle.
  std::vector<Violation> SettledViolations() {
    std::vector<Violation> violations;
    testing::WaitUntil(
        [&] {
          absl::StatusOr<RunFacts> facts = GatherFacts(addresses_, *users_, placed_, deposited_);
          if (!facts.ok()) return false;
          violations = CheckInvariants(*facts);
          return violations.empty();
        },
        kSettle);
    return violations;
  }

  // Negative controls: the same gathering and checks see a loss when there is one. A lost AOF
  // tail, simulated: user3's account forgets a debit; and the first order's view set back.
  void BreakTheStateByHand(std::string& broken_order) {
    redis::RedisConnection redis({.address = *redis::ParseRedisAddress(system_->redis())});
    const std::string account_key = "state:{billing.account:user3}";
    absl::StatusOr<redis::RedisReply> stored = redis.Command({"HGET", account_key, "s"});
    ASSERT_TRUE(stored.ok());
    billing::v1::Account account;
    ASSERT_TRUE(account.ParseFromString(stored->str));
    account.mutable_balance()->set_minor_units(account.balance().minor_units() + 199);
    ASSERT_TRUE(redis.Command({"HSET", account_key, "s", account.SerializeAsString()}).ok());
    const PlacedOrder& first = placed_.front();
    broken_order = contracts::OrderIdFor(ids::Username(first.user), first.request_id).value();
    const std::string view_key = absl::StrCat("gw:order:{", first.user, "}:", broken_order);
    stored = redis.Command({"GET", view_key});
    ASSERT_TRUE(stored.ok());
    gateway::v1::Order view;
    ASSERT_TRUE(view.ParseFromString(stored->str));
    view.set_status(orders::v1::ORDER_STATUS_PENDING_VALIDATION);
    ASSERT_TRUE(redis.Command({"SET", view_key, view.SerializeAsString()}).ok());
  }

  std::unique_ptr<LocalSystem> system_;
  std::unique_ptr<e2e::TestUsers> users_;
  std::unique_ptr<Clients> clients_;
  SystemAddresses addresses_;
  std::map<std::string, int64_t> deposited_;
  std::vector<PlacedOrder> placed_;
  std::set<std::string> reported_;  // "invariant subject detail" already in an earlier row
  int phase_ = 0;
};

// CHOREO_CHAOS_FAULTS, if set, names the faults to run (comma-separated, as in the table).
bool Selected(const Fault& fault) {
  const char* only = std::getenv("CHOREO_CHAOS_FAULTS");
  if (only == nullptr || *only == '\0') return true;
  for (absl::string_view name : absl::StrSplit(only, ',')) {
    if (name == fault.name) return true;
  }
  return false;
}

TEST_F(FaultMatrixTest, EveryFaultKeepsEveryInvariant) {
  std::vector<Row> rows;
  for (const Fault& fault : Faults()) {
    if (!Selected(fault)) continue;
    const size_t dead_before = DeadLettered(system_->kafka());
    rows.push_back(RunPhase(fault));
    if (fault.name == "poison records") {
      // Every poison record dead-lettered (by every service that reads its topic), each with its
      // reason; RunPhase saw the partitions keep flowing.
      EXPECT_TRUE(testing::WaitUntil(
          [&] {
            return DeadLettered(system_->kafka()) >=
                   dead_before + std::size(kHopTopics) * kPoisonPerTopic;
          },
          kSettle));
    } else {
      EXPECT_EQ(DeadLettered(system_->kafka()), dead_before) << fault.name << ": dead letters";
    }
  }
  PrintTable(rows);

  std::string broken_order;
  BreakTheStateByHand(broken_order);
  absl::StatusOr<RunFacts> facts = GatherFacts(addresses_, *users_, placed_, deposited_);
  ASSERT_TRUE(facts.ok()) << facts.status();
  std::set<std::string> caught;
  for (const Violation& v : CheckInvariants(*facts)) caught.insert(v.invariant + " " + v.subject);
  EXPECT_TRUE(caught.contains("I3 user3"));
  EXPECT_TRUE(caught.contains("I1 " + broken_order));
}

// A broker of three: its partitions' leaders move to the others and the group coordinators
// with them. Frozen, it is noticed only once its session with the controller times out.
class ClusterFaultMatrixTest : public FaultMatrixTest {
 protected:
  int KafkaNodes() const override { return 3; }
};

TEST_F(ClusterFaultMatrixTest, ABrokerOfThreeLostKeepsEveryInvariant) {
  auto signal = [](pid_t pid, int signal) {
    return pid > 0 && ::kill(pid, signal) == 0 ? absl::OkStatus()
                                               : absl::FailedPreconditionError("no such process");
  };
  const std::vector<Fault> faults = {
      {"SIGKILL kafka 2 of 3", [](LocalSystem& s) { return s.kafka_cluster()->Kill(1); },
       [](LocalSystem& s) { return s.kafka_cluster()->Restart(1); }},
      {"SIGSTOP kafka 2 of 3",
       [signal](LocalSystem& s) { return signal(s.kafka_cluster()->pid(1), SIGSTOP); },
       [signal](LocalSystem& s) { return signal(s.kafka_cluster()->pid(1), SIGCONT); }}};
  std::vector<Row> rows;
  for (const Fault& fault : faults) {
    if (Selected(fault)) rows.push_back(RunPhase(fault));
  }
  PrintTable(rows);
}

}  // namespace
}  // namespace choreo::chaos
