#include "tests/bench/relay_chain.h"

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "platform/ids/trace_context.h"
#include "edges/kafka/topic_admin.h"
#include "testing/wait.h"

namespace choreo::bench {
namespace {

constexpr char kSentHeader[] = "bench_intended_us";
constexpr char kProbeKey[] = "probe";

std::string Topic(int hop) { return absl::StrCat("bench.floor.", hop); }

}  // namespace

// One consumer (a relay to the next topic, or the sink) with its own producer, as each service
// has.
struct RelayChain::Stage final : kafka::RebalanceListener {
  int hop = 0;           // consumes Topic(hop)
  bool sink = false;
  std::unique_ptr<kafka::KafkaConsumer> consumer;
  std::unique_ptr<kafka::KafkaProducer> producer;
  std::atomic<int> assigned{0};
  std::thread thread;

  void OnAssigned(const std::vector<kafka::TopicPartition>& partitions) override {
    assigned += static_cast<int>(partitions.size());
  }
  void OnRevoked(const std::vector<kafka::TopicPartition>& partitions) override {
    assigned -= static_cast<int>(partitions.size());
  }
};

std::vector<std::string> RelayChain::Topics(int hops) {
  std::vector<std::string> topics;
  for (int hop = 1; hop <= hops; ++hop) topics.push_back(Topic(hop));
  return topics;
}

RelayChain::RelayChain(Options options, Arrival on_arrival)
    : options_(std::move(options)), on_arrival_(std::move(on_arrival)) {}

RelayChain::~RelayChain() { Stop(); }

absl::Status RelayChain::Start(absl::Duration timeout) {
  // Each relay's producer learns the one topic it writes, as a service's learns its own few. The
  // source learns none at start: it creates the topics first (a topic handle made before its
  // topic exists could have a broker that allows it create the topic with its own defaults);
  // the probe below makes its topic's handle before any measured record.
  auto source = kafka::KafkaProducer::Create(kafka::ProducerDefaults(options_.kafka_brokers), {});
  if (!source.ok()) return source.status();
  source_ = *std::move(source);
  if (options_.create_topics) {
    if (absl::Status created =
            kafka::EnsureTopics(*source_, Topics(options_.hops), options_.partitions);
        !created.ok()) {
      return created;
    }
  }
  absl::BitGen random;
  const std::string run = ids::RandomHex(random, 4);
  for (int hop = 1; hop <= options_.hops; ++hop) {
    auto stage = std::make_unique<Stage>();
    stage->hop = hop;
    stage->sink = hop == options_.hops;
    kafka::KafkaConfig config = kafka::Merged(
        kafka::ConsumerDefaults(options_.kafka_brokers, absl::StrCat("bench-floor-", hop, "-", run)),
        options_.consumer_overrides);
    // earliest: a partition that had no committed offset when a rebalance moved it loses nothing;
    // records of earlier runs (real Kafka) arrive with old due times, which the caller drops.
    config = kafka::Merged(config, {{"auto.offset.reset", "earliest"}});
    auto consumer = kafka::KafkaConsumer::Create(config, stage.get());
    if (!consumer.ok()) return consumer.status();
    stage->consumer = *std::move(consumer);
    if (absl::Status subscribed = stage->consumer->Subscribe({Topic(hop)}); !subscribed.ok()) {
      return subscribed;
    }
    if (!stage->sink) {
      auto producer = kafka::KafkaProducer::Create(kafka::ProducerDefaults(options_.kafka_brokers),
                                                   {Topic(hop + 1)});
      if (!producer.ok()) return producer.status();
      stage->producer = *std::move(producer);
    }
    stages_.push_back(std::move(stage));
  }
  for (auto& stage : stages_) stage->thread = std::thread([this, s = stage.get()] { Run(*s); });
  const bool ready = testing::WaitUntil(
      [&] {
        for (const auto& stage : stages_) {
          if (stage->assigned.load() < options_.partitions) return false;
        }
        return true;
      },
      timeout);
  if (!ready) return absl::DeadlineExceededError("relay chain: consumers not assigned in time");
  return Probe(timeout);
}

absl::Status RelayChain::Probe(absl::Duration timeout) {
  // Probe records through the whole chain until one arrives; the sink counts them apart (their
  // key), so late ones never reach on_arrival.
  probe_arrived_ = false;
  const absl::Time give_up = absl::Now() + timeout;
  while (!probe_arrived_.load() && absl::Now() < give_up) {
    if (absl::Status sent = Send(kProbeKey, absl::Now()); !sent.ok()) return sent;
    testing::WaitUntil([&] { return probe_arrived_.load(); }, absl::Seconds(1));
  }
  if (!probe_arrived_.load()) return absl::DeadlineExceededError("relay chain: no probe came through");
  return absl::OkStatus();
}

absl::Status RelayChain::Send(const std::string& key, absl::Time intended) {
  KafkaRecord record = options_.sample;
  record.topic = Topic(1);
  record.partition = -1;
  record.key = key;
  record.AddHeader(kSentHeader, absl::StrCat(absl::ToUnixMicros(intended)));
  return source_->Produce(record, [](absl::StatusOr<kafka::Delivery>) {});
}

void RelayChain::Run(Stage& stage) {
  while (!stop_.load()) {
    absl::StatusOr<std::optional<KafkaRecord>> polled = stage.consumer->Poll(absl::Milliseconds(100));
    if (!polled.ok() || !polled->has_value()) continue;
    KafkaRecord& record = **polled;
    if (stage.sink && record.key == kProbeKey) {
      probe_arrived_ = true;
    } else if (stage.sink) {
      int64_t intended_us = 0;
      if (absl::SimpleAtoi(record.Header(kSentHeader).value_or(""), &intended_us)) {
        on_arrival_(absl::FromUnixMicros(intended_us));
      }
    } else {
      KafkaRecord next = record;
      next.topic = Topic(stage.hop + 1);
      next.partition = -1;
      next.offset = -1;
      static_cast<void>(stage.producer->Produce(next, [](absl::StatusOr<kafka::Delivery>) {}));
    }
    static_cast<void>(stage.consumer->StoreOffset({record.topic, record.partition}, record.offset + 1));
  }
}

void RelayChain::Stop() noexcept {
  stop_ = true;
  for (auto& stage : stages_) {
    if (stage->thread.joinable()) stage->thread.join();
  }
  for (auto& stage : stages_) stage->consumer->Close();
  stages_.clear();
}

}  // namespace choreo::bench
