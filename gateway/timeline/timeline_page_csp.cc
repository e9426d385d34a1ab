#include <sodium.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gateway/timeline/timeline_page.h"

namespace choreo::gateway::timeline {
namespace {

// 'sha256-<base64>' of the text between the first `open` and the next `close` in `html`.
std::string InlineHash(absl::string_view html, absl::string_view open, absl::string_view close) {
  const size_t start = html.find(open);
  if (start == absl::string_view::npos) return "";
  const size_t from = start + open.size();
  const size_t end = html.find(close, from);
  if (end == absl::string_view::npos) return "";
  const absl::string_view text = html.substr(from, end - from);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char base64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(base64, sizeof base64, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
  return absl::StrCat("'sha256-", base64, "'");
}

}  // namespace

const std::string& TimelinePageCsp() {
  static const std::string* const csp = [] {
    const std::string& html = TimelinePageHtml();
    return new std::string(absl::StrCat(
        "default-src 'none'; script-src ", InlineHash(html, "<script>", "</script>"),
        "; style-src ", InlineHash(html, "<style>", "</style>"),
        "; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'"));
  }();
  return *csp;
}

}  // namespace choreo::gateway::timeline
