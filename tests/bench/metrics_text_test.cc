#include "tests/bench/metrics_text.h"

#include "gtest/gtest.h"

namespace choreo::bench {
namespace {

constexpr char kScrape[] =
    R"(# HELP choreo_event_queue_seconds From a record being polled to a worker taking it.
# TYPE choreo_event_queue_seconds histogram
choreo_event_queue_seconds_count{topic="orders.requests"} 10
choreo_event_queue_seconds_sum{topic="orders.requests"} 0.5
choreo_event_queue_seconds_bucket{topic="orders.requests",le="0.001"} 4
choreo_event_queue_seconds_count_other 99
choreo_event_handling_seconds_count{topic="orders.requests",type="a.A"} 6
choreo_event_handling_seconds_count{topic="orders.requests",type="a.B"} 4
choreo_event_handling_seconds_sum{topic="orders.requests",type="a.A"} 0.03
choreo_event_handling_seconds_sum{topic="orders.requests",type="a.B"} 0.02 1700000000000
choreo_event_handling_seconds_count{topic="billing.payments",type="b.P"} 2
choreo_event_handling_seconds_sum{topic="billing.payments",type="b.P"} 0.004
choreo_up 1
choreo_event_handling_seconds_count{topic="broken" 7
)";

TEST(MetricsTextTest, SamplesAreReadByNameWithTheirLabelsAsWritten) {
  std::map<std::string, double> count = SamplesNamed(kScrape, "choreo_event_queue_seconds_count");
  ASSERT_EQ(count.size(), 1u);  // not _count_other, which only shares the prefix
  EXPECT_EQ(count[R"(topic="orders.requests")"], 10);
  EXPECT_EQ(SamplesNamed(kScrape, "choreo_up").at(""), 1);
  EXPECT_TRUE(SamplesNamed(kScrape, "choreo_missing").empty());
}

TEST(MetricsTextTest, ALabelIsFoundByItsKeyOnly) {
  EXPECT_EQ(LabelValue(R"(topic="orders.requests",type="a.A")", "type"), "a.A");
  EXPECT_EQ(LabelValue(R"(topic="orders.requests",type="a.A")", "topic"), "orders.requests");
  EXPECT_EQ(LabelValue(R"(subtopic="x",topic="y")", "topic"), "y");
  EXPECT_EQ(LabelValue(R"(topic="y")", "type"), "");
}

TEST(MetricsTextTest, AHistogramAddsUpByOneLabelAndAPhaseIsItsDifference) {
  std::map<std::string, CountAndSum> handling =
      HistogramByLabel(kScrape, "choreo_event_handling_seconds", "topic");
  ASSERT_EQ(handling.size(), 2u);  // the unparsable sample is skipped
  EXPECT_EQ(handling["orders.requests"].count, 10);
  EXPECT_DOUBLE_EQ(handling["orders.requests"].sum, 0.05);
  EXPECT_EQ(handling["billing.payments"].count, 2);

  std::map<std::string, CountAndSum> before = {{"orders.requests", {4, 0.01}}};
  std::map<std::string, CountAndSum> added = Added(before, handling);
  EXPECT_EQ(added["orders.requests"].count, 6);
  EXPECT_DOUBLE_EQ(added["orders.requests"].sum, 0.04);
  EXPECT_EQ(added["billing.payments"].count, 2);  // new since `before`: counted from zero
}

}  // namespace
}  // namespace choreo::bench
