#include "edges/kafka/topic_admin.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace choreo::kafka {
namespace {

int Millis(absl::Duration timeout) { return static_cast<int>(absl::ToInt64Milliseconds(timeout)); }

// The broker's view of every topic: partitions and replicas per existing topic.
absl::StatusOr<std::map<std::string, topics::ObservedTopic>> DescribeTopics(
    rd_kafka_t* handle, absl::Duration timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(handle, 1, nullptr, &metadata, Millis(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("topic metadata: ", rd_kafka_err2str(err)));
  }
  std::map<std::string, topics::ObservedTopic> topics;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    topics[topic.topic] = {.partitions = topic.partition_cnt,
                           .replication_factor =
                               topic.partition_cnt > 0 ? topic.partitions[0].replica_cnt : 0};
  }
  rd_kafka_metadata_destroy(metadata);
  return topics;
}

// One admin request's plumbing: a reply queue and options, freed together.
class AdminCall {
 public:
  AdminCall(rd_kafka_t* handle, rd_kafka_admin_op_t op, absl::Duration timeout)
      : queue_(rd_kafka_queue_new(handle)),
        options_(rd_kafka_AdminOptions_new(handle, op)),
        timeout_(timeout) {
    char error[256];
    rd_kafka_AdminOptions_set_request_timeout(options_, Millis(timeout), error, sizeof(error));
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS) {
      rd_kafka_AdminOptions_set_operation_timeout(options_, Millis(timeout), error, sizeof(error));
    }
  }
  ~AdminCall() {
    if (event_ != nullptr) rd_kafka_event_destroy(event_);
    rd_kafka_AdminOptions_destroy(options_);
    rd_kafka_queue_destroy(queue_);
  }
  AdminCall(const AdminCall&) = delete;
  AdminCall& operator=(const AdminCall&) = delete;

  rd_kafka_queue_t* queue() const { return queue_; }
  rd_kafka_AdminOptions_t* options() const { return options_; }

  // Waits for the reply; the event stays owned by this call.
  absl::StatusOr<rd_kafka_event_t*> Wait(absl::string_view what) {
    event_ = rd_kafka_queue_poll(queue_, Millis(timeout_));
    if (event_ == nullptr) {
      return absl::UnavailableError(absl::StrCat(what, ": no answer from the broker in time"));
    }
    if (rd_kafka_event_error(event_) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat(what, ": ", rd_kafka_event_error_string(event_)));
    }
    return event_;
  }

 private:
  rd_kafka_queue_t* queue_;
  rd_kafka_AdminOptions_t* options_;
  absl::Duration timeout_;
  rd_kafka_event_t* event_ = nullptr;
};

rd_kafka_ResourceType_t ResourceOf(topics::AclGrant::Resource resource) {
  switch (resource) {
    case topics::AclGrant::Resource::kTopic:
      return RD_KAFKA_RESOURCE_TOPIC;
    case topics::AclGrant::Resource::kGroup:
      return RD_KAFKA_RESOURCE_GROUP;
    case topics::AclGrant::Resource::kCluster:
      return RD_KAFKA_RESOURCE_BROKER;
  }
  return RD_KAFKA_RESOURCE_UNKNOWN;
}

rd_kafka_ResourcePatternType_t PatternOf(const topics::AclGrant& grant) {
  return grant.prefixed ? RD_KAFKA_RESOURCE_PATTERN_PREFIXED : RD_KAFKA_RESOURCE_PATTERN_LITERAL;
}

rd_kafka_AclOperation_t OperationOf(topics::AclGrant::Operation operation) {
  switch (operation) {
    case topics::AclGrant::Operation::kRead:
      return RD_KAFKA_ACL_OPERATION_READ;
    case topics::AclGrant::Operation::kWrite:
      return RD_KAFKA_ACL_OPERATION_WRITE;
    case topics::AclGrant::Operation::kIdempotentWrite:
      return RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE;
  }
  return RD_KAFKA_ACL_OPERATION_UNKNOWN;
}

// Creates `specs`; returns the names this call created (not those that already existed).
absl::StatusOr<std::vector<std::string>> CreateTopics(rd_kafka_t* handle,
                                                      const std::vector<topics::TopicSpec>& specs,
                                                      absl::Duration timeout) {
  std::vector<std::string> created;
  if (specs.empty()) return created;
  char error[512];
  std::vector<rd_kafka_NewTopic_t*> requests;
  auto free_requests = [&requests] {
    for (rd_kafka_NewTopic_t* request : requests) rd_kafka_NewTopic_destroy(request);
  };
  for (const topics::TopicSpec& spec : specs) {
    rd_kafka_NewTopic_t* request = rd_kafka_NewTopic_new(
        spec.name.c_str(), spec.partitions, spec.replication_factor, error, sizeof(error));
    if (request == nullptr) {
      free_requests();
      return absl::InvalidArgumentError(absl::StrCat("topic ", spec.name, ": ", error));
    }
    requests.push_back(request);
    for (const auto& [name, value] : topics::TopicConfigs(spec)) {
      rd_kafka_NewTopic_set_config(request, name.c_str(), value.c_str());
    }
  }
  AdminCall call(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
  rd_kafka_CreateTopics(handle, requests.data(), requests.size(), call.options(), call.queue());
  free_requests();
  absl::StatusOr<rd_kafka_event_t*> event = call.Wait("CreateTopics");
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(*event), &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[i]);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) {
      created.push_back(rd_kafka_topic_result_name(results[i]));
    } else if (code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      return absl::InternalError(absl::StrCat("CreateTopics ", rd_kafka_topic_result_name(results[i]),
                                              ": ", message != nullptr ? message : rd_kafka_err2str(code)));
    }
  }
  return created;
}

// The broker's metadata once every one of `names` shows in it. A created topic reaches the
// metadata a moment after CreateTopics answers (KRaft propagates it to each broker), so a
// caller that starts consumers next would otherwise be told the topic is missing.
absl::StatusOr<std::map<std::string, topics::ObservedTopic>> DescribeTopicsOnceVisible(
    rd_kafka_t* handle, const std::vector<std::string>& names, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::map<std::string, topics::ObservedTopic>> observed =
        DescribeTopics(handle, timeout);
    if (!observed.ok()) return observed.status();
    std::vector<std::string> invisible;
    for (const std::string& name : names) {
      if (!observed->contains(name)) invisible.push_back(name);
    }
    if (invisible.empty()) return observed;
    if (absl::Now() >= deadline) {
      return absl::UnavailableError(absl::StrCat("created topics not yet in the metadata: ",
                                                 absl::StrJoin(invisible, ", ")));
    }
    absl::SleepFor(absl::Milliseconds(50));  // poll interval of a deadline-bound wait
  }
}

// Fills in the configs of every topic in `observed` (DescribeConfigs).
absl::Status DescribeConfigs(rd_kafka_t* handle,
                             std::map<std::string, topics::ObservedTopic>& observed,
                             absl::Duration timeout) {
  if (observed.empty()) return absl::OkStatus();
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const auto& [name, topic] : observed) {
    resources.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()));
  }
  AdminCall call(handle, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout);
  rd_kafka_DescribeConfigs(handle, resources.data(), resources.size(), call.options(),
                           call.queue());
  rd_kafka_ConfigResource_destroy_array(resources.data(), resources.size());
  absl::StatusOr<rd_kafka_event_t*> event = call.Wait("DescribeConfigs");
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_ConfigResource_t** described = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(*event), &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_ConfigResource_error(described[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    topics::ObservedTopic& topic = observed[rd_kafka_ConfigResource_name(described[i])];
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(described[i], &entries);
    for (size_t e = 0; e < entries; ++e) {
      const char* value = rd_kafka_ConfigEntry_value(configs[e]);
      topic.configs.emplace_back(rd_kafka_ConfigEntry_name(configs[e]), value != nullptr ? value : "");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TopicReport> ApplyTopics(KafkaProducer& connection,
                                        const std::vector<topics::TopicSpec>& specs,
                                        bool create_missing, absl::Duration timeout) {
  absl::StatusOr<std::map<std::string, topics::ObservedTopic>> observed =
      DescribeTopics(connection.handle(), timeout);
  if (!observed.ok()) return observed.status();
  TopicReport report;
  std::vector<topics::TopicSpec> absent;
  std::map<std::string, topics::ObservedTopic> present;
  for (const topics::TopicSpec& spec : specs) {
    auto it = observed->find(spec.name);
    if (it == observed->end()) {
      absent.push_back(spec);
    } else {
      present.insert(*it);
    }
  }
  if (create_missing && !absent.empty()) {
    absl::StatusOr<std::vector<std::string>> created =
        CreateTopics(connection.handle(), absent, timeout);
    if (!created.ok()) return created.status();
    report.created = *std::move(created);
    // Topics another caller created meanwhile are compared with their declaration too.
    std::vector<std::string> names;
    for (const topics::TopicSpec& spec : absent) names.push_back(spec.name);
    observed = DescribeTopicsOnceVisible(connection.handle(), names, timeout);
    if (!observed.ok()) return observed.status();
    for (const std::string& name : names) present.insert(*observed->find(name));
  } else {
    for (const topics::TopicSpec& spec : absent) report.missing.push_back(spec.name);
  }
  if (absl::Status described = DescribeConfigs(connection.handle(), present, timeout);
      !described.ok()) {
    return described;
  }
  for (const topics::TopicSpec& spec : specs) {
    auto it = present.find(spec.name);
    if (it == present.end()) continue;
    for (const std::string& line : topics::TopicDrift(spec, it->second)) {
      report.drift.push_back(absl::StrCat(spec.name, " ", line));
    }
  }
  return report;
}

absl::Status EnsureTopics(KafkaProducer& connection, const std::vector<std::string>& topics,
                          int partitions, absl::Duration timeout) {
  std::vector<topics::TopicSpec> specs;
  for (const std::string& topic : topics) {
    specs.push_back({.name = topic, .partitions = partitions, .replication_factor = -1});
  }
  if (absl::StatusOr<std::vector<std::string>> created =
          CreateTopics(connection.handle(), specs, timeout);
      !created.ok()) {
    return created.status();
  }
  return DescribeTopicsOnceVisible(connection.handle(), topics, timeout).status();
}

namespace {

// The ALLOW ACLs the broker answering enforces, one "<restype> <pattern> <name> <principal> <op>"
// line each (the broker's authorizer applies created ACLs from the metadata log a moment after
// CreateAcls answers).
absl::StatusOr<std::set<std::string>> DescribeAllowed(rd_kafka_t* handle, absl::Duration timeout) {
  char error[512];
  rd_kafka_AclBindingFilter_t* filter = rd_kafka_AclBindingFilter_new(
      RD_KAFKA_RESOURCE_ANY, nullptr, RD_KAFKA_RESOURCE_PATTERN_ANY, nullptr, nullptr,
      RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, error, sizeof(error));
  if (filter == nullptr) return absl::InternalError(absl::StrCat("DescribeAcls: ", error));
  AdminCall call(handle, RD_KAFKA_ADMIN_OP_DESCRIBEACLS, timeout);
  rd_kafka_DescribeAcls(handle, filter, call.options(), call.queue());
  rd_kafka_AclBinding_destroy(filter);
  absl::StatusOr<rd_kafka_event_t*> event = call.Wait("DescribeAcls");
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_AclBinding_t** acls =
      rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(*event), &count);
  std::set<std::string> allowed;
  for (size_t i = 0; i < count; ++i) {
    allowed.insert(absl::StrCat(
        rd_kafka_AclBinding_restype(acls[i]), " ",
        rd_kafka_AclBinding_resource_pattern_type(acls[i]), " ", rd_kafka_AclBinding_name(acls[i]),
        " ", rd_kafka_AclBinding_principal(acls[i]), " ", rd_kafka_AclBinding_operation(acls[i])));
  }
  return allowed;
}

std::string AllowedLine(const topics::AclGrant& grant) {
  return absl::StrCat(ResourceOf(grant.resource), " ", PatternOf(grant), " ", grant.name,
                      " User:", grant.principal, " ", OperationOf(grant.operation));
}

// Waits until the broker enforces every one of `grants`.
absl::Status WaitEnforced(rd_kafka_t* handle, const std::vector<topics::AclGrant>& grants,
                          absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::set<std::string>> allowed = DescribeAllowed(handle, timeout);
    if (!allowed.ok()) return allowed.status();
    const auto missing = std::find_if(grants.begin(), grants.end(), [&](const auto& grant) {
      return !allowed->contains(AllowedLine(grant));
    });
    if (missing == grants.end()) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat("the broker does not enforce ", topics::Describe(*missing), " in time"));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

}  // namespace

absl::Status ApplyAcls(KafkaProducer& connection, const std::vector<topics::AclGrant>& grants,
                       absl::Duration timeout) {
  if (grants.empty()) return absl::OkStatus();
  char error[512];
  std::vector<rd_kafka_AclBinding_t*> bindings;
  for (const topics::AclGrant& grant : grants) {
    const std::string principal = absl::StrCat("User:", grant.principal);
    bindings.push_back(rd_kafka_AclBinding_new(
        ResourceOf(grant.resource), grant.name.c_str(), PatternOf(grant), principal.c_str(), "*",
        OperationOf(grant.operation), RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, error, sizeof(error)));
    if (bindings.back() == nullptr) {
      bindings.pop_back();
      rd_kafka_AclBinding_destroy_array(bindings.data(), bindings.size());
      return absl::InvalidArgumentError(absl::StrCat(topics::Describe(grant), ": ", error));
    }
  }
  AdminCall call(connection.handle(), RD_KAFKA_ADMIN_OP_CREATEACLS, timeout);
  rd_kafka_CreateAcls(connection.handle(), bindings.data(), bindings.size(), call.options(),
                      call.queue());
  rd_kafka_AclBinding_destroy_array(bindings.data(), bindings.size());
  absl::StatusOr<rd_kafka_event_t*> event = call.Wait("CreateAcls");
  if (!event.ok()) {
    if (absl::StrContains(event.status().message(), "No Authorizer")) {
      return absl::FailedPreconditionError(
          absl::StrCat(event.status().message(), ": the broker runs without security"));
    }
    return event.status();
  }
  size_t count = 0;
  const rd_kafka_acl_result_t** results =
      rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(*event), &count);
  for (size_t i = 0; i < count && i < grants.size(); ++i) {
    const rd_kafka_error_t* refused = rd_kafka_acl_result_error(results[i]);
    if (refused == nullptr) continue;
    if (rd_kafka_error_code(refused) == RD_KAFKA_RESP_ERR_SECURITY_DISABLED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "CreateAcls: ", rd_kafka_error_string(refused), ": the broker runs without security"));
    }
    return absl::InternalError(absl::StrCat("CreateAcls ", topics::Describe(grants[i]), ": ",
                                            rd_kafka_error_string(refused)));
  }
  return WaitEnforced(connection.handle(), grants, timeout);
}

absl::Status RequireTopics(rd_kafka_t* handle, const std::vector<std::string>& topics,
                           absl::Duration timeout) {
  absl::StatusOr<std::map<std::string, topics::ObservedTopic>> observed =
      DescribeTopics(handle, timeout);
  if (!observed.ok()) return observed.status();
  std::vector<std::string> missing;
  for (const std::string& topic : topics) {
    if (!observed->contains(topic)) missing.push_back(topic);
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("missing Kafka topic(s) ", absl::StrJoin(missing, ", "),
                   ": create them with choreo-topics --kafka-brokers <brokers>"));
}

}  // namespace choreo::kafka
