#include "gateway/rebuild/view_rebuild.h"

#include <vector>

#include "choreo/orders/v1/events.pb.h"
#include "contracts/topics/topics.h"
#include "gateway/timeline/core/timeline_rules.h"
#include "saga/codec/event_codec.h"

namespace choreo::gateway {
namespace {

// Reads `topic` to its end, handing `flush` the records in batches of options.batch; `flush`
// returns how many views it wrote.
absl::StatusOr<int64_t> ReadInBatches(
    const RebuildOptions& options, const std::string& topic,
    const std::function<absl::StatusOr<int64_t>(const std::vector<KafkaRecord>&)>& flush) {
  RebuildProgress progress{.topic = topic};
  std::vector<KafkaRecord> batch;
  auto write = [&]() -> absl::Status {
    absl::StatusOr<int64_t> written = flush(batch);
    if (!written.ok()) return written.status();
    progress.written += *written;
    batch.clear();
    if (options.progress) options.progress(progress);
    return absl::OkStatus();
  };
  absl::Status read = kafka::ReadTopicToEnd(
      options.kafka, topic, options.timeout,
      [&](const KafkaRecord& record) -> absl::Status {
        batch.push_back(record);
        return static_cast<int>(batch.size()) >= options.batch ? write() : absl::OkStatus();
      },
      [&](const kafka::ReadProgress& read) { progress.read = read; });
  if (read.ok() && !batch.empty()) read = write();
  if (!read.ok()) return read;
  if (options.progress) options.progress(progress);
  return progress.written;
}

}  // namespace

absl::StatusOr<int64_t> RebuildOrderViews(const RebuildOptions& options, OrderCache& cache) {
  codec::EventCodec codec;
  if (absl::Status registered = codec.Register<orders::v1::OrderSnapshot>(); !registered.ok()) {
    return registered;
  }
  return ReadInBatches(
      options, std::string(topics::kOrdersSnapshots),
      [&](const std::vector<KafkaRecord>& records) -> absl::StatusOr<int64_t> {
        std::vector<codec::DecodedEvent> decoded;
        std::vector<const orders::v1::Order*> snapshots;
        for (const KafkaRecord& record : records) {
          absl::StatusOr<codec::DecodedEvent> event = codec.Decode(record);
          if (event.ok()) decoded.push_back(*std::move(event));  // the services judge bad ones
        }
        for (const codec::DecodedEvent& event : decoded) {
          snapshots.push_back(
              &static_cast<const orders::v1::OrderSnapshot&>(*event.message).order());
        }
        if (snapshots.empty()) return 0;
        absl::StatusOr<std::vector<std::pair<v1::Order, bool>>> applied =
            cache.ApplySnapshots(snapshots, SnapshotRule::kReproject);
        if (!applied.ok()) return applied.status();
        // A view that outlived its index entry (a lost key) is listed again.
        if (absl::Status indexed = cache.Index(snapshots); !indexed.ok()) return indexed;
        int64_t written = 0;
        for (const auto& [view, changed] : *applied) written += changed ? 1 : 0;
        return written;
      });
}

absl::StatusOr<int64_t> RebuildTimelines(const RebuildOptions& options,
                                         timeline::TimelineStore& store) {
  int64_t indexed = 0;
  for (const std::string& topic : topics::SagaTopics()) {
    absl::StatusOr<int64_t> hops = ReadInBatches(
        options, topic, [&](const std::vector<KafkaRecord>& records) -> absl::StatusOr<int64_t> {
          std::vector<v1::IndexedHop> hops;
          for (const KafkaRecord& record : records) {
            absl::StatusOr<v1::IndexedHop> hop = timeline::IndexRecord(record);
            if (hop.ok()) hops.push_back(*std::move(hop));  // no correlation id: not a saga's
          }
          if (hops.empty()) return 0;
          if (absl::Status added = store.Add(hops); !added.ok()) return added;
          return static_cast<int64_t>(hops.size());
        });
    if (!hops.ok()) return hops.status();
    indexed += *hops;
  }
  return indexed;
}

}  // namespace choreo::gateway
