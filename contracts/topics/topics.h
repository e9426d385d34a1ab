#pragma once

// The mission's Kafka topics (ARCHITECTURE.md §1) in one place: producers, consumers, the dev
// broker and tests name topics only through these constants.

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace choreo::topics {

// Saga topics and what travels on them (record key in brackets).
inline constexpr absl::string_view kOrdersRequests = "orders.requests";    // OrderCreationRequested [request id]
inline constexpr absl::string_view kOrdersCreated = "orders.created";      // OrderCreated [username]
inline constexpr absl::string_view kOrdersStatus = "orders.status";        // OrderStatusUpdated, OrderCancellationRefused [order id]
inline constexpr absl::string_view kOrdersCancellations = "orders.cancellations";  // OrderCancellationRequested [order id]
inline constexpr absl::string_view kOrdersRefunds = "orders.refunds";      // PaymentRefundRequested [username]
inline constexpr absl::string_view kOrdersDeadlines = "orders.deadlines";  // OrderDeadlinePassed [order id]
inline constexpr absl::string_view kBillingPayments = "billing.payments";  // PaymentProcessed, PaymentRefunded [order id]
inline constexpr absl::string_view kBillingDeposits = "billing.deposits";  // DepositRequested [username]
inline constexpr absl::string_view kBillingAccounts = "billing.accounts";  // AccountOpened, FundsDeposited [username]
inline constexpr absl::string_view kUsersRegistered = "users.registered";  // UserRegistered, ProfileUpdated [username]
inline constexpr absl::string_view kUsersProfile = "users.profile";        // ProfileRequested [username]
inline constexpr absl::string_view kUsersProfileResponse = "users.profile.response";  // ProfileResponse [username]
inline constexpr absl::string_view kNotificationsRequested = "notifications.requested";  // [username]
inline constexpr absl::string_view kNotificationsSent = "notifications.sent";            // [username]

// State topics: compacted, each holding the latest full state of every aggregate of one kind,
// from which views are projected and rebuilt (not saga steps: the timeline does not index them).
inline constexpr absl::string_view kOrdersSnapshots =
    "orders.snapshots";  // OrderSnapshot [order id]
inline constexpr absl::string_view kUsersSnapshots =
    "users.snapshots";  // ProfileSnapshot [username]
inline constexpr std::array<absl::string_view, 2> kStateTopics = {kOrdersSnapshots,
                                                                  kUsersSnapshots};

// The services that consume, each with its own dead-letter topic dlq.<service>.
inline constexpr std::array<absl::string_view, 5> kServices = {"order", "billing", "users",
                                                              "notification", "gateway"};

// "dlq.<service>": where a service's consumer copies records it cannot handle.
inline std::string DeadLetterTopic(absl::string_view service) {
  return absl::StrCat("dlq.", service);
}

inline constexpr std::array<absl::string_view, 14> kEventTopics = {
    kOrdersRequests,   kOrdersCreated,    kOrdersStatus,    kOrdersRefunds,   kOrdersDeadlines,
    kOrdersCancellations,
    kBillingPayments,  kBillingDeposits,  kBillingAccounts, kUsersRegistered,
    kUsersProfile,     kUsersProfileResponse, kNotificationsRequested, kNotificationsSent};

// The topics of saga steps: the event topics, then dlq.<service> for each service (what the
// timeline indexes).
inline std::vector<std::string> SagaTopics() {
  std::vector<std::string> all(kEventTopics.begin(), kEventTopics.end());
  for (absl::string_view service : kServices) all.push_back(DeadLetterTopic(service));
  return all;
}

// Every topic the mission uses: SagaTopics(), then the state topics. The dev broker creates
// these; on Apache Kafka choreo-topics creates them from MissionTopicSpecs.
inline std::vector<std::string> MissionTopics() {
  std::vector<std::string> all = SagaTopics();
  for (absl::string_view topic : kStateTopics) all.emplace_back(topic);
  return all;
}

inline bool IsStateTopic(absl::string_view topic) {
  for (absl::string_view state : kStateTopics) {
    if (topic == state) return true;
  }
  return false;
}

// How a topic is declared on the broker: what choreo-topics creates and verifies.
struct TopicSpec {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;
  int min_insync_replicas = 0;
  int64_t retention_ms = 0;    // -1: kept for ever
  std::string cleanup_policy;  // "delete" or "compact"
};

// The size of a deployment: every mission topic gets `partitions` partitions (the most consumer
// instances of one group that can share the work) and `replication_factor` copies.
struct TopicLayout {
  int partitions = 4;
  int replication_factor = 1;
};

inline constexpr int64_t kEventRetentionMs = int64_t{7} * 24 * 3600 * 1000;        // 7 days
inline constexpr int64_t kDeadLetterRetentionMs = int64_t{30} * 24 * 3600 * 1000;  // 30 days
inline constexpr int64_t kRequestReplyRetentionMs = int64_t{24} * 3600 * 1000;      // 1 day

// min.insync.replicas for `replication_factor` copies: one copy may be lost without refusing
// writes (RF 3 -> 2, as production runs), never below 1.
inline int MinInsyncReplicasFor(int replication_factor) {
  return replication_factor >= 3 ? 2 : 1;
}

// The declaration of every mission topic (MissionTopics(), in that order) for `layout`:
// events are kept 7 days, dead letters 30 days (an operator's time to replay them), the
// profile request/reply pair 1 day, all cleanup.policy=delete; the state topics are compacted
// and kept for ever (each key's latest record stays).
inline std::vector<TopicSpec> MissionTopicSpecs(const TopicLayout& layout) {
  std::vector<TopicSpec> specs;
  for (const std::string& name : MissionTopics()) {
    int64_t retention_ms = kEventRetentionMs;
    if (absl::string_view(name).substr(0, 4) == "dlq.") retention_ms = kDeadLetterRetentionMs;
    if (name == kUsersProfile || name == kUsersProfileResponse) {
      retention_ms = kRequestReplyRetentionMs;
    }
    const bool state = IsStateTopic(name);
    specs.push_back({.name = name,
                     .partitions = layout.partitions,
                     .replication_factor = layout.replication_factor,
                     .min_insync_replicas = MinInsyncReplicasFor(layout.replication_factor),
                     .retention_ms = state ? -1 : retention_ms,
                     .cleanup_policy = state ? "compact" : "delete"});
  }
  return specs;
}

// The topic configs `spec` declares, as Kafka names them: what CreateTopics sets and drift is
// checked against. Unset fields (0, empty) are left to the broker's defaults.
inline std::vector<std::pair<std::string, std::string>> TopicConfigs(const TopicSpec& spec) {
  std::vector<std::pair<std::string, std::string>> configs;
  if (spec.min_insync_replicas > 0) {
    configs.emplace_back("min.insync.replicas", absl::StrCat(spec.min_insync_replicas));
  }
  if (spec.retention_ms != 0) configs.emplace_back("retention.ms", absl::StrCat(spec.retention_ms));
  if (!spec.cleanup_policy.empty()) configs.emplace_back("cleanup.policy", spec.cleanup_policy);
  return configs;
}

// What a broker reports about one existing topic.
struct ObservedTopic {
  int partitions = 0;
  int replication_factor = 0;
  // Topic configs as the broker describes them; a declared one missing here is not compared.
  std::vector<std::pair<std::string, std::string>> configs;
};

// How `observed` differs from `declared`, one line per difference ("partitions: 2, declared
// 4"); empty when they agree. More partitions than declared is drift too: it changes which
// partition a key lands on.
inline std::vector<std::string> TopicDrift(const TopicSpec& declared,
                                           const ObservedTopic& observed) {
  std::vector<std::string> drift;
  auto compare = [&drift](absl::string_view what, const std::string& seen,
                          const std::string& wanted) {
    if (seen != wanted) drift.push_back(absl::StrCat(what, ": ", seen, ", declared ", wanted));
  };
  compare("partitions", absl::StrCat(observed.partitions), absl::StrCat(declared.partitions));
  compare("replication factor", absl::StrCat(observed.replication_factor),
          absl::StrCat(declared.replication_factor));
  for (const auto& [key, value] : TopicConfigs(declared)) {
    for (const auto& [seen_key, seen_value] : observed.configs) {
      if (seen_key == key) compare(key, seen_value, value);
    }
  }
  return drift;
}

}  // namespace choreo::topics
