#pragma once

// Errors over HTTP the way Google APIs give them: the google.rpc.Status JSON body and the
// standard gRPC → HTTP status table. Pure; no protobuf, so the HTTP server needs no JSON
// mapping for its own answers (the transcoder adds typed details on top, transcoding/core).

#include <string>

#include "absl/strings/string_view.h"

namespace choreo::http {

// {"code":5,"message":"...","details":[]}: a google.rpc.Status without details, in JSON.
std::string StatusBody(int grpc_code, absl::string_view message);

// The standard gRPC → HTTP status table (google.rpc.Code; grpc-gateway, Envoy).
int HttpStatusForGrpcCode(int grpc_code);

}  // namespace choreo::http
