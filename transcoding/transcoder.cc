#include "transcoding/transcoder.h"

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/generic/generic_stub.h"
#include "edges/http/status_body.h"
#include "transcoding/core/http_headers.h"
#include "transcoding/core/json_mapping.h"

namespace choreo::transcoding {
namespace {

using google::protobuf::Message;

std::unique_ptr<Message> NewMessage(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

grpc::ByteBuffer Serialize(const Message& message) {
  grpc::Slice slice(message.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  static_cast<void>(buffer.Dump(&slices));
  std::string out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

Metadata ToMetadata(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  Metadata out;
  for (const auto& [key, value] : metadata) {
    out.emplace_back(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
  }
  return out;
}

void AppendHeaders(std::vector<HttpHeader>& headers, const Metadata& more) {
  for (const auto& [name, value] : more) headers.push_back({.name = name, .value = value});
}

HttpResponse ErrorResponse(std::vector<HttpHeader> headers, int grpc_code, absl::string_view message,
                           absl::string_view details = "", int http_status = 0) {
  return {.status = http_status != 0 ? http_status : http::HttpStatusForGrpcCode(grpc_code),
          .headers = std::move(headers),
          .body = StatusJson(grpc_code, message, details)};
}

// What one call needs besides its reactor: the exchange, the route, the context, the headers
// every answer carries.
struct CallBase {
  std::shared_ptr<HttpExchange> exchange;
  const HttpRoute* route = nullptr;
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  std::vector<HttpHeader> headers;  // Content-Type, X-Request-Id

  std::vector<HttpHeader> HeadersWithMetadata(bool trailers) {
    std::vector<HttpHeader> out = headers;
    AppendHeaders(out, HeadersFromMetadata(ToMetadata(context.GetServerInitialMetadata()),
                                           "Grpc-Metadata-"));
    if (trailers) {
      AppendHeaders(out, HeadersFromMetadata(ToMetadata(context.GetServerTrailingMetadata()),
                                             "Grpc-Trailer-"));
    }
    return out;
  }
};

class UnaryCall : public CallBase {
 public:
  grpc::ByteBuffer response;

  void Finish(const grpc::Status& status) {
    if (!status.ok()) {
      exchange->Respond(ErrorResponse(HeadersWithMetadata(true), status.error_code(),
                                      status.error_message(), status.error_details()));
      return;
    }
    std::unique_ptr<Message> message = NewMessage(route->method->output_type());
    absl::StatusOr<std::string> json = message->ParseFromString(Flatten(response))
                                           ? ResponseJson(*route, *message)
                                           : absl::InternalError("unparsable response");
    if (!json.ok()) {
      exchange->Respond(ErrorResponse(headers, grpc::StatusCode::INTERNAL, json.status().message()));
      return;
    }
    exchange->Respond({.status = 200, .headers = HeadersWithMetadata(true), .body = *std::move(json)});
  }
};

// A server-streaming call, relayed message by message.
class StreamCall : public CallBase, public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  bool event_stream = false;  // server-sent events; else newline-delimited JSON

  void Start(grpc::GenericStub& stub, std::shared_ptr<StreamCall> self) {
    self_ = std::move(self);
    stub.PrepareBidiStreamingCall(&context, route->rpc_path, grpc::StubOptions(), this);
    StartWriteLast(&request, grpc::WriteOptions());
    StartRead(&read_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream is over; OnDone tells how
    std::unique_ptr<Message> message = NewMessage(route->method->output_type());
    absl::StatusOr<std::string> json = message->ParseFromString(Flatten(read_))
                                           ? ResponseJson(*route, *message)
                                           : absl::InternalError("unparsable response");
    if (!json.ok()) {
      failure_ = json.status();
      context.TryCancel();
      return;
    }
    if (!started_) {
      started_ = true;
      StartStream(/*trailers=*/false);
    }
    const std::string frame = event_stream ? absl::StrCat("data: ", *json, "\n\n")
                                           : absl::StrCat(R"({"result":)", *json, "}\n");
    if (!exchange->Write(frame)) {
      context.TryCancel();  // the client is gone
      return;
    }
    StartRead(&read_);
  }

  void OnDone(const grpc::Status& status) override {
    int code = status.error_code();
    std::string message = status.error_message();
    std::string details = status.error_details();
    if (!failure_.ok()) {
      code = grpc::StatusCode::INTERNAL;
      message = std::string(failure_.message());
      details.clear();
    }
    if (!started_) {
      if (code == grpc::StatusCode::OK) {
        StartStream(/*trailers=*/true);
        exchange->End();
      } else {
        exchange->Respond(ErrorResponse(HeadersWithMetadata(true), code, message, details));
      }
    } else {
      if (code != grpc::StatusCode::OK) {
        const std::string error = StatusJson(code, message, details);
        exchange->Write(event_stream ? absl::StrCat("event: error\ndata: ", error, "\n\n")
                                     : absl::StrCat(R"({"error":)", error, "}\n"));
      }
      exchange->End();
    }
    self_.reset();  // the last thing: may delete this
  }

 private:
  // The stream's 200 and headers: its media type instead of JSON, the call's metadata.
  void StartStream(bool trailers) {
    std::vector<HttpHeader> headers = HeadersWithMetadata(trailers);
    headers.front().value = event_stream ? "text/event-stream" : "application/x-ndjson";
    headers.push_back({.name = "Cache-Control", .value = "no-cache"});
    exchange->StartStream(200, std::move(headers));
  }

  grpc::ByteBuffer read_;
  bool started_ = false;
  absl::Status failure_;
  std::shared_ptr<StreamCall> self_;
};

// 404 for a path no route has; 405 with Allow for a path routed under other methods only.
void RefuseUnrouted(HttpExchange& exchange, std::vector<HttpHeader> headers,
                    const RouteLookup& found) {
  const HttpRequest& request = exchange.request();
  if (found.allowed_methods.empty()) {
    exchange.Respond(ErrorResponse(std::move(headers), grpc::StatusCode::NOT_FOUND,
                                   absl::StrCat("no route for ", request.method, " ", request.path)));
    return;
  }
  const std::string allowed = absl::StrJoin(found.allowed_methods, ", ");
  headers.push_back({.name = "Allow", .value = allowed});
  exchange.Respond(ErrorResponse(std::move(headers), grpc::StatusCode::UNIMPLEMENTED,
                                 absl::StrCat(request.method, " is not allowed on ", request.path,
                                              "; allowed: ", allowed),
                                 "", /*http_status=*/405));
}

// What a transcoded call sends, read from the HTTP request.
struct CallInput {
  grpc::ByteBuffer request;               // the serialized request message
  Metadata metadata;                      // from the headers, x-request-id included
  std::optional<absl::Duration> timeout;  // the client's grpc-timeout, if any
};

// The call's input, or INVALID_ARGUMENT naming what is wrong. The body is read as JSON whatever
// its Content-Type says (grpc-gateway's fallback, and what `curl -d`, which sends
// application/x-www-form-urlencoded, needs); a body that is not JSON is refused naming where it
// breaks.
absl::StatusOr<CallInput> ReadCallInput(const HttpRequest& request, const HttpRoute& route,
                                        const std::vector<PathBinding>& bindings,
                                        const std::string& request_id) {
  std::unique_ptr<Message> message = NewMessage(route.method->input_type());
  absl::StatusOr<std::vector<QueryParam>> query = ParseQueryString(request.query);
  if (!query.ok()) return query.status();
  if (absl::Status filled = FillRequest(route, request.body, *query, bindings, *message);
      !filled.ok()) {
    return filled;
  }
  Metadata header_pairs;
  for (const HttpHeader& header : request.headers) {
    if (header.name != "x-request-id") header_pairs.emplace_back(header.name, header.value);
  }
  header_pairs.emplace_back("x-request-id", request_id);
  absl::StatusOr<Metadata> metadata = MetadataFromHeaders(header_pairs);
  if (!metadata.ok()) return metadata.status();
  std::erase_if(*metadata, [](const auto& entry) { return entry.first == kClientAddressKey; });
  metadata->emplace_back(kClientAddressKey, request.client_address);
  CallInput input{.request = Serialize(*message), .metadata = *std::move(metadata)};
  if (const std::string* grpc_timeout = request.Header("grpc-timeout"); grpc_timeout != nullptr) {
    absl::StatusOr<absl::Duration> parsed = ParseGrpcTimeout(*grpc_timeout);
    if (!parsed.ok()) return parsed.status();
    input.timeout = *parsed;
  }
  return input;
}

}  // namespace

class HttpTranscoder::Calls {
 public:
  explicit Calls(std::shared_ptr<grpc::Channel> channel) : stub(std::move(channel)) {}

  std::string NewRequestId() {
    absl::MutexLock lock(&mu_);
    return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(random_),
                           absl::Uniform<uint64_t>(random_));
  }

  grpc::GenericStub stub;

 private:
  absl::Mutex mu_;
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<RouteTable> RoutesOfServices(const std::vector<std::string>& service_names) {
  std::vector<const google::protobuf::ServiceDescriptor*> services;
  for (const std::string& name : service_names) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    if (service != nullptr) services.push_back(service);
  }
  return RouteTable::Build(services);
}

HttpTranscoder::HttpTranscoder(RouteTable routes, std::shared_ptr<grpc::Channel> channel,
                               const TranscoderOptions& options)
    : routes_(std::move(routes)),
      options_(options),
      openapi_json_(OpenApiDocument(routes_, options.openapi)),
      calls_(std::make_unique<Calls>(std::move(channel))) {}

HttpTranscoder::~HttpTranscoder() = default;

void HttpTranscoder::Handle(std::shared_ptr<HttpExchange> exchange) {
  const HttpRequest& request = exchange->request();
  const std::string* given_id = request.Header("x-request-id");
  const std::string request_id =
      given_id != nullptr && !given_id->empty() && given_id->size() <= 128 ? *given_id
                                                                           : calls_->NewRequestId();
  std::vector<HttpHeader> headers = {{.name = "Content-Type", .value = "application/json"},
                                     {.name = "X-Request-Id", .value = request_id}};
  if (ServeStatic(*exchange, headers)) return;
  RouteLookup found = routes_.Find(request.method, request.path);
  if (found.route == nullptr) return RefuseUnrouted(*exchange, std::move(headers), found);
  absl::StatusOr<CallInput> input = ReadCallInput(request, *found.route, found.bindings, request_id);
  if (!input.ok()) {
    exchange->Respond(ErrorResponse(std::move(headers), grpc::StatusCode::INVALID_ARGUMENT,
                                    input.status().message()));
    return;
  }
  const HttpRoute& route = *found.route;
  const auto prepare = [&](CallBase& call) {
    call.exchange = exchange;
    call.route = &route;
    call.request = std::move(input->request);
    call.headers = std::move(headers);
    for (const auto& [key, value] : input->metadata) call.context.AddMetadata(key, value);
    if (input->timeout.has_value()) {
      call.context.set_deadline(absl::ToChronoTime(absl::Now() + *input->timeout));
    }
  };
  if (route.method->server_streaming()) {
    auto call = std::make_shared<StreamCall>();
    prepare(*call);
    const std::string* accept = request.Header("accept");
    call->event_stream = accept != nullptr && absl::StrContains(*accept, "text/event-stream");
    exchange->OnAbort([weak = std::weak_ptr<StreamCall>(call)] {
      if (std::shared_ptr<StreamCall> live = weak.lock()) live->context.TryCancel();
    });
    call->Start(calls_->stub, call);
    return;
  }
  auto call = std::make_shared<UnaryCall>();
  const bool has_timeout = input->timeout.has_value();
  prepare(*call);
  if (!has_timeout) {
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + options_.unary_timeout));
  }
  exchange->OnAbort([weak = std::weak_ptr<UnaryCall>(call)] {
    if (std::shared_ptr<UnaryCall> live = weak.lock()) live->context.TryCancel();
  });
  calls_->stub.UnaryCall(&call->context, route.rpc_path, grpc::StubOptions(), &call->request,
                         &call->response, [call](grpc::Status status) { call->Finish(status); });
}

bool HttpTranscoder::ServeStatic(HttpExchange& exchange, std::vector<HttpHeader>& headers) const {
  const HttpRequest& request = exchange.request();
  if (request.method != "GET" && request.method != "HEAD") return false;
  if (request.path == "/openapi.json") {
    exchange.Respond({.status = 200, .headers = std::move(headers), .body = openapi_json_});
    return true;
  }
  for (const StaticResource& resource : options_.static_resources) {
    if (request.path != resource.path) continue;
    headers.front().value = resource.content_type;
    headers.push_back({.name = "Cache-Control", .value = "no-cache"});
    headers.push_back({.name = "X-Frame-Options", .value = "DENY"});
    headers.push_back({.name = "X-Content-Type-Options", .value = "nosniff"});
    headers.push_back({.name = "Referrer-Policy", .value = "no-referrer"});
    if (!resource.content_security_policy.empty()) {
      headers.push_back(
          {.name = "Content-Security-Policy", .value = resource.content_security_policy});
    }
    exchange.Respond({.status = 200, .headers = std::move(headers), .body = resource.body});
    return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<TranscodingServer>> TranscodingServer::Start(
    grpc::Server& server, const std::vector<std::string>& service_names,
    const HttpServerOptions& http_options, const TranscoderOptions& options) {
  absl::StatusOr<RouteTable> routes = RoutesOfServices(service_names);
  if (!routes.ok()) return routes.status();
  std::unique_ptr<TranscodingServer> running(new TranscodingServer());
  running->transcoder_ = std::make_unique<HttpTranscoder>(
      *std::move(routes), server.InProcessChannel(grpc::ChannelArguments()), options);
  HttpTranscoder* transcoder = running->transcoder_.get();
  absl::StatusOr<std::unique_ptr<HttpServer>> http = HttpServer::Start(
      http_options, [transcoder](std::shared_ptr<HttpExchange> exchange) {
        transcoder->Handle(std::move(exchange));
      });
  if (!http.ok()) return http.status();
  running->http_ = *std::move(http);
  return running;
}

}  // namespace choreo::transcoding
