#pragma once

// WebhookChannel: delivers a notification as an HTTP POST of its JSON (NotificationJson) to
// n.destination(), which must be an http:// or https:// URL.
//
// The request carries:
//   Content-Type: application/json
//   Idempotency-Key: <notification_id>   receivers dedupe re-deliveries by it: a notification is
//                                        delivered at least once, and retried POSTs repeat it
//   X-Correlation-Id: <meta.correlation_id>   when non-empty
//   traceparent: <meta.traceparent>           when non-empty
//
// Outcome:
// - 2xx: delivered. Redirects are not followed (a 3xx is a permanent failure).
// - Connection errors, timeouts, 408, 429 and 5xx are retried, up to `max_attempts` attempts in
//   all. The pause after failed attempt k is initial_backoff * 2^(k-1), capped at max_backoff;
//   a Retry-After header given in seconds replaces it (also capped at max_backoff).
// - Any other status (other 4xx) is permanent: no retry.
// - failure_reason describes the last attempt: "HTTP 503", or curl's error text.
// - A destination that is not an http(s) URL, or a header value holding a line break, fails
//   with attempts 0.
//
// Bounded time: Deliver() returns within about
//   max_attempts * timeout + (max_attempts - 1) * max_backoff
// (10 s with the defaults). Thread-safe: each Deliver() uses its own curl handle; the channel's
// own state is immutable (the injected `sleep` may run on several threads at once).
// curl's proxy environment variables (http_proxy, https_proxy, no_proxy) apply.
//
// Server-side request forgery: destinations are chosen by users, so by default the channel
// refuses to connect to addresses that are not public (loopback, RFC 1918 and other private
// ranges, link-local such as the cloud metadata address 169.254.169.254, CGNAT, unspecified,
// multicast; their IPv6 counterparts and IPv4-mapped forms). The check runs on the address curl
// actually connects to, after DNS, so a name that resolves to a private address is refused too.
// Such a notification fails after one attempt, not retried. Development set-ups that post to
// local receivers set allow_private_destinations (and so must a set-up that reaches the internet
// through a proxy on a private address).

#include <functional>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/notification/channels/notification_channel.h"

namespace choreo::notification {

struct WebhookOptions {
  // Limit for one attempt: connecting, and the whole request and response.
  absl::Duration timeout = absl::Seconds(2);
  // Attempts in all, the first included (>= 1).
  int max_attempts = 3;
  // The pause after the first failed attempt; doubled after each further one.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  // No pause is longer, whatever Retry-After asks for.
  absl::Duration max_backoff = absl::Seconds(2);
  // How the channel pauses between attempts; tests inject one that records and returns.
  // Called from the delivering thread, possibly from several at once.
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) { absl::SleepFor(d); };
  // Allow loopback, private and link-local destinations (development and tests only).
  bool allow_private_destinations = false;
};

// Whether `ip` (a numeric IPv4 or IPv6 address) is one a webhook may not reach by default: not
// a public unicast address. Unparseable text counts as not public.
bool IsNonPublicAddress(absl::string_view ip);

// OK if `options` make sense (timeout > 0, max_attempts >= 1, backoffs >= 0,
// initial_backoff <= max_backoff, sleep set); INVALID_ARGUMENT naming the bad field otherwise.
// For a process to check its configuration at start-up.
absl::Status ValidateWebhookOptions(const WebhookOptions& options);

class WebhookChannel : public NotificationChannel {
 public:
  // Options that fail ValidateWebhookOptions are clamped to the nearest sensible value
  // (max_attempts 1, a 1 ms timeout, zero backoff, a real sleep).
  explicit WebhookChannel(WebhookOptions options);

  DeliveryResult Deliver(const notifications::v1::NotificationRequested& n) override;

 private:
  const WebhookOptions options_;
};

}  // namespace choreo::notification
