#include "saga/runtime/run_planner.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "saga/runtime/handler_registry.h"

namespace choreo::saga {
namespace {

struct Record {
  std::string key, aggregate, event_id;
  const AfterCommitStep* effect;  // nullptr: a decision
};

std::vector<size_t> Plan(const std::vector<Record>& records) {
  RunPlanner planner;
  std::vector<size_t> runs;
  for (const Record& r : records)
    runs.push_back(planner.Place(r.key, r.aggregate, r.event_id, r.effect));
  return runs;
}

const AfterCommitStep delivery_step{.name = "delivery"}, inbox_step{.name = "inbox"};
const AfterCommitStep* const delivery = &delivery_step;
const AfterCommitStep* const inbox = &inbox_step;

TEST(RunPlannerTest, ARepeatedKeyOrAggregateOfADecisionGoesToTheNextRun) {
  // a1 b1 a2 c1 d1 a3 b2, keyed and aggregated by letter: [a1 b1 c1 d1] [a2 b2] [a3].
  EXPECT_EQ(Plan({{"a", "a", "1", nullptr},
                  {"b", "b", "1", nullptr},
                  {"a", "a", "2", nullptr},
                  {"c", "c", "1", nullptr},
                  {"d", "d", "1", nullptr},
                  {"a", "a", "3", nullptr},
                  {"b", "b", "2", nullptr}}),
            (std::vector<size_t>{0, 0, 1, 0, 0, 2, 1}));
  // One key, two aggregates; one aggregate, two keys.
  EXPECT_EQ(Plan({{"k", "x", "1", nullptr}, {"k", "y", "2", nullptr}}),
            (std::vector<size_t>{0, 1}));
  EXPECT_EQ(Plan({{"k", "x", "1", nullptr}, {"j", "x", "2", nullptr}}),
            (std::vector<size_t>{0, 1}));
}

TEST(RunPlannerTest, AKeysRecordsOfOneEffectAloneShareARun) {
  EXPECT_EQ(Plan({{"bob", "inbox:bob", "1", delivery},
                  {"ann", "inbox:ann", "2", delivery},
                  {"bob", "inbox:bob", "3", delivery},
                  {"bob", "inbox:bob", "4", delivery}}),
            (std::vector<size_t>{0, 0, 0, 0}));
}

TEST(RunPlannerTest, AnotherEffectOrADecisionOfTheKeyComesAfterIt) {
  // bob's records alternate between two effects: each change of effect is a new run, so bob's
  // records keep their order; ann's own records are not held back by bob's.
  EXPECT_EQ(Plan({{"bob", "inbox:bob", "1", delivery},
                  {"bob", "inbox:bob", "2", inbox},
                  {"ann", "inbox:ann", "3", delivery},
                  {"bob", "inbox:bob", "4", delivery},
                  {"ann", "inbox:ann", "5", delivery}}),
            (std::vector<size_t>{0, 1, 0, 2, 0}));
  // A decision between two records of one effect: the second goes after it, and so does an
  // effect after a decision of the key.
  EXPECT_EQ(Plan({{"bob", "a:bob", "1", delivery},
                  {"bob", "b:bob", "2", nullptr},
                  {"bob", "a:bob", "3", delivery}}),
            (std::vector<size_t>{0, 1, 2}));
  // The key's latest is the same effect, the aggregate's a decision: after the decision.
  EXPECT_EQ(Plan({{"bob", "inbox:bob", "1", delivery},
                  {"ann", "inbox:ann", "2", nullptr},
                  {"bob", "inbox:ann", "3", delivery}}),
            (std::vector<size_t>{0, 0, 1}));
}

TEST(RunPlannerTest, OneEventTwiceNeverSharesARun) {
  // The second copy goes after the first, so it finds the first one's completion; the key's
  // next record (another event) joins the second copy's run, not an earlier one.
  EXPECT_EQ(Plan({{"bob", "inbox:bob", "1", delivery},
                  {"bob", "inbox:bob", "1", delivery},
                  {"bob", "inbox:bob", "2", delivery}}),
            (std::vector<size_t>{0, 1, 1}));
  // The same event id for another aggregate is another event.
  EXPECT_EQ(Plan({{"bob", "inbox:bob", "1", delivery}, {"ann", "inbox:ann", "1", delivery}}),
            (std::vector<size_t>{0, 0}));
}

}  // namespace
}  // namespace choreo::saga
