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
// Server-side request forgery: destinations are chosen by users, so the channel connects only to
// public unicast addresses (KindOfAddress). Private ones (loopback, RFC 1918 and other private
// ranges, CGNAT, unique and site-local IPv6) only when allow_private_destinations is set:
// development set-ups that post to local receivers, or that reach the internet through a proxy
// on a private address. Forbidden ones never (link-local such as the cloud metadata address
// 169.254.169.254, unspecified, multicast, reserved, Teredo, documentation). An IPv6 form that
// carries an IPv4 address (::a.b.c.d, ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4 2002::/16)
// is what that IPv4 address is. The check runs on the address curl actually connects to, after
// DNS, so a name that resolves to a refused address is refused too. Such a notification fails
// after one attempt, not retried.

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
  // Allow private destinations (development and tests only); never forbidden ones.
  bool allow_private_destinations = false;
};

// What a webhook may reach at `ip` (a numeric IPv4 or IPv6 address): a public unicast address
// always, a private one only with allow_private_destinations, a forbidden one never.
// Unparseable text is forbidden.
enum class AddressKind { kPublic, kPrivate, kForbidden };
AddressKind KindOfAddress(absl::string_view ip);

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
