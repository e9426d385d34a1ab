#include "testing/otlp_spans.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace choreo::testing {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

const Value& Field(const Struct& object, const std::string& name) {
  static const Value* empty = new Value();
  auto it = object.fields().find(name);
  return it == object.fields().end() ? *empty : it->second;
}

std::string AnyValueText(const Value& value) {
  const Struct& any = value.struct_value();
  for (const char* kind : {"stringValue", "intValue", "boolValue", "doubleValue"}) {
    const Value& field = Field(any, kind);
    switch (field.kind_case()) {
      case Value::kStringValue: return field.string_value();
      case Value::kBoolValue: return field.bool_value() ? "true" : "false";
      case Value::kNumberValue: return absl::StrCat(field.number_value());
      default: break;
    }
  }
  return "";
}

std::map<std::string, std::string> Attributes(const Value& list) {
  std::map<std::string, std::string> attributes;
  for (const Value& attribute : list.list_value().values()) {
    attributes[Field(attribute.struct_value(), "key").string_value()] =
        AnyValueText(Field(attribute.struct_value(), "value"));
  }
  return attributes;
}

}  // namespace

absl::StatusOr<std::vector<ReceivedSpan>> ParseOtlpSpans(absl::string_view body) {
  Struct root;
  if (!google::protobuf::util::JsonStringToMessage(std::string(body), &root).ok()) {
    return absl::InvalidArgumentError("not JSON");
  }
  std::vector<ReceivedSpan> spans;
  for (const Value& resource_spans : Field(root, "resourceSpans").list_value().values()) {
    const Struct& resource = Field(resource_spans.struct_value(), "resource").struct_value();
    const std::string service = Attributes(Field(resource, "attributes"))["service.name"];
    for (const Value& scope : Field(resource_spans.struct_value(), "scopeSpans").list_value().values()) {
      for (const Value& value : Field(scope.struct_value(), "spans").list_value().values()) {
        const Struct& span = value.struct_value();
        spans.push_back(
            {.service = service,
             .trace_id = Field(span, "traceId").string_value(),
             .span_id = Field(span, "spanId").string_value(),
             .parent_span_id = Field(span, "parentSpanId").string_value(),
             .name = Field(span, "name").string_value(),
             .kind = static_cast<int>(Field(span, "kind").number_value()),
             .attributes = Attributes(Field(span, "attributes")),
             .status_code = static_cast<int>(
                 Field(Field(span, "status").struct_value(), "code").number_value())});
      }
    }
  }
  if (!root.fields().contains("resourceSpans")) return absl::InvalidArgumentError("no resourceSpans");
  return spans;
}

}  // namespace choreo::testing
