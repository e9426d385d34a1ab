#pragma once

// How the gateway answers errors: absl::Status (every module's boundary) → grpc::Status (the
// client's), and reactors that answer a refusal at once. Stateless; thread-safe.

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "saga/service/grpc_status.h"

namespace choreo::gateway {

// The same code and message.
using service::ToGrpc;

// UNAVAILABLE with `status`'s message, whatever its code: a store the call needs did not answer.
grpc::Status Unavailable(const absl::Status& status);

// RESOURCE_EXHAUSTED: the work pool's queue is full.
grpc::Status Busy();

// A unary reactor that has already answered `status`: a request refused before any work.
grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context, const grpc::Status& status);

// The same for a server-streaming call: the stream ends with `status` before any message.
template <typename Message>
grpc::ServerWriteReactor<Message>* RefuseStream(grpc::Status status) {
  class Refused final : public grpc::ServerWriteReactor<Message> {
   public:
    explicit Refused(grpc::Status status) { this->Finish(std::move(status)); }
    void OnDone() override { delete this; }
  };
  return new Refused(std::move(status));
}

}  // namespace choreo::gateway
