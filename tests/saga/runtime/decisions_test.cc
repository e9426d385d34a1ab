// The runtime's pure parts: failure classification, backoff, offset tracking, typed routing.

#include <limits>

#include "choreo/billing/v1/admin.pb.h"
#include "choreo/notifications/v1/events.pb.h"
#include "choreo/sagatest/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "saga/runtime/handler_registry.h"
#include "saga/runtime/retry_policy.h"
#include "tests/saga/sample_events.h"

namespace choreo::saga {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

TEST(ClassifyFailureTest, FollowsTheStatusCode) {
  for (auto code : {absl::StatusCode::kUnavailable, absl::StatusCode::kDeadlineExceeded,
                    absl::StatusCode::kResourceExhausted, absl::StatusCode::kAborted}) {
    EXPECT_EQ(ClassifyFailure(absl::Status(code, "x"), 1000, 10), FailureAction::kRetry);
  }
  for (auto code : {absl::StatusCode::kInvalidArgument, absl::StatusCode::kFailedPrecondition,
                    absl::StatusCode::kNotFound, absl::StatusCode::kDataLoss}) {
    EXPECT_EQ(ClassifyFailure(absl::Status(code, "x"), 1, 10), FailureAction::kDeadLetter);
  }
  // Unclassified errors retry a bounded number of times, then dead-letter.
  EXPECT_EQ(ClassifyFailure(absl::InternalError("bug"), 9, 10), FailureAction::kRetry);
  EXPECT_EQ(ClassifyFailure(absl::InternalError("bug"), 10, 10), FailureAction::kDeadLetter);
}

TEST(BackoffDelayTest, GrowsExponentiallyUpToTheCapWithBoundedJitter) {
  BackoffPolicy policy{.initial = absl::Milliseconds(100), .max = absl::Seconds(2),
                       .multiplier = 2.0, .jitter = 0.2};
  EXPECT_EQ(BackoffDelay(policy, 1, 0.5), absl::Milliseconds(100));
  EXPECT_EQ(BackoffDelay(policy, 2, 0.5), absl::Milliseconds(200));
  EXPECT_EQ(BackoffDelay(policy, 4, 0.5), absl::Milliseconds(800));
  EXPECT_EQ(BackoffDelay(policy, 5, 0.5), absl::Seconds(1.6));
  EXPECT_EQ(BackoffDelay(policy, 6, 0.5), absl::Seconds(2));
  EXPECT_EQ(BackoffDelay(policy, 60, 0.5), absl::Seconds(2));  // no overflow
  EXPECT_EQ(BackoffDelay(policy, 1, 0.0), absl::Milliseconds(80));
  EXPECT_NEAR(absl::ToDoubleMilliseconds(BackoffDelay(policy, 1, 0.999999)), 120.0, 0.01);
  EXPECT_EQ(BackoffDelay(policy, 6, 0.0), absl::Seconds(1.6));
}

class HandlerRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status added = registry_.On<orders::v1::OrderCreated, billing::v1::Balance>(
        "account", [](const orders::v1::OrderCreated& e) { return e.username(); },
        [](const billing::v1::Balance& state, const orders::v1::OrderCreated& event,
           const EventContext&) -> absl::StatusOr<Reaction<billing::v1::Balance>> {
          Reaction<billing::v1::Balance> reaction;
          reaction.state = state;
          reaction.state->mutable_balance()->set_minor_units(state.balance().minor_units() -
                                                              event.total().minor_units());
          return reaction;
        });
    ASSERT_TRUE(added.ok()) << added;
  }

  KafkaRecord Encode(const google::protobuf::Message& event) {
    codec::EventCodec codec;
    return *codec.Encode(event, "t", "k");
  }

  HandlerRegistry registry_;
};

TEST_F(HandlerRegistryTest, RoutesARegisteredTypeToItsDecision) {
  KafkaRecord record = Encode(testing::SampleOrderCreated("e1", "alice"));
  absl::StatusOr<HandlerRegistry::Dispatch> dispatch = registry_.Decode(record);
  ASSERT_TRUE(dispatch.ok()) << dispatch.status();
  EXPECT_EQ(dispatch->route->aggregate_type, "account");
  EXPECT_EQ(dispatch->route->aggregate_id(*dispatch->event.message), "alice");
  billing::v1::Balance start;
  start.mutable_balance()->set_minor_units(10000);
  absl::StatusOr<ErasedReaction> reaction = dispatch->route->decide(
      start.SerializeAsString(), *dispatch->event.message,
      EventContext{record, dispatch->event.meta(), absl::Now()});
  ASSERT_TRUE(reaction.ok());
  billing::v1::Balance after;
  ASSERT_TRUE(after.ParseFromString(*reaction->state));
  EXPECT_EQ(after.balance().minor_units(), 7500);
}

TEST(HandlerRegistryOnlyForTest, SelectsWhichEventsOfATypeTheRouteActsOn) {
  HandlerRegistry registry;
  ASSERT_TRUE((registry.OnlyFor<orders::v1::OrderCreated, billing::v1::Balance>(
                   [](const orders::v1::OrderCreated& e) { return e.username() != "skip"; },
                   "account", [](const orders::v1::OrderCreated& e) { return e.username(); },
                   [](const billing::v1::Balance&, const orders::v1::OrderCreated&,
                      const EventContext&) -> absl::StatusOr<Reaction<billing::v1::Balance>> {
                     return Reaction<billing::v1::Balance>();
                   }))
                  .ok());
  codec::EventCodec codec;
  for (const auto& [user, acts] : {std::pair{"alice", true}, std::pair{"skip", false}}) {
    KafkaRecord record = *codec.Encode(testing::SampleOrderCreated("e1", user), "t", "k");
    absl::StatusOr<HandlerRegistry::Dispatch> dispatch = registry.Decode(record);
    ASSERT_TRUE(dispatch.ok()) << dispatch.status();
    ASSERT_TRUE(dispatch->route->acts_on);
    EXPECT_EQ(dispatch->route->acts_on(*dispatch->event.message), acts) << user;
  }
  EXPECT_FALSE((registry.OnlyFor<orders::v1::OrderCreated, billing::v1::Balance>(
                    [](const orders::v1::OrderCreated&) { return true; }, "account",
                    [](const orders::v1::OrderCreated& e) { return e.username(); },
                    [](const billing::v1::Balance&, const orders::v1::OrderCreated&,
                       const EventContext&) -> absl::StatusOr<Reaction<billing::v1::Balance>> {
                      return Reaction<billing::v1::Balance>();
                    }))
                   .ok())
      << "one route per type";
}

TEST_F(HandlerRegistryTest, CorruptStateIsDataLoss) {
  KafkaRecord record = Encode(testing::SampleOrderCreated("e1"));
  auto dispatch = registry_.Decode(record);
  ASSERT_TRUE(dispatch.ok());
  auto reaction = dispatch->route->decide("\xff\xff\xff", *dispatch->event.message,
                                          EventContext{record, dispatch->event.meta(), absl::Now()});
  EXPECT_EQ(reaction.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(HandlerRegistryTest, UnroutedTypeIsUnknownAndDuplicatesAreRefused) {
  notifications::v1::NotificationSent other;
  testing::FillMeta(other, "n1", "c", "x");
  auto dispatch = registry_.Decode(Encode(other));
  EXPECT_THAT(codec::DecodeErrorOf(dispatch.status()), Optional(codec::DecodeError::kUnknownType));
  absl::Status again = registry_.On<orders::v1::OrderCreated, billing::v1::Balance>(
      "account", [](const orders::v1::OrderCreated& e) { return e.username(); },
      [](const billing::v1::Balance&, const orders::v1::OrderCreated&,
         const EventContext&) -> absl::StatusOr<Reaction<billing::v1::Balance>> {
        return Reaction<billing::v1::Balance>{};
      });
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(HandlerRegistryTest, UpcastersOnlyExistBelowTheCurrentRevision) {
  // OrderCreated is at revision 1: there is nothing older to upcast from.
  absl::Status upcaster = registry_.Upcast<orders::v1::OrderCreated>(
      1, [](orders::v1::OrderCreated&) { return absl::OkStatus(); });
  EXPECT_EQ(upcaster.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(upcaster.message()), HasSubstr("current revision is 1"));
}

TEST(UpcastTest, OlderRevisionsAreUpcastNewerOnesPassThrough) {
  using sagatest::v1::Account;
  using sagatest::v1::AmountAdded;
  HandlerRegistry registry;
  ASSERT_TRUE((registry.On<AmountAdded, Account>(
                   "account", [](const AmountAdded& e) { return e.account(); },
                   [](const Account&, const AmountAdded&,
                      const EventContext&) -> absl::StatusOr<Reaction<Account>> { return Reaction<Account>{}; }))
                  .ok());
  ASSERT_TRUE(registry
                  .Upcast<AmountAdded>(1,
                                       [](AmountAdded& e) {
                                         if (e.amount() < 0) {
                                           return absl::InvalidArgumentError("negative amount");
                                         }
                                         e.set_amount(e.amount() * 100);
                                         return absl::OkStatus();
                                       })
                  .ok());
  codec::EventCodec codec;
  auto decode = [&](uint32_t revision, int64_t amount) {
    AmountAdded event;
    testing::FillMeta(event, "a1", "c", "test");
    event.mutable_meta()->set_schema_version(revision);
    event.set_account("acct");
    event.set_amount(amount);
    return registry.Decode(*codec.Encode(event, "t", "acct"));
  };
  auto v1 = decode(1, 5);
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(static_cast<const AmountAdded&>(*v1->event.message).amount(), 500);
  auto v2 = decode(2, 5);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(static_cast<const AmountAdded&>(*v2->event.message).amount(), 5);
  auto v9 = decode(9, 5);  // newer revision of the same major: accepted as is
  ASSERT_TRUE(v9.ok());
  EXPECT_EQ(v9->event.schema_version, 9u);
  auto bad = decode(1, -5);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("negative amount"));
}

}  // namespace
}  // namespace choreo::saga
