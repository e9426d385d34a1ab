#include "saga/telemetry/readiness.h"

#include "absl/strings/str_cat.h"
#include "platform/json/json_text.h"
#include "platform/logging/logger.h"
#include "platform/process/thread_name.h"

namespace choreo::telemetry {

bool AllReady(const std::vector<CheckResult>& results) {
  if (results.empty()) return false;
  for (const CheckResult& result : results) {
    if (!result.status.ok()) return false;
  }
  return true;
}

std::string ReadinessJson(const std::vector<CheckResult>& results) {
  std::string json = absl::StrCat("{\"ready\":", AllReady(results) ? "true" : "false", ",\"checks\":[");
  for (size_t i = 0; i < results.size(); ++i) {
    if (i > 0) json.push_back(',');
    absl::StrAppend(&json, "{\"name\":", json::JsonQuote(results[i].name),
                    ",\"ok\":", results[i].status.ok() ? "true" : "false");
    if (!results[i].status.ok()) {
      absl::StrAppend(&json, ",\"error\":", json::JsonQuote(results[i].status.message()));
    }
    json.push_back('}');
  }
  json.append("]}");
  return json;
}

Readiness::Readiness(absl::Duration interval) : interval_(interval) {}

Readiness::~Readiness() { Stop(); }

void Readiness::AddCheck(std::string name, Check check) {
  absl::MutexLock lock(&mu_);
  checks_.emplace_back(std::move(name), std::move(check));
}

void Readiness::OnChange(std::function<void(bool)> on_change) {
  // Between rounds, so that no round's report can overtake this first one.
  absl::MutexLock round(&check_mu_);
  bool ready = false;
  {
    absl::MutexLock lock(&mu_);
    on_change_ = on_change;
    ready = ready_;
  }
  on_change(ready);
}

void Readiness::Start() {
  thread_ = process::NamedThread("readiness", [this] { Run(); });
}

void Readiness::Stop() noexcept {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::function<void(bool)> on_change;
  {
    absl::MutexLock lock(&mu_);
    if (ready_ && on_change_) on_change = on_change_;
    ready_ = false;
    latest_ = {{"process", absl::UnavailableError("shutting down")}};
  }
  if (on_change) on_change(false);
}

void Readiness::CheckNow() {
  absl::MutexLock round(&check_mu_);
  std::vector<std::pair<std::string, Check>> checks;
  {
    absl::MutexLock lock(&mu_);
    checks = checks_;
  }
  std::vector<CheckResult> results;
  results.reserve(checks.size());
  for (const auto& [name, check] : checks) results.push_back({name, check()});
  const bool ready = AllReady(results);
  std::function<void(bool)> on_change;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (ready != ready_ && on_change_) on_change = on_change_;
    ready_ = ready;
    latest_ = results;
  }
  if (on_change) {
    logging::Info(ready ? "ready" : "not ready", {{"checks", ReadinessJson(results)}});
    on_change(ready);
  }
}

void Readiness::Run() {
  while (true) {
    CheckNow();
    absl::MutexLock lock(&mu_);
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping), interval_)) return;
  }
}

bool Readiness::ready() const {
  absl::MutexLock lock(&mu_);
  return ready_;
}

std::vector<CheckResult> Readiness::Latest() const {
  absl::MutexLock lock(&mu_);
  return latest_;
}

}  // namespace choreo::telemetry
