#include "services/notification/channels/webhook_channel.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace choreo::notification {
namespace {

// Durations outside [kMinTimeout, kMaxDuration] are configuration mistakes (curl reads a zero
// timeout as "none", and an infinite pause would break the bound on Deliver()).
constexpr absl::Duration kMinTimeout = absl::Milliseconds(1);
constexpr absl::Duration kMaxDuration = absl::Hours(1);

// curl_global_init is not thread-safe; a function-local static runs it exactly once.
CURLcode CurlGlobalInit() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  return code;
}

struct CurlEasyCleanup {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlSlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlHandle = std::unique_ptr<CURL, CurlEasyCleanup>;
using CurlHeaders = std::unique_ptr<curl_slist, CurlSlistFree>;

// The response body is not needed (the status says it all); without a write function curl
// would print it on stdout.
size_t DiscardBody(char* /*data*/, size_t size, size_t count, void* /*user*/) {
  return size * count;
}

bool IsHttpUrl(absl::string_view url) {
  return absl::StartsWithIgnoreCase(url, "http://") || absl::StartsWithIgnoreCase(url, "https://");
}

// A value with CR, LF or NUL would end the header line early and smuggle in another.
bool IsSafeHeaderValue(absl::string_view value) {
  return value.find_first_of(absl::string_view("\r\n\0", 3)) == absl::string_view::npos;
}

bool IsRetryableStatus(long status) {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

// What the user reads for any failure below HTTP (no address, refused, timed out, TLS): one
// reason for all, so that the service is no oracle for which ports answer.
constexpr char kNoAnswer[] = "no HTTP answer from the destination";

// The Retry-After header of the last response, when given in seconds (the HTTP-date form is
// ignored: the computed backoff applies).
std::optional<absl::Duration> RetryAfter(CURL* curl) {
  curl_header* header = nullptr;
  if (curl_easy_header(curl, "Retry-After", 0, CURLH_HEADER, -1, &header) != CURLHE_OK ||
      header == nullptr || header->value == nullptr) {
    return std::nullopt;
  }
  const absl::string_view text = absl::StripAsciiWhitespace(header->value);
  int64_t seconds = 0;
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text.front())) ||
      !absl::SimpleAtoi(text, &seconds)) {
    return std::nullopt;
  }
  return absl::Seconds(seconds);
}

WebhookOptions Clamped(WebhookOptions options) {
  options.timeout = std::clamp(options.timeout, kMinTimeout, kMaxDuration);
  options.max_attempts = std::max(options.max_attempts, 1);
  options.max_backoff = std::clamp(options.max_backoff, absl::ZeroDuration(), kMaxDuration);
  options.initial_backoff =
      std::clamp(options.initial_backoff, absl::ZeroDuration(), options.max_backoff);
  if (!options.sleep) options.sleep = [](absl::Duration d) { absl::SleepFor(d); };
  return options;
}

DeliveryResult Refused(std::string reason) {
  DeliveryResult result;
  result.failure_reason = std::move(reason);
  return result;
}

}  // namespace

absl::Status ValidateWebhookOptions(const WebhookOptions& options) {
  if (options.timeout < kMinTimeout || options.timeout > kMaxDuration) {
    return absl::InvalidArgumentError(absl::StrCat(
        "webhook timeout must be between 1ms and 1h, got ", absl::FormatDuration(options.timeout)));
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook max_attempts must be at least 1, got ", options.max_attempts));
  }
  if (options.max_backoff < absl::ZeroDuration() || options.max_backoff > kMaxDuration) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook max_backoff must be between 0 and 1h, got ",
                     absl::FormatDuration(options.max_backoff)));
  }
  if (options.initial_backoff < absl::ZeroDuration() ||
      options.initial_backoff > options.max_backoff) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook initial_backoff must be between 0 and max_backoff, got ",
                     absl::FormatDuration(options.initial_backoff)));
  }
  if (!options.sleep) return absl::InvalidArgumentError("webhook sleep function is not set");
  return absl::OkStatus();
}

WebhookChannel::WebhookChannel(WebhookOptions options) : options_(Clamped(std::move(options))) {
  static_cast<void>(CurlGlobalInit());
}

namespace {

AddressKind KindOfV4(uint32_t host_order) {
  const auto in = [host_order](uint32_t network, int bits) {
    const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    return (host_order & mask) == network;
  };
  if (in(0x00000000, 8) ||   // 0.0.0.0/8 "this network"
      in(0xA9FE0000, 16) ||  // 169.254/16 link-local (cloud metadata)
      in(0xE0000000, 4) ||   // 224/4 multicast
      in(0xF0000000, 4)) {   // 240/4 reserved, broadcast
    return AddressKind::kForbidden;
  }
  if (in(0x0A000000, 8) ||   // 10/8
      in(0x64400000, 10) ||  // 100.64/10 CGNAT
      in(0x7F000000, 8) ||   // 127/8 loopback
      in(0xAC100000, 12) ||  // 172.16/12
      in(0xC0000000, 24) ||  // 192.0.0/24 IETF protocol assignments
      in(0xC0A80000, 16) ||  // 192.168/16
      in(0xC6120000, 15)) {  // 198.18/15 benchmarking
    return AddressKind::kPrivate;
  }
  return AddressKind::kPublic;
}

AddressKind KindOfV6(const in6_addr& address) {
  const uint8_t* b = address.s6_addr;
  const auto v4_at = [b](int i) {
    return KindOfV4(uint32_t{b[i]} << 24 | uint32_t{b[i + 1]} << 16 | uint32_t{b[i + 2]} << 8 |
                    uint32_t{b[i + 3]});
  };
  const auto starts = [b](std::initializer_list<uint8_t> prefix) {
    return std::equal(prefix.begin(), prefix.end(), b);
  };
  // Forms that carry an IPv4 address reach it: they are what it is. ::a.b.c.d (compatible;
  // :: and ::1 among them), ::ffff:a.b.c.d (mapped), 64:ff9b::a.b.c.d (NAT64), and 6to4.
  if (starts({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})) {
    if (b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 1) return AddressKind::kPrivate;  // ::1
    return v4_at(12);
  }
  if (starts({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})) return v4_at(12);
  if (starts({0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) return v4_at(12);
  if (starts({0x20, 0x02})) return v4_at(2);                              // 2002::/16 6to4
  if (starts({0, 0x64, 0xff, 0x9b, 0, 1})) return AddressKind::kPrivate;  // 64:ff9b:1::/48
  if ((b[0] & 0xfe) == 0xfc ||                                            // fc00::/7 unique local
      (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)) {                          // fec0::/10 site-local
    return AddressKind::kPrivate;
  }
  if ((b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||  // fe80::/10 link-local
      b[0] == 0xff ||                             // ff00::/8 multicast
      starts({0x20, 0x01, 0, 0}) ||               // 2001::/32 Teredo (any IPv4 behind it)
      starts({0x20, 0x01, 0x0d, 0xb8})) {         // 2001:db8::/32 documentation
    return AddressKind::kForbidden;
  }
  return AddressKind::kPublic;
}

// Refuses, at connect time, sockets to non-public addresses (see the header).
struct ConnectGuard {
  bool allow_private = false;
  bool refused = false;
};

curl_socket_t OpenSocket(void* clientp, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* guard = static_cast<ConnectGuard*>(clientp);
  AddressKind kind = AddressKind::kForbidden;
  if (address->family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address->addr);
    kind = KindOfV4(ntohl(in->sin_addr.s_addr));
  } else if (address->family == AF_INET6) {
    kind = KindOfV6(reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr);
  }
  if (!(kind == AddressKind::kPublic || (kind == AddressKind::kPrivate && guard->allow_private))) {
    guard->refused = true;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

// One prepared POST. curl keeps pointers into it (body, headers, error buffer, guard), so it
// stays where it was made.
struct WebhookRequest {
  std::string body;
  CurlHeaders headers;
  CurlHandle curl;
  char error[CURL_ERROR_SIZE] = {};
  ConnectGuard guard;
};

// Fills `request` to POST `n` as JSON to its destination; the reason when it cannot be sent at
// all (a header with a line break, no memory, a curl option refused).
std::optional<std::string> Prepare(WebhookRequest& request,
                                   const notifications::v1::NotificationRequested& n,
                                   absl::Duration timeout) {
  const std::pair<absl::string_view, const std::string*> header_values[] = {
      {"Idempotency-Key", &n.notification_id()},
      {"X-Correlation-Id", &n.meta().correlation_id()},
      {"traceparent", &n.meta().traceparent()},
  };
  request.body = NotificationJson(n);
  if (request.body.empty()) return "notification cannot be encoded as JSON";
  if (const CURLcode init = CurlGlobalInit(); init != CURLE_OK) {
    return absl::StrCat("curl_global_init: ", curl_easy_strerror(init));
  }
  // "Expect:" turns off curl's "Expect: 100-continue" handshake for larger bodies.
  request.headers.reset(curl_slist_append(nullptr, "Content-Type: application/json"));
  bool headers_ok =
      request.headers != nullptr && curl_slist_append(request.headers.get(), "Expect:") != nullptr;
  for (const auto& [name, value] : header_values) {
    if (value->empty()) continue;
    if (!IsSafeHeaderValue(*value)) return absl::StrCat(name, " value contains a line break");
    const std::string line = absl::StrCat(name, ": ", *value);
    headers_ok = headers_ok && curl_slist_append(request.headers.get(), line.c_str()) != nullptr;
  }
  request.curl.reset(curl_easy_init());
  if (!headers_ok || request.curl == nullptr) return "curl: out of memory";

  CURLcode setup = CURLE_OK;
  const auto set = [&](CURLoption option, auto value) {
    if (setup == CURLE_OK) setup = curl_easy_setopt(request.curl.get(), option, value);
  };
  const long timeout_ms = static_cast<long>(absl::ToInt64Milliseconds(timeout));
  set(CURLOPT_ERRORBUFFER, request.error);
  set(CURLOPT_URL, n.destination().c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  set(CURLOPT_TIMEOUT_MS, timeout_ms);
  set(CURLOPT_POST, 1L);
  set(CURLOPT_POSTFIELDS, request.body.data());
  set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  set(CURLOPT_HTTPHEADER, request.headers.get());
  set(CURLOPT_WRITEFUNCTION, &DiscardBody);
  set(CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
  set(CURLOPT_OPENSOCKETDATA, &request.guard);
  if (setup != CURLE_OK) {
    return absl::StrCat("curl setup: ",
                        request.error[0] != '\0' ? request.error : curl_easy_strerror(setup));
  }
  return std::nullopt;
}

// Posts `request` until a 2xx, a permanent failure, or options.max_attempts attempts, pausing
// between them (doubling from options.initial_backoff, or as Retry-After asks, at most
// options.max_backoff).
DeliveryResult Post(WebhookRequest& request, const WebhookOptions& options) {
  DeliveryResult result;
  absl::Duration backoff = options.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    result.attempts = attempt;
    request.error[0] = '\0';
    const CURLcode performed = curl_easy_perform(request.curl.get());
    bool retryable = false;
    std::optional<absl::Duration> retry_after;
    if (performed != CURLE_OK && request.guard.refused) {
      result.failure_reason = "destination address not allowed (not a public address)";
      return result;  // permanent: the address will not change by retrying
    } else if (performed != CURLE_OK) {
      result.failure_reason = kNoAnswer;
      result.detail = request.error[0] != '\0' ? request.error : curl_easy_strerror(performed);
      // Every failure below HTTP is retried alike: a closed port, a silent one and one speaking
      // another protocol must not differ in attempts either.
      retryable = true;
    } else {
      long status = 0;
      curl_easy_getinfo(request.curl.get(), CURLINFO_RESPONSE_CODE, &status);
      if (status >= 200 && status <= 299) {
        result.delivered = true;
        result.failure_reason.clear();
        result.detail.clear();
        return result;
      }
      result.failure_reason = absl::StrCat("HTTP ", status);
      retryable = IsRetryableStatus(status);
      if (retryable) retry_after = RetryAfter(request.curl.get());
    }
    if (!retryable || attempt >= options.max_attempts) return result;
    options.sleep(retry_after.has_value() ? std::min(*retry_after, options.max_backoff) : backoff);
    backoff = std::min(backoff * 2, options.max_backoff);
  }
}

}  // namespace

AddressKind KindOfAddress(absl::string_view ip) {
  const std::string text(ip);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return KindOfV4(ntohl(v4.s_addr));
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return KindOfV6(v6);
  return AddressKind::kForbidden;
}

DeliveryResult WebhookChannel::Deliver(const notifications::v1::NotificationRequested& n) {
  const std::string& url = n.destination();
  if (!IsHttpUrl(url)) return Refused("destination is not an http(s) URL");
  if (!IsSafeHeaderValue(url)) return Refused("destination contains a line break");
  WebhookRequest request;
  request.guard.allow_private = options_.allow_private_destinations;
  if (std::optional<std::string> refused = Prepare(request, n, options_.timeout)) {
    return Refused(*std::move(refused));
  }
  return Post(request, options_);
}

}  // namespace choreo::notification
