#pragma once

// HttpServer: an asynchronous HTTP/1.1 server (GNU libmicrohttpd, one internal epoll thread)
// whose handler answers each request later, from any thread, without holding a thread while
// it waits: the connection is suspended until the answer (or the next chunk of a stream)
// arrives.
//
// Promises:
// - Keep-alive (HTTP/1.1); at most `max_connections` connections at once, and at most
//   `max_connections_per_client` from one client address (more are refused at accept: one
//   client cannot hold the port with idle or slow connections); a connection idle or sending slower
//   than `idle_timeout` between reads is closed (a connection waiting for its answer is exempt: the
//   handler's deadline bounds that).
// - HTTPS when `tls` is given (PEM certificate chain and key; TLS 1.2 or later), plain HTTP
//   otherwise.
// - A body over `max_body_bytes` is answered 413 (JSON) without reaching the handler.
// - A request whose body framing is ambiguous (FramingProblem) is answered 400 (JSON) without
//   reaching the handler, and its connection closed: a proxy in front may have framed it
//   otherwise (request smuggling).
// - Shutdown stops accepting, lets exchanges in flight finish within the grace period, aborts
//   the rest (their OnAbort hooks run; the handler answers them) and stops. Idempotent.
// - A client that goes away aborts its exchange: the OnAbort hook runs once, later writes are
//   dropped. (A suspended connection's disconnect is noticed when it is next written.)

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace choreo::http {

struct HttpHeader {
  std::string name;  // lowercase in requests
  std::string value;
};

struct HttpRequest {
  std::string method;
  std::string path;   // raw, still percent-encoded
  std::string query;  // raw, without '?'
  std::vector<HttpHeader> headers;
  std::string body;
  // The peer's IP address as text ("203.0.113.7", "2001:db8::1"): the TCP connection's, not
  // anything the client wrote in a header.
  std::string client_address;

  // The first header named `lowercase_name`; nullptr when absent.
  const std::string* Header(absl::string_view lowercase_name) const;
};

// Why a request's headers frame its body ambiguously, or nullopt when they do not: two
// Content-Length headers (or one listing several values) that differ, a Content-Length that is
// not a number, Content-Length together with Transfer-Encoding, or a Transfer-Encoding other than
// chunked. Pure.
std::optional<std::string> FramingProblem(const std::vector<HttpHeader>& headers);

struct HttpResponse {
  int status = 200;
  std::vector<HttpHeader> headers;
  std::string body;
};

// One request and its answer. The handler answers exactly once: Respond, or StartStream, any
// number of Write, then End. Thread-safe; every call after the client went away is a no-op.
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  virtual const HttpRequest& request() const = 0;
  virtual void Respond(HttpResponse response) = 0;
  // A chunked response of unknown length.
  virtual void StartStream(int status, std::vector<HttpHeader> headers) = 0;
  // False once the client is gone.
  virtual bool Write(std::string chunk) = 0;
  virtual void End() = 0;
  // Runs `on_abort` once if the exchange is aborted (client gone, server shutting down) before
  // it is answered in full; at once if it already was.
  virtual void OnAbort(std::function<void()> on_abort) = 0;
};

using HttpHandler = std::function<void(std::shared_ptr<HttpExchange>)>;

// A server certificate chain and its private key, PEM.
struct HttpTls {
  std::string certificate_chain_pem;
  std::string private_key_pem;
};

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // IPv4 host:port; port 0 picks a free port
  unsigned max_connections = 1024;
  unsigned max_connections_per_client = 64;
  std::optional<HttpTls> tls;
  absl::Duration idle_timeout = absl::Seconds(30);
  size_t max_body_bytes = 1 << 20;
};

class HttpServer {
 public:
  // Starts listening and serving; the handler is called on the server's thread and must not
  // block.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           HttpHandler handler);
  ~HttpServer();  // Shutdown(no grace)
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  void Shutdown(absl::Duration grace);

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace choreo::http
