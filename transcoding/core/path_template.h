#pragma once

// google.api.http path templates (proto/google/api/http.proto): parsing and matching. Pure.
//
//   Template  = "/" Segments [ Verb ] ;
//   Segments  = Segment { "/" Segment } ;
//   Segment   = "*" | "**" | LITERAL | Variable ;
//   Variable  = "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ;
//   Verb      = ":" LITERAL ;
//
// `{var}` means `{var=*}`. `**` (zero or more segments) may only be the last segment. Matching
// works on the raw (still percent-encoded) path: literals compare decoded; a single-segment
// variable's value is fully decoded; a multi-segment one keeps "%2F" as is, so its "/" are
// exactly the path's separators (the rule of http.proto).

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace choreo::transcoding {

struct PathSegment {
  enum class Kind { kLiteral, kOne /* * */, kRest /* ** */ };
  Kind kind = Kind::kLiteral;
  std::string literal;  // decoded; kLiteral only
};

struct PathVariable {
  std::vector<std::string> field_path;  // e.g. {"book", "name"} for {book.name}
  size_t first = 0;                     // index of its first segment
  size_t end = 0;                       // one past its last segment
};

struct PathTemplate {
  std::vector<PathSegment> segments;
  std::vector<PathVariable> variables;
  std::string verb;  // without ':'; empty when none

  // The template with variables reduced to their patterns: "/v1/*/books/**:get". Two routes of
  // one HTTP method with the same shape match the same paths: a conflict.
  std::string Shape() const;
  // The OpenAPI form: "/v1/{name}/books:get" (each variable one parameter).
  std::string OpenApiPath() const;
};

// INVALID_ARGUMENT naming the problem and its offset for a malformed template.
absl::StatusOr<PathTemplate> ParsePathTemplate(absl::string_view text);

struct PathBinding {
  std::vector<std::string> field_path;
  std::string value;
};

// How specific a match is, compared lexicographically: a verb first, then per segment
// literal > `*` > `**`. The most specific matching route wins (/v1/orders/mine over
// /v1/orders/{id}).
using MatchRank = std::vector<int>;

struct PathMatch {
  std::vector<PathBinding> bindings;
  MatchRank rank;
};

// The variables' values when `raw_path` (no query string) matches; nullopt when it does not
// (including a malformed percent-encoding).
std::optional<PathMatch> MatchPath(const PathTemplate& path_template, absl::string_view raw_path);

// Percent-decoding (RFC 3986). With keep_slash, "%2F" stays encoded. nullopt on a bad escape.
std::optional<std::string> PercentDecode(absl::string_view text, bool keep_slash = false);

}  // namespace choreo::transcoding
