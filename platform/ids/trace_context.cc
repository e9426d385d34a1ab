#include "platform/ids/trace_context.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace choreo::ids {
namespace {

bool IsLowerHex(absl::string_view text, size_t length) {
  if (text.size() != length) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return false;
  }
  return true;
}

}  // namespace

std::string RandomHex(absl::BitGen& random, int bytes) {
  std::string raw(bytes, '\0');
  for (char& c : raw) c = static_cast<char>(absl::Uniform<uint8_t>(random));
  return absl::BytesToHexString(raw);
}

bool IsValidTraceparent(absl::string_view parent) {
  return parent.size() == 55 && parent.substr(0, 3) == "00-" &&
         IsLowerHex(parent.substr(3, 32), 32) && parent[35] == '-' &&
         IsLowerHex(parent.substr(36, 16), 16) && parent[52] == '-' &&
         IsLowerHex(parent.substr(53, 2), 2);
}

std::string ChildTraceparent(absl::string_view parent, absl::BitGen& random) {
  if (IsValidTraceparent(parent)) {
    return absl::StrCat("00-", parent.substr(3, 32), "-", RandomHex(random, 8), "-",
                        parent.substr(53, 2));
  }
  return absl::StrCat("00-", RandomHex(random, 16), "-", RandomHex(random, 8), "-01");
}

absl::string_view TraceIdOf(absl::string_view traceparent) {
  return IsValidTraceparent(traceparent) ? traceparent.substr(3, 32) : absl::string_view();
}

absl::string_view SpanIdOf(absl::string_view traceparent) {
  return IsValidTraceparent(traceparent) ? traceparent.substr(36, 16) : absl::string_view();
}

bool IsSampled(absl::string_view traceparent) {
  if (!IsValidTraceparent(traceparent)) return false;
  int flags = 0;
  absl::string_view hex = traceparent.substr(53, 2);
  for (char c : hex) flags = flags * 16 + (absl::ascii_isdigit(c) ? c - '0' : c - 'a' + 10);
  return (flags & 1) != 0;
}

}  // namespace choreo::ids
