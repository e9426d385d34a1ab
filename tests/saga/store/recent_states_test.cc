#include "saga/store/recent_states.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace choreo::store {
namespace {

TEST(RecentStates, RemembersTheLatestStateAndVersionPerAggregate) {
  RecentStates recent(10);
  const AggregateRef alice{"billing.account", "alice"};
  const AggregateRef bob{"billing.account", "bob"};
  EXPECT_FALSE(recent.Find(alice).has_value());
  recent.Remember(alice, 1, "a1");
  recent.Remember(bob, 4, "b4");
  recent.Remember(alice, 2, "a2");
  ASSERT_TRUE(recent.Find(alice).has_value());
  EXPECT_EQ(recent.Find(alice)->version, 2);
  EXPECT_EQ(recent.Find(alice)->state, "a2");
  EXPECT_FALSE(recent.Find(alice)->handled_outcome.has_value());
  EXPECT_EQ(recent.Find(bob)->version, 4);
  recent.Forget(alice);
  EXPECT_FALSE(recent.Find(alice).has_value());
  EXPECT_TRUE(recent.Find(bob).has_value());
}

TEST(RecentStates, TypesKeepTheirIdsApart) {
  RecentStates recent(10);
  recent.Remember({"order.order", "x"}, 1, "order");
  recent.Remember({"billing.account", "x"}, 7, "account");
  EXPECT_EQ(recent.Find({"order.order", "x"})->state, "order");
  EXPECT_EQ(recent.Find({"billing.account", "x"})->state, "account");
}

TEST(RecentStates, ForgetsEverythingWhenFullAndNothingWithoutCapacity) {
  RecentStates recent(2);
  recent.Remember({"t", "1"}, 1, "");
  recent.Remember({"t", "2"}, 1, "");
  recent.Remember({"t", "2"}, 2, "");  // known: no room needed
  EXPECT_EQ(recent.size(), 2u);
  recent.Remember({"t", "3"}, 1, "");
  EXPECT_EQ(recent.size(), 1u);
  EXPECT_TRUE(recent.Find({"t", "3"}).has_value());

  RecentStates none(0);
  none.Remember({"t", "1"}, 1, "");
  EXPECT_FALSE(none.Find({"t", "1"}).has_value());
}

TEST(RecentStates, AnOlderVersionDoesNotReplaceALaterOne) {
  // A lane's load that raced another lane's commit comes back with the version before it.
  RecentStates recent(10);
  const AggregateRef order{"order.order", "o1"};
  recent.Remember(order, 3, "paid");
  recent.Remember(order, 2, "pending");
  EXPECT_EQ(recent.Find(order)->version, 3);
  EXPECT_EQ(recent.Find(order)->state, "paid");
  recent.Remember(order, 3, "paid again");  // the same version: the same stored state
  EXPECT_EQ(recent.Find(order)->state, "paid again");
  recent.Forget(order);  // after a conflict: any version may be remembered again
  recent.Remember(order, 1, "created");
  EXPECT_EQ(recent.Find(order)->version, 1);
}

TEST(RecentStates, LanesShareOneMemory) {
  // What one lane's thread committed, another's finds (the order's payment after its request).
  RecentStates recent(1000);
  std::vector<std::thread> lanes;
  for (int lane = 0; lane < 4; ++lane) {
    lanes.emplace_back([&recent, lane] {
      for (int i = 0; i < 200; ++i) {
        recent.Remember({"order.order", absl::StrCat(lane, "-", i)}, i, absl::StrCat(i));
        EXPECT_TRUE(recent.Find({"order.order", absl::StrCat(lane, "-", i)}).has_value());
      }
    });
  }
  for (std::thread& lane : lanes) lane.join();
  EXPECT_EQ(recent.size(), 800u);
  EXPECT_EQ(recent.Find({"order.order", "3-199"})->state, "199");
}

}  // namespace
}  // namespace choreo::store
