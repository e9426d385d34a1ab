// The pure half of the cluster client: key slots (with the CRC16 test vector of the Redis
// Cluster specification), routing keys, redirects and the slot table.

#include "edges/redis/cluster_slots.h"

#include "gtest/gtest.h"

namespace choreo::redis {
namespace {

TEST(ClusterSlotsTest, Crc16IsTheSpecificationsXmodemVariant) {
  // "The CRC16 ... Output for "123456789": 31C3" (cluster-spec, Appendix A).
  EXPECT_EQ(Crc16("123456789"), 0x31C3);
  EXPECT_EQ(Crc16(""), 0);
}

TEST(ClusterSlotsTest, HashTagsFollowTheSpecificationsRules) {
  EXPECT_EQ(KeySlot("123456789"), 0x31C3 % 16384);
  // Only the text between the first '{' and the next '}' is hashed, when not empty.
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("{user1000}.followers"));
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16("foo{}{bar}") % 16384);  // empty tag: the whole key
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));           // up to the first '}'
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));            // the first tag only
  EXPECT_EQ(KeySlot("no{tag"), Crc16("no{tag") % 16384);
  // Ours: an aggregate's state, markers and effects share a slot.
  EXPECT_EQ(KeySlot("state:{billing.account:ann}"), KeySlot("done:{billing.account:ann}:e1"));
}

TEST(ClusterSlotsTest, CommandsAreRoutedByTheirFirstKey) {
  EXPECT_EQ(RoutingKey({"GET", "k"}), "k");
  EXPECT_EQ(RoutingKey({"HMGET", "state:{a}", "v", "s"}), "state:{a}");
  EXPECT_EQ(RoutingKey({"EVALSHA", "sha", "2", "k1", "k2", "arg"}), "k1");
  EXPECT_EQ(RoutingKey({"eval", "return 1", "1", "k1"}), "k1");
  EXPECT_EQ(RoutingKey({"EVALSHA", "sha", "0", "arg"}), std::nullopt);
  EXPECT_EQ(RoutingKey({"EVALSHA", "sha", "x"}), std::nullopt);
  EXPECT_EQ(RoutingKey({"PING"}), std::nullopt);
  EXPECT_EQ(RoutingKey({"SCRIPT", "LOAD", "return 1"}), std::nullopt);
  EXPECT_EQ(RoutingKey({"INFO", "commandstats"}), std::nullopt);
  EXPECT_EQ(RoutingKey({"WAIT", "1", "100"}), std::nullopt);
}

TEST(ClusterSlotsTest, OnlyWritesWaitForReplicas) {
  EXPECT_TRUE(MayWrite({"SET", "k", "v"}));
  EXPECT_TRUE(MayWrite({"EVALSHA", "sha", "1", "k"}));
  EXPECT_TRUE(MayWrite({"ZADD", "k", "1", "m"}));
  EXPECT_FALSE(MayWrite({"GET", "k"}));
  EXPECT_FALSE(MayWrite({"hmget", "k", "v"}));
  EXPECT_FALSE(MayWrite({"ZRANGEBYSCORE", "k", "-inf", "1"}));
  EXPECT_FALSE(MayWrite({"PING"}));
}

TEST(ClusterSlotsTest, RedirectsAreParsed) {
  const RedisAddress from{"10.0.0.1", 7000};
  std::optional<Redirect> moved = ParseRedirect("MOVED 3999 127.0.0.1:6381", from);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->kind, Redirect::Kind::kMoved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->to, (RedisAddress{"127.0.0.1", 6381}));
  std::optional<Redirect> ask = ParseRedirect("ASK 12 :7002", from);  // an unknown endpoint
  ASSERT_TRUE(ask.has_value());
  EXPECT_EQ(ask->kind, Redirect::Kind::kAsk);
  EXPECT_EQ(ask->to, (RedisAddress{"10.0.0.1", 7002}));
  EXPECT_FALSE(ParseRedirect("ERR wrong number of arguments", from).has_value());
  EXPECT_FALSE(ParseRedirect("MOVED 16384 h:1", from).has_value());
  EXPECT_FALSE(ParseRedirect("MOVED x h:1", from).has_value());
  EXPECT_TRUE(IsClusterTransient("CLUSTERDOWN The cluster is down"));
  EXPECT_TRUE(IsClusterTransient("TRYAGAIN Multiple keys request during rehashing of slot"));
  EXPECT_FALSE(IsClusterTransient("NOSCRIPT No matching script"));
}

TEST(ClusterSlotsTest, TheSlotTableComesFromClusterNodes) {
  const RedisAddress from{"127.0.0.1", 7000};
  // Redis 7.0's format; 7001 has no replica and its address comes without a host (myself).
  const std::string nodes =
      "a1 127.0.0.1:7000@17000 master - 0 0 1 connected 0-5460\n"
      "a2 :7001@17001 myself,master - 0 0 2 connected 5461-10921 10922\n"
      "a3 127.0.0.1:7002@17002,host3 master - 0 0 3 connected 10923-16383 [16383->-a1]\n"
      "r1 127.0.0.1:7003@17003 slave a1 0 0 1 connected\n"
      "r3 127.0.0.1:7004@17004 slave a3 0 0 3 connected\n"
      "r4 127.0.0.1:7005@17005 slave a3 0 0 3 connected\n"
      "r5 127.0.0.1:7006@17006 slave,fail a1 0 0 1 disconnected\n"
      "a4 127.0.0.1:7007@17007 master,fail - 0 0 0 disconnected\n"
      "a5 127.0.0.1:7008@17008 master,fail? - 0 0 0 connected 16000\n"  // one node's suspicion
      "a6 127.0.0.1:7009@17009 master - 0 0 0 connected\n"  // no slots yet (a reshard's target)
      "r6 127.0.0.1:7010@17010 slave a6 0 0 0 connected\n"
      "r7 127.0.0.1:7011@17011 slave,fail? a3 0 0 3 connected\n";
  absl::StatusOr<SlotTable> table = SlotTable::FromClusterNodes(nodes, from);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->masters().size(), 5u);  // a1, a2, a3, a5; a6 without slots last
  EXPECT_EQ(table->masters().back().address.port, 7009);
  EXPECT_EQ(table->masters().back().replicas, 1);
  EXPECT_TRUE(table->Knows({"127.0.0.1", 7009}));
  EXPECT_FALSE(table->Knows({"127.0.0.1", 7007}));
  EXPECT_EQ(table->MasterOf(16000)->address.port, 7008);
  EXPECT_EQ(table->MasterOf(0)->address.port, 7000);
  EXPECT_EQ(table->MasterOf(0)->replicas, 1);  // the failed replica does not count
  EXPECT_EQ(table->MasterOf(5461)->address, (RedisAddress{"127.0.0.1", 7001}));
  EXPECT_EQ(table->MasterOf(10922)->address.port, 7001);
  EXPECT_EQ(table->MasterOf(5461)->replicas, 0);
  EXPECT_EQ(table->MasterOf(16383)->address.port, 7002);
  EXPECT_EQ(table->MasterOf(16383)->replicas, 3);  // a replica suspected by one node counts
  table->Move(0, {"127.0.0.1", 7009});
  EXPECT_EQ(table->MasterOf(0)->address.port, 7009);
  EXPECT_EQ(table->MasterOf(1)->address.port, 7000);
  table->Move(1, {"127.0.0.1", 7999});  // unknown: left to the next CLUSTER NODES
  EXPECT_EQ(table->MasterOf(1)->address.port, 7000);
  EXPECT_EQ(table->MasterOf(16384), nullptr);

  absl::StatusOr<SlotTable> partial =
      SlotTable::FromClusterNodes("a1 h:1@2 master - 0 0 1 connected 0-100\n", from);
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_EQ(partial->MasterOf(101), nullptr);  // a slot nobody serves
  EXPECT_FALSE(SlotTable::FromClusterNodes("a1 h:1@2 master - 0 0 1 connected 5-1\n", from).ok());
  EXPECT_FALSE(SlotTable::FromClusterNodes("ERR nonsense", from).ok());
}

TEST(ClusterSlotsTest, AddressListsAreParsed) {
  absl::StatusOr<std::vector<RedisAddress>> seeds = ParseRedisAddresses("a:1, b:2,c:3");
  ASSERT_TRUE(seeds.ok()) << seeds.status();
  EXPECT_EQ(*seeds, (std::vector<RedisAddress>{{"a", 1}, {"b", 2}, {"c", 3}}));
  EXPECT_FALSE(ParseRedisAddresses("a:1,").ok());
  EXPECT_FALSE(ParseRedisAddresses("").ok());
  EXPECT_FALSE(ParseRedisAddresses("a:1,b").ok());
}

}  // namespace
}  // namespace choreo::redis
