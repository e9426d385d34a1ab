#include "gateway/client_call.h"

#include <string>

#include "saga/service/grpc_metadata.h"

namespace choreo::gateway {

absl::Time WaitDeadline(const grpc::CallbackServerContext& context, absl::Duration limit) {
  const absl::Time client = absl::FromChrono(context.deadline());
  return std::min(client, absl::Now() + limit);
}

void PrepareServiceCall(const grpc::CallbackServerContext& client, const Caller* caller,
                        grpc::ClientContext& context) {
  context.set_deadline(
      std::min(client.deadline(), std::chrono::system_clock::now() + std::chrono::seconds(10)));
  if (caller != nullptr) ForwardCaller(*caller, context);
  if (std::string traceparent = service::MetadataValue(client, "traceparent"); !traceparent.empty()) {
    context.AddMetadata("traceparent", traceparent);
  }
}

}  // namespace choreo::gateway
