#include "transcoding/core/openapi.h"

#include <cstdlib>
#include <fstream>
#include <regex>

#include "choreo/testing/v1/bookshelf.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"
#include "platform/json/json_text.h"

namespace choreo::transcoding {
namespace {

using ::testing::HasSubstr;

std::string BookshelfDocument() {
  static_cast<void>(testing::v1::Book::descriptor());
  absl::StatusOr<RouteTable> routes = RouteTable::Build(
      {google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("choreo.testing.v1.Bookshelf")});
  EXPECT_TRUE(routes.ok());
  return OpenApiDocument(*routes, {.title = "Bookshelf", .version = "v1", .bearer_auth = true});
}

TEST(OpenApiDocument, DescribesEveryRouteWithItsParametersAndSchemas) {
  const std::string document = BookshelfDocument();
  ASSERT_TRUE(json::CheckJsonSyntax(document).ok()) << json::CheckJsonSyntax(document);
  for (const char* piece : {
           R"("openapi":"3.0.3")",
           R"("/v1/{name}":{"get":{"operationId":"Bookshelf_GetBook")",
           R"("delete":{"operationId":"Bookshelf_DeleteBook")",
           R"("patch":{"operationId":"Bookshelf_UpdateBook")",
           R"("operationId":"Bookshelf_Echo_1")",  // the first additional binding
           R"("/v1/files/{path}:download")",
           R"("/v1/kitchen/{f_message.name}/{f_message.next.count}:nested")",
           R"({"name":"name","in":"path","required":true,"schema":{"type":"string"}})",
           R"({"name":"withPages","in":"query","schema":{"type":"boolean"}})",
           R"({"name":"filter.count","in":"query","schema":{"type":"string","format":"int64"}})",
           R"({"name":"covers","in":"query","schema":{"type":"array","items":{"type":"string","enum":["SHADE_UNSPECIFIED","SHADE_LIGHT","SHADE_DARK"]}},"explode":true})",
           R"("application/x-ndjson")",
           R"("fInt64":{"type":"string","format":"int64"})",
           R"("tTimestamp":{"type":"string","format":"date-time"})",
           R"("mInt32Message":{"type":"object","additionalProperties":{"$ref":"#/components/schemas/choreo.testing.v1.Inner"}})",
           R"("google.rpc.Status":{"type":"object")",
           R"("bearerAuth":{"type":"http","scheme":"bearer","bearerFormat":"JWT"})",
       }) {
    EXPECT_THAT(document, HasSubstr(piece));
  }
  // A GET with a path variable offers the other fields as query parameters, not the bound one.
  EXPECT_THAT(document, HasSubstr(R"([{"name":"shelf","in":"path","required":true,"schema":{"type":"string"}},{"name":"pageSize","in":"query")"));
  // A recursive message is expanded once per branch.
  EXPECT_THAT(document, ::testing::Not(HasSubstr(R"("filter.next.)")));
  // Well-known types are not taken apart into query parameters.
  EXPECT_THAT(document, ::testing::Not(HasSubstr(R"("tValue.)")));
  // Every reference resolves.
  const std::regex ref(R"re("\$ref":"#/components/schemas/([^"]+)")re");
  for (std::sregex_iterator it(document.begin(), document.end(), ref), end; it != end; ++it) {
    EXPECT_THAT(document, HasSubstr("\"" + (*it)[1].str() + "\":{\"type\":\"object\"")) << (*it)[1];
  }
}

TEST(OpenApiDocument, ValidatesAsOpenApi3) {
  absl::StatusOr<choreo::testing::TempDir> dir = choreo::testing::TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->path() + "/openapi.json";
  std::ofstream(path) << BookshelfDocument();
  const std::string command = std::string("node ") + CHOREO_OPENAPI_VALIDATOR + " " + path;
  EXPECT_EQ(std::system(command.c_str()), 0)
      << command << " (the validator comes from deploy/install-deps.sh)";
}

}  // namespace
}  // namespace choreo::transcoding
