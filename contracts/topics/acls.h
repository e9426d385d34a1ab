#pragma once

// Who may do what on the mission's Kafka topics and consumer groups (ARCHITECTURE.md §7): each
// process authenticates to Kafka as its own principal (User:<service>), and the broker's
// authorizer lets it write only the topics it produces to and read only the topics and groups it
// consumes. So an event that carries authority comes only from the service allowed to produce
// it: DepositRequested (billing.deposits) only from the gateway, PaymentRefundRequested
// (orders.refunds) only from the order service, PaymentProcessed and PaymentRefunded
// (billing.payments) only from billing. choreo-topics --acls applies these on the broker.
//
// The table follows the code: a service that starts producing to or consuming a topic adds its
// line here, or the broker refuses it (every end-to-end test runs with these ACLs).

#include <string>
#include <vector>

namespace choreo::topics {

struct AclGrant {
  enum class Resource { kTopic, kGroup, kCluster };
  // kIdempotentWrite (on the cluster): a producer id for an idempotent producer.
  enum class Operation { kRead, kWrite, kIdempotentWrite };

  std::string principal;  // "gateway": User:gateway
  Resource resource = Resource::kTopic;
  std::string name;
  bool prefixed = false;  // every name starting with `name` (a service's consumer groups)
  Operation operation = Operation::kRead;

  bool operator==(const AclGrant&) const = default;
};

// The principals of choreo's processes, as their Kafka users are named.
std::vector<std::string> MissionPrincipals();

// Every grant the mission needs, principal by principal.
std::vector<AclGrant> MissionAcls();

// The topics `principal` writes: its WRITE grants in MissionAcls() (what it produces and its
// dead-letter topic). Every mission topic for a principal the table does not name (a test's or a
// tool's producer). What a producer learns the partitions of at start (kafka::KafkaProducer).
std::vector<std::string> ProducedTopics(const std::string& principal);

// "User:gateway WRITE topic billing.deposits", "User:order READ group choreo-order*",
// "User:order IDEMPOTENT_WRITE cluster kafka-cluster".
std::string Describe(const AclGrant& grant);

}  // namespace choreo::topics
