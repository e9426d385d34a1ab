#pragma once

// HttpReceiver: a minimal HTTP/1.1 server that records the requests it gets, for tests of code
// that sends HTTP (webhooks). Test use only.
//
// Promises:
// - Listens on 127.0.0.1 only, on a port chosen by the kernel (bound to port 0), readable with
//   port() and url() once Start() has returned OK.
// - One background thread accepts and serves connections one at a time: it reads one request
//   (a body only by Content-Length; chunked bodies are answered 501 and not recorded), records
//   it, answers it with `Connection: close` and an empty body, and closes the connection. A
//   client that stalls for 5 s is dropped.
// - A request is recorded before its answer is sent; answers follow the script given to
//   RespondWith() in order, then 200 for every later request.
// - requests(), RespondWith() and WaitForRequests() are thread-safe. Start() and Stop() are for
//   the owning test thread; Stop() is idempotent and noexcept, and the destructor calls it.

#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace choreo::testing {

class HttpReceiver {
 public:
  struct Request {
    std::string method;
    std::string path;  // the request target as sent, query included
    std::map<std::string, std::string> headers;  // names lower-cased; repeated ones joined ", "
    std::string body;
  };

  // One scripted answer: a status and extra headers (e.g. {"Retry-After", "1"}).
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
  };

  HttpReceiver() = default;
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;
  ~HttpReceiver();

  // Binds 127.0.0.1:0, listens and starts the serving thread.
  absl::Status Start();
  void Stop() noexcept;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" + path; `path` should start with "/".
  std::string url(absl::string_view path = "/") const;

  // Replaces the script: the next requests are answered with these statuses, in order, then 200.
  void RespondWith(std::vector<int> statuses);
  // The same with extra headers per answer.
  void RespondWithResponses(std::vector<Response> responses);

  // Every request recorded so far, in arrival order.
  std::vector<Request> requests() const;
  // True as soon as at least `n` requests are recorded; false if not within `timeout`.
  bool WaitForRequests(size_t n, absl::Duration timeout) const;

 private:
  void Serve();
  void HandleConnection(int fd);
  // Waits until `fd` is readable: false on timeout, error, or Stop().
  bool WaitReadable(int fd, absl::Time deadline) const;

  int listen_fd_ = -1;
  int wake_read_fd_ = -1;   // readable once Stop() has begun
  int wake_write_fd_ = -1;
  int port_ = 0;
  std::thread thread_;

  mutable absl::Mutex mutex_;
  std::vector<Request> requests_ ABSL_GUARDED_BY(mutex_);
  std::deque<Response> script_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace choreo::testing
