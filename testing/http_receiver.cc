#include "testing/http_receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace choreo::testing {
namespace {

constexpr absl::Duration kConnectionTimeout = absl::Seconds(5);
constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

absl::Status ErrnoStatus(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

std::string FormatResponse(const HttpReceiver::Response& response) {
  std::string text = absl::StrCat("HTTP/1.1 ", response.status, " ",
                                  ReasonPhrase(response.status), "\r\nConnection: close\r\n");
  // 1xx, 204 and 304 answers carry no body and no Content-Length.
  if (response.status >= 200 && response.status != 204 && response.status != 304) {
    absl::StrAppend(&text, "Content-Length: 0\r\n");
  }
  for (const auto& [name, value] : response.headers) {
    absl::StrAppend(&text, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&text, "\r\n");
  return text;
}

// Sends all of `data`; false if the peer went away.
bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t sent = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

// Parses the request line and headers (without the blank line that ends them).
bool ParseHead(absl::string_view head, HttpReceiver::Request& request) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  if (lines.empty()) return false;
  std::vector<absl::string_view> request_line = absl::StrSplit(lines[0], ' ', absl::SkipEmpty());
  if (request_line.size() != 3 || !absl::StartsWith(request_line[2], "HTTP/1.")) return false;
  request.method = std::string(request_line[0]);
  request.path = std::string(request_line[1]);
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos || colon == 0) return false;
    const std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    const absl::string_view value = absl::StripAsciiWhitespace(lines[i].substr(colon + 1));
    auto [it, inserted] = request.headers.emplace(name, std::string(value));
    if (!inserted) absl::StrAppend(&it->second, ", ", value);
  }
  return true;
}

}  // namespace

HttpReceiver::~HttpReceiver() { Stop(); }

absl::Status HttpReceiver::Start() {
  if (thread_.joinable() || listen_fd_ >= 0) {
    return absl::FailedPreconditionError("HttpReceiver already started");
  }
  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return ErrnoStatus("pipe2");
  wake_read_fd_ = wake[0];
  wake_write_fd_ = wake[1];

  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    absl::Status status = ErrnoStatus("socket");
    Stop();
    return status;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    absl::Status status = ErrnoStatus("listen on 127.0.0.1:0");
    Stop();
    return status;
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { Serve(); });
  return absl::OkStatus();
}

void HttpReceiver::Stop() noexcept {
  if (wake_write_fd_ >= 0) {
    const char byte = 0;
    static_cast<void>(write(wake_write_fd_, &byte, 1));
  }
  if (thread_.joinable()) thread_.join();
  CloseFd(listen_fd_);
  CloseFd(wake_read_fd_);
  CloseFd(wake_write_fd_);
}

std::string HttpReceiver::url(absl::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

void HttpReceiver::RespondWith(std::vector<int> statuses) {
  std::vector<Response> responses;
  responses.reserve(statuses.size());
  for (int status : statuses) responses.push_back(Response{.status = status});
  RespondWithResponses(std::move(responses));
}

void HttpReceiver::RespondWithResponses(std::vector<Response> responses) {
  absl::MutexLock lock(&mutex_);
  script_.assign(std::make_move_iterator(responses.begin()),
                 std::make_move_iterator(responses.end()));
}

std::vector<HttpReceiver::Request> HttpReceiver::requests() const {
  absl::MutexLock lock(&mutex_);
  return requests_;
}

bool HttpReceiver::WaitForRequests(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mutex_);
  const auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return requests_.size() >= n;
  };
  return mutex_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

bool HttpReceiver::WaitReadable(int fd, absl::Time deadline) const {
  while (true) {
    int timeout_ms = -1;  // no deadline: wait for ever
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      // Rounded up, so that the deadline has passed when poll() times out.
      timeout_ms = static_cast<int>(
          std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, std::numeric_limits<int>::max()));
    }
    pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = wake_read_fd_, .events = POLLIN}};
    const int ready = poll(fds, 2, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || fds[1].revents != 0) return false;
    if (fds[0].revents != 0) return true;
  }
}

void HttpReceiver::Serve() {
  while (WaitReadable(listen_fd_, absl::InfiniteFuture())) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // EINTR, ECONNABORTED, ...: wait for the next one
    HandleConnection(fd);
    close(fd);
  }
}

void HttpReceiver::HandleConnection(int fd) {
  const absl::Time deadline = absl::Now() + kConnectionTimeout;
  std::string data;
  char chunk[4096];
  const auto read_more = [&] {
    if (!WaitReadable(fd, deadline)) return false;
    const ssize_t got = recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) return false;
    data.append(chunk, static_cast<size_t>(got));
    return true;
  };

  size_t head_end;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    if (data.size() > kMaxHeaderBytes || !read_more()) return;
  }
  Request request;
  if (!ParseHead(absl::string_view(data).substr(0, head_end), request)) {
    static_cast<void>(SendAll(fd, FormatResponse({.status = 400})));
    return;
  }
  if (request.headers.contains("transfer-encoding")) {
    static_cast<void>(SendAll(fd, FormatResponse({.status = 501})));
    return;
  }
  size_t body_size = 0;
  if (const auto length = request.headers.find("content-length");
      length != request.headers.end() && !absl::SimpleAtoi(length->second, &body_size)) {
    static_cast<void>(SendAll(fd, FormatResponse({.status = 400})));
    return;
  }
  if (body_size > kMaxBodyBytes) {
    static_cast<void>(SendAll(fd, FormatResponse({.status = 413})));
    return;
  }
  if (const auto expect = request.headers.find("expect");
      expect != request.headers.end() && absl::EqualsIgnoreCase(expect->second, "100-continue")) {
    if (!SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return;
  }
  const size_t body_start = head_end + 4;
  while (data.size() - body_start < body_size) {
    if (!read_more()) return;
  }
  request.body = data.substr(body_start, body_size);

  Response response;
  {
    absl::MutexLock lock(&mutex_);
    requests_.push_back(std::move(request));
    if (!script_.empty()) {
      response = std::move(script_.front());
      script_.pop_front();
    }
  }
  if (SendAll(fd, FormatResponse(response))) shutdown(fd, SHUT_WR);
}

}  // namespace choreo::testing
