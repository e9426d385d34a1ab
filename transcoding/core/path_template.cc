#include "transcoding/core/path_template.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace choreo::transcoding {
namespace {

// RFC 3986 pchar without ':' (the verb separator): unreserved, sub-delims, '@' and escapes.
bool IsLiteralChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("-._~!$&'()+,;=@%").find(c) != absl::string_view::npos;
}

bool IsIdentStart(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class TemplateParser {
 public:
  explicit TemplateParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<PathTemplate> Parse() {
    if (!Consume('/')) return Error("must start with '/'");
    if (absl::Status segments = ParseSegments(/*in_variable=*/false); !segments.ok()) return segments;
    if (Consume(':')) {
      const size_t start = pos_;
      while (pos_ < text_.size() && IsLiteralChar(text_[pos_])) ++pos_;
      if (pos_ == start) return Error("empty verb");
      std::optional<std::string> verb = PercentDecode(text_.substr(start, pos_ - start));
      if (!verb.has_value()) return Error("bad percent-encoding in the verb");
      result_.verb = *std::move(verb);
    }
    if (pos_ != text_.size()) return Error(absl::StrCat("unexpected '", text_.substr(pos_, 1), "'"));
    for (size_t i = 0; i < result_.segments.size(); ++i) {
      if (result_.segments[i].kind == PathSegment::Kind::kRest && i + 1 != result_.segments.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("path template \"", text_, "\": '**' must be the last segment"));
      }
    }
    return std::move(result_);
  }

 private:
  absl::Status ParseSegments(bool in_variable) {
    do {
      if (absl::Status segment = ParseSegment(in_variable); !segment.ok()) return segment;
    } while (Consume('/'));
    return absl::OkStatus();
  }

  absl::Status ParseSegment(bool in_variable) {
    if (pos_ >= text_.size()) return Error("expected a segment");
    if (Consume('*')) {
      result_.segments.push_back(
          {.kind = Consume('*') ? PathSegment::Kind::kRest : PathSegment::Kind::kOne});
      return absl::OkStatus();
    }
    if (text_[pos_] == '{') {
      if (in_variable) return Error("variables cannot nest");
      return ParseVariable();
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && IsLiteralChar(text_[pos_])) ++pos_;
    if (pos_ == start) return Error("expected a segment");
    std::optional<std::string> literal = PercentDecode(text_.substr(start, pos_ - start));
    if (!literal.has_value()) return Error("bad percent-encoding");
    result_.segments.push_back({.kind = PathSegment::Kind::kLiteral, .literal = *std::move(literal)});
    return absl::OkStatus();
  }

  absl::Status ParseVariable() {
    Consume('{');
    PathVariable variable;
    do {
      const size_t start = pos_;
      if (pos_ >= text_.size() || !IsIdentStart(text_[pos_])) return Error("expected a field name");
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      variable.field_path.emplace_back(text_.substr(start, pos_ - start));
    } while (Consume('.'));
    variable.first = result_.segments.size();
    if (Consume('=')) {
      if (absl::Status segments = ParseSegments(/*in_variable=*/true); !segments.ok()) return segments;
    } else {
      result_.segments.push_back({.kind = PathSegment::Kind::kOne});
    }
    if (!Consume('}')) return Error("expected '}'");
    variable.end = result_.segments.size();
    for (const PathVariable& other : result_.variables) {
      if (other.field_path == variable.field_path) {
        return Error(absl::StrCat("field ", absl::StrJoin(variable.field_path, "."), " bound twice"));
      }
    }
    result_.variables.push_back(std::move(variable));
    return absl::OkStatus();
  }

  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("path template \"", text_, "\": ", what, " at offset ", pos_));
  }

  absl::string_view text_;
  size_t pos_ = 0;
  PathTemplate result_;
};

std::string SegmentShape(const PathSegment& segment) {
  switch (segment.kind) {
    case PathSegment::Kind::kLiteral: return segment.literal;
    case PathSegment::Kind::kOne: return "*";
    case PathSegment::Kind::kRest: return "**";
  }
  return "";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<PathTemplate> ParsePathTemplate(absl::string_view text) {
  return TemplateParser(text).Parse();
}

std::string PathTemplate::Shape() const {
  std::string shape;
  for (const PathSegment& segment : segments) absl::StrAppend(&shape, "/", SegmentShape(segment));
  if (!verb.empty()) absl::StrAppend(&shape, ":", verb);
  return shape;
}

std::string PathTemplate::OpenApiPath() const {
  std::string path;
  for (size_t i = 0; i < segments.size();) {
    const PathVariable* variable = nullptr;
    for (const PathVariable& candidate : variables) {
      if (candidate.first == i) variable = &candidate;
    }
    if (variable != nullptr) {
      absl::StrAppend(&path, "/{", absl::StrJoin(variable->field_path, "."), "}");
      i = std::max(variable->end, i + 1);
    } else {
      absl::StrAppend(&path, "/", SegmentShape(segments[i]));
      ++i;
    }
  }
  if (!verb.empty()) absl::StrAppend(&path, ":", verb);
  return path;
}

std::optional<std::string> PercentDecode(absl::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexValue(text[i + 1]);
    const int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    const char decoded = static_cast<char>(high * 16 + low);
    if (keep_slash && decoded == '/') {
      out.append(text.data() + i, 3);
    } else {
      out.push_back(decoded);
    }
    i += 2;
  }
  return out;
}

namespace {

// Whether raw path text is `literal`, written in normal form (RFC 3986 §6.2.2.2): an unreserved
// character percent-encoded ("%76" for "v") does not match, so that the rules a proxy or a
// firewall applies to paths mean what they say here too.
bool LiteralMatches(absl::string_view raw, absl::string_view literal) {
  for (size_t at = raw.find('%'); at != absl::string_view::npos; at = raw.find('%', at + 1)) {
    const std::optional<std::string> byte = PercentDecode(raw.substr(at, 3));
    if (!byte.has_value()) return false;
    const unsigned char c = static_cast<unsigned char>((*byte)[0]);
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') return false;
  }
  const std::optional<std::string> decoded = PercentDecode(raw);
  return decoded.has_value() && *decoded == literal;
}

}  // namespace

std::optional<PathMatch> MatchPath(const PathTemplate& path_template, absl::string_view raw_path) {
  if (raw_path.empty() || raw_path.front() != '/') return std::nullopt;
  raw_path.remove_prefix(1);
  if (!path_template.verb.empty()) {
    // The verb follows the last ':' of the last segment.
    const size_t colon = raw_path.rfind(':');
    if (colon == absl::string_view::npos || raw_path.find('/', colon) != absl::string_view::npos) {
      return std::nullopt;
    }
    if (!LiteralMatches(raw_path.substr(colon + 1), path_template.verb)) return std::nullopt;
    raw_path = raw_path.substr(0, colon);
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(raw_path, '/');
  const std::vector<PathSegment>& segments = path_template.segments;
  const bool rest = !segments.empty() && segments.back().kind == PathSegment::Kind::kRest;
  if (rest ? parts.size() + 1 < segments.size() : parts.size() != segments.size()) return std::nullopt;

  PathMatch match;
  match.rank.push_back(path_template.verb.empty() ? 0 : 1);
  // The path parts that template segment i covers begin at part_begin[i].
  std::vector<size_t> part_begin(segments.size() + 1);
  for (size_t i = 0; i < segments.size(); ++i) {
    part_begin[i] = i;
    const PathSegment& segment = segments[i];
    if (segment.kind == PathSegment::Kind::kRest) {
      match.rank.push_back(0);
      continue;
    }
    if (parts[i].empty()) return std::nullopt;  // "//" or a trailing '/'
    if (segment.kind == PathSegment::Kind::kLiteral) {
      if (!LiteralMatches(parts[i], segment.literal)) return std::nullopt;
      match.rank.push_back(2);
    } else {
      match.rank.push_back(1);
    }
  }
  part_begin[segments.size()] = rest ? parts.size() : segments.size();
  if (rest) {
    for (size_t i = segments.size() - 1; i < parts.size(); ++i) {
      if (parts[i].empty() && parts.size() > 1) return std::nullopt;
    }
  }
  for (const PathVariable& variable : path_template.variables) {
    const size_t begin = part_begin[variable.first];
    const size_t end = part_begin[variable.end];
    const bool multi = end - begin != 1 ||
                       segments[variable.end - 1].kind == PathSegment::Kind::kRest;
    std::optional<std::string> value;
    if (multi) {
      std::vector<absl::string_view> covered(parts.begin() + static_cast<long>(begin),
                                             parts.begin() + static_cast<long>(end));
      value = PercentDecode(absl::StrJoin(covered, "/"), /*keep_slash=*/true);
    } else {
      value = PercentDecode(parts[begin]);
    }
    if (!value.has_value()) return std::nullopt;
    match.bindings.push_back({.field_path = variable.field_path, .value = *std::move(value)});
  }
  return match;
}

}  // namespace choreo::transcoding
