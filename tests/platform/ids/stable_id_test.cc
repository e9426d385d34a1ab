// StableId: the same inputs give the same id everywhere; the hash is BLAKE2b-128 over
// length-prefixed parts (pinned by a vector computed independently: Python's hashlib.blake2b
// with digest_size=16 over the same encoding).

#include "platform/ids/stable_id.h"

#include "gtest/gtest.h"

namespace choreo::ids {
namespace {

TEST(StableIdTest, IsBlake2bOfTheLengthPrefixedParts) {
  EXPECT_EQ(StableId("order", {"alice", "req-1"}), "18ea02999f4c7636072caf1daee56303");
  EXPECT_EQ(StableId("order", {"alice", "req-1"}), StableId("order", {"alice", "req-1"}));
}

TEST(StableIdTest, PartsDoNotRunTogetherAndKindsSeparate) {
  EXPECT_NE(StableId("order", {"ab", "c"}), StableId("order", {"a", "bc"}));
  EXPECT_NE(StableId("order", {"alice", "req-1"}), StableId("deposit", {"alice", "req-1"}));
  EXPECT_NE(StableId("order", {"alice"}), StableId("order", {"alice", ""}));
}

}  // namespace
}  // namespace choreo::ids
