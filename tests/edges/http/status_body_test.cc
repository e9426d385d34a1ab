#include "edges/http/status_body.h"

#include "gtest/gtest.h"
#include "platform/json/json_text.h"

namespace choreo::http {
namespace {

TEST(StatusBodyTest, IsGoogleRpcStatusJsonWithItsMessageQuoted) {
  EXPECT_EQ(StatusBody(5, "no \"order\""), R"({"code":5,"message":"no \"order\"","details":[]})");
  EXPECT_TRUE(json::CheckJsonSyntax(StatusBody(3, "\x01\n")).ok());
}

TEST(StatusBodyTest, HttpStatusFollowsTheStandardTable) {
  const int expected[] = {200, 499, 500, 400, 504, 404, 409, 403, 429,
                          400, 409, 400, 501, 500, 503, 500, 401};
  for (int code = 0; code <= 16; ++code) {
    EXPECT_EQ(HttpStatusForGrpcCode(code), expected[code]) << code;
  }
  EXPECT_EQ(HttpStatusForGrpcCode(99), 500);
}

}  // namespace
}  // namespace choreo::http
