#include "saga/runtime/handler_registry.h"

namespace choreo::saga {

absl::Status HandlerRegistry::Add(const google::protobuf::Descriptor& type, Route route) {
  if (routes_.contains(type.full_name())) {
    return absl::AlreadyExistsError(absl::StrCat(type.full_name(), " already has a handler"));
  }
  if (absl::Status registered = codec_.Register(type); !registered.ok()) return registered;
  routes_.emplace(type.full_name(), std::move(route));
  return absl::OkStatus();
}

absl::Status HandlerRegistry::AddAfterCommit(const google::protobuf::Descriptor& type,
                                             const std::string& state_type,
                                             AfterCommitStep step) {
  auto route = routes_.find(type.full_name());
  if (route == routes_.end() || route->second.ignore || route->second.state_type != state_type) {
    return absl::FailedPreconditionError(absl::StrCat(
        "effect ", step.name, ": ", type.full_name(), " has no handler on ", state_type));
  }
  if (route->second.after_commit.has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat(type.full_name(), " already has an effect after the commit"));
  }
  route->second.after_commit = std::move(step);
  return absl::OkStatus();
}

absl::Status HandlerRegistry::AddUpcaster(const google::protobuf::Descriptor& type,
                                          uint32_t from_version, ErasedUpcaster upcaster) {
  const uint32_t current = codec::CurrentSchemaVersion(type);
  if (from_version < 1 || from_version >= current) {
    return absl::InvalidArgumentError(absl::StrCat("upcaster for ", type.full_name(), " from v",
                                                   from_version, ": current revision is ",
                                                   current));
  }
  upcasters_[absl::StrCat(type.full_name(), "@", from_version)] = std::move(upcaster);
  return absl::OkStatus();
}

absl::StatusOr<HandlerRegistry::Dispatch> HandlerRegistry::Decode(const KafkaRecord& record) const {
  absl::StatusOr<codec::DecodedEvent> decoded = codec_.Decode(record);
  if (!decoded.ok()) return decoded.status();
  const google::protobuf::Descriptor& type = *decoded->message->GetDescriptor();
  const uint32_t current = codec::CurrentSchemaVersion(type);
  for (uint32_t version = decoded->schema_version; version < current; ++version) {
    auto upcaster = upcasters_.find(absl::StrCat(type.full_name(), "@", version));
    if (upcaster == upcasters_.end()) continue;
    if (absl::Status upcast = upcaster->second(*decoded->message); !upcast.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("upcasting ", type.full_name(), " from v",
                                                     version, ": ", upcast.message()));
    }
  }
  Dispatch dispatch;
  dispatch.route = &routes_.at(type.full_name());  // the codec only knows routed types
  dispatch.event = *std::move(decoded);
  return dispatch;
}

}  // namespace choreo::saga
