#pragma once

// JSON text, below the protobuf mapping: a strict RFC 8259 syntax check that says where a
// document breaks, and string quoting. Pure.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace choreo::json {

// OK when `text` is one well-formed JSON value (RFC 8259: no trailing commas, no comments, no
// control characters in strings, valid escapes and UTF-8), nested at most `max_depth` deep.
// Otherwise INVALID_ARGUMENT: "malformed JSON at line 3, column 7 (byte 41): expected ':'".
absl::Status CheckJsonSyntax(absl::string_view text, int max_depth = 64);

// The text of member `name`'s value in the JSON object `object` (top level only; names compared
// as written); nullopt when `object` is not a well-formed object or has no such member.
std::optional<absl::string_view> JsonMemberText(absl::string_view object, absl::string_view name);

// `text` as a JSON string literal, quotes included (UTF-8 passes through; controls, '"' and
// '\' are escaped, with the short escapes where JSON has one: \b \f \n \r \t).
std::string JsonQuote(absl::string_view text);

// Writes one JSON object member by member, in the order the members are added: a name and a
// string value are quoted (JsonQuote), a value given as JSON text goes in as it is.
class JsonObject {
 public:
  JsonObject& Raw(absl::string_view name, absl::string_view json);
  JsonObject& String(absl::string_view name, absl::string_view value);
  // The object's text: "{}" when no member was added.
  std::string Close() const;

 private:
  std::string text_;
};

}  // namespace choreo::json
