#pragma once

// The mission's Kafka topics (ARCHITECTURE.md §1) in one place: producers, consumers, the dev
// broker and tests name topics only through these constants.

#include <array>
#include <string>
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include <vector>

namespace choreo::topics {

// Saga topics and what travels on them (record key in brackets).
inline constexpr absl::string_view kOrdersRequests = "orders.requests";    // OrderCreationRequested [request id]
inline constexpr absl::string_view kOrdersCreated = "orders.created";      // OrderCreated [username]
inline constexpr absl::string_view kOrdersStatus = "orders.status";        // OrderStatusUpdated [order id]
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

// The services that consume, each with its own dead-letter topic dlq.<service>.
inline constexpr std::array<absl::string_view, 5> kServices = {"order", "billing", "users",
                                                              "notification", "gateway"};

// "dlq.<service>": where a service's consumer copies records it cannot handle.
inline std::string DeadLetterTopic(absl::string_view service) {
  return absl::StrCat("dlq.", service);
}

inline constexpr std::array<absl::string_view, 13> kEventTopics = {
    kOrdersRequests,   kOrdersCreated,    kOrdersStatus,    kOrdersRefunds,   kOrdersDeadlines,
    kBillingPayments,  kBillingDeposits,  kBillingAccounts, kUsersRegistered,
    kUsersProfile,     kUsersProfileResponse, kNotificationsRequested, kNotificationsSent};

// Every topic the mission uses: the event topics, then dlq.<service> for each service. The dev
// broker creates these; production creates them with deploy/'s topic scripts.
inline std::vector<std::string> MissionTopics() {
  std::vector<std::string> all(kEventTopics.begin(), kEventTopics.end());
  for (absl::string_view service : kServices) all.push_back(DeadLetterTopic(service));
  return all;
}

}  // namespace choreo::topics
