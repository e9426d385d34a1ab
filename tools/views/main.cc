// choreo-views: rebuilds one of choreo's views from the log, online, with progress.
//
//   choreo-views --view orders   --kafka-brokers B --redis HOST:PORT [logins]   the gateway's
//                                order views and ListOrders indexes, from orders.snapshots
//   choreo-views --view timeline ...   the saga timelines, from every saga topic's retention
//   choreo-views --view profiles ...   the notification service's profile view, from
//                                      users.snapshots
//
// Runs next to serving processes: every view keeps answering and is replaced by its rebuilt copy
// in one write; nothing the live writers moved on is moved back (gateway/rebuild, and
// notification::RebuildProfileView). Logins: the view owner's own (--redis-user gateway or
// notification, --redis-password-file, --kafka-properties). Prints a progress line per batch (or
// per second) and a summary; exit 0 when the view caught up with its topics, 1 when the rebuild
// failed (rerun it: it is idempotent), 2 for bad flags or logins.

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "edges/redis/redis_connection.h"
#include "edges/redis/redis_pool.h"
#include "gateway/order_cache.h"
#include "gateway/rebuild/view_rebuild.h"
#include "gateway/timeline/timeline_store.h"
#include "platform/config/flag_set.h"
#include "saga/service/process_host.h"
#include "services/notification/notification_service.h"

namespace {

struct ViewsConfig {
  std::string view;
  std::string kafka_brokers;
  std::string kafka_properties;
  std::string redis;
  std::string redis_user;
  std::string redis_password_file;
  absl::Duration timeout = absl::Minutes(30);

  absl::Status Validate() const {
    if (view != "orders" && view != "timeline" && view != "profiles") {
      return absl::InvalidArgumentError(
          absl::StrCat("--view must be orders, timeline or profiles, got '", view, "'"));
    }
    if (kafka_brokers.empty()) return absl::InvalidArgumentError("--kafka-brokers is required");
    if (!choreo::redis::RedisConnection::OptionsFor(redis).ok()) {
      return absl::InvalidArgumentError("--redis must be host:port[,host:port...]");
    }
    if (redis_user.empty() != redis_password_file.empty()) {
      return absl::InvalidArgumentError("--redis-user and --redis-password-file go together");
    }
    return absl::OkStatus();
  }
};

int Fail(const absl::Status& status, int code) {
  std::fprintf(stderr, "choreo-views: %s\n", std::string(status.message()).c_str());
  return code;
}

void PrintProgress(const choreo::gateway::RebuildProgress& progress) {
  const int64_t total = progress.read.offsets_total;
  std::printf("%s\t%lld/%lld offsets (%d%%)\t%lld written\n", progress.topic.c_str(),
              static_cast<long long>(progress.read.offsets_read), static_cast<long long>(total),
              total > 0 ? static_cast<int>(100 * progress.read.offsets_read / total) : 100,
              static_cast<long long>(progress.written));
  std::fflush(stdout);
}

int RebuildGatewayView(const ViewsConfig& config,
                       const choreo::redis::RedisConnection::Options& redis) {
  choreo::gateway::RebuildOptions options{.kafka = {{"bootstrap.servers", config.kafka_brokers}},
                                          .timeout = config.timeout,
                                          .progress = PrintProgress};
  absl::StatusOr<int64_t> written;
  if (config.view == "orders") {
    choreo::gateway::OrderCache cache(redis, 2);
    written = choreo::gateway::RebuildOrderViews(options, cache);
  } else {
    choreo::redis::RedisPool pool(redis, 2);
    // Every batch writes its keys' expiries and trims: a rebuild may follow a wipe that a
    // running gateway's store does not know of, and it writes those keys' expiries again.
    choreo::gateway::timeline::TimelineStore store(pool,
                                                   {.rewrite_interval = absl::ZeroDuration()});
    written = choreo::gateway::RebuildTimelines(options, store);
  }
  if (!written.ok()) return Fail(written.status(), 1);
  std::printf("rebuilt %s: %lld written\n", config.view.c_str(), static_cast<long long>(*written));
  return 0;
}

int RebuildProfiles(const ViewsConfig& config) {
  choreo::saga::SagaRuntimeOptions options;
  options.service = "notification";
  options.kafka_brokers = config.kafka_brokers;
  options.group_id =
      absl::StrCat("choreo-notification-profiles-rebuild-", absl::ToUnixMillis(absl::Now()));
  options.redis_address = config.redis;
  std::printf("group %s\n", options.group_id.c_str());
  absl::Status rebuilt =
      choreo::notification::RebuildProfileView(std::move(options), config.timeout, [](int64_t lag) {
        std::printf("users.snapshots\t%lld offsets to go\n", static_cast<long long>(lag));
        std::fflush(stdout);
      });
  if (!rebuilt.ok()) return Fail(rebuilt, 1);
  std::printf("rebuilt profiles\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ViewsConfig config;
  choreo::config::FlagSet flags(
      "choreo-views",
      "Rebuilds a view from the log, online: orders (the gateway's order views, from\n"
      "orders.snapshots), timeline (the saga timelines, from the saga topics) or profiles (the\n"
      "notification service's profile view, from users.snapshots). Idempotent. Exit 0: caught\n"
      "up; 1: failed (rerun); 2: bad flags or logins.");
  flags.Add("view", &config.view, "orders, timeline or profiles")
      .Add("kafka-brokers", &config.kafka_brokers, "bootstrap servers")
      .Add("kafka-properties", &config.kafka_properties,
           "file of librdkafka properties: the view owner's login (security.protocol, sasl.*)")
      .Add("redis", &config.redis,
           "the view's Redis, host:port (or cluster nodes, comma-separated)")
      .Add("redis-user", &config.redis_user, "the view owner's Redis user (gateway, notification)")
      .Add("redis-password-file", &config.redis_password_file, "its password, first line")
      .Add("timeout", &config.timeout, "how long reading one topic to its end may take");
  choreo::config::ParseOrExit(flags, argc, argv, [&] { return config.Validate(); });

  if (absl::Status logins = choreo::service::ApplyClientLogins(
          config.kafka_properties, config.redis_user, config.redis_password_file);
      !logins.ok()) {
    return Fail(logins, 2);
  }
  if (config.view == "profiles") return RebuildProfiles(config);
  return RebuildGatewayView(config, *choreo::redis::RedisConnection::OptionsFor(config.redis));
}
