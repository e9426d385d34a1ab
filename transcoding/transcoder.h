#pragma once

// HTTP/1.1 + JSON for gRPC services, driven by their google.api.http annotations and generic:
// every annotated method of every service the gRPC server registered is served, with no code
// per method. Each HTTP request becomes a call on the gRPC server's in-process channel, so the
// server's interceptors, authentication, deadlines and metrics apply exactly as to native
// calls. Nothing waits on a thread: calls use gRPC's callback API and the HTTP connection is
// suspended until the answer comes.
//
// - Unary: one JSON body, HTTP status from the gRPC status (json_mapping.h), errors as
//   {code, message, details}.
// - Server streaming: newline-delimited JSON ({"result": ...} per message, {"error": ...} if the
//   call fails midway), or server-sent events when the client accepts text/event-stream. The
//   HTTP status is sent with the first message, so an error before it gets its own status.
// - GET /openapi.json: the OpenAPI 3 document of the same routes; GET of a static resource's
//   path: that resource.
// - Headers: see core/http_headers.h. X-Request-Id is echoed back (one is made when absent).
// - The HTTP client's address (its TCP connection's) goes with every call as `x-forwarded-for`
//   metadata (kClientAddressKey), as grpc-gateway does; one the client sent is dropped, so the
//   server may believe it on in-process calls.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "transcoding/core/http_routes.h"
#include "transcoding/core/openapi.h"
#include "edges/http/http_server.h"

namespace choreo::transcoding {

// The metadata key carrying the HTTP client's address on a transcoded call.
inline constexpr char kClientAddressKey[] = "x-forwarded-for";

using http::HttpExchange;
using http::HttpHeader;
using http::HttpRequest;
using http::HttpResponse;
using http::HttpServer;
using http::HttpServerOptions;

// The routes of the named services (full names, as grpc::Server registered them), looked up in
// the generated descriptor pool; names it does not know, and unannotated methods, get none.
absl::StatusOr<RouteTable> RoutesOfServices(const std::vector<std::string>& service_names);

// A fixed document served for GET (and HEAD) of its exact path, before any route (a web page).
// A page served as is. Every one goes out with X-Frame-Options DENY, X-Content-Type-Options
// nosniff and Referrer-Policy no-referrer, and with its Content-Security-Policy when it has one.
struct StaticResource {
  std::string path;
  std::string content_type;
  std::string body;
  std::string content_security_policy;
};

struct TranscoderOptions {
  OpenApiInfo openapi;
  std::vector<StaticResource> static_resources;
  // The deadline of a unary call whose request has no Grpc-Timeout. It bounds a call whose
  // client went away while it waited (a waiting connection's disconnect is not noticed).
  // Streams have none: their disconnect is noticed at the next message.
  absl::Duration unary_timeout = absl::Seconds(60);
};

// Turns HTTP exchanges into gRPC calls on `channel`. Thread-safe; Handle never blocks.
class HttpTranscoder {
 public:
  HttpTranscoder(RouteTable routes, std::shared_ptr<grpc::Channel> channel,
                 const TranscoderOptions& options);
  ~HttpTranscoder();

  void Handle(std::shared_ptr<HttpExchange> exchange);

  const RouteTable& routes() const { return routes_; }

 private:
  class Calls;
  // Answers GET/HEAD of /openapi.json and the static resources; false for anything else.
  bool ServeStatic(HttpExchange& exchange, std::vector<HttpHeader>& headers) const;

  const RouteTable routes_;
  const TranscoderOptions options_;
  const std::string openapi_json_;
  std::unique_ptr<Calls> calls_;
};

// An HttpServer serving an HttpTranscoder for a running grpc::Server.
class TranscodingServer {
 public:
  // `server` must outlive this; `service_names` are the services it registered.
  static absl::StatusOr<std::unique_ptr<TranscodingServer>> Start(
      grpc::Server& server, const std::vector<std::string>& service_names,
      const HttpServerOptions& http_options, const TranscoderOptions& options);

  int port() const { return http_->port(); }
  const RouteTable& routes() const { return transcoder_->routes(); }
  // Graceful: see HttpServer::Shutdown. Call before shutting the gRPC server down.
  void Shutdown(absl::Duration grace) { http_->Shutdown(grace); }

 private:
  TranscodingServer() = default;
  std::unique_ptr<HttpTranscoder> transcoder_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace choreo::transcoding
