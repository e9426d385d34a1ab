#include "contracts/topics/acls.h"

#include "absl/strings/str_cat.h"
#include "contracts/topics/topics.h"

namespace choreo::topics {
namespace {

using Operation = AclGrant::Operation;
using Resource = AclGrant::Resource;

struct Principal {
  std::string name;
  std::vector<absl::string_view> produces;
  std::vector<absl::string_view> consumes;
  std::vector<std::string> group_prefixes;
};

std::vector<Principal> Principals() {
  return {
      {.name = "gateway",
       // Commands from clients; the timeline indexer reads every saga topic, the views
       // orders.snapshots (never users.snapshots: other users' profiles).
       .produces = {kOrdersRequests, kOrdersCancellations, kBillingDeposits},
       .consumes = {},
       .group_prefixes = {"choreo-gateway", "choreo-timeline"}},
      {.name = "order",
       .produces = {kOrdersCreated, kOrdersStatus, kOrdersRefunds, kOrdersDeadlines,
                    kOrdersSnapshots},
       .consumes = {kOrdersRequests, kOrdersCancellations, kOrdersDeadlines, kBillingPayments},
       .group_prefixes = {"choreo-order"}},
      {.name = "billing",
       .produces = {kBillingPayments, kBillingAccounts},
       .consumes = {kOrdersCreated, kOrdersRefunds, kBillingDeposits, kUsersRegistered},
       .group_prefixes = {"choreo-billing"}},
      {.name = "users",
       .produces = {kUsersRegistered, kUsersProfileResponse, kUsersSnapshots},
       .consumes = {kUsersProfile},
       .group_prefixes = {"choreo-users"}},
      {.name = "notification",
       .produces = {kNotificationsRequested, kNotificationsSent, kUsersProfile},
       .consumes = {kOrdersStatus, kUsersSnapshots, kUsersProfileResponse, kNotificationsRequested,
                    kNotificationsSent},
       .group_prefixes = {"choreo-notification"}},
  };
}

}  // namespace

std::vector<std::string> MissionPrincipals() {
  std::vector<std::string> names;
  for (const Principal& principal : Principals()) names.push_back(principal.name);
  return names;
}

std::vector<AclGrant> MissionAcls() {
  std::vector<AclGrant> grants;
  for (const Principal& principal : Principals()) {
    auto grant = [&](Resource resource, std::string name, Operation operation, bool prefixed) {
      grants.push_back({.principal = principal.name,
                        .resource = resource,
                        .name = std::move(name),
                        .prefixed = prefixed,
                        .operation = operation});
    };
    // Every producer is idempotent (kafka::ProducerDefaults).
    grant(Resource::kCluster, "kafka-cluster", Operation::kIdempotentWrite, false);
    for (absl::string_view topic : principal.produces) {
      grant(Resource::kTopic, std::string(topic), Operation::kWrite, false);
    }
    // Every process that consumes copies what it cannot handle to its dead-letter topic.
    grant(Resource::kTopic, DeadLetterTopic(principal.name), Operation::kWrite, false);
    std::vector<std::string> reads(principal.consumes.begin(), principal.consumes.end());
    if (principal.name == "gateway") {  // the timeline indexes every saga topic
      reads = SagaTopics();
      reads.emplace_back(kOrdersSnapshots);
    }
    for (const std::string& topic : reads) grant(Resource::kTopic, topic, Operation::kRead, false);
    for (const std::string& group : principal.group_prefixes) {
      grant(Resource::kGroup, group, Operation::kRead, true);
    }
  }
  return grants;
}

std::vector<std::string> ProducedTopics(const std::string& principal) {
  std::vector<std::string> topics;
  bool named = false;
  for (const AclGrant& grant : MissionAcls()) {
    if (grant.principal != principal) continue;
    named = true;
    if (grant.resource == Resource::kTopic && grant.operation == Operation::kWrite) {
      topics.push_back(grant.name);
    }
  }
  return named ? topics : MissionTopics();
}

std::string Describe(const AclGrant& grant) {
  const absl::string_view operation = grant.operation == Operation::kRead    ? "READ"
                                      : grant.operation == Operation::kWrite ? "WRITE"
                                                                             : "IDEMPOTENT_WRITE";
  const absl::string_view resource = grant.resource == Resource::kTopic   ? "topic"
                                     : grant.resource == Resource::kGroup ? "group"
                                                                          : "cluster";
  return absl::StrCat("User:", grant.principal, " ", operation, " ", resource, " ", grant.name,
                      grant.prefixed ? "*" : "");
}

}  // namespace choreo::topics
