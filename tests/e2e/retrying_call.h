#pragma once

// How a well-behaved client of the gateway calls it through faults: the same call again, with the
// same request id, while the answer is UNAVAILABLE or DEADLINE_EXCEEDED (what the API says to
// retry), each attempt on a fresh context with the user's token and its own deadline. Every test
// client that must ride out a fault (the saga runs, the fault matrix, cancellations) calls through
// this one loop.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {

struct RetryOptions {
  absl::Duration attempt = absl::Seconds(30);  // each call's deadline: the gateway's own limit
  absl::Duration total = absl::Seconds(240);   // no new attempt after this
  // Between attempts: a client's back-off (0: at once).
  absl::Duration backoff = absl::ZeroDuration();
  // A retry waits for the channel to connect instead of failing at once while it is down: a
  // synchronous client whose calls fail fast polls nothing, so its channel would notice a
  // restarted gateway only at gRPC's backup poll, every 5 s.
  bool wait_for_ready = false;
  int* attempts = nullptr;          // if set, counts the calls made
  std::string* first_error = nullptr;  // if set, the first failure ("CODE after T: message")
};

// `call(grpc::ClientContext&) -> grpc::Status`, repeated as above; returns the last answer.
template <typename Call>
grpc::Status CallRetrying(const TestUsers& users, const std::string& user, Call call,
                          const RetryOptions& options = {}) {
  const absl::Time give_up = absl::Now() + options.total;
  grpc::Status status;
  while (true) {
    grpc::ClientContext context;
    users.Authorize(user, context);
    context.set_deadline(absl::ToChronoTime(absl::Now() + options.attempt));
    context.set_wait_for_ready(options.wait_for_ready);
    const absl::Time sent = absl::Now();
    status = call(context);
    if (options.attempts != nullptr) ++*options.attempts;
    if (!status.ok() && options.first_error != nullptr && options.first_error->empty()) {
      *options.first_error = absl::StrCat(status.error_code(), " after ",
                                          absl::FormatDuration(absl::Now() - sent), ": ",
                                          status.error_message());
    }
    const bool retry = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                       status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    if (!retry || absl::Now() >= give_up) return status;
    if (options.backoff > absl::ZeroDuration()) absl::SleepFor(options.backoff);
  }
}

}  // namespace choreo::e2e
