#include "services/notification/channels/notification_channel.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "platform/json/json_text.h"

namespace choreo::notification {
namespace {

using google::protobuf::util::TimeUtil;

// Proto3 JSON's rules over json::JsonObject: a scalar holding its default value is left out.
class Proto3Object {
 public:
  void Message(absl::string_view name, absl::string_view json) { object_.Raw(name, json); }
  void String(absl::string_view name, absl::string_view value) {
    if (!value.empty()) object_.String(name, value);
  }
  // A 32-bit integer is a JSON number (a 64-bit one would be a string).
  void Uint32(absl::string_view name, uint32_t value) {
    if (value != 0) object_.Raw(name, absl::StrCat(value));
  }
  // By name; a value this release does not know by its number, as protobuf's printer does.
  void Enum(absl::string_view name, int value, const std::string& value_name) {
    if (value == 0) return;
    if (value_name.empty()) {
      object_.Raw(name, absl::StrCat(value));
    } else {
      object_.String(name, value_name);
    }
  }
  // RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits; false when out of Timestamp's range.
  bool Time(absl::string_view name, const google::protobuf::Timestamp& value) {
    if (value.seconds() < TimeUtil::kTimestampMinSeconds ||
        value.seconds() > TimeUtil::kTimestampMaxSeconds || value.nanos() < 0 ||
        value.nanos() > 999'999'999) {
      return false;
    }
    object_.String(name, TimeUtil::ToString(value));
    return true;
  }
  std::string Close() const { return object_.Close(); }

 private:
  json::JsonObject object_;
};

std::optional<std::string> MetaJson(const common::v1::EventMeta& meta) {
  Proto3Object object;
  object.String("eventId", meta.event_id());
  object.Uint32("schemaVersion", meta.schema_version());
  object.String("correlationId", meta.correlation_id());
  object.String("causationId", meta.causation_id());
  object.String("traceparent", meta.traceparent());
  if (meta.has_occurred_at() && !object.Time("occurredAt", meta.occurred_at())) return std::nullopt;
  object.String("producer", meta.producer());
  object.String("tracestate", meta.tracestate());
  return object.Close();
}

}  // namespace

NotificationChannel::~NotificationChannel() = default;

std::string NotificationJson(const notifications::v1::NotificationRequested& n) {
  Proto3Object object;
  if (n.has_meta()) {
    std::optional<std::string> meta = MetaJson(n.meta());
    if (!meta.has_value()) return {};
    object.Message("meta", *meta);
  }
  object.String("notificationId", n.notification_id());
  object.String("username", n.username());
  object.String("orderId", n.order_id());
  object.Enum("type", n.type(), notifications::v1::NotificationType_Name(n.type()));
  object.Enum("channel", n.channel(), notifications::v1::Channel_Name(n.channel()));
  object.String("destination", n.destination());
  object.String("subject", n.subject());
  object.String("body", n.body());
  if (n.has_requested_at() && !object.Time("requestedAt", n.requested_at())) return {};
  std::string json = object.Close();
  // Strings pass through as they are, so one holding invalid UTF-8 fails here.
  if (!json::CheckJsonSyntax(json).ok()) return {};
  return json;
}

}  // namespace choreo::notification
