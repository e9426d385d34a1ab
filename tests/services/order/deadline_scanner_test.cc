// DeadlineScanner's report after each pass (the overdue orders alert's source): the due orders
// it could not publish, 0 once it published them all. A real redis-server; the events go to a
// RecordingSink that refuses them while Kafka is "down".

#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "saga/publish/publisher.h"
#include "services/order/core/deadline_index.h"
#include "services/order/order_service.h"
#include "testing/redis_server.h"

namespace choreo::order {
namespace {

TEST(DeadlineScannerTest, APassReportsTheDueOrdersItCouldNotPublish) {
  absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  const redis::RedisConnection::Options options = (*redis)->ConnectionOptions();
  redis::RedisConnection connection(options);
  const absl::Time now = absl::Now();
  for (int i = 0; i < 3; ++i) {
    const std::string order_id = absl::StrCat("ord-", i);
    const absl::Time due = i < 2 ? now - absl::Minutes(1) : now + absl::Hours(1);
    ASSERT_TRUE(connection
                    .Command(DeadlineSchedule().AddCommand(
                        order_id, absl::ToUnixMillis(due),
                        EncodeDeadlineMember({.order_id = order_id, .correlation_id = "c"})))
                    .ok());
  }
  publish::RecordingSink sink;
  publish::Publisher publisher(&sink, {.service = "order"});
  std::vector<int> reports;
  DeadlineScanner scanner({.redis = options,
                           .publisher = &publisher,
                           .after_pass = [&](int overdue) { reports.push_back(overdue); }});

  sink.FailWith(absl::UnavailableError("Kafka is down"));
  EXPECT_FALSE(scanner.ScanOnce(now).ok());
  sink.FailWith(absl::OkStatus());
  absl::StatusOr<int> published = scanner.ScanOnce(now);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(*published, 2);
  EXPECT_EQ(reports, (std::vector<int>{2, 0})) << "the one due in an hour is not overdue";
  EXPECT_EQ(sink.sent().size(), 2u);
}

}  // namespace
}  // namespace choreo::order
