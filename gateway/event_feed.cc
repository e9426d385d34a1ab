#include "gateway/event_feed.h"

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "gateway/core/gateway_rules.h"
#include "saga/logging/logger.h"
#include "saga/topics/topics.h"
#include "saga/tracing/messaging.h"

namespace choreo::gateway {

WaitKey<gateway::v1::Order> OrderWaitKey(const std::string& order_id) {
  return {"order:" + order_id};
}
WaitKey<billing::v1::FundsDeposited> DepositWaitKey(const std::string& correlation_id) {
  return {"deposit:" + correlation_id};
}
WaitKey<billing::v1::AccountOpened> RegistrationWaitKey(const std::string& correlation_id) {
  return {"register:" + correlation_id};
}

EventFeed::EventFeed(Options options, OrderCache& cache, Waiters& waiters)
    : options_(std::move(options)), cache_(cache), waiters_(waiters) {
  static_cast<void>(codec_.Register<orders::v1::OrderStatusUpdated>());
  static_cast<void>(codec_.Register<billing::v1::FundsDeposited>());
  static_cast<void>(codec_.Register<billing::v1::AccountOpened>());
}

EventFeed::~EventFeed() { Stop(); }

std::string EventFeed::group_id() const { return absl::StrCat("choreo-gateway-", options_.instance_id); }

absl::Status EventFeed::Readiness() const {
  if (consumer_ == nullptr || stopping_.load()) return absl::UnavailableError("event feed: not running");
  return consumer_->Readiness();
}

std::vector<kafka::PartitionLag> EventFeed::ConsumerLag() const {
  return consumer_ != nullptr ? consumer_->Lag() : std::vector<kafka::PartitionLag>{};
}

absl::Status EventFeed::Start(absl::Duration timeout) {
  kafka::KafkaConfig config = kafka::ConsumerDefaults(options_.kafka_brokers, group_id());
  config.emplace_back("auto.offset.reset", "latest");
  config.emplace_back("fetch.wait.max.ms", absl::StrCat(options_.fetch_wait_max_ms));
  absl::StatusOr<std::unique_ptr<kafka::KafkaConsumer>> consumer =
      kafka::KafkaConsumer::Create(config, this);
  if (!consumer.ok()) return consumer.status();
  consumer_ = *std::move(consumer);
  if (absl::Status subscribed = consumer_->Subscribe(
          {std::string(topics::kOrdersStatus), std::string(topics::kBillingAccounts)});
      !subscribed.ok()) {
    return subscribed;
  }
  for (int i = 0; i < std::max(1, options_.lanes); ++i) {
    lanes_.push_back(std::make_unique<Lane>());
    Lane* lane = lanes_.back().get();
    lane->thread = std::thread([this, lane] { Work(*lane); });
  }
  thread_ = std::thread([this] { Loop(); });
  if (!assigned_.WaitForNotificationWithTimeout(timeout)) {
    return absl::UnavailableError("the gateway's event feed got no partitions in time");
  }
  return absl::OkStatus();
}

void EventFeed::Stop() noexcept {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  for (auto& lane : lanes_) {
    {
      absl::MutexLock lock(&lane->mu);
      lane->stop = true;
    }
    if (lane->thread.joinable()) lane->thread.join();
  }
  lanes_.clear();
  if (consumer_ != nullptr) consumer_->Close();
}

void EventFeed::OnAssigned(const std::vector<kafka::TopicPartition>&) {
  if (!assigned_.HasBeenNotified()) assigned_.Notify();
}

void EventFeed::OnRevoked(const std::vector<kafka::TopicPartition>&) {}

void EventFeed::Loop() {
  while (!stopping_.load()) {
    absl::StatusOr<std::optional<KafkaRecord>> polled = consumer_->Poll(absl::Milliseconds(100));
    if (!polled.ok() || !polled->has_value()) continue;
    // The feed's position, not its progress: a rebalance within this process (a coordinator
    // that moved) resumes after what was polled, and the lanes keep what they hold.
    static_cast<void>(consumer_->StoreOffset({(*polled)->topic, (*polled)->partition},
                                             (*polled)->offset + 1));
    Lane& lane = *lanes_[absl::HashOf((*polled)->key) % lanes_.size()];
    absl::MutexLock lock(&lane.mu);
    lane.queue.push_back(**std::move(polled));
  }
}

void EventFeed::Work(Lane& lane) {
  while (true) {
    KafkaRecord record;
    {
      absl::MutexLock lock(&lane.mu);
      auto ready = [&lane]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lane.mu) {
        return !lane.queue.empty() || lane.stop;
      };
      lane.mu.Await(absl::Condition(&ready));
      if (lane.queue.empty()) return;
      record = std::move(lane.queue.front());
      lane.queue.pop_front();
    }
    Handle(record);
  }
}

void EventFeed::Handle(const KafkaRecord& record) {
  tracing::Span span =
      tracing::StartProcessSpan(tracing::TracerOr(options_.tracer), record, group_id());
  absl::StatusOr<codec::DecodedEvent> decoded = codec_.Decode(record);
  if (!decoded.ok()) return;  // not ours to judge: the services dead-letter bad records
  const std::string& correlation = decoded->meta().correlation_id();
  if (const auto* update = dynamic_cast<const orders::v1::OrderStatusUpdated*>(decoded->message.get())) {
    absl::StatusOr<std::pair<gateway::v1::Order, bool>> applied = cache_.ApplyStatus(*update, correlation);
    gateway::v1::Order view;
    if (applied.ok()) {
      view = std::move(applied->first);
    } else {
      // Redis is away: the waiters still get the news, from the event alone.
      logging::Fields fields = logging::EventFields(record);
      logging::Warn(absl::StrCat("status cache: ", applied.status().message()), fields);
      ApplyStatus(*update, correlation, view);
    }
    waiters_.Notify(OrderWaitKey(update->order_id()), view);
  } else if (const auto* deposited =
                 dynamic_cast<const billing::v1::FundsDeposited*>(decoded->message.get())) {
    waiters_.Notify(DepositWaitKey(correlation), *deposited);
  } else if (const auto* opened =
                 dynamic_cast<const billing::v1::AccountOpened*>(decoded->message.get())) {
    waiters_.Notify(RegistrationWaitKey(correlation), *opened);
  }
}

}  // namespace choreo::gateway
