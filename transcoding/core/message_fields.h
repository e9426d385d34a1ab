#pragma once

// Reaching a request field by a path of names, and setting it from text: how path variables
// and query parameters fill a request. Pure (protobuf reflection only).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace choreo::transcoding {

using FieldPath = std::vector<const google::protobuf::FieldDescriptor*>;

// The field named `name` (its proto name or its JSON name) in `message`; nullptr when none.
const google::protobuf::FieldDescriptor* FindFieldByAnyName(
    const google::protobuf::Descriptor* message, absl::string_view name);

// True for fields one text value can set: scalars, enums, and the well-known types whose JSON
// form is a string or number (Timestamp, Duration, FieldMask, the wrappers).
bool IsTextSettable(const google::protobuf::FieldDescriptor* field);

// Resolves `names` from `message`: every field but the last must be a singular message, the
// last must be text-settable. INVALID_ARGUMENT naming the dotted path otherwise; NOT_FOUND when
// a name does not exist.
absl::StatusOr<FieldPath> ResolveFieldPath(const google::protobuf::Descriptor* message,
                                           const std::vector<std::string>& names);

// Sets the field at `path` of `message` from `text` (appends when the last field is repeated):
// decimal numbers, "true"/"false", enum names or numbers, base64 for bytes, the JSON string
// forms of the well-known types. INVALID_ARGUMENT naming the field for a value that does not
// parse.
absl::Status SetFieldFromText(google::protobuf::Message& message, const FieldPath& path,
                              absl::string_view text);

// "a.b.c" of a resolved path, by proto names.
std::string FieldPathName(const FieldPath& path);

}  // namespace choreo::transcoding
