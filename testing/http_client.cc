#include "testing/http_client.h"

#include <curl/curl.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace choreo::testing {
namespace {

struct Transfer {
  HttpResult* result;
  const HttpCallOptions* options;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const absl::string_view chunk(data, size * count);
  if (transfer->options->on_data) {
    return transfer->options->on_data(chunk) ? chunk.size() : 0;
  }
  transfer->result->body.append(chunk.data(), chunk.size());
  return chunk.size();
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const absl::string_view line(data, size * count);
  if (absl::StartsWith(line, "HTTP/")) {
    transfer->result->headers.clear();  // a new response (after 100 Continue)
  } else if (const size_t colon = line.find(':'); colon != absl::string_view::npos) {
    transfer->result->headers.emplace_back(
        absl::AsciiStrToLower(line.substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return line.size();
}

}  // namespace

std::string HttpResult::Header(absl::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return value;
  }
  return "";
}

HttpClient::HttpClient() : curl_(curl_easy_init()) {}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResult HttpClient::Call(const std::string& method, const std::string& url,
                            const std::string& body, const HttpCallOptions& options) {
  CURL* curl = static_cast<CURL*>(curl_);
  HttpResult result;
  Transfer transfer{.result = &result, .options = &options};
  curl_slist* headers = nullptr;
  bool has_content_type = false;
  for (const std::string& header : options.headers) {
    headers = curl_slist_append(headers, header.c_str());
    has_content_type |= absl::StartsWithIgnoreCase(header, "content-type:");
  }
  if (!body.empty() && !has_content_type) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
  }
  curl_slist* resolve = nullptr;
  for (const std::string& entry : options.resolve)
    resolve = curl_slist_append(resolve, entry.c_str());
  curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(curl, CURLOPT_CAINFO,
                   options.ca_file.empty() ? nullptr : options.ca_file.c_str());
  const std::string interface = "host!" + options.source_address;
  curl_easy_setopt(curl, CURLOPT_INTERFACE,
                   options.source_address.empty() ? nullptr : interface.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  } else if (method != "GET" && method != "HEAD") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_NOBODY, method == "HEAD" ? 1L : 0L);  // after HTTPGET, which resets it
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(options.timeout)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_RESOLVE, nullptr);
  curl_slist_free_all(resolve);
  long opened = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &opened);
  connections_opened_ += opened;
  if (code != CURLE_OK) {
    result.error = curl_easy_strerror(code);
    if (!options.on_data || code != CURLE_WRITE_ERROR) return result;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

HttpResult HttpCall(const std::string& method, const std::string& url, const std::string& body,
                    const HttpCallOptions& options) {
  HttpClient client;
  return client.Call(method, url, body, options);
}

}  // namespace choreo::testing
