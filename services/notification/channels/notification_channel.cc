#include "services/notification/channels/notification_channel.h"

#include "google/protobuf/util/json_util.h"

namespace choreo::notification {

NotificationChannel::~NotificationChannel() = default;

std::string NotificationJson(const notifications::v1::NotificationRequested& n) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = false;
  options.always_print_enums_as_ints = false;
  options.preserve_proto_field_names = false;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(n, &json, options).ok()) return {};
  return json;
}

}  // namespace choreo::notification
