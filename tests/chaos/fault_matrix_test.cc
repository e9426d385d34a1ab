// The fault matrix, short form (CI): one system on Apache Kafka and a real redis-server, one phase
// per fault (ChaosRunner, runner.h: paced orders from concurrent clients, the fault from a third
// of the way for its length, the invariants over every order placed so far once settled). It
// prints the table: fault x invariant (violations first seen in that phase), the orders that
// ended EXPIRED, the time from the heal to the next answered order, and the p99 latency of the
// CreateOrder calls in flight during the fault. Every invariant cell must be zero.

#include <csignal>
#include <cstdlib>
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "choreo/billing/v1/admin.pb.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "contracts/orders/orders.h"
#include "contracts/topics/topics.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/redis/redis_connection.h"
#include "gtest/gtest.h"
#include "testing/topic_reader.h"
#include "testing/wait.h"
#include "tests/chaos/facts.h"
#include "tests/chaos/invariants.h"
#include "tests/chaos/runner.h"
#include "tests/e2e/system.h"

namespace choreo::chaos {
namespace {

using e2e::LocalSystem;

constexpr absl::Duration kSettle = absl::Seconds(90);

// The saga's hop topics, each read by a service that dead-letters what it cannot handle.
constexpr absl::string_view kHopTopics[] = {
    topics::kOrdersRequests, topics::kOrdersCreated,          topics::kBillingPayments,
    topics::kOrdersStatus,   topics::kNotificationsRequested, topics::kBillingDeposits};

size_t RecordsOn(const std::string& kafka, absl::string_view topic) {
  return testing::ReadTopicToEnd(kafka, std::string(topic))
      .value_or(std::vector<KafkaRecord>{})
      .size();
}

// Records on every dead-letter topic.
size_t DeadLettered(const std::string& kafka) {
  size_t count = 0;
  for (absl::string_view service : topics::kServices) {
    count += RecordsOn(kafka, topics::DeadLetterTopic(service));
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

absl::Status Signal(pid_t pid, int signal) {
  return pid > 0 && ::kill(pid, signal) == 0 ? absl::OkStatus()
                                             : absl::FailedPreconditionError("no such process");
}

// A second order instance whose clock runs `offset` off the host's (--clock-offset: its
// decisions, event times and deadlines; the host's clock cannot be skewed for one process, and
// libfaketime's skew stalls every timed wait of absl's, which sleeps until an absolute time of
// the kernel's own clock) joins the group for the fault's length. Ahead, its deadline scanner
// (the index is shared) judges every pending order overdue. One instance scans at a time, under
// a lease the first one holds: the first is frozen until the lease has passed to the skewed one,
// then thawed; it goes on consuming (creating orders by the true clock), and the skewed one
// scanning. Behind, the orders it creates are overdue at once by the other instance's clock. An
// order ends EXPIRED or PAID either way, and a payment that lands after EXPIRED is refunded. An
// order waits some 10 ms for its payment, so the skewed scanner looks every 2 ms (not every 250) to
// catch orders in that window: expiry racing payment is what the rows are for. Freezes "order"
// until another instance holds the deadline scan's lease, then thaws it.
absl::Status HandTheDeadlineScanOver(LocalSystem& s) {
  const std::string lease = "order:deadlines:{order:deadlines}:lease";  // DeadlineSchedule()'s
  redis::RedisConnection redis(*redis::RedisConnection::OptionsFor(s.redis()));
  absl::StatusOr<redis::RedisReply> holder = redis.Command({"GET", lease});
  if (!holder.ok()) return holder.status();
  if (absl::Status frozen = s.Signal("order", SIGSTOP); !frozen.ok()) return frozen;
  const bool handed = testing::WaitUntil(
      [&] {
        absl::StatusOr<redis::RedisReply> now = redis.Command({"GET", lease});
        return now.ok() && now->type == redis::RedisReply::Type::kString && now->str != holder->str;
      },
      absl::Seconds(20));
  if (absl::Status thawed = s.Signal("order", SIGCONT); !thawed.ok()) return thawed;
  return handed ? absl::OkStatus()
                : absl::DeadlineExceededError("the deadline scan's lease never moved");
}

Fault ClockSkew(LocalSystem& s, absl::string_view offset) {
  const bool ahead = absl::StartsWith(offset, "+");
  return {absl::StrCat("clock skew order ", offset),
          [&s, offset = std::string(offset), ahead] {
            absl::Status started =
                s.StartInstance("order", "order-skewed",
                                {"--clock-offset", offset, "--deadline-scan-interval", "2ms"})
                    .status();
            if (!started.ok() || !ahead) return started;
            return HandTheDeadlineScanOver(s);
          },
          // A clean stop gives the lease up: the first instance scans again at once.
          [&s] { return s.Stop("order-skewed"); }};
}

// The services' processes: each SIGKILLed (then restarted), then each frozen (then thawed).
std::vector<Fault> ServiceFaults(LocalSystem& s) {
  std::vector<Fault> faults;
  for (const char* process : {"order", "billing", "notification", "users", "gateway"}) {
    const std::string name = process;
    faults.push_back({absl::StrCat("SIGKILL ", name), [&s, name] { return s.Kill(name); },
                      [&s, name] { return s.Restart(name); }});
  }
  for (const char* process : {"order", "billing", "notification", "users", "gateway"}) {
    const std::string name = process;
    faults.push_back({absl::StrCat("SIGSTOP ", name), [&s, name] { return s.Signal(name, SIGSTOP); },
                      [&s, name] { return s.Signal(name, SIGCONT); }});
  }
  return faults;
}

// Redis and the broker (frozen: every call to them hangs until its timeout; then killed), a
// skewed clock, and records delivered again or spoiled.
std::vector<Fault> InfrastructureAndRecordFaults(LocalSystem& s) {
  return {
      {"SIGSTOP redis", [&s] { return Signal(s.redis_server().pid(), SIGSTOP); },
       [&s] { return Signal(s.redis_server().pid(), SIGCONT); }},
      {"SIGSTOP kafka", [&s] { return Signal(s.kafka_cluster()->pid(0), SIGSTOP); },
       [&s] { return Signal(s.kafka_cluster()->pid(0), SIGCONT); }},
      ClockSkew(s, "+60s"),
      ClockSkew(s, "-60s"),
      {"redelivered+reordered", [&s] { return DuplicateAndReorder(s.kafka()); },
       [] { return absl::OkStatus(); }},
      {"SIGKILL redis", [&s] { return s.redis_server().Kill(); },
       [&s] { return s.redis_server().Restart(); }},
      // The only broker: everything waits for it (a broker of three is ClusterFaultMatrixTest's).
      {"SIGKILL kafka", [&s] { return s.kafka_cluster()->Kill(0); },
       [&s] { return s.kafka_cluster()->Restart(0); }},
      // Last: its dead letters are counted when it ends.
      {"poison records", [&s] { return Poison(s.kafka()); }, [] { return absl::OkStatus(); }}};
}

class FaultMatrixTest : public ::testing::Test {
 protected:
  // Apache Kafka nodes: 1, or 3 (RF 3, min.insync.replicas 2) for a broker's failover.
  virtual int KafkaNodes() const { return 1; }
  // Kafka and Redis behind proxies whose links can be slowed (LocalSystem::network_proxy).
  virtual bool NetworkProxy() const { return false; }

  void SetUp() override {
    system_ = std::make_unique<LocalSystem>(
        e2e::Binaries::Built(), LocalSystem::Options{.kafka_nodes = KafkaNodes(),
                                                     .redis_appendfsync = "always",
                                                     .network_proxy = NetworkProxy()});
    ASSERT_TRUE(system_->Start().ok());
    // CI's matrix places 45 orders per phase; CHOREO_CHAOS_ORDERS=N places N in the same 5.4 s
    // (the full matrix: README.md).
    const char* orders = std::getenv("CHOREO_CHAOS_ORDERS");
    const int per_phase = orders != nullptr && std::atoi(orders) >= 3 ? std::atoi(orders) : 45;
    runner_ = std::make_unique<ChaosRunner>(ChaosRunner::Options{
        .system = {system_->gateway(), system_->ChannelTo("order"), system_->kafka()},
        .orders_per_phase = per_phase,
        .order_interval = absl::Milliseconds(5400) / per_phase,
        .settle = kSettle});
    ASSERT_TRUE(runner_->SignUpUsers().ok());
  }

  // One phase (ChaosRunner::RunPhase); each violation not reported before is a failure.
  PhaseResult RunPhase(const Fault& fault) {
    PhaseResult result = runner_->RunPhase(fault);
    EXPECT_TRUE(result.fault_status.ok()) << fault.name << ": " << result.fault_status;
    EXPECT_EQ(result.unanswered, 0) << fault.name << ": calls that gave up, the last with "
                                    << result.last_error;
    for (const Violation& v : result.new_violations) {
      ADD_FAILURE() << fault.name << ": " << v.invariant << " " << v.subject << ": " << v.detail;
    }
    return result;
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
    const PlacedOrder& first = runner_->placed().front();
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
  std::unique_ptr<ChaosRunner> runner_;
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

// The faults' phases in order, each also checked for what it must (and must not) leave behind;
// then the table.
void RunFaults(LocalSystem& system, const std::vector<Fault>& faults,
               const std::function<PhaseResult(const Fault&)>& run_phase) {
  std::vector<PhaseResult> rows;
  for (const Fault& fault : faults) {
    if (!Selected(fault)) continue;
    const size_t dead_before = DeadLettered(system.kafka());
    const bool skewed_ahead = fault.name == "clock skew order +60s";
    const size_t deadlines_before =
        skewed_ahead ? RecordsOn(system.kafka(), topics::kOrdersDeadlines) : 0;
    rows.push_back(run_phase(fault));
    if (fault.name == "poison records") {
      // Every poison record dead-lettered (by every service that reads its topic), each with its
      // reason; the phase saw the partitions keep flowing.
      EXPECT_TRUE(testing::WaitUntil(
          [&] {
            return DeadLettered(system.kafka()) >=
                   dead_before + std::size(kHopTopics) * kPoisonPerTopic;
          },
          kSettle));
    } else {
      EXPECT_EQ(DeadLettered(system.kafka()), dead_before) << fault.name << ": dead letters";
    }
    if (skewed_ahead) {
      // The fault took effect: the skewed scanner judged pending orders overdue (whether an
      // order then ends EXPIRED or PAID is the race of its deadline event with its payment).
      EXPECT_GT(RecordsOn(system.kafka(), topics::kOrdersDeadlines), deadlines_before)
          << "the skewed clock found no order overdue";
    }
  }
  std::printf("fault matrix:\n%s", FormatTable(rows).c_str());
}

TEST_F(FaultMatrixTest, ServicesKilledOrFrozenKeepEveryInvariant) {
  RunFaults(*system_, ServiceFaults(*system_),
            [this](const Fault& fault) { return RunPhase(fault); });
}

TEST_F(FaultMatrixTest, RedisKafkaClockAndRecordFaultsKeepEveryInvariant) {
  RunFaults(*system_, InfrastructureAndRecordFaults(*system_),
            [this](const Fault& fault) { return RunPhase(fault); });

  // The negative controls: state broken by hand is seen (over the orders placed above).
  if (runner_->placed().empty()) return;  // CHOREO_CHAOS_FAULTS ran none of them
  std::string broken_order;
  BreakTheStateByHand(broken_order);
  absl::StatusOr<RunFacts> facts = runner_->GatherNow();
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
  LocalSystem& s = *system_;
  const std::vector<Fault> faults = {
      {"SIGKILL kafka 2 of 3", [&s] { return s.kafka_cluster()->Kill(1); },
       [&s] { return s.kafka_cluster()->Restart(1); }},
      {"SIGSTOP kafka 2 of 3", [&s] { return Signal(s.kafka_cluster()->pid(1), SIGSTOP); },
       [&s] { return Signal(s.kafka_cluster()->pid(1), SIGCONT); }}};
  std::vector<PhaseResult> rows;
  for (const Fault& fault : faults) {
    if (Selected(fault)) rows.push_back(RunPhase(fault));
  }
  std::printf("fault matrix:\n%s", FormatTable(rows).c_str());
}

// Slow links: every byte between the services (and the gateway) and Kafka, or Redis, or both,
// delayed each way, as a congested or distant network would. The kernel here has no netem, so
// the delay is Toxiproxy's, in front of Kafka and Redis (LocalSystem::network_proxy).
class LatencyFaultMatrixTest : public FaultMatrixTest {
 protected:
  bool NetworkProxy() const override { return true; }
};

TEST_F(LatencyFaultMatrixTest, SlowLinksKeepEveryInvariant) {
  testing::Toxiproxy& proxy = *system_->network_proxy();
  auto slow = [&proxy](std::vector<std::string> links, absl::Duration latency) {
    return [&proxy, links, latency] {
      for (const std::string& link : links) {
        if (absl::Status added = proxy.AddLatency(link, latency, latency / 4); !added.ok()) {
          return added;
        }
      }
      return absl::OkStatus();
    };
  };
  auto heal = [&proxy](std::vector<std::string> links) {
    return [&proxy, links] {
      for (const std::string& link : links) {
        if (absl::Status removed = proxy.RemoveLatency(link); !removed.ok()) return removed;
      }
      return absl::OkStatus();
    };
  };
  // Each with the least p99 it must cause: an order crosses each link several times each way
  // on its critical path (p99 without a fault: 20-35 ms).
  const std::vector<std::pair<Fault, double>> faults = {
      {{"latency 20ms kafka", slow({"kafka"}, absl::Milliseconds(20)), heal({"kafka"})}, 80},
      {{"latency 5ms redis", slow({"redis"}, absl::Milliseconds(5)), heal({"redis"})}, 50},
      {{"latency 20ms+5ms both",
        [&] {
          absl::Status kafka = slow({"kafka"}, absl::Milliseconds(20))();
          return kafka.ok() ? slow({"redis"}, absl::Milliseconds(5))() : kafka;
        },
        heal({"kafka", "redis"})},
       100}};
  std::vector<PhaseResult> rows;
  for (const auto& [fault, least_p99_ms] : faults) {
    if (!Selected(fault)) continue;
    rows.push_back(RunPhase(fault));
    EXPECT_GT(rows.back().fault_p99_ms, least_p99_ms) << fault.name << ": the links were not slow";
  }
  std::printf("fault matrix:\n%s", FormatTable(rows).c_str());
}

}  // namespace
}  // namespace choreo::chaos
