#pragma once

// What a client's call to the gateway bounds and carries into the work it causes:
//   WaitDeadline: when a wait on the saga must end (the client's deadline or a server limit).
//   CallService: one unary call to a service on the client's behalf, answered to the client.
// Stateless; thread-safe.

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "gateway/auth.h"
#include "grpcpp/grpcpp.h"

namespace choreo::gateway {

// The client's deadline or `limit` from now, whichever comes first.
absl::Time WaitDeadline(const grpc::CallbackServerContext& context, absl::Duration limit);

// A call to a service and what it needs to outlive the reactor that started it.
template <typename Request, typename Response>
struct ServiceCall {
  grpc::ClientContext context;
  Request request;
  Response response;
};

// The network address of the client of a call to the gateway: its connection's IP address, or
// for an HTTP call (in-process, from the transcoder) the address the transcoder names.
std::string ClientAddress(const grpc::CallbackServerContext& client);

// Sets up a call to a service for `client`: its deadline (at most 10 s), the caller's identity
// (ForwardCaller) when `caller` is not null, the client's address (ClientAddress) and trace
// context.
void PrepareServiceCall(const grpc::CallbackServerContext& client, const Caller* caller,
                        grpc::ClientContext& context);

// Calls one unary method of a service for the client (PrepareServiceCall) and answers the client
// on `reactor`: on OK, `fill` copies the service's answer into the client's response; the
// service's status goes back as it is. `invoke(context, request, response, done)` starts the
// async call (e.g. `stub.async()->Method(...)`).
template <typename Response, typename Request, typename Invoke, typename Fill>
void CallService(const grpc::CallbackServerContext& client, grpc::ServerUnaryReactor* reactor,
                 const Caller* caller, Request request, Invoke invoke, Fill fill) {
  auto call = std::make_shared<ServiceCall<Request, Response>>();
  call->request = std::move(request);
  PrepareServiceCall(client, caller, call->context);
  invoke(&call->context, &call->request, &call->response,
         [call, reactor, fill = std::move(fill)](grpc::Status status) {
           if (status.ok()) fill(call->response);
           reactor->Finish(status);
         });
}

}  // namespace choreo::gateway
