#pragma once

// The proto3 JSON mapping of transcoded calls: building a request from an HTTP request's body,
// query and path, printing a response, the JSON error body and the gRPC → HTTP status table.
// Pure.
//
// Choices (the grpc-gateway / Envoy conventions, written down in transcoding/README.md):
// - Input accepts lowerCamelCase and proto field names; an unknown field is INVALID_ARGUMENT
//   naming it; the body is checked strictly (RFC 8259) first, so a malformed body names its line
//   and column.
// - Output uses lowerCamelCase, enums as names, 64-bit integers as strings, and prints every
//   field, defaults included, so a client always sees the same shape.
// - Path variables win over query parameters, which win over the body; a query parameter for a
//   field the body or the path already binds, or for no field at all, is INVALID_ARGUMENT.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "transcoding/core/http_routes.h"

namespace choreo::transcoding {

struct QueryParam {
  std::string key;
  std::string value;
};

// "a.b=1&c=x+y&c=%2F" → {a.b,1} {c,x y} {c,/}. INVALID_ARGUMENT on a bad escape.
absl::StatusOr<std::vector<QueryParam>> ParseQueryString(absl::string_view raw_query);

// Fills `request` (a fresh message of route.method's input type) from the HTTP body (JSON,
// bound as route.body says; empty means no fields), the query parameters and the path's
// bindings (in route.path.variables order). INVALID_ARGUMENT with a message for the client.
absl::Status FillRequest(const HttpRoute& route, absl::string_view body,
                         const std::vector<QueryParam>& query,
                         const std::vector<PathBinding>& bindings,
                         google::protobuf::Message& request);

// `message` in proto3 JSON, by the output choices above.
absl::StatusOr<std::string> MessageJson(const google::protobuf::Message& message);

// The HTTP body of `response` for `route`: the whole message, or its response_body field.
absl::StatusOr<std::string> ResponseJson(const HttpRoute& route,
                                         const google::protobuf::Message& response);

// {"code":5,"message":"...","details":[...]} (google.rpc.Status in JSON). `status_details` is
// gRPC's serialized google.rpc.Status (grpc-status-details-bin), if any: its details are
// carried over when their types are known, and dropped otherwise (http::StatusBody).
std::string StatusJson(int grpc_code, absl::string_view message,
                       absl::string_view status_details = "");

}  // namespace choreo::transcoding
