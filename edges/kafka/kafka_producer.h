#pragma once

// KafkaProducer: produces KafkaRecords and reports each broker acknowledgement.
//
// Promises: each Produce() that returns OK gets exactly one delivery callback, with the
// partition and offset the broker acknowledged or the final error after librdkafka's retries
// (an idempotent producer never duplicates or reorders on retry). Callbacks run on the
// producer's own poll thread and must not block. Produce, ProduceAndWait, Flush and
// LatestStatistics are thread-safe. Destruction flushes for up to `close_timeout`, then drops
// what is still queued (its callbacks run with an error) and joins the poll thread.
//
// Fatal errors: an idempotent producer can meet a fatal error (the broker lost the sequence of
// its records, e.g. after a broker was killed), after which librdkafka fails every record it
// is given, for ever. The producer replaces its librdkafka handle with a new one (a new
// producer id) on its poll thread as soon as it learns of one: records queued or in flight on
// the old handle are failed (UNAVAILABLE: the caller's retry sends them again, and consumers'
// markers drop a record the broker had already appended), and Produce goes on with the new
// handle. Each replacement is logged as an error and counted (recoveries(), and for the process
// ProducersReplacedInProcess(), which its metrics export).
//
// First produce: librdkafka learns an unknown topic's partitions only on its next topic scan,
// up to a second later, so a producer's first record to each topic would wait that long. The
// poll thread therefore first makes topic handles for the topics it is created for (`topics`) and
// asks the broker for the metadata of the cluster's topics (up to 5 s): the first record to any
// of them goes out at once. A record to another topic makes that topic's handle then; it goes out
// at once too while librdkafka keeps the start's metadata (`metadata.max.age.ms`, 15 min), else
// after the topic scan.
// Why not every topic: librdkafka's broker thread visits every partition its producer knows, under
// that partition's lock, each time it wakes (a record to send, an acknowledgement). A service
// writes to 3-6 of the 21 mission topics; learning them all made each wake-up visit 21 topics'
// partitions, most of them never written. Measured: nothing at 4 or 16 partitions a topic, 14%
// less of librdkafka's CPU at 64 in one pair of runs (tests/bench/README.md, 2026-12-05,
// evening). A service's producer learns the topics it may write (topics::ProducedTopics).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "contracts/topics/topics.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/live_clients.h"
#include "platform/record/record.h"

namespace choreo::kafka {

// Where the broker appended a record.
struct Delivery {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
};

// Fatal-error replacements of every KafkaProducer of this process so far (see above).
int64_t ProducersReplacedInProcess();

class KafkaProducer {
 public:
  using DeliveryCallback = absl::AnyInvocable<void(absl::StatusOr<Delivery>) &&>;

  // `config` is typically ProducerDefaults(bootstrap) plus overrides; `topics` the ones whose
  // partitions it learns at start (see above): every mission topic unless given, none for an
  // admin connection.
  static absl::StatusOr<std::unique_ptr<KafkaProducer>> Create(
      const KafkaConfig& config, std::vector<std::string> topics = topics::MissionTopics(),
      absl::Duration close_timeout = absl::Seconds(10));
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Queues `record` (topic, key, value, headers; partition if >= 0, else by key).
  // UNAVAILABLE if the local queue is full; the callback then never runs.
  absl::Status Produce(const KafkaRecord& record, DeliveryCallback on_delivery);

  // Produces `record` and waits for its acknowledgement. DEADLINE_EXCEEDED after `timeout`
  // (the record may still be delivered later).
  absl::StatusOr<Delivery> ProduceAndWait(const KafkaRecord& record, absl::Duration timeout);

  // Waits until every queued record is acknowledged or failed.
  absl::Status Flush(absl::Duration timeout);

  // The last statistics JSON librdkafka emitted (statistics.interval.ms), empty before the first.
  std::string LatestStatistics() const;

  // How many times a fatal error made the producer replace its handle.
  int recoveries() const { return recoveries_.load(); }

  // The current librdkafka handle, for admin requests and tests. Replaced after a fatal error:
  // do not keep it across calls.
  rd_kafka_t* handle() const;

 private:
  KafkaProducer(KafkaConfig config, std::vector<std::string> topics, absl::Duration close_timeout)
      : config_(std::move(config)), topics_(std::move(topics)), close_timeout_(close_timeout) {}
  // A new librdkafka handle with this producer's callbacks.
  absl::StatusOr<std::shared_ptr<rd_kafka_t>> NewHandle();
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static int OnStatistics(rd_kafka_t* rk, char* json, size_t json_len, void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void PollLoop();
  // Topic handles of topics_ on `handle`, and their metadata (see above); adds to
  // known_topics_, which holds none of another handle.
  void LearnTopics(rd_kafka_t* handle);
  // After a fatal error: a new handle in place of the old one, whose records are failed.
  void ReplaceFatalHandle();

  const KafkaConfig config_;
  const std::vector<std::string> topics_;  // learned at start and after each replacement
  const absl::Duration close_timeout_;
  // The current handle. Callers take a reference for the length of one call, so a replaced
  // handle is destroyed by whoever lets go of it last; only the poll thread replaces it.
  std::shared_ptr<rd_kafka_t> Current() const;
  mutable absl::Mutex handle_mu_;
  std::shared_ptr<rd_kafka_t> handle_ ABSL_GUARDED_BY(handle_mu_);
  std::vector<rd_kafka_topic_t*> known_topics_;  // held so librdkafka keeps their metadata
  std::atomic<bool> fatal_{false};               // set by OnError, handled by the poll thread
  std::atomic<int> recoveries_{0};
  std::atomic<bool> stopping_{false};
  std::thread poller_;
  mutable absl::Mutex statistics_mu_;
  std::string statistics_ ABSL_GUARDED_BY(statistics_mu_);
  // Listed as "producer" (choreo_kafka_requests_total); last, so unlisted first.
  LiveClients::Registration listed_;
};

}  // namespace choreo::kafka
