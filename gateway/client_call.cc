#include "gateway/client_call.h"

#include <optional>
#include <string>

#include "saga/service/grpc_metadata.h"
#include "saga/service/peer_auth.h"
#include "transcoding/transcoder.h"

namespace choreo::gateway {

absl::Time WaitDeadline(const grpc::CallbackServerContext& context, absl::Duration limit) {
  const absl::Time client = absl::FromChrono(context.deadline());
  return std::min(client, absl::Now() + limit);
}

namespace {

constexpr char kInProcessPeer[] = "unknown";

}  // namespace

std::string ClientAddress(const grpc::CallbackServerContext& client) {
  if (std::optional<std::string> ip = service::PeerIpAddress(client.peer()); ip.has_value()) {
    return *std::move(ip);
  }
  // Only the transcoder's calls name their client: they come over the in-process channel, whose
  // peer gRPC names "unknown" (TrustBoundaryTest would see another name: HTTP clients would
  // share one limit). Anyone else (a unix socket's peer, say) is believed for nothing.
  if (client.peer() != kInProcessPeer) return client.peer();
  std::string forwarded = service::MetadataValue(client, transcoding::kClientAddressKey);
  return forwarded.empty() ? client.peer() : forwarded;
}

void PrepareServiceCall(const grpc::CallbackServerContext& client, const Caller* caller,
                        grpc::ClientContext& context) {
  context.set_deadline(
      std::min(client.deadline(), std::chrono::system_clock::now() + std::chrono::seconds(10)));
  if (caller != nullptr) ForwardCaller(*caller, context);
  context.AddMetadata(service::kClientAddressMetadata, ClientAddress(client));
  if (std::string traceparent = service::MetadataValue(client, "traceparent"); !traceparent.empty()) {
    context.AddMetadata("traceparent", traceparent);
  }
}

}  // namespace choreo::gateway
