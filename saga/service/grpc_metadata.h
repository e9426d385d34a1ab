#pragma once

// Reading a call's metadata on either gRPC server API (sync or callback).

#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace choreo::service {

// The first value of metadata entry `key` (lower case), or "" when absent.
inline std::string MetadataValue(const grpc::ServerContextBase& context, absl::string_view key) {
  auto it = context.client_metadata().find(grpc::string_ref(key.data(), key.size()));
  if (it == context.client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace choreo::service
