#pragma once

// WithCaller: the one place a gateway RPC learns who is calling. Every RPC but Register and
// Login goes through it: a call without a valid bearer token is answered UNAUTHENTICATED (with
// the Authenticator's reason) before any handler runs, and a handler runs only with a verified
// Caller. Works for unary and server-streaming reactors alike. Thread-safe (stateless).

#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "gateway/auth.h"
#include "gateway/grpc_status.h"
#include "grpcpp/grpcpp.h"

namespace choreo::gateway {
namespace with_caller_internal {

template <typename Reactor>
struct Refusal;
template <>
struct Refusal<grpc::ServerUnaryReactor> {
  static grpc::ServerUnaryReactor* Make(grpc::CallbackServerContext* context, grpc::Status status) {
    return Refuse(context, status);
  }
};
template <typename Message>
struct Refusal<grpc::ServerWriteReactor<Message>> {
  static grpc::ServerWriteReactor<Message>* Make(grpc::CallbackServerContext*, grpc::Status status) {
    return RefuseStream<Message>(std::move(status));
  }
};

}  // namespace with_caller_internal

// Returns `handler(caller)`'s reactor for an authenticated call, else a reactor that has
// answered UNAUTHENTICATED. `handler` takes a `Caller` and returns the RPC's reactor.
template <typename Handler>
auto WithCaller(const Authenticator& auth, grpc::CallbackServerContext* context, Handler&& handler)
    -> std::invoke_result_t<Handler, Caller> {
  using Reactor = std::remove_pointer_t<std::invoke_result_t<Handler, Caller>>;
  absl::StatusOr<Caller> caller = auth.Authenticate(*context);
  if (!caller.ok()) {
    return with_caller_internal::Refusal<Reactor>::Make(context, ToGrpc(caller.status()));
  }
  return std::forward<Handler>(handler)(*std::move(caller));
}

}  // namespace choreo::gateway
