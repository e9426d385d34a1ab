#include "gateway/command_publisher.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace choreo::gateway {

void PublishCommand(const publish::Publisher& publisher, google::protobuf::Message& event,
                    absl::string_view topic, std::string key, const publish::Origin& origin,
                    std::function<void(absl::Status)> on_error) {
  absl::StatusOr<publish::StampedEvent> stamped =
      publisher.Stamp(event, topic, std::move(key), origin);
  if (!stamped.ok()) return on_error(stamped.status());
  publisher.Send(*std::move(stamped), [on_error = std::move(on_error)](absl::Status status) {
    if (status.ok()) return;
    on_error(absl::UnavailableError(absl::StrCat("cannot publish the request: ", status.message())));
  });
}

}  // namespace choreo::gateway
