#include "transcoding/core/http_routes.h"

#include "choreo/testing/v1/bookshelf.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::transcoding {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const google::protobuf::ServiceDescriptor* Service(const std::string& name) {
  // Any message of the file makes sure its descriptors are in the generated pool.
  static_cast<void>(testing::v1::Book::descriptor());
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("choreo.testing.v1." + name);
}

RouteTable Bookshelf() {
  absl::StatusOr<RouteTable> table = RouteTable::Build({Service("Bookshelf")});
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *std::move(table) : RouteTable();
}

std::string Found(const RouteTable& table, absl::string_view method, absl::string_view path) {
  const RouteLookup found = table.Find(method, path);
  if (found.route == nullptr) return "none";
  return found.route->method->name() + " " + found.route->path_text;
}

TEST(RouteTable, ReadsRulesAndAdditionalBindings) {
  const RouteTable table = Bookshelf();
  // 12 methods, one without a rule, Echo with 4 additional bindings.
  EXPECT_EQ(table.routes().size(), 11u + 4u);
  const HttpRoute& echo = table.routes().front();
  EXPECT_EQ(echo.http_method, "POST");
  EXPECT_EQ(echo.rpc_path, "/choreo.testing.v1.Bookshelf/Echo");
  EXPECT_EQ(echo.body, "*");
  EXPECT_EQ(Found(table, "PATCH", "/v1/kitchen/7/message"), "Echo /v1/kitchen/{f_int64}/message");
  EXPECT_EQ(table.Find("PATCH", "/v1/kitchen/7/message").route->body_field->name(), "f_message");
  const RouteLookup list = table.Find("GET", "/v1/shelves/s1/books");
  ASSERT_NE(list.route, nullptr);
  EXPECT_EQ(list.route->response_body_field->name(), "books");
  const RouteLookup nested = table.Find("GET", "/v1/kitchen/n/5:nested");
  ASSERT_NE(nested.route, nullptr);
  ASSERT_EQ(nested.route->variables.size(), 2u);
  EXPECT_EQ(FieldPathName(nested.route->variables[1].field), "f_message.next.count");
}

TEST(RouteTable, FindsTheMostSpecificRouteAndTellsAllowedMethods) {
  const RouteTable table = Bookshelf();
  EXPECT_EQ(Found(table, "GET", "/v1/shelves/mine/books"), "ListMyBooks /v1/shelves/mine/books");
  EXPECT_EQ(Found(table, "GET", "/v1/shelves/s1/books"), "ListBooks /v1/shelves/{shelf}/books");
  EXPECT_EQ(Found(table, "HEAD", "/v1/shelves/s1/books"), "ListBooks /v1/shelves/{shelf}/books");
  EXPECT_EQ(Found(table, "GET", "/v1/shelves/s/books/b"), "GetBook /v1/{name=shelves/*/books/*}");
  EXPECT_EQ(Found(table, "DELETE", "/v1/shelves/s/books/b"), "DeleteBook /v1/{name=shelves/*/books/*}");
  EXPECT_EQ(Found(table, "GET", "/v1/files/a/b:download"), "GetFile /v1/files/{path=**}:download");
  EXPECT_EQ(Found(table, "GET", "/v1/nothing"), "none");
  EXPECT_TRUE(table.Find("GET", "/v1/nothing").allowed_methods.empty());
  const RouteLookup wrong = table.Find("GET", "/v1/fail");
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_THAT(wrong.allowed_methods, ElementsAre("POST"));
  EXPECT_THAT(table.Find("PUT", "/v1/shelves/s/books/b").allowed_methods,
              ElementsAre("DELETE", "GET", "PATCH"));
}

TEST(RouteTable, RefusesBrokenRulesNamingTheMethod) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ConflictingRoutes", "conflicting HTTP routes: GET /v1/books/{title}"},
      {"UnknownBodyField", "body \"nope\" is not a field of choreo.testing.v1.Book"},
      {"MalformedTemplate", "expected '}'"},
      {"GetWithBody", "GET takes no body"},
      {"UnknownPathField", "no field \"author\""},
      {"MessagePathField", "is a message"},
      {"ClientStreaming", "client streaming"},
      {"UnknownResponseBody", "response_body \"nope\""},
  };
  for (const auto& [service, why] : cases) {
    absl::StatusOr<RouteTable> table = RouteTable::Build({Service(service)});
    ASSERT_FALSE(table.ok()) << service;
    EXPECT_THAT(table.status().message(), HasSubstr(why)) << service;
    EXPECT_THAT(table.status().message(), HasSubstr("choreo.testing.v1." + service)) << service;
  }
}

}  // namespace
}  // namespace choreo::transcoding
