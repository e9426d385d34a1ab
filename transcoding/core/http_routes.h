#pragma once

// The HTTP routes of gRPC methods, read from their google.api.http annotations
// (proto/google/api/http.proto), and the lookup of a request's method and path. Pure: built
// from descriptors, no I/O.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "transcoding/core/message_fields.h"
#include "transcoding/core/path_template.h"

namespace choreo::transcoding {

struct BoundVariable {
  FieldPath field;        // resolved in the request message
  size_t variable_index;  // into HttpRoute::path.variables
};

// One HTTP binding of one gRPC method (its rule, or one of its additional_bindings).
struct HttpRoute {
  std::string http_method;  // "GET", "POST", "PUT", "PATCH", "DELETE" or a custom kind
  std::string path_text;    // as annotated
  PathTemplate path;
  std::vector<BoundVariable> variables;  // path.variables, resolved
  // "" (no body), "*" (the whole request) or the request field the body fills.
  std::string body;
  const google::protobuf::FieldDescriptor* body_field = nullptr;
  // "" (the whole response) or the response field the HTTP body carries.
  const google::protobuf::FieldDescriptor* response_body_field = nullptr;
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string rpc_path;  // "/choreo.gateway.v1.OrderService/CreateOrder"
};

// What a request's method and path found.
struct RouteLookup {
  const HttpRoute* route = nullptr;  // nullptr: no route (404) or not for this method (405)
  std::vector<PathBinding> bindings;
  std::vector<std::string> allowed_methods;  // when the path matched under other methods only
};

// Routes of a set of services. Immutable once built; safe to share between threads.
class RouteTable {
 public:
  // Every annotated method of `services` (methods without google.api.http get no route).
  // INVALID_ARGUMENT, naming the method, for a malformed template, a body, response_body or path
  // variable naming a field that does not exist or cannot be bound, a body on GET or DELETE,
  // client streaming, or two routes of one HTTP method with the same shape.
  static absl::StatusOr<RouteTable> Build(
      const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  // The most specific route matching `raw_path` (percent-encoded, no query) under
  // `http_method`. HEAD finds GET routes.
  RouteLookup Find(absl::string_view http_method, absl::string_view raw_path) const;

  const std::vector<HttpRoute>& routes() const { return routes_; }

 private:
  absl::Status Add(HttpRoute route);

  std::vector<HttpRoute> routes_;
};

}  // namespace choreo::transcoding
