#include "platform/json/json_text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace choreo::json {
namespace {

class SyntaxChecker {
 public:
  SyntaxChecker(absl::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  absl::Status Check() {
    SkipSpace();
    if (!Value(0)) return error_;
    SkipSpace();
    if (pos_ != text_.size()) {
      Fail("unexpected text after the JSON value");
      return error_;
    }
    return absl::OkStatus();
  }

  std::optional<absl::string_view> Member(absl::string_view name) {
    SkipSpace();
    if (!Consume('{')) return std::nullopt;
    SkipSpace();
    if (Consume('}')) return std::nullopt;
    while (true) {
      SkipSpace();
      const size_t name_start = pos_;
      if (pos_ >= text_.size() || text_[pos_] != '"' || !String()) return std::nullopt;
      const absl::string_view member = text_.substr(name_start + 1, pos_ - name_start - 2);
      SkipSpace();
      if (!Consume(':')) return std::nullopt;
      SkipSpace();
      const size_t value_start = pos_;
      if (!Value(1)) return std::nullopt;
      if (member == name) return text_.substr(value_start, pos_ - value_start);
      SkipSpace();
      if (!Consume(',')) return std::nullopt;
    }
  }

 private:
  bool Value(int depth) {
    if (pos_ >= text_.size()) return Fail("expected a value, found the end");
    switch (text_[pos_]) {
      case '{': return Object(depth + 1);
      case '[': return Array(depth + 1);
      case '"': return String();
      case 't': return Word("true");
      case 'f': return Word("false");
      case 'n': return Word("null");
      default:
        if (text_[pos_] == '-' || absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
          return Number();
        }
        return Fail("expected a value");
    }
  }

  bool Object(int depth) {
    if (depth > max_depth_) return Fail("nested too deep");
    ++pos_;
    SkipSpace();
    if (Consume('}')) return true;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("expected a member name (a string)");
      if (!String()) return false;
      SkipSpace();
      if (!Consume(':')) return Fail("expected ':'");
      SkipSpace();
      if (!Value(depth)) return false;
      SkipSpace();
      if (Consume('}')) return true;
      if (!Consume(',')) return Fail("expected ',' or '}'");
    }
  }

  bool Array(int depth) {
    if (depth > max_depth_) return Fail("nested too deep");
    ++pos_;
    SkipSpace();
    if (Consume(']')) return true;
    while (true) {
      SkipSpace();
      if (!Value(depth)) return false;
      SkipSpace();
      if (Consume(']')) return true;
      if (!Consume(',')) return Fail("expected ',' or ']'");
    }
  }

  bool String() {
    ++pos_;  // the opening quote
    while (pos_ < text_.size()) {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("control character in a string");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= text_.size()) break;
        const char escape = text_[pos_];
        if (escape == 'u') {
          for (int i = 1; i <= 4; ++i) {
            if (pos_ + i >= text_.size() ||
                !absl::ascii_isxdigit(static_cast<unsigned char>(text_[pos_ + i]))) {
              return Fail("bad \\u escape");
            }
          }
          pos_ += 5;
          continue;
        }
        if (absl::string_view("\"\\/bfnrt").find(escape) == absl::string_view::npos) {
          return Fail("bad escape");
        }
        ++pos_;
        continue;
      }
      if (c < 0x80) {
        ++pos_;
        continue;
      }
      if (!Utf8Sequence()) return Fail("invalid UTF-8");
    }
    return Fail("unterminated string");
  }

  // One multi-byte UTF-8 sequence at pos_ (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
  bool Utf8Sequence() {
    const auto lead = static_cast<unsigned char>(text_[pos_]);
    int length;
    unsigned char low = 0x80, high = 0xBF;  // bounds of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return false;
    }
    if (pos_ + length > text_.size()) return false;
    for (int i = 1; i < length; ++i) {
      const auto c = static_cast<unsigned char>(text_[pos_ + i]);
      if (i == 1 ? (c < low || c > high) : (c < 0x80 || c > 0xBF)) return false;
    }
    pos_ += length;
    return true;
  }

  bool Number() {
    Consume('-');
    if (Consume('0')) {
      // no leading zeros
    } else if (!Digits()) {
      return Fail("expected a digit");
    }
    if (Consume('.') && !Digits()) return Fail("expected a digit after '.'");
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (!Consume('+')) Consume('-');
      if (!Digits()) return Fail("expected an exponent");
    }
    return true;
  }

  bool Digits() {
    const size_t start = pos_;
    while (pos_ < text_.size() && absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return pos_ > start;
  }

  bool Word(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Fail("expected a value");
    pos_ += word.size();
    return true;
  }

  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Fail(absl::string_view what) {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    error_ = absl::InvalidArgumentError(
        absl::StrCat("malformed JSON at line ", line, ", column ", column, " (byte ", pos_, "): ", what));
    return false;
  }

  absl::string_view text_;
  int max_depth_;
  size_t pos_ = 0;
  absl::Status error_;
};

}  // namespace

absl::Status CheckJsonSyntax(absl::string_view text, int max_depth) {
  return SyntaxChecker(text, max_depth).Check();
}

std::optional<absl::string_view> JsonMemberText(absl::string_view object, absl::string_view name) {
  return SyntaxChecker(object, 64).Member(name);
}

std::string JsonQuote(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  size_t plain = 0;  // the start of the characters not yet copied, which need no escape
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char* escape = nullptr;
    switch (c) {
      case '"':
        escape = "\\\"";
        break;
      case '\\':
        escape = "\\\\";
        break;
      case '\n':
        escape = "\\n";
        break;
      case '\r':
        escape = "\\r";
        break;
      case '\t':
        escape = "\\t";
        break;
      case '\b':
        escape = "\\b";
        break;
      case '\f':
        escape = "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) continue;
    }
    out.append(text.data() + plain, i - plain);
    plain = i + 1;
    if (escape != nullptr) {
      out += escape;
    } else {
      out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  out.push_back('"');
  return out;
}

JsonObject& JsonObject::Raw(absl::string_view name, absl::string_view json) {
  absl::StrAppend(&text_, text_.empty() ? "{" : ",", JsonQuote(name), ":", json);
  return *this;
}

JsonObject& JsonObject::String(absl::string_view name, absl::string_view value) {
  return Raw(name, JsonQuote(value));
}

std::string JsonObject::Close() const { return text_.empty() ? "{}" : absl::StrCat(text_, "}"); }

}  // namespace choreo::json
