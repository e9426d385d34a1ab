#pragma once

// Topics through the Kafka Admin API: creating the declared ones (topics::TopicSpec), checking
// that what a broker holds matches its declaration, and refusing to start without a topic.
// Works on any Kafka-protocol broker (Apache Kafka, the dev broker) through a producer's
// connection.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "contracts/topics/acls.h"
#include "contracts/topics/topics.h"
#include "edges/kafka/kafka_producer.h"

namespace choreo::kafka {

// What ApplyTopics found and did.
struct TopicReport {
  std::vector<std::string> created;  // topics this call created (not one created meanwhile)
  std::vector<std::string> missing;  // topics that do not exist (create_missing = false)
  std::vector<std::string> drift;    // "<topic> <what>: <seen>, declared <wanted>"
  bool ok() const { return missing.empty() && drift.empty(); }
};

// Creates every topic of `specs` that does not exist (with its partitions, replication factor
// and configs) when `create_missing`, and compares every existing one with its declaration.
// Idempotent. Existing topics are never altered: drift is reported for an operator to decide.
// Returns once every created topic shows in the broker's metadata, so consumers can start.
// UNAVAILABLE when the broker does not answer within `timeout`, INTERNAL for other refusals.
absl::StatusOr<TopicReport> ApplyTopics(KafkaProducer& connection,
                                        const std::vector<topics::TopicSpec>& specs,
                                        bool create_missing,
                                        absl::Duration timeout = absl::Seconds(30));

// Creates each of `topics` with `partitions` partitions and the broker's default replication
// unless it exists already (tools' own topics, such as the benchmark's relay chain); returns once
// all of them show in the broker's metadata.
absl::Status EnsureTopics(KafkaProducer& connection, const std::vector<std::string>& topics,
                          int partitions, absl::Duration timeout = absl::Seconds(30));

// Creates `grants` as ALLOW ACLs for any host (topics::MissionAcls), and returns once the broker
// answering enforces them (its authorizer applies them a moment after they are created: a
// service started at once would be refused). Idempotent: the broker keeps one copy of an ACL
// created twice. Needs a super user's connection on a broker with an
// authorizer; FAILED_PRECONDITION when the broker has none (security is off), UNAVAILABLE when it
// does not answer within `timeout`, INTERNAL naming a refused grant.
absl::Status ApplyAcls(KafkaProducer& connection, const std::vector<topics::AclGrant>& grants,
                       absl::Duration timeout = absl::Seconds(30));

// OK when every one of `topics` exists; FAILED_PRECONDITION naming the missing ones (and the
// command that creates them) otherwise; UNAVAILABLE when the broker does not answer in time.
absl::Status RequireTopics(rd_kafka_t* handle, const std::vector<std::string>& topics,
                           absl::Duration timeout = absl::Seconds(30));

}  // namespace choreo::kafka
