#pragma once

// How the gateway sends a client's command (OrderCreationRequested, DepositRequested) to its
// topic: through the process's publish::Publisher (stamped as a command of the call's saga, its
// send span a child of the call's server span), without waiting. Failures are reported through
// `on_error` (UNAVAILABLE when the broker did not take it), never thrown.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "saga/publish/publisher.h"

namespace choreo::gateway {

// `on_error` runs at most once, on the producer's thread (it must not block); nothing runs when
// the broker acknowledged the command.
void PublishCommand(const publish::Publisher& publisher, google::protobuf::Message& event,
                    absl::string_view topic, std::string key, const publish::Origin& origin,
                    std::function<void(absl::Status)> on_error);

}  // namespace choreo::gateway
