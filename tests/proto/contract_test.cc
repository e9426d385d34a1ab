// The contract in proto/ holds: every event (a top-level message of an events.proto) has
// `EventMeta meta` as field 1 and a schema_version option; every method of the public API has a
// google.api.http rule. Walks every file of the build's descriptor set, so a new file is checked
// without touching this test, and shows the checks catch breaches in synthetic files.

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "choreo/billing/v1/admin.pb.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "choreo/gateway/v1/timeline_index.pb.h"
#include "choreo/notifications/v1/admin.pb.h"
#include "choreo/notifications/v1/events.pb.h"
#include "choreo/notifications/v1/state.pb.h"
#include "choreo/orders/v1/admin.pb.h"
#include "choreo/orders/v1/events.pb.h"
#include "choreo/saga/v1/outcome.pb.h"
#include "choreo/users/v1/events.pb.h"
#include "choreo/users/v1/state.pb.h"
#include "choreo/users/v1/user_service.pb.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/text_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"

namespace choreo {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;
using google::protobuf::FileDescriptorProto;
using google::protobuf::FileDescriptorSet;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::string_view kPublicApiPackage = "choreo.gateway.v1";

// One message of every generated file, so that the linker keeps each file's object (and its
// descriptor registration) out of the static proto libraries. A file missing here fails
// EveryChoreoFileIsLinkedAndKeepsTheContract with its name.
const google::protobuf::Descriptor* const kLinkedFiles[] = {
    orders::v1::OrderCreated::descriptor(),       orders::v1::GetOrderRequest::descriptor(),
    billing::v1::PaymentProcessed::descriptor(),  billing::v1::GetBalanceRequest::descriptor(),
    users::v1::UserRegistered::descriptor(),      users::v1::LoginRequest::descriptor(),
    notifications::v1::NotificationSent::descriptor(), gateway::v1::Order::descriptor(),
    saga::v1::HandledOutcome::descriptor(),       users::v1::UserRecord::descriptor(),
    notifications::v1::Inbox::descriptor(),       notifications::v1::ListNotificationsRequest::descriptor(),
    gateway::v1::IndexedHop::descriptor(),
};

bool IsEventsFile(const FileDescriptor& file) {
  return absl::EndsWith(file.name(), "/events.proto");
}

// Every breach of the contract in `file`, one line each.
std::vector<std::string> ContractViolations(const FileDescriptor& file) {
  std::vector<std::string> violations;
  for (int i = 0; i < file.message_type_count(); ++i) {
    const auto& message = *file.message_type(i);
    if (IsEventsFile(file)) {
      if (absl::Status valid = codec::ValidateEventType(message); !valid.ok()) {
        violations.push_back(std::string(valid.message()));
      }
    } else if (file.package() != "choreo.common.v1" && message.FindFieldByNumber(1) != nullptr &&
               message.FindFieldByNumber(1)->message_type() != nullptr &&
               message.FindFieldByNumber(1)->message_type()->full_name() ==
                   "choreo.common.v1.EventMeta") {
      violations.push_back(absl::StrCat(message.full_name(),
                                        " carries EventMeta but is not in an events.proto"));
    }
  }
  if (file.package() == kPublicApiPackage) {
    for (int s = 0; s < file.service_count(); ++s) {
      for (int m = 0; m < file.service(s)->method_count(); ++m) {
        const auto& method = *file.service(s)->method(m);
        const google::api::HttpRule& rule = method.options().GetExtension(google::api::http);
        if (rule.pattern_case() == google::api::HttpRule::PATTERN_NOT_SET) {
          violations.push_back(absl::StrCat(method.full_name(), " has no google.api.http rule"));
        }
      }
    }
  }
  return violations;
}

FileDescriptorSet LoadDescriptorSet() {
  FileDescriptorSet set;
  std::ifstream in(CHOREO_DESCRIPTOR_SET, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << CHOREO_DESCRIPTOR_SET;
  EXPECT_TRUE(set.ParseFromIstream(&in));
  return set;
}

TEST(ContractTest, EveryChoreoFileIsLinkedAndKeepsTheContract) {
  FileDescriptorSet set = LoadDescriptorSet();
  int choreo_files = 0, events_files = 0, events = 0, api_methods = 0;
  for (const FileDescriptorProto& proto : set.file()) {
    if (!absl::StartsWith(proto.package(), "choreo.")) continue;
    ++choreo_files;
    // The generated pool holds every file this binary links: all of them, via proto_gateway_v1
    // and the packages it imports, or a package target is missing from the build.
    const FileDescriptor* file = DescriptorPool::generated_pool()->FindFileByName(proto.name());
    if (file == nullptr) {
      ADD_FAILURE() << proto.name() << " is in the descriptor set but not linked into this test: "
                    << "add one of its messages to kLinkedFiles";
      continue;
    }
    EXPECT_THAT(ContractViolations(*file), IsEmpty()) << proto.name();
    if (IsEventsFile(*file)) {
      ++events_files;
      events += file->message_type_count();
    }
    if (file->package() == kPublicApiPackage) {
      for (int s = 0; s < file->service_count(); ++s) api_methods += file->service(s)->method_count();
    }
  }
  EXPECT_EQ(std::size(kLinkedFiles), 13u);
  EXPECT_GE(choreo_files, 10);
  EXPECT_EQ(events_files, 4);  // orders, billing, users, notifications
  EXPECT_GE(events, 14);
  EXPECT_GE(api_methods, 15);
}

TEST(ContractTest, EventsOfEveryPackageAreWhereTheFlowNeedsThem) {
  for (const char* name :
       {"choreo.orders.v1.OrderCreationRequested", "choreo.orders.v1.OrderCreated",
        "choreo.orders.v1.OrderStatusUpdated", "choreo.orders.v1.OrderSnapshot",
        "choreo.users.v1.ProfileSnapshot", "choreo.billing.v1.PaymentProcessed",
        "choreo.billing.v1.AccountOpened", "choreo.billing.v1.FundsDeposited",
        "choreo.users.v1.UserRegistered", "choreo.users.v1.ProfileRequested",
        "choreo.users.v1.ProfileResponse", "choreo.notifications.v1.NotificationRequested",
        "choreo.notifications.v1.NotificationSent"}) {
    const auto* type = DescriptorPool::generated_pool()->FindMessageTypeByName(name);
    ASSERT_NE(type, nullptr) << name;
    EXPECT_TRUE(codec::ValidateEventType(*type).ok()) << name;
  }
}

TEST(ContractTest, HttpAnnotationUsesTheStandardExtensionNumber) {
  EXPECT_EQ(google::api::http.number(), 72295728);
  const auto* rule = google::api::HttpRule::descriptor();
  EXPECT_EQ(rule->FindFieldByName("get")->number(), 2);
  EXPECT_EQ(rule->FindFieldByName("body")->number(), 7);
  EXPECT_EQ(rule->FindFieldByName("additional_bindings")->number(), 11);
  EXPECT_EQ(rule->FindFieldByName("response_body")->number(), 12);
  const auto* create = DescriptorPool::generated_pool()
                           ->FindServiceByName("choreo.gateway.v1.OrderService")
                           ->FindMethodByName("CreateOrder");
  const auto& http = create->options().GetExtension(google::api::http);
  EXPECT_EQ(http.post(), "/v1/orders");
  EXPECT_EQ(http.body(), "*");
}

// A synthetic file in a pool layered over the generated one, so it can import the real protos.
const FileDescriptor* BuildFile(DescriptorPool& pool, const std::string& text) {
  FileDescriptorProto proto;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &proto));
  return pool.BuildFile(proto);
}

TEST(ContractTest, CatchesAnEventWithoutMetaAsFieldOne) {
  DescriptorPool pool(DescriptorPool::generated_pool());
  const FileDescriptor* file = BuildFile(pool, R"pb(
    name: "choreo/bad/v1/events.proto"
    package: "choreo.bad.v1"
    dependency: "choreo/common/v1/event.proto"
    syntax: "proto3"
    message_type {
      name: "NoMeta"
      field { name: "order_id" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL }
    }
    message_type {
      name: "MetaAsFieldTwo"
      field { name: "id" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL }
      field {
        name: "meta" number: 2 type: TYPE_MESSAGE label: LABEL_OPTIONAL
        type_name: ".choreo.common.v1.EventMeta"
      }
    }
  )pb");
  ASSERT_NE(file, nullptr);
  std::vector<std::string> violations = ContractViolations(*file);
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_THAT(violations[0], HasSubstr("choreo.bad.v1.NoMeta is not an event"));
  EXPECT_THAT(violations[1], HasSubstr("choreo.bad.v1.MetaAsFieldTwo is not an event"));
}

TEST(ContractTest, CatchesAnEventWithoutSchemaVersionAndOneOutsideEventsProto) {
  DescriptorPool pool(DescriptorPool::generated_pool());
  const FileDescriptor* events = BuildFile(pool, R"pb(
    name: "choreo/bad/v1/events.proto"
    package: "choreo.bad.v1"
    dependency: "choreo/common/v1/event.proto"
    syntax: "proto3"
    message_type {
      name: "Unversioned"
      field {
        name: "meta" number: 1 type: TYPE_MESSAGE label: LABEL_OPTIONAL
        type_name: ".choreo.common.v1.EventMeta"
      }
    }
  )pb");
  ASSERT_NE(events, nullptr);
  EXPECT_THAT(ContractViolations(*events),
              ::testing::ElementsAre(HasSubstr("lacks option (choreo.common.v1.schema_version)")));

  const FileDescriptor* stray = BuildFile(pool, R"pb(
    name: "choreo/bad/v1/types.proto"
    package: "choreo.bad.v1"
    dependency: "choreo/common/v1/event.proto"
    syntax: "proto3"
    message_type {
      name: "Hidden"
      field {
        name: "meta" number: 1 type: TYPE_MESSAGE label: LABEL_OPTIONAL
        type_name: ".choreo.common.v1.EventMeta"
      }
    }
  )pb");
  ASSERT_NE(stray, nullptr);
  EXPECT_THAT(ContractViolations(*stray),
              ::testing::ElementsAre(HasSubstr("Hidden carries EventMeta but is not in an events.proto")));
}

TEST(ContractTest, CatchesAPublicMethodWithoutHttpRule) {
  DescriptorPool pool(DescriptorPool::generated_pool());
  const FileDescriptor* file = BuildFile(pool, R"pb(
    name: "choreo/gateway/v1/extra.proto"
    package: "choreo.gateway.v1"
    dependency: "google/protobuf/empty.proto"
    syntax: "proto3"
    service {
      name: "Extra"
      method {
        name: "Unmapped"
        input_type: ".google.protobuf.Empty"
        output_type: ".google.protobuf.Empty"
      }
    }
  )pb");
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(ContractViolations(*file),
              ::testing::ElementsAre("choreo.gateway.v1.Extra.Unmapped has no google.api.http rule"));
}

}  // namespace
}  // namespace choreo
