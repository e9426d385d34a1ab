#pragma once

// RelayChain: the floor under the saga's latency and throughput. Records cross `hops` topics the
// way an order crosses the saga's four (orders.requests -> orders.created -> billing.payments ->
// orders.status), but every relay is trivial: consume, produce the same bytes to the next topic,
// store the offset. Same client settings as the services, same record sizes (the source sends a
// real encoded OrderCreationRequested). What the saga would cost if its services did no work.
//
// Start() creates the topics, starts one consumer per relay and the sink, and returns once every
// consumer has its partitions and a probe record went through. Send() is called by the load
// generator (any thread); the sink calls on_arrival with the record's intended send time.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_consumer.h"
#include "edges/kafka/kafka_producer.h"
#include "platform/record/record.h"

namespace choreo::bench {

class RelayChain {
 public:
  struct Options {
    std::string kafka_brokers;
    int hops = 4;
    int partitions = 4;
    // Create the topics with the Admin API (a real Kafka); the dev broker is given them at
    // start instead (see Topics()).
    bool create_topics = true;
    kafka::KafkaConfig consumer_overrides;  // the services' (fetch wait, session timeout...)
    KafkaRecord sample;                     // what the source sends (its value and headers)
  };
  using Arrival = std::function<void(absl::Time intended)>;

  RelayChain(Options options, Arrival on_arrival);
  // The chain's topics: bench.floor.1 .. bench.floor.<hops>.
  static std::vector<std::string> Topics(int hops);
  ~RelayChain();

  absl::Status Start(absl::Duration timeout);
  // Produces one record stamped with `intended` (the open-loop schedule's send time); `key`
  // spreads records over partitions like order ids do.
  absl::Status Send(const std::string& key, absl::Time intended);
  void Stop() noexcept;

 private:
  struct Stage;
  absl::Status Probe(absl::Duration timeout);
  void Run(Stage& stage);

  const Options options_;
  const Arrival on_arrival_;
  std::unique_ptr<kafka::KafkaProducer> source_;
  std::vector<std::unique_ptr<Stage>> stages_;  // hops - 1 relays, then the sink
  std::atomic<bool> stop_{false};
  std::atomic<bool> probe_arrived_{false};
};

}  // namespace choreo::bench
