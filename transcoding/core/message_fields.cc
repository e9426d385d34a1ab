#include "transcoding/core/message_fields.h"

#include "absl/strings/escaping.h"
#include "platform/json/json_text.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace choreo::transcoding {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool IsStringFormWellKnownType(const Descriptor* message) {
  static const char* const kNames[] = {
      "google.protobuf.Timestamp",   "google.protobuf.Duration",    "google.protobuf.FieldMask",
      "google.protobuf.StringValue", "google.protobuf.BytesValue",  "google.protobuf.BoolValue",
      "google.protobuf.Int32Value",  "google.protobuf.Int64Value",  "google.protobuf.UInt32Value",
      "google.protobuf.UInt64Value", "google.protobuf.FloatValue",  "google.protobuf.DoubleValue"};
  for (const char* name : kNames) {
    if (message->full_name() == name) return true;
  }
  return false;
}

absl::Status BadValue(const FieldDescriptor* field, absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("field ", field->name(), ": \"", text, "\" is not ", why));
}

template <typename Int>
absl::StatusOr<Int> ParseInt(const FieldDescriptor* field, absl::string_view text) {
  Int value;
  if (!absl::SimpleAtoi(text, &value)) return BadValue(field, text, "an integer in range");
  return value;
}

// Stores one value into a field of a message: appends when the field is repeated, sets it
// otherwise.
struct FieldWriter {
  Message* target;
  const FieldDescriptor* field;

  void Put(int32_t v) const { Pick(&Reflection::AddInt32, &Reflection::SetInt32, v); }
  void Put(int64_t v) const { Pick(&Reflection::AddInt64, &Reflection::SetInt64, v); }
  void Put(uint32_t v) const { Pick(&Reflection::AddUInt32, &Reflection::SetUInt32, v); }
  void Put(uint64_t v) const { Pick(&Reflection::AddUInt64, &Reflection::SetUInt64, v); }
  void Put(double v) const { Pick(&Reflection::AddDouble, &Reflection::SetDouble, v); }
  void Put(float v) const { Pick(&Reflection::AddFloat, &Reflection::SetFloat, v); }
  void Put(bool v) const { Pick(&Reflection::AddBool, &Reflection::SetBool, v); }
  void Put(std::string v) const {
    Pick(&Reflection::AddString, &Reflection::SetString, std::move(v));
  }
  void Put(const google::protobuf::EnumValueDescriptor* v) const {
    Pick(&Reflection::AddEnum, &Reflection::SetEnum, v);
  }

 private:
  template <typename Add, typename Set, typename Value>
  void Pick(Add add, Set set, Value value) const {
    const Reflection* reflection = target->GetReflection();
    if (field->is_repeated()) {
      (reflection->*add)(target, field, std::move(value));
    } else {
      (reflection->*set)(target, field, std::move(value));
    }
  }
};

template <typename Int>
absl::Status PutInt(const FieldWriter& writer, absl::string_view text) {
  absl::StatusOr<Int> value = ParseInt<Int>(writer.field, text);
  if (!value.ok()) return value.status();
  writer.Put(*value);
  return absl::OkStatus();
}

absl::Status SetWellKnownType(Message& message, const FieldDescriptor* field, absl::string_view text) {
  const std::string& name = message.GetDescriptor()->full_name();
  const bool textual = name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration" ||
                       name == "google.protobuf.FieldMask" || name == "google.protobuf.StringValue" ||
                       name == "google.protobuf.BytesValue";
  // Numbers and booleans in wrappers take their JSON literal; the rest a JSON string.
  const std::string json = textual ? json::JsonQuote(text) : std::string(text);
  if (!google::protobuf::util::JsonStringToMessage(json, &message).ok()) {
    return BadValue(field, text, absl::StrCat("a valid ", name));
  }
  return absl::OkStatus();
}

}  // namespace

const FieldDescriptor* FindFieldByAnyName(const Descriptor* message, absl::string_view name) {
  const std::string key(name);
  if (const FieldDescriptor* field = message->FindFieldByName(key); field != nullptr) return field;
  for (int i = 0; i < message->field_count(); ++i) {
    if (message->field(i)->json_name() == key) return message->field(i);
  }
  return nullptr;
}

bool IsTextSettable(const FieldDescriptor* field) {
  if (field->is_map()) return false;
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return true;
  return IsStringFormWellKnownType(field->message_type());
}

std::string FieldPathName(const FieldPath& path) {
  std::vector<std::string> names;
  for (const FieldDescriptor* field : path) names.push_back(field->name());
  return absl::StrJoin(names, ".");
}

absl::StatusOr<FieldPath> ResolveFieldPath(const Descriptor* message,
                                           const std::vector<std::string>& names) {
  FieldPath path;
  const Descriptor* current = message;
  for (size_t i = 0; i < names.size(); ++i) {
    const FieldDescriptor* field = current == nullptr ? nullptr : FindFieldByAnyName(current, names[i]);
    if (field == nullptr) {
      return absl::NotFoundError(absl::StrCat("no field \"", absl::StrJoin(names, "."), "\" in ",
                                              message->full_name()));
    }
    path.push_back(field);
    const bool last = i + 1 == names.size();
    if (!last && (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
                  IsStringFormWellKnownType(field->message_type()))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field \"", absl::StrJoin(names, "."), "\": ", field->name(), " is not a message"));
    }
    if (last && !IsTextSettable(field)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field \"", absl::StrJoin(names, "."), "\" is a ",
          field->is_map() ? "map" : "message", "; set its fields one by one"));
    }
    current = field->message_type();
  }
  if (path.empty()) return absl::InvalidArgumentError("empty field path");
  return path;
}

absl::Status SetFieldFromText(Message& message, const FieldPath& path, absl::string_view text) {
  Message* target = &message;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    target = target->GetReflection()->MutableMessage(target, path[i]);
  }
  const FieldDescriptor* field = path.back();
  const FieldWriter writer{.target = target, .field = field};
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string value(text);
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        // Standard or URL-safe base64, padded or not (the proto3 JSON rule).
        if (!absl::Base64Unescape(text, &value) && !absl::WebSafeBase64Unescape(text, &value)) {
          return BadValue(field, text, "base64");
        }
      }
      writer.Put(std::move(value));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: return PutInt<int32_t>(writer, text);
    case FieldDescriptor::CPPTYPE_INT64: return PutInt<int64_t>(writer, text);
    case FieldDescriptor::CPPTYPE_UINT32: return PutInt<uint32_t>(writer, text);
    case FieldDescriptor::CPPTYPE_UINT64: return PutInt<uint64_t>(writer, text);
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double value;
      if (!absl::SimpleAtod(text, &value)) return BadValue(field, text, "a number");
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        writer.Put(value);
      } else {
        writer.Put(static_cast<float>(value));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      if (text != "true" && text != "false") return BadValue(field, text, "true or false");
      writer.Put(text == "true");
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumValueDescriptor* value =
          field->enum_type()->FindValueByName(std::string(text));
      int number;
      if (value == nullptr && absl::SimpleAtoi(text, &number)) {
        value = field->enum_type()->FindValueByNumber(number);
      }
      if (value == nullptr) {
        return BadValue(field, text, absl::StrCat("a value of ", field->enum_type()->full_name()));
      }
      writer.Put(value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Reflection* reflection = target->GetReflection();
      Message* value = field->is_repeated() ? reflection->AddMessage(target, field)
                                            : reflection->MutableMessage(target, field);
      return SetWellKnownType(*value, field, text);
    }
  }
  return absl::InternalError("unknown field type");
}

}  // namespace choreo::transcoding
