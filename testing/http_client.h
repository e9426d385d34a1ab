#pragma once

// HttpClient: a blocking HTTP/1.1 client (libcurl) for tests that drive HTTP APIs the way curl
// does. Test use only.
//
// Promises:
// - One client keeps one connection alive across calls (connections_opened() counts the
//   connections it had to open); not thread-safe, one per thread.
// - Call never throws: a transport failure is a result with status 0 and `error` set.
// - With on_data, the body is handed over chunk by chunk as it arrives (and not kept); the
//   callback returning false aborts the transfer.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace choreo::testing {

struct HttpResult {
  long status = 0;  // 0: no answer (see error)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string error;

  // The first header named `lowercase_name`, or "".
  std::string Header(absl::string_view lowercase_name) const;
};

struct HttpCallOptions {
  std::vector<std::string> headers;  // "Name: value"
  absl::Duration timeout = absl::Seconds(20);
  std::function<bool(absl::string_view chunk)> on_data;
  // HTTPS: the CA that signed the server's certificate, and "host:port:address" entries that
  // send a name to an address (curl --resolve), for a certificate issued to a name.
  std::string ca_file;
  std::vector<std::string> resolve;
  // The local address to call from (e.g. "127.0.0.2": all of 127/8 is this machine's), so one
  // test can be several clients; empty: the system's choice.
  std::string source_address;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `method` GET, POST, ...; a non-empty `body` is sent as is (Content-Type: application/json
  // unless `options.headers` names one).
  HttpResult Call(const std::string& method, const std::string& url, const std::string& body = "",
                  const HttpCallOptions& options = {});

  long connections_opened() const { return connections_opened_; }

 private:
  void* curl_;
  long connections_opened_ = 0;
};

// One call on a fresh client.
HttpResult HttpCall(const std::string& method, const std::string& url, const std::string& body = "",
                    const HttpCallOptions& options = {});

}  // namespace choreo::testing
