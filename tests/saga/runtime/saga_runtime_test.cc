// The saga runtime against a real Kafka-protocol broker (librdkafka's mock cluster, in process)
// and a real redis-server: duplicates, crashes, broker faults, Redis outages, poison records and
// replay, per-key order, stop under load, rebalances, effects after the commit. The service under
// test is a ledger: AmountAdded(account, amount, seq) -> Account state + AmountApplied.

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h must follow rdkafka.h.
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <functional>
#include <map>
#include <set>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "choreo/saga/v1/outcome.pb.h"
#include "choreo/sagatest/v1/events.pb.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/kafka_mock/embedded_kafka_cluster.h"
#include "edges/redis/redis_connection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "saga/dlq/dead_letter.h"
#include "saga/runtime/saga_runtime.h"
#include "saga/store/redis_aggregate_store.h"
#include "testing/redis_server.h"
#include "testing/topic_reader.h"
#include "testing/wait.h"

namespace choreo::saga {
namespace {

using sagatest::v1::Account;
using sagatest::v1::AmountAdded;
using sagatest::v1::AmountApplied;
using testing::WaitUntil;
using ::testing::UnorderedElementsAre;

constexpr char kIn[] = "ledger.in";
constexpr char kOut[] = "ledger.out";
constexpr char kDlq[] = "dlq.ledger";
constexpr absl::Duration kWait = absl::Seconds(60);

// Counts what one runtime did.
class CountingObserver : public SagaObserver {
 public:
  void OnRecordDone(const KafkaRecord&, absl::string_view event_type, Outcome outcome,
                    absl::Duration handling, absl::Duration queued) override {
    EXPECT_GE(handling, absl::ZeroDuration());
    EXPECT_GE(queued, absl::ZeroDuration());
    if (outcome != Outcome::kDeadLettered) {
      EXPECT_EQ(event_type, "choreo.sagatest.v1.AmountAdded");
    }
    switch (outcome) {
      case Outcome::kHandled: ++handled; break;
      case Outcome::kDuplicate: ++duplicates; break;
      case Outcome::kDeadLettered: ++dead_lettered; break;
      case Outcome::kIgnored: ++ignored; break;
    }
  }
  void OnRetry(const KafkaRecord&, const absl::Status&, int) override { ++retries; }
  int done() const { return handled + duplicates + dead_lettered + ignored; }

  std::atomic<int> handled{0}, duplicates{0}, dead_lettered{0}, ignored{0}, retries{0};
};

std::vector<KafkaRecord> ReadToEnd(const std::string& bootstrap, const std::string& topic) {
  absl::StatusOr<std::vector<KafkaRecord>> records = testing::ReadTopicToEnd(bootstrap, topic);
  EXPECT_TRUE(records.ok()) << records.status();
  return records.ok() ? *std::move(records) : std::vector<KafkaRecord>{};
}

std::set<std::string> DistinctIds(const std::vector<KafkaRecord>& records) {
  std::set<std::string> ids;
  for (const KafkaRecord& record : records) ids.insert(std::string(record.Header("ce_id").value_or("")));
  return ids;
}

// Which (account, seq) pairs of acct0..acct<accounts-1> x 1..per_account have no AmountApplied.
std::string MissingApplied(const std::vector<KafkaRecord>& records, int accounts,
                           int per_account) {
  std::set<std::pair<std::string, int64_t>> seen;
  for (const KafkaRecord& record : records) {
    AmountApplied applied;
    if (applied.ParseFromString(record.value)) seen.insert({applied.account(), applied.seq()});
  }
  std::string missing = "missing:";
  for (int a = 0; a < accounts; ++a) {
    for (int seq = 1; seq <= per_account; ++seq) {
      if (!seen.contains({absl::StrCat("acct", a), seq})) {
        absl::StrAppend(&missing, " acct", a, "/", seq);
      }
    }
  }
  return missing;
}

class SagaRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = kafka::EmbeddedKafkaCluster::Start({.brokers = 3});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    ASSERT_TRUE(cluster_->CreateTopic(kIn, 4).ok());
    ASSERT_TRUE(cluster_->CreateTopic(kOut, 4).ok());
    ASSERT_TRUE(cluster_->CreateTopic(kDlq, 2).ok());
    auto redis = testing::RedisServer::Start({.appendfsync = "everysec"});
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    auto producer = kafka::KafkaProducer::Create(kafka::ProducerDefaults(bootstrap()));
    ASSERT_TRUE(producer.ok());
    producer_ = *std::move(producer);
  }

  void TearDown() override {
    for (auto& runtime : runtimes_) runtime->Stop();
  }

  const std::string& bootstrap() const { return cluster_->bootstrap_servers(); }

  HandlerRegistry Registry() {
    HandlerRegistry registry;
    if (effect_alone_) {
      const auto account = [](const AmountAdded& e) { return e.account(); };
      const auto one = [this](const AmountAdded& event, const EffectContext& context) {
        return effect_alone_(event, context);
      };
      const absl::Status added =
          effect_alone_many_
              ? registry.Effect<AmountAdded>(
                    "account", account, "notice", one,
                    [this](const std::vector<const AmountAdded*>& events,
                           const std::vector<const EffectContext*>& contexts) {
                      return effect_alone_many_(events, contexts);
                    },
                    effect_repeats_)
              : registry.Effect<AmountAdded>("account", account, "notice", one, effect_repeats_);
      EXPECT_TRUE(added.ok()) << added;
      return registry;
    }
    absl::Status added = registry.On<AmountAdded, Account>(
        "account", [](const AmountAdded& e) { return e.account(); },
        [this](const Account& state, const AmountAdded& event,
               const EventContext&) -> absl::StatusOr<Reaction<Account>> {
          ++decided_;
          if (event.reject() && !accept_rejected_.load()) {
            return absl::FailedPreconditionError("account refuses this amount");
          }
          if (event.seq() != 0 && event.seq() != state.last_seq() + 1) {
            return absl::FailedPreconditionError(absl::StrCat(
                "out of order: seq ", event.seq(), " after ", state.last_seq()));
          }
          Reaction<Account> reaction;
          reaction.state = state;
          reaction.state->set_balance(state.balance() + event.amount());
          reaction.state->set_applied(state.applied() + 1);
          if (event.seq() != 0) reaction.state->set_last_seq(event.seq());
          AmountApplied applied;
          applied.set_account(event.account());
          applied.set_seq(event.seq());
          applied.set_balance_after(reaction.state->balance());
          reaction.events.push_back(OutgoingEvent::Of(kOut, event.account(), std::move(applied)));
          if (publish_snapshots_) {
            sagatest::v1::AccountSnapshot snapshot;
            snapshot.set_account_id(event.account());
            *snapshot.mutable_account() = *reaction.state;
            OutgoingEvent published = OutgoingEvent::Of(kOut, event.account(), snapshot);
            published.carries_state = true;
            reaction.events.push_back(std::move(published));
          }
          return reaction;
        });
    EXPECT_TRUE(added.ok()) << added;
    if (starts_aggregate_) {
      EXPECT_TRUE(registry.StartsAggregate<AmountAdded>().ok());
    }
    if (effect_ && effect_many_) {
      added = registry.AfterCommit<AmountAdded, Account>(
          "mirror",
          [this](const Account& committed, const AmountAdded& event,
                 const EffectContext& context) { return effect_(committed, event, context); },
          [this](const std::vector<Account>& committed,
                 const std::vector<const AmountAdded*>& events,
                 const std::vector<const EffectContext*>&) {
            return effect_many_(committed, events);
          },
          effect_repeats_);
      EXPECT_TRUE(added.ok()) << added;
    } else if (effect_) {
      added = registry.AfterCommit<AmountAdded, Account>(
          "mirror",
          [this](const Account& committed, const AmountAdded& event,
                 const EffectContext& context) { return effect_(committed, event, context); },
          effect_repeats_);
      EXPECT_TRUE(added.ok()) << added;
    }
    EXPECT_TRUE(registry
                    .Upcast<AmountAdded>(1,
                                         [](AmountAdded& e) {
                                           e.set_amount(e.amount() * 100);
                                           return absl::OkStatus();
                                         })
                    .ok());
    return registry;
  }

  SagaRuntimeOptions Options(SagaObserver* observer) {
    SagaRuntimeOptions options;
    options.service = "ledger";
    options.kafka_brokers = bootstrap();
    options.topics = {kIn};
    options.redis_address = redis_->address();
    options.workers = 4;
    options.consumer_overrides = {{"fetch.wait.max.ms", "5"},
                                  {"session.timeout.ms", "6000"},
                                  {"heartbeat.interval.ms", "500"}};
    options.backoff = {.initial = absl::Milliseconds(20), .max = absl::Milliseconds(500)};
    options.observer = observer;
    return options;
  }

  SagaRuntime& Start(SagaRuntimeOptions options) {
    auto runtime = SagaRuntime::Create(std::move(options), Registry());
    EXPECT_TRUE(runtime.ok()) << runtime.status();
    EXPECT_TRUE((*runtime)->Start().ok());
    runtimes_.push_back(*std::move(runtime));
    return *runtimes_.back();
  }

  // One lane that gathers what arrives within a second: the records produced before it starts
  // form one batch.
  SagaRuntime& StartOneBatchingLane(
      SagaObserver* observer,
      std::function<std::unique_ptr<store::AggregateStore>()> store_factory = nullptr) {
    SagaRuntimeOptions options = Options(observer);
    options.workers = 1;
    options.batch_window = absl::Seconds(1);
    options.store_factory = std::move(store_factory);
    return Start(std::move(options));
  }

  static AmountAdded Event(const std::string& id, const std::string& account, int64_t amount,
                           int64_t seq = 0) {
    AmountAdded event;
    common::v1::EventMeta* meta = event.mutable_meta();
    meta->set_event_id(id);
    meta->set_schema_version(2);
    meta->set_correlation_id("corr-" + id);
    meta->set_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    meta->mutable_occurred_at()->set_seconds(1795348800);
    meta->set_producer("test");
    event.set_account(account);
    event.set_amount(amount);
    event.set_seq(seq);
    return event;
  }

  KafkaRecord Record(const google::protobuf::Message& event, const std::string& key) {
    absl::StatusOr<KafkaRecord> record = codec_.Encode(event, kIn, key);
    EXPECT_TRUE(record.ok()) << record.status();
    return *record;
  }

  void Produce(const KafkaRecord& record) {
    absl::StatusOr<kafka::Delivery> delivered = producer_->ProduceAndWait(record, absl::Seconds(30));
    ASSERT_TRUE(delivered.ok()) << delivered.status();
  }
  void Produce(const AmountAdded& event) { Produce(Record(event, event.account())); }

  // The account's state as the runtime committed it to Redis.
  Account StateOf(const std::string& account) {
    redis::RedisConnection connection({.address = {redis_->host(), redis_->port()}});
    auto reply = connection.Command({"HGET", "state:{ledger.account:" + account + "}", "s"});
    Account state;
    if (reply.ok() && reply->type == redis::RedisReply::Type::kString) {
      EXPECT_TRUE(state.ParseFromString(reply->str));
    }
    return state;
  }

  std::unique_ptr<kafka::EmbeddedKafkaCluster> cluster_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<kafka::KafkaProducer> producer_;
  codec::EventCodec codec_;
  std::atomic<bool> accept_rejected_{false};
  std::atomic<int> decided_{0};  // decisions made, retries included
  bool starts_aggregate_ = false;  // AmountAdded registered with StartsAggregate
  bool publish_snapshots_ = false;  // the ledger also publishes an AccountSnapshot
  // When set, the ledger's route runs it after the commit (effect "mirror").
  std::function<absl::Status(const Account&, const AmountAdded&, const EffectContext&)> effect_;
  // With effect_: the effect's batch form.
  std::function<absl::Status(const std::vector<Account>&, const std::vector<const AmountAdded*>&)>
      effect_many_;
  HandlerRegistry::Repeats effect_repeats_ = HandlerRegistry::Repeats::kOnce;
  // When set, the ledger handles AmountAdded with this effect alone (effect "notice").
  std::function<absl::Status(const AmountAdded&, const EffectContext&)> effect_alone_;
  std::function<absl::Status(const std::vector<const AmountAdded*>&,
                             const std::vector<const EffectContext*>&)>
      effect_alone_many_;
  std::vector<std::unique_ptr<SagaRuntime>> runtimes_;
};

TEST_F(SagaRuntimeTest, TheSameRecordDeliveredManyTimesHasOneEffectAndOneDistinctEvent) {
  const KafkaRecord first = Record(Event("dup-1", "x", 100, 1), "x");
  AmountAdded old_revision = Event("dup-2", "x", 2, 2);
  old_revision.mutable_meta()->set_schema_version(1);  // whole units: upcast to 200 cents
  const KafkaRecord second = Record(old_revision, "x");
  for (int i = 0; i < 5; ++i) Produce(first);
  for (int i = 0; i < 2; ++i) Produce(second);

  CountingObserver observer;
  Start(Options(&observer));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 7; }, kWait)) << observer.done();

  const Account state = StateOf("x");
  EXPECT_EQ(state.balance(), 300);
  EXPECT_EQ(state.applied(), 2);
  EXPECT_EQ(state.last_seq(), 2);
  EXPECT_EQ(observer.handled, 2);
  EXPECT_EQ(observer.duplicates, 5);

  // Every delivery published, but only two distinct events, each caused by its input.
  std::vector<KafkaRecord> out = ReadToEnd(bootstrap(), kOut);
  EXPECT_EQ(out.size(), 7u);
  EXPECT_EQ(DistinctIds(out).size(), 2u);
  std::set<std::string> causes;
  for (const KafkaRecord& record : out) {
    auto meta = codec::DecodeMeta(record.value);
    ASSERT_TRUE(meta.ok());
    causes.insert(meta->causation_id());
    EXPECT_EQ(meta->correlation_id(), "corr-" + meta->causation_id());
    EXPECT_EQ(meta->producer(), "ledger");
    // Same trace, new span.
    EXPECT_EQ(meta->traceparent().substr(0, 36), "00-0af7651916cd43dd8448eb211c80319c-");
    EXPECT_NE(meta->traceparent(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    EXPECT_EQ(record.key, "x");
  }
  EXPECT_THAT(causes, UnorderedElementsAre("dup-1", "dup-2"));
  EXPECT_TRUE(ReadToEnd(bootstrap(), kDlq).empty());
}

// A snapshot's marker keeps it without the state its commit writes: a delivery again before
// any later commit re-publishes the same bytes; one after it, the same event with the newer
// state (its readers need only the newest). Account "s" is ordered (its duplicate is refused on
// the remembered state and found handled when loaded again); "t" is not (its duplicate is
// decided on the remembered state and found handled by the commit).
TEST_F(SagaRuntimeTest, ARedeliveredSnapshotGoesOutWithTheAggregatesStateAsItIsThen) {
  publish_snapshots_ = true;
  for (const auto& [account, seq] : {std::pair<std::string, int64_t>{"s", 1}, {"t", 0}}) {
    const KafkaRecord first = Record(Event(account + "-1", account, 100, seq), account);
    Produce(first);
    Produce(first);  // again before any later commit
    Produce(Event(account + "-2", account, 50, seq == 0 ? 0 : 2));
    Produce(first);  // again after the second's commit
  }

  CountingObserver observer;
  Start(Options(&observer));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 8; }, kWait)) << observer.done();
  EXPECT_EQ(observer.handled, 4);
  EXPECT_EQ(observer.duplicates, 4);

  std::map<std::string, std::vector<KafkaRecord>> records;  // by account
  for (const KafkaRecord& record : ReadToEnd(bootstrap(), kOut)) {
    if (record.Header("ce_type") == "choreo.sagatest.v1.AccountSnapshot") {
      records[record.key].push_back(record);
    }
  }
  redis::RedisConnection connection({.address = {redis_->host(), redis_->port()}});
  for (const std::string account : {"s", "t"}) {
    SCOPED_TRACE(account);
    const std::vector<KafkaRecord>& of = records[account];
    ASSERT_EQ(of.size(), 4u);  // the first, the first again, the second, the first again
    std::vector<sagatest::v1::AccountSnapshot> snapshots(4);
    for (size_t i = 0; i < 4; ++i) ASSERT_TRUE(snapshots[i].ParseFromString(of[i].value));
    EXPECT_EQ(of[1].value, of[0].value);
    EXPECT_EQ(of[1].headers, of[0].headers);
    EXPECT_EQ(snapshots[0].account().balance(), 100);
    EXPECT_EQ(snapshots[2].account().balance(), 150);
    EXPECT_EQ(snapshots[3].meta().event_id(), snapshots[0].meta().event_id());
    EXPECT_EQ(snapshots[3].account().balance(), 150);
    EXPECT_EQ(snapshots[3].account().applied(), 2);

    // The marker holds the snapshot without the account.
    absl::StatusOr<redis::RedisReply> marker =
        connection.Command({"GET", store::RedisAggregateStore::MarkerKey(
                                       {"ledger.account", account}, account + "-1")});
    ASSERT_TRUE(marker.ok()) << marker.status();
    saga::v1::HandledOutcome stored;
    ASSERT_TRUE(stored.ParseFromString(marker->str));
    ASSERT_EQ(stored.records_size(), 2);
    EXPECT_EQ(stored.records(1).state_field(), 3u);  // AccountSnapshot.account
  }
}

class CrashTest : public SagaRuntimeTest, public ::testing::WithParamInterface<CrashPoint> {};

TEST_P(CrashTest, ACrashLosesNothingAndAppliesNothingTwice) {
  Produce(Event("crash-1", "c", 40, 1));
  Produce(Event("crash-2", "c", 2, 2));

  std::atomic<bool> crashed_once{false};
  CountingObserver first_observer;
  SagaRuntimeOptions options = Options(&first_observer);
  options.crash_hook = [&](CrashPoint point, const KafkaRecord& record) {
    return point == GetParam() && record.Header("ce_id") == "crash-1" &&
           !crashed_once.exchange(true);
  };
  SagaRuntime& first = Start(std::move(options));
  ASSERT_TRUE(WaitUntil([&] { return first.crashed(); }, kWait));
  first.Stop();
  EXPECT_EQ(first_observer.done(), 0);  // crash-2 waits behind crash-1 (same key)

  CountingObserver second_observer;
  Start(Options(&second_observer));
  ASSERT_TRUE(WaitUntil([&] { return second_observer.done() == 2; }, kWait));
  const Account state = StateOf("c");
  EXPECT_EQ(state.applied(), 2);
  EXPECT_EQ(state.balance(), 42);
  // crash-1 was committed before the crash: the restart finds its marker and re-publishes.
  EXPECT_EQ(second_observer.duplicates, 1);
  EXPECT_EQ(second_observer.handled, 1);

  std::vector<KafkaRecord> out = ReadToEnd(bootstrap(), kOut);
  EXPECT_EQ(DistinctIds(out).size(), 2u);
  // After a crash past the publish, the event went out twice with the same id.
  EXPECT_EQ(out.size(), GetParam() == CrashPoint::kAfterPublishBeforeOffsetStore ? 3u : 2u);
}

INSTANTIATE_TEST_SUITE_P(BothPoints, CrashTest,
                         ::testing::Values(CrashPoint::kAfterCommitBeforePublish,
                                           CrashPoint::kAfterPublishBeforeOffsetStore),
                         [](const auto& info) {
                           return info.param == CrashPoint::kAfterCommitBeforePublish
                                      ? "AfterCommitBeforePublish"
                                      : "AfterPublishBeforeOffsetStore";
                         });

TEST_F(SagaRuntimeTest, BrokerFaultsLoseNothingAndDoubleNothing) {
  constexpr int kAccounts = 10, kPerAccount = 10;
  for (int seq = 1; seq <= kPerAccount; ++seq) {
    for (int a = 0; a < kAccounts; ++a) {
      Produce(Event(absl::StrCat("bf-", a, "-", seq), absl::StrCat("acct", a), 1, seq));
    }
  }
  // Errors on the runtime's Produce, Fetch and OffsetCommit requests (API keys 0, 1, 8).
  rd_kafka_mock_push_request_errors(cluster_->mock(), 0, 4,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
  rd_kafka_mock_push_request_errors(cluster_->mock(), 1, 3,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  rd_kafka_mock_push_request_errors(cluster_->mock(), 8, 2,
                                    RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  CountingObserver observer;
  SagaRuntimeOptions options = Options(&observer);
  // One Produce request in flight at a time. The mock broker accepts a producer's first batch on
  // a partition whatever its sequence number, where Apache Kafka answers
  // OUT_OF_ORDER_SEQUENCE_NUMBER: with two in flight, a failed first batch followed by a
  // successful second one is taken by librdkafka as acknowledged ("implicitly acked") and is
  // lost in the mock. One in flight tests the runtime's retries, not the mock's sequence checks.
  options.producer_overrides = {{"max.in.flight.requests.per.connection", "1"}};
  Start(std::move(options));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() >= 20; }, kWait));
  // A broker goes away mid-stream and comes back. The outage lasts until ten more records are
  // done or 5 s have passed: the records left may all sit on partitions the lost broker leads,
  // so progress during the outage is not something to wait for (it made this test hang).
  rd_kafka_mock_broker_set_down(cluster_->mock(), 2);
  WaitUntil([&] { return observer.done() >= 30; }, absl::Seconds(5));
  rd_kafka_mock_broker_set_up(cluster_->mock(), 2);
  ASSERT_TRUE(WaitUntil([&] { return observer.done() >= kAccounts * kPerAccount; }, kWait))
      << observer.done();

  for (int a = 0; a < kAccounts; ++a) {
    const Account state = StateOf(absl::StrCat("acct", a));
    EXPECT_EQ(state.applied(), kPerAccount) << a;
    EXPECT_EQ(state.last_seq(), kPerAccount) << a;
  }
  EXPECT_EQ(observer.dead_lettered, 0);
  // done() counts a record handled again after a rebalance twice, so the last record's events
  // may still be on their way when it reaches 100: wait for every one of them.
  std::vector<KafkaRecord> out;
  EXPECT_TRUE(WaitUntil(
      [&] {
        out = ReadToEnd(bootstrap(), kOut);
        return DistinctIds(out).size() == size_t{kAccounts * kPerAccount};
      },
      kWait))
      << MissingApplied(out, kAccounts, kPerAccount) << "; " << out.size() << " records; handled "
      << observer.handled << ", duplicates " << observer.duplicates << ", retries "
      << observer.retries;
}

TEST_F(SagaRuntimeTest, RedisStoppedMidStreamPausesThenFinishesEveryRecord) {
  CountingObserver observer;
  Start(Options(&observer));
  for (int seq = 1; seq <= 10; ++seq) Produce(Event(absl::StrCat("r-", seq), "r", 1, seq));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 10; }, kWait));

  ASSERT_TRUE(redis_->Stop().ok());
  for (int seq = 11; seq <= 30; ++seq) Produce(Event(absl::StrCat("r-", seq), "r", 1, seq));
  // The loop retries with backoff and handles nothing while Redis is away.
  ASSERT_TRUE(WaitUntil([&] { return observer.retries >= 3; }, kWait));
  EXPECT_EQ(observer.done(), 10);
  ASSERT_TRUE(redis_->Restart().ok());
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 30; }, kWait)) << observer.done();

  const Account state = StateOf("r");
  EXPECT_EQ(state.applied(), 30);
  EXPECT_EQ(state.last_seq(), 30);
  EXPECT_EQ(observer.dead_lettered, 0);
  EXPECT_EQ(DistinctIds(ReadToEnd(bootstrap(), kOut)).size(), 30u);
}

TEST_F(SagaRuntimeTest, PoisonRecordsAreDeadLetteredAndTheirPartitionKeepsFlowing) {
  const KafkaRecord valid1 = Record(Event("p-1", "a", 1, 1), "a");
  KafkaRecord garbage = Record(Event("p-garbage", "a", 1), "a");
  garbage.value = "\xff\xff\xff not protobuf";
  AmountApplied wrong_type;  // a type this service has no handler for
  *wrong_type.mutable_meta() = Event("p-type", "a", 1).meta();
  wrong_type.mutable_meta()->set_schema_version(1);
  const KafkaRecord unknown_type = Record(wrong_type, "a");
  KafkaRecord next_major = Record(Event("p-v2", "a", 1), "a");
  for (RecordHeader& header : next_major.headers) {
    if (header.key == "ce_type") header.value = "choreo.sagatest.v2.AmountAdded";
  }
  AmountAdded refused = Event("p-refused", "a", 7);
  refused.set_reject(true);
  const KafkaRecord rejected = Record(refused, "a");
  const KafkaRecord valid2 = Record(Event("p-2", "a", 2, 2), "a");
  for (const KafkaRecord* record :
       std::vector<const KafkaRecord*>{&valid1, &garbage, &unknown_type, &next_major, &rejected,
                                       &valid2}) {
    Produce(*record);
  }

  CountingObserver observer;
  Start(Options(&observer));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 6; }, kWait)) << observer.done();
  EXPECT_EQ(observer.handled, 2);
  EXPECT_EQ(observer.dead_lettered, 4);
  EXPECT_EQ(StateOf("a").balance(), 3);  // the records after the poison ones were handled

  // The dead letters: the original bytes, with where they came from and why.
  std::vector<KafkaRecord> dead = ReadToEnd(bootstrap(), kDlq);
  ASSERT_EQ(dead.size(), 4u);
  std::map<std::string, std::string> kind_by_id;
  for (const KafkaRecord& record : dead) {
    kind_by_id[std::string(record.Header("ce_id").value_or(""))] =
        std::string(record.Header(dlq::kErrorKind).value_or(""));
    EXPECT_EQ(record.Header(dlq::kOriginalTopic), kIn);
    EXPECT_EQ(record.Header(dlq::kService), "ledger");
    EXPECT_EQ(record.Header(dlq::kAttempts), "1");
    EXPECT_TRUE(record.Header(dlq::kOriginalOffset).has_value());
    EXPECT_TRUE(record.Header(dlq::kTime).has_value());
    EXPECT_FALSE(record.Header(dlq::kError).value_or("").empty());
    EXPECT_EQ(record.key, "a");
  }
  EXPECT_EQ(kind_by_id["p-garbage"], "undecodable");
  EXPECT_EQ(kind_by_id["p-type"], "unknown_type");
  EXPECT_EQ(kind_by_id["p-v2"], "unsupported_major_version");
  EXPECT_EQ(kind_by_id["p-refused"], "rejected");
  for (const KafkaRecord& record : dead) {
    if (record.Header("ce_id") == "p-garbage") {
      EXPECT_EQ(record.value, garbage.value);
    }
    if (record.Header("ce_id") == "p-refused") {
      EXPECT_EQ(record.value, rejected.value);
    }
  }

  // A dry run lists, replays nothing.
  dlq::ReplayOptions replay{.kafka_brokers = bootstrap(), .dlq_topic = kDlq, .dry_run = true};
  auto listed = dlq::ReplayDeadLetters(replay);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 4u);
  for (const dlq::ReplayEntry& entry : *listed) {
    EXPECT_FALSE(entry.replayed);
    EXPECT_EQ(entry.original_topic, kIn);
  }
  EXPECT_EQ(ReadToEnd(bootstrap(), kIn).size(), 6u);

  // The cause is fixed; replaying the rejected record applies it.
  accept_rejected_.store(true);
  replay.dry_run = false;
  replay.select = [](const KafkaRecord& r) { return r.Header(dlq::kErrorKind) == "rejected"; };
  auto replayed = dlq::ReplayDeadLetters(replay);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  ASSERT_EQ(replayed->size(), 1u);
  EXPECT_TRUE((*replayed)[0].replayed);
  EXPECT_EQ((*replayed)[0].event_id, "p-refused");
  ASSERT_TRUE(WaitUntil([&] { return StateOf("a").balance() == 10; }, kWait));
  EXPECT_EQ(ReadToEnd(bootstrap(), kIn).size(), 7u);
}

TEST_F(SagaRuntimeTest, PerKeyOrderHoldsUnderParallelWorkers) {
  constexpr int kAccounts = 12, kPerAccount = 25;
  for (int seq = 1; seq <= kPerAccount; ++seq) {
    for (int a = 0; a < kAccounts; ++a) {
      Produce(Event(absl::StrCat("o-", a, "-", seq), absl::StrCat("k", a), seq, seq));
    }
  }
  CountingObserver observer;
  SagaRuntimeOptions options = Options(&observer);
  options.workers = 6;
  SagaRuntime& runtime = Start(std::move(options));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == kAccounts * kPerAccount; }, kWait));
  // The lag hook: librdkafka's statistics show every partition caught up once offsets commit.
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::vector<kafka::PartitionLag> lag = runtime.ConsumerLag();
        int caught_up = 0;
        for (const kafka::PartitionLag& p : lag) caught_up += p.topic == kIn && p.lag == 0;
        return caught_up == 4;
      },
      kWait));
  EXPECT_EQ(observer.dead_lettered, 0);  // an out-of-order seq would have been dead-lettered
  for (int a = 0; a < kAccounts; ++a) {
    const Account state = StateOf(absl::StrCat("k", a));
    EXPECT_EQ(state.last_seq(), kPerAccount);
    EXPECT_EQ(state.balance(), kPerAccount * (kPerAccount + 1) / 2);
  }
  // The emitted events keep each key's order too.
  std::map<std::string, int64_t> last;
  for (const KafkaRecord& record : ReadToEnd(bootstrap(), kOut)) {
    AmountApplied applied;
    ASSERT_TRUE(applied.ParseFromString(record.value));
    EXPECT_EQ(applied.seq(), last[applied.account()] + 1) << applied.account();
    last[applied.account()] = applied.seq();
  }
}

TEST_F(SagaRuntimeTest, StopUnderLoadCommitsAllAcknowledgedWork) {
  constexpr int kTotal = 300;
  auto produce = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      Produce(Event(absl::StrCat("s-", i), absl::StrCat("s", i % 30), 1, i / 30 + 1));
    }
  };
  produce(0, kTotal / 2);
  CountingObserver first_observer;
  SagaRuntime& first = Start(Options(&first_observer));
  // Stop while records are queued and in flight: they are drained and their offsets committed.
  ASSERT_TRUE(WaitUntil([&] { return first_observer.done() >= 60; }, kWait));
  first.Stop();
  const int first_done = first_observer.done();
  EXPECT_GE(first_done, 60);
  EXPECT_LE(first_done, kTotal / 2);
  produce(kTotal / 2, kTotal);

  CountingObserver second_observer;
  Start(Options(&second_observer));
  ASSERT_TRUE(WaitUntil([&] { return first_done + second_observer.done() == kTotal; }, kWait))
      << first_done << " + " << second_observer.done();
  EXPECT_EQ(second_observer.duplicates, 0);  // nothing the first run finished came back
  EXPECT_EQ(first_observer.dead_lettered + second_observer.dead_lettered, 0);
  for (int a = 0; a < 30; ++a) EXPECT_EQ(StateOf(absl::StrCat("s", a)).applied(), 10);
  std::vector<KafkaRecord> out = ReadToEnd(bootstrap(), kOut);
  EXPECT_EQ(out.size(), size_t{kTotal});
  EXPECT_EQ(DistinctIds(out).size(), size_t{kTotal});
}

TEST_F(SagaRuntimeTest, StopPastTheDrainTimeoutAbandonsWithoutCommittingPastIt) {
  // Redis is away, so nothing can finish; the stop gives up after drain_timeout.
  for (int seq = 1; seq <= 5; ++seq) Produce(Event(absl::StrCat("t-", seq), "t", 1, seq));
  ASSERT_TRUE(redis_->Stop().ok());
  CountingObserver first_observer;
  SagaRuntimeOptions options = Options(&first_observer);
  options.drain_timeout = absl::Milliseconds(200);
  SagaRuntime& first = Start(std::move(options));
  ASSERT_TRUE(WaitUntil([&] { return first_observer.retries >= 1; }, kWait));
  const absl::Time before = absl::Now();
  first.Stop();
  EXPECT_LT(absl::Now() - before, absl::Seconds(10));
  EXPECT_EQ(first_observer.done(), 0);

  ASSERT_TRUE(redis_->Restart().ok());
  CountingObserver second_observer;
  Start(Options(&second_observer));
  ASSERT_TRUE(WaitUntil([&] { return second_observer.done() == 5; }, kWait));
  EXPECT_EQ(StateOf("t").applied(), 5);
}

// Records the event id of every retried attempt.
class RetriedIds : public CountingObserver {
 public:
  void OnRetry(const KafkaRecord& record, const absl::Status& error, int attempt) override {
    CountingObserver::OnRetry(record, error, attempt);
    absl::MutexLock lock(&mu_);
    ids_.insert(std::string(record.Header("ce_id").value_or("")));
  }
  std::set<std::string> ids() const {
    absl::MutexLock lock(&mu_);
    return ids_;
  }

 private:
  mutable absl::Mutex mu_;
  std::set<std::string> ids_;
};

TEST_F(SagaRuntimeTest, TheRecordsBehindAGivenUpOneInItsBatchAreNotStarted) {
  // One account's five records in one batch, Redis away: the first retries until the stop gives
  // it up; the other four are then given up without an attempt, so none of them can go ahead of
  // it (before, each got one attempt as the lane went through its batch).
  for (int seq = 1; seq <= 5; ++seq) Produce(Event(absl::StrCat("gu-", seq), "gu", 1, seq));
  ASSERT_TRUE(redis_->Stop().ok());
  RetriedIds observer;
  SagaRuntimeOptions options = Options(&observer);
  options.workers = 1;
  options.batch_window = absl::Seconds(1);
  options.drain_timeout = absl::Milliseconds(200);
  SagaRuntime& runtime = Start(std::move(options));
  ASSERT_TRUE(WaitUntil([&] { return observer.retries >= 2; }, kWait));
  runtime.Stop();
  EXPECT_EQ(observer.done(), 0);
  EXPECT_EQ(observer.ids(), (std::set<std::string>{"gu-1"}));

  ASSERT_TRUE(redis_->Restart().ok());
  CountingObserver second;
  Start(Options(&second));
  ASSERT_TRUE(WaitUntil([&] { return second.done() == 5; }, kWait));
  EXPECT_EQ(StateOf("gu").applied(), 5);
  EXPECT_EQ(StateOf("gu").last_seq(), 5);
}

TEST_F(SagaRuntimeTest, ARebalanceBetweenTwoInstancesKeepsEffectsExactlyOnce) {
  constexpr int kTotal = 200;
  for (int i = 0; i < kTotal; ++i) {
    Produce(Event(absl::StrCat("rb-", i), absl::StrCat("rb", i % 20), 1, i / 20 + 1));
  }
  CountingObserver a_observer, b_observer;
  SagaRuntime& a = Start(Options(&a_observer));
  ASSERT_TRUE(WaitUntil([&] { return a_observer.done() >= 30; }, kWait));
  Start(Options(&b_observer));  // joins the group: partitions move
  ASSERT_TRUE(WaitUntil([&] { return b_observer.done() >= 1 || a_observer.done() >= kTotal; },
                        kWait));
  a.Stop();  // leaves: everything moves to b
  ASSERT_TRUE(WaitUntil(
      [&] { return a_observer.handled + b_observer.handled == kTotal; }, kWait))
      << a_observer.handled << " + " << b_observer.handled;
  for (int k = 0; k < 20; ++k) EXPECT_EQ(StateOf(absl::StrCat("rb", k)).applied(), 10);
  EXPECT_EQ(a_observer.dead_lettered + b_observer.dead_lettered, 0);
  EXPECT_EQ(DistinctIds(ReadToEnd(bootstrap(), kOut)).size(), size_t{kTotal});
}

// Effects after the commit ("mirror"): what each call saw.
struct EffectRun {
  std::string event_id;
  int64_t committed_balance = 0;
  int64_t stored_balance = 0;  // read from Redis inside the effect: the commit happened first
};

class EffectLog {
 public:
  void Add(EffectRun call) {
    absl::MutexLock lock(&mu_);
    calls_.push_back(std::move(call));
  }
  std::vector<EffectRun> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  size_t size() const { return calls().size(); }

 private:
  mutable absl::Mutex mu_;
  std::vector<EffectRun> calls_;
};

TEST_F(SagaRuntimeTest, AnEffectRunsAfterTheCommitOnceAndPublishesItsResultInTheSaga) {
  EffectLog log;
  effect_ = [&](const Account& committed, const AmountAdded& event, const EffectContext& context) {
    log.Add({event.meta().event_id(), committed.balance(), StateOf(event.account()).balance()});
    AmountApplied mirrored;
    mirrored.set_account(event.account() + "-mirror");
    mirrored.set_balance_after(committed.balance());
    publish::Origin origin = context.origin;
    origin.event_id = ids::EventId("mirror-of-" + context.meta.event_id());  // stable: a repeat is the same
    return context.publisher.Publish(mirrored, kOut, event.account(), origin);
  };
  const KafkaRecord record = Record(Event("fx-1", "f", 30, 1), "f");
  Produce(record);
  Produce(record);  // the same record again: handled once, its effect already completed
  CountingObserver observer;
  Start(Options(&observer));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 2; }, kWait));
  EXPECT_EQ(observer.handled, 1);
  EXPECT_EQ(observer.duplicates, 1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log.calls()[0].committed_balance, 30);
  EXPECT_EQ(log.calls()[0].stored_balance, 30);

  // The reaction's event and the effect's result, both caused by fx-1, in its trace.
  std::vector<KafkaRecord> out = ReadToEnd(bootstrap(), kOut);
  EXPECT_EQ(DistinctIds(out).size(), 2u);
  EXPECT_TRUE(DistinctIds(out).contains("mirror-of-fx-1"));
  for (const KafkaRecord& published : out) {
    auto meta = codec::DecodeMeta(published.value);
    ASSERT_TRUE(meta.ok());
    EXPECT_EQ(meta->causation_id(), "fx-1");
    EXPECT_EQ(meta->correlation_id(), "corr-fx-1");
    EXPECT_EQ(meta->producer(), "ledger");
    EXPECT_EQ(meta->traceparent().substr(0, 36), "00-0af7651916cd43dd8448eb211c80319c-");
  }
}

TEST_F(SagaRuntimeTest, AnEffectFreeToRepeatRunsOnEveryHandlingAndRecordsNoCompletion) {
  EffectLog log;
  effect_repeats_ = HandlerRegistry::Repeats::kFreely;
  effect_ = [&](const Account& committed, const AmountAdded& event, const EffectContext&) {
    log.Add({event.meta().event_id(), committed.balance(), 0});
    return absl::OkStatus();
  };
  const KafkaRecord record = Record(Event("ff-1", "ff", 7, 1), "ff");
  Produce(record);
  Produce(record);  // a duplicate: applied once, its effect runs again
  CountingObserver observer;
  Start(Options(&observer));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 2; }, kWait));
  EXPECT_EQ(observer.handled, 1);
  EXPECT_EQ(observer.duplicates, 1);
  // The lane remembers the state it committed, so the duplicate is decided on it too before its
  // commit finds the marker (a pure decision twice; the state changed once).
  EXPECT_EQ(decided_, 2);
  EXPECT_EQ(StateOf("ff").applied(), 1);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log.calls()[1].committed_balance, 7);
  redis::RedisConnection connection({.address = {redis_->host(), redis_->port()}});
  auto keys = connection.Command({"KEYS", "effect:*"});
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->elements.empty()) << "no completion record";
}

TEST_F(SagaRuntimeTest, AnEffectAloneRunsOncePerEventAndStoresNothingElse) {
  EffectLog log;
  effect_alone_ = [&](const AmountAdded& event, const EffectContext& context) {
    log.Add({event.meta().event_id(), 0, 0});
    AmountApplied notice;
    notice.set_account(event.account());
    publish::Origin origin = context.origin;
    origin.event_id = ids::EventId("notice-of-" + context.meta.event_id());
    return context.publisher.Publish(notice, kOut, event.account(), origin);
  };
  const KafkaRecord record = Record(Event("fa-1", "fa", 3), "fa");
  Produce(record);
  Produce(record);  // the same event again: its effect completed, it does not run again
  Produce(Event("fa-2", "fa", 4));
  CountingObserver observer;
  Start(Options(&observer));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 3; }, kWait));
  EXPECT_EQ(observer.handled, 2);
  EXPECT_EQ(observer.duplicates, 1);
  EXPECT_EQ(decided_, 0);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(StateOf("fa").balance(), 0) << "no state";
  std::vector<KafkaRecord> out = ReadToEnd(bootstrap(), kOut);
  EXPECT_EQ(DistinctIds(out), (std::set<std::string>{"notice-of-fa-1", "notice-of-fa-2"}));
}

TEST_F(SagaRuntimeTest, AnEffectAloneFreeToRepeatRunsOnEveryHandlingAndStoresNothing) {
  // Its own exactly-once (the notification inbox's marker and write in one Lua step): the
  // runtime neither asks for nor writes a completion record.
  std::vector<std::string> ran;
  absl::Mutex mu;
  effect_repeats_ = HandlerRegistry::Repeats::kFreely;
  effect_alone_ = [&](const AmountAdded& event, const EffectContext&) {
    absl::MutexLock lock(&mu);
    ran.push_back(event.meta().event_id());
    return absl::OkStatus();
  };
  const KafkaRecord record = Record(Event("fr-1", "fr", 3), "fr");
  Produce(record);
  Produce(record);  // the same event again: it runs again
  CountingObserver observer;
  Start(Options(&observer));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 2; }, kWait));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(ran, (std::vector<std::string>{"fr-1", "fr-1"}));
  redis::RedisConnection connection({.address = {redis_->host(), redis_->port()}});
  auto keys = connection.Command({"KEYS", "*"});
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->elements.empty()) << "no completion record, no state, no marker";
}

TEST_F(SagaRuntimeTest, AnEffectCutShortByACrashRunsAgainWhenTheRecordComesBack) {
  EffectLog log;
  effect_ = [&](const Account& committed, const AmountAdded& event, const EffectContext&) {
    log.Add({event.meta().event_id(), committed.balance(), 0});
    return absl::OkStatus();
  };
  Produce(Event("fc-1", "g", 5, 1));
  std::atomic<bool> crashed_once{false};
  CountingObserver first_observer;
  SagaRuntimeOptions options = Options(&first_observer);
  options.crash_hook = [&](CrashPoint point, const KafkaRecord&) {
    return point == CrashPoint::kAfterPublishBeforeEffect && !crashed_once.exchange(true);
  };
  SagaRuntime& first = Start(std::move(options));
  ASSERT_TRUE(WaitUntil([&] { return first.crashed(); }, kWait));
  first.Stop();
  EXPECT_EQ(log.size(), 0u);

  // The restart finds the record handled and its effect not done: it runs it, deciding nothing.
  CountingObserver second_observer;
  Start(Options(&second_observer));
  ASSERT_TRUE(WaitUntil([&] { return second_observer.done() == 1; }, kWait));
  EXPECT_EQ(second_observer.duplicates, 1);
  EXPECT_EQ(decided_, 1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log.calls()[0].committed_balance, 5);
  EXPECT_EQ(StateOf("g").applied(), 1);
}

TEST_F(SagaRuntimeTest, ATransientEffectFailureRetriesTheEffectAloneAndAPermanentOneDeadLetters) {
  std::atomic<int> transient_left{2};
  EffectLog log;
  effect_ = [&](const Account& committed, const AmountAdded& event,
                const EffectContext&) -> absl::Status {
    log.Add({event.meta().event_id(), committed.balance(), 0});
    if (event.account() == "p") return absl::FailedPreconditionError("no such mirror");
    if (transient_left.fetch_sub(1) > 0) return absl::UnavailableError("mirror away");
    return absl::OkStatus();
  };
  Produce(Event("ft-1", "t", 7, 1));
  Produce(Event("fp-1", "p", 9, 1));
  CountingObserver observer;
  Start(Options(&observer));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 2; }, kWait));
  EXPECT_EQ(decided_, 2);  // one decision per record, however often its effect was tried
  EXPECT_EQ(observer.retries, 2);
  EXPECT_EQ(observer.handled, 1);
  EXPECT_EQ(observer.dead_lettered, 1);
  EXPECT_EQ(log.size(), 4u);  // t: 2 failures + 1 success; p: 1 permanent failure
  EXPECT_EQ(StateOf("t").balance(), 7);
  EXPECT_EQ(StateOf("p").balance(), 9);  // committed: only the effect failed

  std::vector<KafkaRecord> dead = ReadToEnd(bootstrap(), kDlq);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].Header("ce_id"), "fp-1");
  EXPECT_THAT(std::string(dead[0].Header(dlq::kError).value_or("")),
              ::testing::HasSubstr("effect mirror: no such mirror"));
}

// A Redis store that test stores derive from to change one call; the rest goes to Redis.
class ForwardingStore : public store::AggregateStore {
 public:
  explicit ForwardingStore(redis::RedisConnection::Options options) : real_(std::move(options)) {}
  absl::StatusOr<store::AggregateSnapshot> Load(const store::AggregateRef& aggregate,
                                                absl::string_view event_id) override {
    return real_.Load(aggregate, event_id);
  }
  absl::StatusOr<store::CommitResult> Commit(const store::AggregateRef& aggregate,
                                             absl::string_view event_id, int64_t expected_version,
                                             const std::optional<std::string>& new_state,
                                             const std::string& outcome,
                                             absl::Duration retention) override {
    return real_.Commit(aggregate, event_id, expected_version, new_state, outcome, retention);
  }
  absl::StatusOr<bool> EffectDone(const store::AggregateRef& aggregate,
                                  absl::string_view event_id) override {
    return real_.EffectDone(aggregate, event_id);
  }
  absl::Status MarkEffectDone(const store::AggregateRef& aggregate, absl::string_view event_id,
                              absl::Duration retention) override {
    return real_.MarkEffectDone(aggregate, event_id, retention);
  }

 protected:
  store::RedisAggregateStore real_;
};

// A Redis store that remembers the largest batch it was asked to commit.
class BatchCountingStore : public ForwardingStore {
 public:
  BatchCountingStore(redis::RedisConnection::Options options, std::atomic<size_t>* largest)
      : ForwardingStore(std::move(options)), largest_(largest) {}
  absl::StatusOr<std::vector<store::AggregateSnapshot>> LoadMany(
      const std::vector<store::AggregateEvent>& items) override {
    return real_.LoadMany(items);
  }
  absl::StatusOr<std::vector<store::CommitResult>> CommitMany(
      const std::vector<store::CommitRequest>& commits, absl::Duration retention) override {
    size_t seen = largest_->load();
    while (commits.size() > seen && !largest_->compare_exchange_weak(seen, commits.size())) {
    }
    return real_.CommitMany(commits, retention);
  }

 private:
  std::atomic<size_t>* largest_;
};

// A Redis store that records the size of every batch it was asked to commit.
class CommitSizesStore : public ForwardingStore {
 public:
  CommitSizesStore(redis::RedisConnection::Options options, absl::Mutex* mu,
                   std::vector<size_t>* sizes)
      : ForwardingStore(std::move(options)), mu_(mu), sizes_(sizes) {}
  absl::StatusOr<std::vector<store::AggregateSnapshot>> LoadMany(
      const std::vector<store::AggregateEvent>& items) override {
    return real_.LoadMany(items);
  }
  absl::StatusOr<std::vector<store::CommitResult>> CommitMany(
      const std::vector<store::CommitRequest>& commits, absl::Duration retention) override {
    {
      absl::MutexLock lock(mu_);
      sizes_->push_back(commits.size());
    }
    return real_.CommitMany(commits, retention);
  }

 private:
  absl::Mutex* mu_;
  std::vector<size_t>* sizes_;
};

// A batch in which some accounts come back: each account's n-th record goes in the batch's n-th
// run, so a repeated account holds back only its own later records, and every account's records
// are still applied in their order (the ledger dead-letters a seq out of order).
TEST_F(SagaRuntimeTest, ARepeatedKeyHoldsBackOnlyItsOwnRecordsInABatch) {
  // a1 b1 a2 c1 d1 a3 b2: one run at a repeat would make [a1 b1] [a2 c1 d1] [a3 b2].
  const std::vector<std::pair<std::string, int>> records = {{"a", 1}, {"b", 1}, {"a", 2}, {"c", 1},
                                                            {"d", 1}, {"a", 3}, {"b", 2}};
  for (const auto& [account, seq] : records) {
    Produce(Event(absl::StrCat("rk-", account, seq), absl::StrCat("rk-", account), seq, seq));
  }
  absl::Mutex mu;
  std::vector<size_t> sizes;
  const redis::RedisConnection::Options connection{.address = {redis_->host(), redis_->port()}};
  CountingObserver observer;
  StartOneBatchingLane(&observer,
                       [&] { return std::make_unique<CommitSizesStore>(connection, &mu, &sizes); });
  ASSERT_TRUE(
      WaitUntil([&] { return observer.done() == static_cast<int>(records.size()); }, kWait));
  EXPECT_EQ(observer.handled, static_cast<int>(records.size()));
  EXPECT_EQ(observer.dead_lettered, 0);
  EXPECT_EQ(StateOf("rk-a").balance(), 1 + 2 + 3);
  EXPECT_EQ(StateOf("rk-a").last_seq(), 3);
  EXPECT_EQ(StateOf("rk-b").last_seq(), 2);
  EXPECT_EQ(StateOf("rk-d").last_seq(), 1);
  absl::MutexLock lock(&mu);
  // Runs of [a1 b1 c1 d1] and [a2 b2] commit together; a3, alone in the last run, commits alone.
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 2}));
}

// A lane's batch crashes at each of its boundaries: after the whole run is committed and before
// any of it is published; mid-run, after the third record's events were acknowledged and before
// its offset is stored; before the third record's effect. After a restart every record is
// applied once and every event goes out under one id.
struct BatchCrash {
  CrashPoint point;
  int nth;  // the record the crash comes with; -1: the first asked (a run asks with its first)
  const char* name;
};
class BatchCrashTest : public SagaRuntimeTest, public ::testing::WithParamInterface<BatchCrash> {};

TEST_P(BatchCrashTest, ACrashAtABatchBoundaryLosesNothingAndAppliesNothingTwice) {
  constexpr int kRecords = 8;
  for (int i = 0; i < kRecords; ++i) {
    Produce(Event(absl::StrCat("batch-", i), absl::StrCat("batch-account-", i), 10 + i, 1));
  }
  EffectLog log;
  effect_ = [&](const Account& committed, const AmountAdded& event, const EffectContext&) {
    log.Add({event.meta().event_id(), committed.balance(), 0});
    return absl::OkStatus();
  };
  std::atomic<size_t> largest{0};
  const redis::RedisConnection::Options connection{.address = {redis_->host(), redis_->port()}};
  std::atomic<bool> crashed_once{false};
  CountingObserver first_observer;
  SagaRuntimeOptions options = Options(&first_observer);
  options.workers = 1;  // one lane takes all of them...
  options.batch_window = absl::Seconds(1);  // ...at once
  options.store_factory = [&] { return std::make_unique<BatchCountingStore>(connection, &largest); };
  options.crash_hook = [&](CrashPoint point, const KafkaRecord& record) {
    return point == GetParam().point &&
           (GetParam().nth < 0 ||
            record.Header("ce_id") == absl::StrCat("batch-", GetParam().nth)) &&
           !crashed_once.exchange(true);
  };
  SagaRuntime& first = Start(std::move(options));
  ASSERT_TRUE(WaitUntil([&] { return first.crashed(); }, kWait));
  first.Stop();
  EXPECT_EQ(largest.load(), static_cast<size_t>(kRecords));  // one run committed them all

  CountingObserver second_observer;
  Start(Options(&second_observer));
  // Nothing's offset was stored at the crash: every record comes back, each found handled.
  ASSERT_TRUE(WaitUntil([&] { return second_observer.done() == kRecords; }, kWait));
  EXPECT_EQ(second_observer.duplicates, kRecords);
  for (int i = 0; i < kRecords; ++i) {
    const Account state = StateOf(absl::StrCat("batch-account-", i));
    EXPECT_EQ(state.applied(), 1);
    EXPECT_EQ(state.balance(), 10 + i);
  }
  std::vector<KafkaRecord> out = ReadToEnd(bootstrap(), kOut);
  EXPECT_EQ(DistinctIds(out).size(), static_cast<size_t>(kRecords));
  // Each record's effect ran once, except that a record whose effect ran before the crash but
  // whose offset was not stored runs it again (at least once); none was skipped.
  std::set<std::string> effected;
  for (const EffectRun& call : log.calls()) effected.insert(call.event_id);
  EXPECT_EQ(effected.size(), static_cast<size_t>(kRecords));
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, BatchCrashTest,
    ::testing::Values(BatchCrash{CrashPoint::kAfterCommitBeforePublish, -1, "AfterCommit"},
                      BatchCrash{CrashPoint::kAfterPublishBeforeEffect, 2, "MidBeforeEffect"},
                      BatchCrash{CrashPoint::kAfterPublishBeforeOffsetStore, 2, "MidBeforeOffset"}),
    [](const auto& info) { return std::string(info.param.name); });

// An effect with a batch form runs once for a lane's batch, on each record's committed state;
// when the batch form fails, each record's effect runs alone.
// Counts the calls of an effect's batch form and the records they carried; fails them on demand.
struct BatchForm {
  std::atomic<int> calls{0}, records{0};
  std::atomic<bool> fail{false};
  absl::Status Run(size_t records_in_call) {
    ++calls;
    if (fail.load()) return absl::UnavailableError("batch form away");
    records += static_cast<int>(records_in_call);
    return absl::OkStatus();
  }
};

TEST_F(SagaRuntimeTest, AnEffectWithABatchFormRunsOnceForABatchAndAloneWhenItFails) {
  constexpr int kRecords = 6;
  for (int i = 0; i < kRecords; ++i) {
    Produce(Event(absl::StrCat("em-", i), absl::StrCat("em-account-", i), 10 + i, 1));
  }
  EffectLog alone;
  BatchForm batch;
  effect_ = [&](const Account& committed, const AmountAdded& event, const EffectContext&) {
    alone.Add({event.meta().event_id(), committed.balance(), 0});
    return absl::OkStatus();
  };
  effect_many_ = [&](const std::vector<Account>& committed,
                     const std::vector<const AmountAdded*>& events) -> absl::Status {
    EXPECT_EQ(committed.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(committed[i].balance(), events[i]->amount());  // the state as committed
    }
    return batch.Run(events.size());
  };
  CountingObserver first;
  SagaRuntime& runtime = StartOneBatchingLane(&first);
  ASSERT_TRUE(WaitUntil([&] { return first.done() == kRecords; }, kWait));
  EXPECT_EQ(batch.calls, 1);
  EXPECT_EQ(batch.records, kRecords);
  EXPECT_EQ(alone.size(), 0u);

  // The batch form fails: every record's effect runs alone instead, once.
  runtime.Stop();
  batch.fail = true;
  for (int i = 0; i < kRecords; ++i) {
    Produce(Event(absl::StrCat("em2-", i), absl::StrCat("em2-account-", i), 10 + i, 1));
  }
  CountingObserver second;
  StartOneBatchingLane(&second);
  ASSERT_TRUE(WaitUntil([&] { return second.done() == kRecords; }, kWait));
  EXPECT_EQ(batch.calls, 2);
  EXPECT_EQ(second.handled, kRecords);
  std::set<std::string> ran;
  for (const EffectRun& call : alone.calls()) ran.insert(call.event_id);
  EXPECT_EQ(ran.size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(alone.size(), static_cast<size_t>(kRecords));
}

// Counts the effect completions asked for and recorded, one by one and many at once.
class CompletionCountingStore : public ForwardingStore {
 public:
  struct Counts {
    std::atomic<int> one_asked{0}, one_marked{0}, many_asked{0}, many_marked{0};
  };
  CompletionCountingStore(redis::RedisConnection::Options options, Counts* counts)
      : ForwardingStore(std::move(options)), counts_(counts) {}
  absl::StatusOr<bool> EffectDone(const store::AggregateRef& aggregate,
                                  absl::string_view event_id) override {
    ++counts_->one_asked;
    return ForwardingStore::EffectDone(aggregate, event_id);
  }
  absl::Status MarkEffectDone(const store::AggregateRef& aggregate, absl::string_view event_id,
                              absl::Duration retention) override {
    ++counts_->one_marked;
    return ForwardingStore::MarkEffectDone(aggregate, event_id, retention);
  }
  absl::StatusOr<std::vector<bool>> EffectsDone(
      const std::vector<store::AggregateEvent>& items) override {
    counts_->many_asked += static_cast<int>(items.size());
    return real_.EffectsDone(items);
  }
  absl::Status MarkEffectsDone(const std::vector<store::AggregateEvent>& items,
                               absl::Duration retention) override {
    counts_->many_marked += static_cast<int>(items.size());
    return real_.MarkEffectsDone(items, retention);
  }

 private:
  Counts* counts_;
};

TEST_F(SagaRuntimeTest, EffectsAloneWithABatchFormRunOnceForABatchAndAloneWhenItFails) {
  constexpr int kRecords = 6;
  for (int i = 0; i < kRecords; ++i) {
    Produce(Event(absl::StrCat("ea-", i), absl::StrCat("ea-account-", i), 10 + i));
  }
  std::atomic<int> alone{0};
  BatchForm batch;
  effect_alone_ = [&](const AmountAdded&, const EffectContext&) {
    ++alone;
    return absl::OkStatus();
  };
  effect_alone_many_ = [&](const std::vector<const AmountAdded*>& events,
                           const std::vector<const EffectContext*>&) -> absl::Status {
    return batch.Run(events.size());
  };
  CountingObserver first;
  CompletionCountingStore::Counts counts;
  const redis::RedisConnection::Options connection{.address = {redis_->host(), redis_->port()}};
  SagaRuntime& runtime = StartOneBatchingLane(
      &first, [&] { return std::make_unique<CompletionCountingStore>(connection, &counts); });
  ASSERT_TRUE(WaitUntil([&] { return first.done() == kRecords; }, kWait));
  EXPECT_EQ(batch.calls, 1);
  EXPECT_EQ(batch.records, kRecords);
  EXPECT_EQ(alone, 0);
  EXPECT_EQ(first.handled, kRecords);
  // Their completions asked for and recorded for the whole batch at once, none one by one.
  EXPECT_EQ(counts.many_asked, kRecords);
  EXPECT_EQ(counts.many_marked, kRecords);
  EXPECT_EQ(counts.one_asked, 0);
  EXPECT_EQ(counts.one_marked, 0);
  redis::RedisConnection redis(connection);
  auto completions = redis.Command({"KEYS", "effect:*"});
  ASSERT_TRUE(completions.ok());
  EXPECT_EQ(completions->elements.size(), static_cast<size_t>(kRecords)) << "each one recorded";

  // The batch form fails: every record's effect runs alone instead, once; one that completed
  // before, re-delivered in the batch, does not run again.
  runtime.Stop();
  batch.fail = true;
  for (int i = 0; i < kRecords; ++i) {
    Produce(Event(absl::StrCat("ea2-", i), absl::StrCat("ea2-account-", i), 10 + i));
  }
  Produce(Event("ea-0", "ea-account-0", 10));
  CountingObserver second;
  StartOneBatchingLane(&second);
  ASSERT_TRUE(WaitUntil([&] { return second.done() == kRecords + 1; }, kWait));
  EXPECT_EQ(batch.calls, 2);
  EXPECT_EQ(alone, kRecords);
  EXPECT_EQ(second.handled, kRecords);
  EXPECT_EQ(second.duplicates, 1);
}

TEST_F(SagaRuntimeTest, OneKeysEffectsAloneShareABatchFormInTheirOrderAndOneEventRunsOnce) {
  // Six events of one account (one key, one aggregate) and a second copy of the third: the six
  // go to the batch form at once, in their order; the copy, in a run after them, finds the
  // third's completion and runs nothing.
  constexpr int kRecords = 6;
  for (int i = 0; i < kRecords; ++i) Produce(Event(absl::StrCat("ek-", i), "ek-account", 10 + i));
  Produce(Event("ek-2", "ek-account", 12));
  std::atomic<int> alone{0};
  BatchForm batch;
  absl::Mutex mu;
  std::vector<std::string> order;
  effect_alone_ = [&](const AmountAdded& event, const EffectContext&) {
    ++alone;
    absl::MutexLock lock(&mu);
    order.push_back(event.meta().event_id());
    return absl::OkStatus();
  };
  effect_alone_many_ = [&](const std::vector<const AmountAdded*>& events,
                           const std::vector<const EffectContext*>&) -> absl::Status {
    absl::Status ran = batch.Run(events.size());
    absl::MutexLock lock(&mu);
    for (const AmountAdded* event : events) {
      if (ran.ok()) order.push_back(event->meta().event_id());
    }
    return ran;
  };
  CountingObserver observer;
  SagaRuntime& runtime = StartOneBatchingLane(&observer);
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == kRecords + 1; }, kWait));
  EXPECT_EQ(batch.calls, 1);
  EXPECT_EQ(alone, 0);
  EXPECT_EQ(observer.handled, kRecords);
  EXPECT_EQ(observer.duplicates, 1);
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(order, (std::vector<std::string>{"ek-0", "ek-1", "ek-2", "ek-3", "ek-4", "ek-5"}));
    order.clear();
  }

  // The batch form fails: each record's effect runs alone, still in the account's order.
  runtime.Stop();
  batch.fail = true;
  for (int i = 0; i < kRecords; ++i) Produce(Event(absl::StrCat("ek2-", i), "ek-account", 20 + i));
  CountingObserver second;
  StartOneBatchingLane(&second);
  ASSERT_TRUE(WaitUntil([&] { return second.done() == kRecords; }, kWait));
  EXPECT_EQ(batch.calls, 2);
  EXPECT_EQ(alone, kRecords);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order,
            (std::vector<std::string>{"ek2-0", "ek2-1", "ek2-2", "ek2-3", "ek2-4", "ek2-5"}));
}

TEST_F(SagaRuntimeTest, WhatABatchFormPublishesContinuesEachRecordsOwnTrace) {
  // Four sagas, each its own trace, handled in one batch: each one's notice stays in its trace.
  constexpr int kRecords = 4;
  const auto trace_of = [](int i) { return absl::StrCat("0af7651916cd43dd8448eb211c80319", i); };
  for (int i = 0; i < kRecords; ++i) {
    AmountAdded event = Event(absl::StrCat("tr-", i), absl::StrCat("tr-account-", i), i);
    event.mutable_meta()->set_traceparent(absl::StrCat("00-", trace_of(i), "-b7ad6b7169203331-01"));
    Produce(event);
  }
  std::atomic<int> batch_calls{0};
  effect_alone_ = [&](const AmountAdded&, const EffectContext&) { return absl::OkStatus(); };
  effect_alone_many_ = [&](const std::vector<const AmountAdded*>& events,
                           const std::vector<const EffectContext*>& contexts) -> absl::Status {
    ++batch_calls;
    for (size_t i = 0; i < events.size(); ++i) {
      AmountApplied notice;
      notice.set_account(events[i]->account());
      if (absl::Status sent = contexts[i]->publisher.Publish(notice, kOut, events[i]->account(),
                                                             contexts[i]->origin);
          !sent.ok()) {
        return sent;
      }
    }
    return absl::OkStatus();
  };
  CountingObserver observer;
  StartOneBatchingLane(&observer);
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == kRecords; }, kWait));
  EXPECT_EQ(batch_calls, 1);
  std::vector<KafkaRecord> out = ReadToEnd(bootstrap(), kOut);
  ASSERT_EQ(out.size(), static_cast<size_t>(kRecords));
  for (const KafkaRecord& record : out) {
    AmountApplied notice;
    ASSERT_TRUE(notice.ParseFromString(record.value));
    const int saga = notice.account().back() - '0';  // tr-account-<saga>
    EXPECT_EQ(notice.meta().traceparent().substr(3, 32), trace_of(saga)) << notice.account();
    EXPECT_EQ(notice.meta().causation_id(), absl::StrCat("tr-", saga));
  }
}

// A store that lets a rival write the aggregate between the runtime's load and its commit, once
// per aggregate: the runtime must see the conflict, reload and decide again.
class RacingStore : public ForwardingStore {
 public:
  RacingStore(redis::RedisConnection::Options options, std::atomic<int>* races)
      : ForwardingStore(options), rival_(options), races_(races) {}
  absl::StatusOr<store::CommitResult> Commit(const store::AggregateRef& aggregate,
                                             absl::string_view event_id, int64_t expected_version,
                                             const std::optional<std::string>& new_state,
                                             const std::string& outcome,
                                             absl::Duration retention) override {
    if (raced_.insert(aggregate.id).second) {
      // The rival adds 1000 to the balance under its own event id.
      Account rival;
      auto current = real_.Load(aggregate, "rival");
      if (!current.ok()) return current.status();
      rival.ParseFromString(current->state);
      rival.set_balance(rival.balance() + 1000);
      auto won = rival_.Commit(aggregate, absl::StrCat("rival-", aggregate.id), current->version,
                               rival.SerializeAsString(), "", retention);
      if (!won.ok()) return won.status();
      ++*races_;
    }
    return real_.Commit(aggregate, event_id, expected_version, new_state, outcome, retention);
  }

 private:
  store::RedisAggregateStore rival_;
  std::set<std::string> raced_;
  std::atomic<int>* races_;
};

TEST_F(SagaRuntimeTest, AVersionConflictReloadsAndDecidesAgain) {
  for (int a = 0; a < 4; ++a) Produce(Event(absl::StrCat("vc-", a), absl::StrCat("v", a), 5, 1));
  std::atomic<int> races{0};
  CountingObserver observer;
  SagaRuntimeOptions options = Options(&observer);
  options.workers = 1;  // one store, so each aggregate races exactly once
  const redis::RedisConnection::Options connection{.address = {redis_->host(), redis_->port()}};
  options.store_factory = [&] { return std::make_unique<RacingStore>(connection, &races); };
  Start(std::move(options));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 4; }, kWait));
  EXPECT_EQ(races, 4);
  for (int a = 0; a < 4; ++a) {
    const Account state = StateOf(absl::StrCat("v", a));
    EXPECT_EQ(state.balance(), 1005);  // the rival's write survived and ours was applied on top
    EXPECT_EQ(state.applied(), 1);
  }
}

// A lane remembers the state it committed; another writer then changes the aggregate. The next
// event is decided on the remembered state first, the commit refuses it (version), and it is
// decided again on the stored state: the other writer's change survives.
TEST_F(SagaRuntimeTest, ARememberedStateThatWentStaleIsReloadedNotTrusted) {
  CountingObserver observer;
  SagaRuntimeOptions options = Options(&observer);
  options.workers = 1;
  Start(std::move(options));
  Produce(Event("stale-1", "s", 5, 1));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 1; }, kWait));

  store::RedisAggregateStore rival({.address = {redis_->host(), redis_->port()}});
  const store::AggregateRef aggregate{"ledger.account", "s"};
  absl::StatusOr<store::AggregateSnapshot> current = rival.Load(aggregate, "rival");
  ASSERT_TRUE(current.ok()) << current.status();
  Account changed;
  ASSERT_TRUE(changed.ParseFromString(current->state));
  changed.set_balance(changed.balance() + 1000);
  absl::StatusOr<store::CommitResult> won =
      rival.Commit(aggregate, "rival-write", current->version, changed.SerializeAsString(), "",
                   absl::Minutes(1));
  ASSERT_TRUE(won.ok()) << won.status();
  ASSERT_EQ(won->outcome, store::CommitOutcome::kCommitted);

  const int decided_before = decided_;
  Produce(Event("stale-2", "s", 7, 2));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 2; }, kWait));
  const Account state = StateOf("s");
  EXPECT_EQ(state.balance(), 5 + 1000 + 7);
  EXPECT_EQ(state.applied(), 2);
  EXPECT_EQ(decided_ - decided_before, 2);  // on the remembered state, then on the stored one
}

// A Redis store that counts the loads asked of it.
class LoadCountingStore : public ForwardingStore {
 public:
  LoadCountingStore(redis::RedisConnection::Options options, std::atomic<int>* loads)
      : ForwardingStore(options), loads_(loads) {}
  absl::StatusOr<store::AggregateSnapshot> Load(const store::AggregateRef& aggregate,
                                                absl::string_view event_id) override {
    ++*loads_;
    return real_.Load(aggregate, event_id);
  }
  absl::StatusOr<std::vector<store::AggregateSnapshot>> LoadMany(
      const std::vector<store::AggregateEvent>& items) override {
    *loads_ += static_cast<int>(items.size());
    return real_.LoadMany(items);
  }

 private:
  std::atomic<int>* loads_;
};

// `options` on `workers` lanes whose stores count in `loads` the loads asked of them.
SagaRuntimeOptions WithLoadsCounted(SagaRuntimeOptions options, int workers,
                                    std::atomic<int>* loads) {
  options.workers = workers;
  options.store_factory = [connection = *redis::RedisConnection::OptionsFor(options.redis_address),
                           loads] {
    return std::make_unique<LoadCountingStore>(connection, loads);
  };
  return options;
}

// The lanes remember aggregates together: an event whose key puts it on another lane than the
// aggregate's previous event (an order's payment after its request) is decided on what that lane
// committed, without a load.
TEST_F(SagaRuntimeTest, AnAggregateOneLaneCommittedIsNotLoadedByAnother) {
  std::atomic<int> loads{0};
  CountingObserver observer;
  Start(WithLoadsCounted(Options(&observer), 4, &loads));
  // Two record keys that the consumer loop puts on different lanes (it hashes the key).
  const auto lane_of = [](const std::string& key) { return absl::HashOf(key) % 4; };
  std::string other = "key-1";
  for (int i = 2; lane_of(other) == lane_of("key-0"); ++i) other = absl::StrCat("key-", i);
  Produce(Record(Event("shared-1", "shared", 5, 1), "key-0"));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 1; }, kWait));
  EXPECT_EQ(loads, 1) << "the first event loads the aggregate";
  Produce(Record(Event("shared-2", "shared", 7, 2), other));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 2; }, kWait));
  EXPECT_EQ(loads, 1) << "the second, on another lane, is decided on what the first committed";
  EXPECT_EQ(StateOf("shared").balance(), 12);
  EXPECT_EQ(StateOf("shared").applied(), 2);
}

// An event that starts its aggregate is decided on a new state without a load. When the
// aggregate exists after all, the guess is refused (by the decision, by the version, or by the
// marker of a re-delivery) and the stored state decides: nothing is lost or applied twice.
TEST_F(SagaRuntimeTest, AnEventThatStartsItsAggregateIsNotLoadedUnlessItExists) {
  starts_aggregate_ = true;
  std::atomic<int> loads{0};
  CountingObserver observer;
  const SagaRuntimeOptions options = WithLoadsCounted(Options(&observer), 1, &loads);
  Start(options);
  Produce(Event("new-1", "n", 5, 1));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 1; }, kWait));
  EXPECT_EQ(loads, 0) << "a new aggregate is not loaded";
  EXPECT_EQ(StateOf("n").balance(), 5);

  // Two aggregates another writer made: x at seq 1, y.
  store::RedisAggregateStore rival(redis_->ConnectionOptions());
  Account existing;
  existing.set_balance(100);
  existing.set_applied(1);
  existing.set_last_seq(1);
  for (const char* id : {"x", "y"}) {
    absl::StatusOr<store::CommitResult> made =
        rival.Commit({"ledger.account", id}, absl::StrCat("made-", id), 0,
                     existing.SerializeAsString(), "", absl::Minutes(1));
    ASSERT_TRUE(made.ok() && made->outcome == store::CommitOutcome::kCommitted);
  }
  int decided_before = decided_;
  Produce(Event("x-2", "x", 7, 2));  // refused on a new state (seq 2 after 0), then loaded
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 2; }, kWait));
  EXPECT_EQ(StateOf("x").balance(), 107);
  EXPECT_EQ(decided_ - decided_before, 2);
  decided_before = decided_;
  Produce(Event("y-1", "y", 1));  // decided on a new state, refused by the version, loaded
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 3; }, kWait));
  EXPECT_EQ(StateOf("y").balance(), 101);
  EXPECT_EQ(StateOf("y").applied(), 2);
  EXPECT_EQ(decided_ - decided_before, 2);
  EXPECT_EQ(loads, 2);

  // A re-delivery of new-1 to a runtime that remembers nothing: its marker answers.
  runtimes_.back()->Stop();
  Start(options);
  Produce(Event("new-1", "n", 5, 1));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 4; }, kWait));
  EXPECT_EQ(observer.duplicates, 1);
  EXPECT_EQ(StateOf("n").balance(), 5) << "applied once";
  EXPECT_EQ(StateOf("n").applied(), 1);
  EXPECT_EQ(observer.dead_lettered, 0);
}

TEST_F(SagaRuntimeTest, AVersionConflictDecidesAgainButRunsTheEffectOnceOnTheStateThatWon) {
  EffectLog log;
  effect_ = [&](const Account& committed, const AmountAdded& event, const EffectContext&) {
    log.Add({event.meta().event_id(), committed.balance(), 0});
    return absl::OkStatus();
  };
  for (int a = 0; a < 3; ++a) Produce(Event(absl::StrCat("fv-", a), absl::StrCat("w", a), 5, 1));
  std::atomic<int> races{0};
  CountingObserver observer;
  SagaRuntimeOptions options = Options(&observer);
  options.workers = 1;
  const redis::RedisConnection::Options connection{.address = {redis_->host(), redis_->port()}};
  options.store_factory = [&] { return std::make_unique<RacingStore>(connection, &races); };
  Start(std::move(options));
  ASSERT_TRUE(WaitUntil([&] { return observer.done() == 3; }, kWait));
  EXPECT_EQ(races, 3);
  EXPECT_EQ(decided_, 6);  // each decided twice
  ASSERT_EQ(log.size(), 3u);
  for (const EffectRun& call : log.calls()) EXPECT_EQ(call.committed_balance, 1005);
}

TEST(SagaRuntimeOptionsTest, BadOptionsAreNamed) {
  HandlerRegistry registry;
  SagaRuntimeOptions options;
  options.service = "ledger";
  options.kafka_brokers = "127.0.0.1:1";
  options.topics = {"t"};
  options.redis_address = "nowhere";
  ASSERT_TRUE((registry.On<AmountAdded, Account>(
                   "account", [](const AmountAdded& e) { return e.account(); },
                   [](const Account&, const AmountAdded&,
                      const EventContext&) -> absl::StatusOr<Reaction<Account>> { return Reaction<Account>{}; }))
                  .ok());
  auto runtime = SagaRuntime::Create(options, std::move(registry));
  ASSERT_FALSE(runtime.ok());
  EXPECT_THAT(std::string(runtime.status().message()), ::testing::HasSubstr("'nowhere'"));
  EXPECT_FALSE(SagaRuntime::Create(options, HandlerRegistry()).ok());
}

}  // namespace
}  // namespace choreo::saga
