#include "platform/tracing/otlp_exporter.h"

#include <curl/curl.h>

#include "absl/strings/str_cat.h"
#include "platform/logging/logger.h"
#include "platform/process/thread_name.h"
#include "platform/tracing/otlp_json.h"

namespace choreo::tracing {
namespace {

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

OtlpHttpExporter::OtlpHttpExporter(OtlpExporterOptions options) : options_(std::move(options)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  thread_ = process::NamedThread("otlp-export", [this] { Run(); });
}

OtlpHttpExporter::~OtlpHttpExporter() { Stop(); }

void OtlpHttpExporter::Export(SpanData span) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= options_.max_queue) {
    dropped_.fetch_add(1);
    return;
  }
  queue_.push_back(std::move(span));
}

void OtlpHttpExporter::Stop() noexcept {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void OtlpHttpExporter::Run() {
  curl_ = curl_easy_init();  // one handle: its connection is kept alive between batches
  bool stopping = false;
  absl::Time drain_deadline = absl::InfiniteFuture();
  while (!stopping) {
    std::vector<SpanData> batch;
    {
      absl::MutexLock lock(&mu_);
      auto have_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&have_work));
      // Let a batch fill up for at most `interval` (a stop sends at once).
      auto full = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || queue_.size() >= options_.max_batch;
      };
      mu_.AwaitWithTimeout(absl::Condition(&full), options_.interval);
      stopping = stopping_;
      if (stopping) drain_deadline = absl::Now() + options_.timeout;  // the whole drain
      const size_t take = stopping ? queue_.size() : std::min(queue_.size(), options_.max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(take)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(take));
    }
    for (size_t start = 0; start < batch.size(); start += options_.max_batch) {
      const size_t end = std::min(batch.size(), start + options_.max_batch);
      std::vector<SpanData> part(std::make_move_iterator(batch.begin() + static_cast<ptrdiff_t>(start)),
                                 std::make_move_iterator(batch.begin() + static_cast<ptrdiff_t>(end)));
      if (absl::Now() < drain_deadline && Post(OtlpTracesJson(options_.service, part))) {
        exported_.fetch_add(part.size());
      } else {
        failed_.fetch_add(part.size());
      }
    }
  }
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
  curl_ = nullptr;
}

bool OtlpHttpExporter::Post(const std::string& body) {
  CURL* curl = curl_;
  if (curl == nullptr) return false;
  curl_easy_reset(curl);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, options_.endpoint.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  const CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  const bool ok = code == CURLE_OK && status >= 200 && status < 300;
  // A collector that is away fails every batch: say so when it starts failing, every 100th
  // failure while it lasts, and when it is back.
  if (!ok && consecutive_failures_++ % 100 == 0) {
    logging::Warn("span export failed",
                  {{"endpoint", options_.endpoint},
                   {"error", code != CURLE_OK ? curl_easy_strerror(code) : absl::StrCat("HTTP ", status)},
                   {"failed_batches_in_a_row", absl::StrCat(consecutive_failures_)}});
  } else if (ok && consecutive_failures_ > 0) {
    logging::Info("span export works again", {{"endpoint", options_.endpoint}});
    consecutive_failures_ = 0;
  }
  return ok;
}

}  // namespace choreo::tracing
