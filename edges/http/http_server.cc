#include "edges/http/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "edges/http/status_body.h"

namespace choreo::http {

const std::string* HttpRequest::Header(absl::string_view lowercase_name) const {
  for (const HttpHeader& header : headers) {
    if (header.name == lowercase_name) return &header.value;
  }
  return nullptr;
}

std::optional<std::string> FramingProblem(const std::vector<HttpHeader>& headers) {
  std::optional<std::string> length;
  bool chunked = false;
  for (const HttpHeader& header : headers) {
    if (header.name == "transfer-encoding") {
      if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(header.value), "chunked")) {
        return "Transfer-Encoding other than chunked";
      }
      chunked = true;
      continue;
    }
    if (header.name != "content-length") continue;
    for (absl::string_view value : absl::StrSplit(header.value, ',')) {
      value = absl::StripAsciiWhitespace(value);
      if (value.empty() || !std::all_of(value.begin(), value.end(), absl::ascii_isdigit)) {
        return "Content-Length is not a number";
      }
      if (length.has_value() && *length != value) return "two different Content-Length values";
      length = std::string(value);
    }
  }
  if (chunked && length.has_value()) return "Content-Length together with Transfer-Encoding";
  return std::nullopt;
}

namespace {

class Exchange;

// The connection's peer IP address as text; empty if libmicrohttpd does not know it.
std::string ClientAddress(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return "";
  char text[INET6_ADDRSTRLEN] = {};
  const sockaddr* address = info->client_addr;
  const void* ip = nullptr;
  if (address->sa_family == AF_INET) {
    ip = &reinterpret_cast<const sockaddr_in*>(address)->sin_addr;
  } else if (address->sa_family == AF_INET6) {
    ip = &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
  }
  if (ip == nullptr || inet_ntop(address->sa_family, ip, text, sizeof text) == nullptr) return "";
  return text;
}

MHD_Response* BufferResponse(const HttpResponse& response, bool close) {
  MHD_Response* mhd = MHD_create_response_from_buffer(
      response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
  for (const HttpHeader& header : response.headers) {
    MHD_add_response_header(mhd, header.name.c_str(), header.value.c_str());
  }
  if (close) MHD_add_response_header(mhd, "Connection", "close");
  return mhd;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}

  absl::Status Start();
  void Shutdown(absl::Duration grace);
  int port() const { return port_; }

  // libmicrohttpd callbacks (on the server's thread).
  static void* OnUri(void* self, const char* uri, MHD_Connection* connection);
  static MHD_Result OnAccess(void* self, MHD_Connection* connection, const char* url,
                             const char* method, const char* version, const char* upload_data,
                             size_t* upload_data_size, void** con_cls);
  static void OnCompleted(void* self, MHD_Connection* connection, void** con_cls,
                          MHD_RequestTerminationCode code);
  static void OnLog(void* self, const char* format, va_list args);

  bool draining() const { return draining_.load(std::memory_order_relaxed); }

 private:
  size_t Live() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return live_.size();
  }
  bool WaitUntilIdle(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  const HttpServerOptions options_;
  const HttpHandler handler_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  std::atomic<bool> draining_{false};
  bool stopped_ = false;  // Shutdown's caller only

  absl::Mutex mu_;
  std::set<std::shared_ptr<Exchange>> live_ ABSL_GUARDED_BY(mu_);
};

namespace {

// One request's state, shared by the server's thread and the handler's threads.
class Exchange final : public HttpExchange, public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(HttpServer::Impl* server, MHD_Connection* connection, absl::string_view uri)
      : server_(server), connection_(connection) {
    const size_t question = uri.find('?');
    request_.path = std::string(uri.substr(0, question));
    if (question != absl::string_view::npos) request_.query = std::string(uri.substr(question + 1));
    request_.client_address = ClientAddress(connection);
  }

  const HttpRequest& request() const override { return request_; }

  void Respond(HttpResponse response) override {
    absl::MutexLock lock(&mu_);
    if (answered_ || closed_) return;
    answered_ = true;
    response_ = std::move(response);
    WakeLocked();
  }

  void StartStream(int status, std::vector<HttpHeader> headers) override {
    absl::MutexLock lock(&mu_);
    if (answered_ || closed_) return;
    answered_ = true;
    streaming_ = true;
    stream_status_ = status;
    stream_headers_ = std::move(headers);
    WakeLocked();
  }

  bool Write(std::string chunk) override {
    absl::MutexLock lock(&mu_);
    if (closed_ || !streaming_ || stream_ended_) return false;
    buffer_.append(chunk);
    WakeLocked();
    return true;
  }

  void End() override {
    absl::MutexLock lock(&mu_);
    if (!streaming_ || stream_ended_) return;
    stream_ended_ = true;
    WakeLocked();
  }

  void OnAbort(std::function<void()> on_abort) override {
    {
      absl::MutexLock lock(&mu_);
      if (!aborted_) {
        on_abort_ = std::move(on_abort);
        return;
      }
    }
    on_abort();
  }

  // --- the server's thread ---

  // The first access call: headers are in.
  void ReadHeaders(MHD_Connection* connection, const char* method) {
    request_.method = method;
    MHD_get_connection_values(
        connection, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
          static_cast<HttpRequest*>(cls)->headers.push_back(
              {.name = absl::AsciiStrToLower(key), .value = value == nullptr ? "" : value});
          return MHD_YES;
        },
        &request_);
  }

  HttpRequest& mutable_request() { return request_; }
  bool dispatched = false;
  bool headers_read = false;
  bool too_large = false;
  bool close_after = false;  // the answer closes the connection

  // Queues the answer if there is one, or suspends the connection until there is.
  MHD_Result QueueOrSuspend(MHD_Connection* connection) {
    absl::MutexLock lock(&mu_);
    if (response_.has_value()) {
      MHD_Response* mhd = BufferResponse(*response_, server_->draining() || close_after);
      const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(response_->status), mhd);
      MHD_destroy_response(mhd);
      response_.reset();
      return queued;
    }
    if (streaming_ && !stream_queued_) {
      stream_queued_ = true;
      MHD_Response* mhd =
          MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, &Exchange::ReadStream, this, nullptr);
      for (const HttpHeader& header : stream_headers_) {
        MHD_add_response_header(mhd, header.name.c_str(), header.value.c_str());
      }
      if (server_->draining()) MHD_add_response_header(mhd, "Connection", "close");
      const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(stream_status_), mhd);
      MHD_destroy_response(mhd);
      return queued;
    }
    MHD_suspend_connection(connection);
    suspended_ = true;
    return MHD_YES;
  }

  // The stream's body, pulled by libmicrohttpd; suspends the connection when it has nothing.
  static ssize_t ReadStream(void* cls, uint64_t /*pos*/, char* out, size_t max) {
    auto* self = static_cast<Exchange*>(cls);
    absl::MutexLock lock(&self->mu_);
    if (self->buffer_offset_ < self->buffer_.size()) {
      const size_t n = std::min(max, self->buffer_.size() - self->buffer_offset_);
      std::memcpy(out, self->buffer_.data() + self->buffer_offset_, n);
      self->buffer_offset_ += n;
      if (self->buffer_offset_ == self->buffer_.size()) {
        self->buffer_.clear();
        self->buffer_offset_ = 0;
      }
      return static_cast<ssize_t>(n);
    }
    if (self->stream_ended_) return MHD_CONTENT_READER_END_OF_STREAM;
    MHD_suspend_connection(self->connection_);
    self->suspended_ = true;
    return 0;
  }

  // The request is over (answered, or the client went away).
  void Completed(bool answered_in_full) {
    std::function<void()> on_abort;
    {
      absl::MutexLock lock(&mu_);
      closed_ = true;
      connection_ = nullptr;
      if (!answered_in_full && !aborted_) {
        aborted_ = true;
        on_abort = std::move(on_abort_);
      }
    }
    if (on_abort) on_abort();
  }

  // Shutdown: the handler should give up (it will still answer).
  void Abort() {
    std::function<void()> on_abort;
    {
      absl::MutexLock lock(&mu_);
      if (aborted_) return;
      aborted_ = true;
      on_abort = std::move(on_abort_);
    }
    if (on_abort) on_abort();
  }

  // Shutdown, past every grace: answer whatever is still open so its connection resumes.
  void ForceAnswer(const HttpResponse& unavailable) {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    if (!answered_) {
      answered_ = true;
      response_ = unavailable;
    } else if (streaming_) {
      stream_ended_ = true;
    }
    WakeLocked();
  }

 private:
  void WakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (suspended_ && connection_ != nullptr) {
      suspended_ = false;
      MHD_resume_connection(connection_);
    }
  }

  HttpServer::Impl* const server_;
  HttpRequest request_;  // written on the server's thread before dispatch, then read-only

  absl::Mutex mu_;
  MHD_Connection* connection_ ABSL_GUARDED_BY(mu_);
  bool suspended_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool aborted_ ABSL_GUARDED_BY(mu_) = false;
  bool answered_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<HttpResponse> response_ ABSL_GUARDED_BY(mu_);
  bool streaming_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_queued_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_ended_ ABSL_GUARDED_BY(mu_) = false;
  int stream_status_ ABSL_GUARDED_BY(mu_) = 200;
  std::vector<HttpHeader> stream_headers_ ABSL_GUARDED_BY(mu_);
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  size_t buffer_offset_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> on_abort_ ABSL_GUARDED_BY(mu_);
};

// What con_cls holds: the exchange, owned by the server's live set until completion.
struct ExchangeSlot {
  std::shared_ptr<Exchange> exchange;
};

// TLS 1.2 and 1.3 only (GnuTLS priority string).
constexpr char kTlsPriorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

HttpResponse ErrorResponse(int http_status, int grpc_code, absl::string_view message) {
  return {.status = http_status,
          .headers = {{.name = "Content-Type", .value = "application/json"}},
          .body = StatusBody(grpc_code, message)};
}

HttpResponse BadFraming(absl::string_view problem) {
  return ErrorResponse(400, 3, absl::StrCat("malformed request: ", problem));
}

HttpResponse TooLarge(size_t limit) {
  return ErrorResponse(413, 3, absl::StrCat("request body larger than ", limit, " bytes"));
}

absl::StatusOr<sockaddr_in> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535 || inet_pton(AF_INET, listen.substr(0, colon).c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP listen address \"", listen, "\" is not IPv4 host:port"));
  }
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

}  // namespace

void* HttpServer::Impl::OnUri(void* self, const char* uri, MHD_Connection* connection) {
  auto* impl = static_cast<Impl*>(self);
  auto slot = new ExchangeSlot{std::make_shared<Exchange>(impl, connection, uri)};
  absl::MutexLock lock(&impl->mu_);
  impl->live_.insert(slot->exchange);
  return slot;
}

MHD_Result HttpServer::Impl::OnAccess(void* self, MHD_Connection* connection, const char* /*url*/,
                                      const char* method, const char* /*version*/,
                                      const char* upload_data, size_t* upload_data_size,
                                      void** con_cls) {
  auto* impl = static_cast<Impl*>(self);
  auto* slot = static_cast<ExchangeSlot*>(*con_cls);
  if (slot == nullptr) return MHD_NO;
  Exchange& exchange = *slot->exchange;
  const size_t limit = impl->options_.max_body_bytes;
  if (!exchange.headers_read) {
    exchange.headers_read = true;
    exchange.ReadHeaders(connection, method);
    if (std::optional<std::string> problem = FramingProblem(exchange.request().headers)) {
      exchange.dispatched = true;
      exchange.too_large = true;  // the body, if any, is dropped unread
      exchange.close_after = true;
      exchange.Respond(BadFraming(*problem));
      return exchange.QueueOrSuspend(connection);
    }
    size_t declared = 0;
    const std::string* length = exchange.request().Header("content-length");
    if (length != nullptr && absl::SimpleAtoi(*length, &declared) && declared > limit) {
      // Answer before the body is sent (curl and others wait for "100 Continue"); the
      // connection closes after the answer.
      exchange.dispatched = true;
      exchange.too_large = true;
      exchange.Respond(TooLarge(limit));
      return exchange.QueueOrSuspend(connection);
    }
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    std::string& body = exchange.mutable_request().body;
    if (!exchange.too_large && body.size() + *upload_data_size > limit) {
      exchange.too_large = true;
      body.clear();
    }
    if (!exchange.too_large) body.append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (exchange.too_large && !exchange.dispatched) {
    exchange.dispatched = true;
    exchange.Respond(TooLarge(limit));
  }
  if (!exchange.dispatched) {
    exchange.dispatched = true;
    impl->handler_(slot->exchange);
  }
  return exchange.QueueOrSuspend(connection);
}

void HttpServer::Impl::OnCompleted(void* self, MHD_Connection* /*connection*/, void** con_cls,
                                   MHD_RequestTerminationCode code) {
  auto* impl = static_cast<Impl*>(self);
  auto* slot = static_cast<ExchangeSlot*>(*con_cls);
  if (slot == nullptr) return;
  *con_cls = nullptr;
  slot->exchange->Completed(code == MHD_REQUEST_TERMINATED_COMPLETED_OK);
  {
    absl::MutexLock lock(&impl->mu_);
    impl->live_.erase(slot->exchange);
  }
  delete slot;
}

void HttpServer::Impl::OnLog(void* /*self*/, const char* format, va_list args) {
  char message[512];
  std::vsnprintf(message, sizeof message, format, args);
  std::string text(message);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  for (char& c : text) {
    if (c == '"' || c == '\\') c = '\'';
  }
  std::fprintf(stderr, R"({"level":"warn","component":"http","msg":"%s"})" "\n", text.c_str());
}

absl::Status HttpServer::Impl::Start() {
  absl::StatusOr<sockaddr_in> address = ParseListen(options_.listen);
  if (!address.ok()) return address.status();
  const auto timeout_seconds =
      static_cast<unsigned>(std::max<int64_t>(1, absl::ToInt64Seconds(options_.idle_timeout)));
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG;
  // The certificate options only with TLS: libmicrohttpd refuses them on a plain daemon.
  std::vector<MHD_OptionItem> tls_options;
  if (options_.tls.has_value()) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
      return absl::FailedPreconditionError("this libmicrohttpd was built without TLS");
    }
    flags |= MHD_USE_TLS;
    tls_options = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0,
         const_cast<char*>(options_.tls->certificate_chain_pem.c_str())},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(options_.tls->private_key_pem.c_str())},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(kTlsPriorities)},
    };
  }
  tls_options.push_back({MHD_OPTION_END, 0, nullptr});
  daemon_ = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Impl::OnAccess, this, MHD_OPTION_EXTERNAL_LOGGER, &Impl::OnLog,
      this, MHD_OPTION_SOCK_ADDR, &*address, MHD_OPTION_CONNECTION_LIMIT, options_.max_connections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, options_.max_connections_per_client,
      MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds, MHD_OPTION_NOTIFY_COMPLETED,
      &Impl::OnCompleted, this, MHD_OPTION_URI_LOG_CALLBACK, &Impl::OnUri, this,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_ARRAY, tls_options.data(), MHD_OPTION_END);
  if (daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot serve HTTP", options_.tls ? "S" : "", " on ",
                                               options_.listen,
                                               " (see the log line before this one)"));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info == nullptr ? 0 : info->port;
  return absl::OkStatus();
}

bool HttpServer::Impl::WaitUntilIdle(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return live_.empty(); };
  return mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

void HttpServer::Impl::Shutdown(absl::Duration grace) {
  if (stopped_ || daemon_ == nullptr) return;
  stopped_ = true;
  draining_ = true;
  const MHD_socket listener = MHD_quiesce_daemon(daemon_);
  if (listener != MHD_INVALID_SOCKET) close(listener);
  if (!WaitUntilIdle(grace)) {
    std::vector<std::shared_ptr<Exchange>> open;
    {
      absl::MutexLock lock(&mu_);
      open.assign(live_.begin(), live_.end());
    }
    for (const std::shared_ptr<Exchange>& exchange : open) exchange->Abort();
    if (!WaitUntilIdle(absl::Seconds(2))) {
      const HttpResponse unavailable = ErrorResponse(503, 14, "the server is shutting down");
      for (const std::shared_ptr<Exchange>& exchange : open) exchange->ForceAnswer(unavailable);
      static_cast<void>(WaitUntilIdle(absl::Seconds(2)));
    }
  }
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              HttpHandler handler) {
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  if (absl::Status started = impl->Start(); !started.ok()) return started;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port(); }

void HttpServer::Shutdown(absl::Duration grace) { impl_->Shutdown(grace); }

}  // namespace choreo::http
