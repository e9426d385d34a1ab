#pragma once

// An OpenAPI 3.0 document of a RouteTable, made from the same descriptors and annotations that
// route the calls (so it cannot drift from what the server does). Pure.
//
// Every route is an operation (operationId "<Service>_<Method>", "_<n>" for additional
// bindings). Path variables are path parameters; for routes whose body is not "*", the
// request's other text-settable fields are query parameters (nested ones as a.b.c). Schemas
// follow the proto3 JSON mapping (64-bit integers as strings, enums as names, well-known types
// in their JSON forms). Errors are google.rpc.Status; server-streaming methods answer
// application/x-ndjson ({"result": ...} or {"error": ...} per line) or text/event-stream.

#include <string>

#include "transcoding/core/http_routes.h"

namespace choreo::transcoding {

struct OpenApiInfo {
  std::string title = "API";
  std::string version = "v1";
  std::string description;
  // Declares a bearer (JWT) security scheme, optional per operation (the server decides which
  // methods need it).
  bool bearer_auth = false;
};

std::string OpenApiDocument(const RouteTable& routes, const OpenApiInfo& info);

}  // namespace choreo::transcoding
