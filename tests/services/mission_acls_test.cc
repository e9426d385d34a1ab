// The Kafka ACLs (contracts/topics/acls.h) against what the services really consume, and the
// authority rules they exist for: an event that moves money can come only from its service.

#include <set>

#include "contracts/topics/acls.h"
#include "contracts/topics/topics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/billing/billing_service.h"
#include "services/notification/notification_service.h"
#include "services/order/order_service.h"
#include "services/users/user_service.h"

namespace choreo::topics {
namespace {

using Operation = AclGrant::Operation;
using Resource = AclGrant::Resource;

std::set<std::string> Topics(const std::string& principal, Operation operation) {
  std::set<std::string> names;
  for (const AclGrant& grant : MissionAcls()) {
    if (grant.principal == principal && grant.resource == Resource::kTopic &&
        grant.operation == operation) {
      names.insert(grant.name);
    }
  }
  return names;
}

std::set<std::string> Writers(absl::string_view topic) {
  std::set<std::string> principals;
  for (const AclGrant& grant : MissionAcls()) {
    if (grant.resource == Resource::kTopic && grant.name == topic &&
        grant.operation == Operation::kWrite) {
      principals.insert(grant.principal);
    }
  }
  return principals;
}

TEST(MissionAclsTest, AServiceProducerLearnsTheTopicsItMayWriteAndNoOther) {
  EXPECT_THAT(
      ProducedTopics("billing"),
      ::testing::UnorderedElementsAre("billing.payments", "billing.accounts", "dlq.billing"));
  EXPECT_THAT(ProducedTopics("gateway"),
              ::testing::UnorderedElementsAre("orders.requests", "orders.cancellations",
                                              "billing.deposits", "dlq.gateway"));
  for (const std::string& principal : MissionPrincipals()) {
    const std::vector<std::string> produced = ProducedTopics(principal);
    EXPECT_EQ(std::set<std::string>(produced.begin(), produced.end()),
              Topics(principal, Operation::kWrite))
        << principal;
    EXPECT_LT(produced.size(), MissionTopics().size() / 2) << principal;
  }
  // A producer of a test or a tool, not in the table, learns every mission topic, as before.
  EXPECT_EQ(ProducedTopics("bench"), MissionTopics());
}

TEST(MissionAclsTest, EveryServiceMayReadWhatItSubscribesTo) {
  const std::map<std::string, std::vector<std::vector<std::string>>> subscriptions = {
      {"order", {order::OrderTopics()}},
      {"billing", {billing::BillingTopics()}},
      {"users", {users::UserTopics()}},
      {"notification",
       {notification::ProfileViewTopics(), notification::StatusTopics(),
        notification::SenderTopics()}}};
  for (const auto& [service, groups] : subscriptions) {
    const std::set<std::string> readable = Topics(service, Operation::kRead);
    for (const std::vector<std::string>& topics : groups) {
      for (const std::string& topic : topics) {
        EXPECT_TRUE(readable.contains(topic)) << service << " consumes " << topic;
      }
    }
  }
}

TEST(MissionAclsTest, EventsThatMoveMoneyComeOnlyFromTheServiceAllowedToProduceThem) {
  EXPECT_THAT(Writers(kBillingDeposits), ::testing::ElementsAre("gateway"));
  EXPECT_THAT(Writers(kOrdersRefunds), ::testing::ElementsAre("order"));
  EXPECT_THAT(Writers(kOrdersCreated), ::testing::ElementsAre("order"));
  EXPECT_THAT(Writers(kBillingPayments), ::testing::ElementsAre("billing"));
  EXPECT_THAT(Writers(kOrdersCancellations), ::testing::ElementsAre("gateway"));
  EXPECT_THAT(Writers(kUsersRegistered), ::testing::ElementsAre("users"));
  // The full-state topics come from their aggregates' owners alone.
  EXPECT_THAT(Writers(kOrdersSnapshots), ::testing::ElementsAre("order"));
  EXPECT_THAT(Writers(kUsersSnapshots), ::testing::ElementsAre("users"));
}

TEST(MissionAclsTest, EveryUsersProfileIsReadOnlyByTheServiceThatNeedsThem) {
  // users.snapshots holds every user's email and webhook: the notification service's view
  // reads it, and nobody else (not the gateway, though its timeline reads every saga topic).
  std::set<std::string> readers;
  for (const AclGrant& grant : MissionAcls()) {
    if (grant.resource == Resource::kTopic && grant.name == kUsersSnapshots &&
        grant.operation == Operation::kRead) {
      readers.insert(grant.principal);
    }
  }
  EXPECT_THAT(readers, ::testing::ElementsAre("notification"));
  EXPECT_TRUE(Topics("gateway", Operation::kRead).contains(std::string(kOrdersSnapshots)));
}

TEST(MissionAclsTest, EveryPrincipalProducesIdempotentlyToItsTopicsAndItsDeadLetters) {
  for (const std::string& principal : MissionPrincipals()) {
    EXPECT_TRUE(Topics(principal, Operation::kWrite).contains(DeadLetterTopic(principal)))
        << principal;
    const std::vector<AclGrant> grants = MissionAcls();
    EXPECT_TRUE(std::any_of(grants.begin(), grants.end(), [&](const AclGrant& grant) {
      return grant.principal == principal && grant.resource == Resource::kCluster &&
             grant.operation == Operation::kIdempotentWrite;
    })) << principal;
  }
  // Nobody writes a topic that is not the mission's, and every mission topic has a writer.
  std::set<std::string> written;
  for (const std::string& principal : MissionPrincipals()) {
    for (const std::string& topic : Topics(principal, Operation::kWrite)) written.insert(topic);
  }
  const std::vector<std::string> mission = MissionTopics();
  EXPECT_EQ(written, std::set<std::string>(mission.begin(), mission.end()));
}

TEST(MissionAclsTest, GrantsReadAsKafkasAclTool) {
  EXPECT_EQ(Describe({.principal = "gateway",
                      .resource = Resource::kTopic,
                      .name = "billing.deposits",
                      .operation = Operation::kWrite}),
            "User:gateway WRITE topic billing.deposits");
  EXPECT_EQ(Describe({.principal = "order",
                      .resource = Resource::kGroup,
                      .name = "choreo-order",
                      .prefixed = true,
                      .operation = Operation::kRead}),
            "User:order READ group choreo-order*");
}

}  // namespace
}  // namespace choreo::topics
