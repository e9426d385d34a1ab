#include "saga/store/recent_states.h"

#include "gtest/gtest.h"

namespace choreo::store {
namespace {

TEST(RecentStates, RemembersTheLatestStateAndVersionPerAggregate) {
  RecentStates recent(10);
  const AggregateRef alice{"billing.account", "alice"};
  const AggregateRef bob{"billing.account", "bob"};
  EXPECT_EQ(recent.Find(alice), nullptr);
  recent.Remember(alice, 1, "a1");
  recent.Remember(bob, 4, "b4");
  recent.Remember(alice, 2, "a2");
  ASSERT_NE(recent.Find(alice), nullptr);
  EXPECT_EQ(recent.Find(alice)->version, 2);
  EXPECT_EQ(recent.Find(alice)->state, "a2");
  EXPECT_FALSE(recent.Find(alice)->handled_outcome.has_value());
  EXPECT_EQ(recent.Find(bob)->version, 4);
  recent.Forget(alice);
  EXPECT_EQ(recent.Find(alice), nullptr);
  EXPECT_NE(recent.Find(bob), nullptr);
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
  EXPECT_NE(recent.Find({"t", "3"}), nullptr);

  RecentStates none(0);
  none.Remember({"t", "1"}, 1, "");
  EXPECT_EQ(none.Find({"t", "1"}), nullptr);
}

}  // namespace
}  // namespace choreo::store
