#pragma once

// EventFeed: this gateway instance's own reading of orders.snapshots, billing.accounts and
// orders.status. Each instance is its own consumer group (choreo-gateway-<instance id>)
// starting at the latest offsets, so every instance sees every change and answers its own
// waiters; it commits nothing that matters. An OrderSnapshot whose view a caller may be answered
// with (a terminal status, or any status of an order a WatchOrder streams) is applied to the
// order's view in Redis first, so no client reads a view older than its answer; every snapshot
// is then handed to its waiters (NotifyView). The others (an order's pending states, which no
// call waits for) are the ViewProjector's alone, which writes them in batches; until it has,
// GetOrder finds the order's claim and asks the order service. FundsDeposited and AccountOpened
// go, as decoded, to the waiters of DepositWaitKey / RegistrationWaitKey(correlation id).
//
// orders.status is read apart, in a group of its own (choreo-gateway-<instance id>-refusals)
// whose fetches gather records for up to `refusals_fetch_max_wait` (kafka::BatchedFetch): the
// feed wants only its OrderCancellationRefused records (to their CancelWaitKey), and
// OrderStatusUpdated, one of every order's status changes, is not read (the snapshot of the
// same change carries the whole order). Read with the snapshots, each status record cost a fetch
// of its own: at 200 orders/s the gateway made 2.9 fetches per order (tests/bench/README.md). A
// refused cancellation is answered up to that wait later.
//
// A view write that fails (Redis away) is not retried here: the waiters still get the news,
// from the snapshot, and the ViewProjector (one durable group for all instances) applies it.
//
// Records are handled on `lanes` lanes of a consume::ConsumerLoop, chosen by record key (the order
// id for orders), so one order's snapshots apply in order while different orders' Redis round
// trips overlap; a lane's batch of snapshots costs one read and one write round trip. A record's
// offset is stored once it was applied and handed to the waiters, so a rebalance resumes after
// the last snapshot applied.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "gateway/order_cache.h"
#include "gateway/waiters.h"
#include "platform/ids/named_id.h"
#include "saga/codec/event_codec.h"
#include "saga/consume/consumer_loop.h"
#include "edges/kafka/statistics.h"
#include "platform/tracing/tracer.h"

namespace choreo::gateway {

// A call waiting for the order's terminal view (CreateOrder).
WaitKey<gateway::v1::Order> OrderWaitKey(const ids::OrderId& order_id);
// A stream of every change of the order (WatchOrder): while one waits, the feed writes the
// order's views of every status, not only the terminal ones.
WaitKey<gateway::v1::Order> WatchWaitKey(const ids::OrderId& order_id);

// What a CancelOrder waits for: the order's view once its cancellation moved it
// (Order.cancel_request_id), or the order service's refusal (OrderCancellationRefused), whose
// reason is then `refusal`.
struct CancelOutcome {
  gateway::v1::Order view;
  std::optional<std::string> refusal;
};
WaitKey<CancelOutcome> CancelWaitKey(const ids::OrderId& order_id, absl::string_view request_id);

// Hands `view`, an order's view after its snapshot `order`, to the waiters of OrderWaitKey and
// WatchWaitKey and, once a cancellation moved the order, to those of its CancelWaitKey.
void NotifyView(Waiters& waiters, const orders::v1::Order& order, const gateway::v1::Order& view);
WaitKey<billing::v1::FundsDeposited> DepositWaitKey(const ids::CorrelationId& correlation_id);
WaitKey<billing::v1::AccountOpened> RegistrationWaitKey(const ids::CorrelationId& correlation_id);

class EventFeed final {
 public:
  struct Options {
    std::string kafka_brokers;
    std::string instance_id;
    int fetch_wait_max_ms = 100;
    // Two lanes make larger batches than eight, so fewer round trips: at 250 orders/s the
    // gateway made 1.9 Redis round trips per order instead of 2.6 and spent 8% less CPU, with
    // the same latency; at 1,000/s it passed no fewer orders (tests/bench/README.md).
    int lanes = 2;
    // How long a fetch of orders.status gathers records (see above).
    absl::Duration refusals_fetch_max_wait = absl::Milliseconds(100);
    const tracing::Tracer* tracer = nullptr;  // "process <topic>" spans; null: none
  };
  EventFeed(Options options, OrderCache& cache, Waiters& waiters);
  ~EventFeed();

  // Subscribes both consumers and returns once both have their partitions (so no change
  // produced after this is missed), or UNAVAILABLE after `timeout` for both together.
  absl::Status Start(absl::Duration timeout);
  void Stop() noexcept;

  // OK while the consumer has its assignment and reaches a broker; the same for orders.status's.
  absl::Status Readiness() const;
  absl::Status RefusalsReadiness() const;
  std::vector<kafka::PartitionLag> ConsumerLag() const;
  std::vector<kafka::PartitionLag> RefusalsLag() const;
  std::string group_id() const;
  std::string refusals_group_id() const;  // orders.status's

 private:
  // A lane's batch: the snapshots a call may be answered with applied to the views together
  // (OrderCache::ApplySnapshots), then every record handed to its waiters in order.
  // `group`: the consumer group that read them (their "process" spans name it).
  void HandleBatch(absl::Span<consume::RecordScope> batch, const std::string& group);
  // Whether a waiting call may be answered with the order's view after this snapshot: then it
  // is written before it is handed over.
  bool MayAnswerWith(const orders::v1::Order& order) const;

  const Options options_;
  OrderCache& cache_;
  Waiters& waiters_;
  codec::EventCodec codec_;
  std::unique_ptr<consume::ConsumerLoop> loop_;           // orders.snapshots, billing.accounts
  std::unique_ptr<consume::ConsumerLoop> refusals_loop_;  // orders.status, gathered
};

}  // namespace choreo::gateway
