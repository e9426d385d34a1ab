#include "transcoding/core/json_mapping.h"

#include "choreo/testing/v1/bookshelf.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "platform/json/json_text.h"

namespace choreo::transcoding {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::v1::Kitchen;
using ::testing::HasSubstr;

const RouteTable& Routes() {
  static const RouteTable* table = [] {
    static_cast<void>(testing::v1::Book::descriptor());
    auto built = RouteTable::Build({google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
        "choreo.testing.v1.Bookshelf")});
    EXPECT_TRUE(built.ok()) << built.status();
    return new RouteTable(*std::move(built));
  }();
  return *table;
}

// Fills a message for METHOD PATH?QUERY with BODY.
template <typename Message>
absl::Status Fill(absl::string_view method, absl::string_view target, absl::string_view body,
                  Message& message) {
  const size_t question = target.find('?');
  const RouteLookup found = Routes().Find(method, target.substr(0, question));
  if (found.route == nullptr) return absl::NotFoundError("no route");
  absl::StatusOr<std::vector<QueryParam>> query =
      ParseQueryString(question == absl::string_view::npos ? "" : target.substr(question + 1));
  if (!query.ok()) return query.status();
  return FillRequest(*found.route, body, *query, found.bindings, message);
}

// Every field kind, by lowerCamelCase names and by proto names.
constexpr absl::string_view kEveryKind = R"({
  "fDouble": 1.5, "f_float": -2.25, "fInt32": -3, "fInt64": "-9007199254740993",
  "fUint32": 4000000000, "fUint64": "18446744073709551615", "fSint32": -7, "fSint64": "-8",
  "fFixed32": 9, "fFixed64": "10", "fSfixed32": -11, "fSfixed64": "-12", "fBool": true,
  "fString": "caf\u00e9 \"q\"", "fBytes": "AAH/", "fEnum": "SHADE_DARK",
  "fMessage": {"name": "in", "count": "2", "next": {"name": "deeper"}},
  "rInt32": [1, 2, 3], "r_string": ["a", "b"], "rEnum": ["SHADE_LIGHT", 2],
  "rMessage": [{"name": "x"}, {"name": "y"}],
  "mStringInt64": {"k": "5"}, "mInt32Message": {"7": {"name": "seven"}},
  "oInt32": 0, "cMessage": {"name": "chosen"},
  "tTimestamp": "2026-11-22T10:00:00.250Z", "tDuration": "1.5s", "tMask": "fInt32,fMessage.name",
  "wInt32": 42, "wString": "wrapped", "wBool": false, "wInt64": "64", "wDouble": 0.5,
  "tStruct": {"a": [1, "two", null, {"b": true}]}, "tValue": "v",
  "tAny": {"@type": "type.googleapis.com/choreo.testing.v1.Inner", "name": "any"},
  "tList": [1, "x"], "rTimestamp": ["1970-01-01T00:00:01Z"], "wBytes": "AQ==", "wUint32": 3,
  "wUint64": "4", "wFloat": 1.25
})";

TEST(FillRequest, ReadsEveryFieldKindFromTheBody) {
  Kitchen kitchen;
  ASSERT_TRUE(Fill("POST", "/v1/kitchen", kEveryKind, kitchen).ok()) << Fill("POST", "/v1/kitchen", kEveryKind, kitchen);
  EXPECT_EQ(kitchen.f_double(), 1.5);
  EXPECT_EQ(kitchen.f_float(), -2.25f);
  EXPECT_EQ(kitchen.f_int64(), -9007199254740993);  // not representable in a double
  EXPECT_EQ(kitchen.f_uint32(), 4000000000u);
  EXPECT_EQ(kitchen.f_uint64(), 18446744073709551615u);
  EXPECT_EQ(kitchen.f_string(), "caf\xC3\xA9 \"q\"");
  EXPECT_EQ(kitchen.f_bytes(), std::string("\x00\x01\xff", 3));
  EXPECT_EQ(kitchen.f_enum(), testing::v1::SHADE_DARK);
  EXPECT_EQ(kitchen.f_message().next().name(), "deeper");
  EXPECT_EQ(kitchen.r_enum_size(), 2);
  EXPECT_EQ(kitchen.r_enum(1), testing::v1::SHADE_DARK);
  EXPECT_EQ(kitchen.m_int32_message().at(7).name(), "seven");
  EXPECT_TRUE(kitchen.has_o_int32());
  EXPECT_EQ(kitchen.c_message().name(), "chosen");
  EXPECT_EQ(kitchen.t_timestamp().nanos(), 250000000);
  EXPECT_EQ(kitchen.t_duration().seconds(), 1);
  EXPECT_EQ(kitchen.t_mask().paths_size(), 2);
  EXPECT_EQ(kitchen.t_mask().paths(1), "f_message.name");
  EXPECT_EQ(kitchen.w_int32().value(), 42);
  EXPECT_TRUE(kitchen.has_w_bool());
  EXPECT_EQ(kitchen.t_struct().fields().at("a").list_value().values_size(), 4);
  EXPECT_EQ(kitchen.t_any().type_url(), "type.googleapis.com/choreo.testing.v1.Inner");
  EXPECT_EQ(kitchen.w_bytes().value(), "\x01");
}

TEST(MessageJson, PrintsTheProto3MappingAndReadsItBack) {
  Kitchen kitchen;
  ASSERT_TRUE(Fill("POST", "/v1/kitchen", kEveryKind, kitchen).ok());
  absl::StatusOr<std::string> json = MessageJson(kitchen);
  ASSERT_TRUE(json.ok()) << json.status();
  for (const char* piece : {R"("fInt64":"-9007199254740993")", R"("fUint64":"18446744073709551615")",
                            R"("fUint32":4000000000)", R"("fEnum":"SHADE_DARK")", R"("fBytes":"AAH/")",
                            R"("rEnum":["SHADE_LIGHT","SHADE_DARK"])", R"("mStringInt64":{"k":"5"})",
                            R"("tTimestamp":"2026-11-22T10:00:00.250Z")", R"("tDuration":"1.500s")",
                            R"("tMask":"fInt32,fMessage.name")", R"("wInt32":42)", R"("wBool":false)",
                            R"("oInt32":0)", R"("tAny":{"@type":"type.googleapis.com/choreo.testing.v1.Inner","name":"any")",
                            R"("fString":"caf)"}) {
    EXPECT_THAT(*json, HasSubstr(piece));
  }
  Kitchen again;
  ASSERT_TRUE(Fill("POST", "/v1/kitchen", *json, again).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(kitchen, again)) << again.DebugString();
}

TEST(MessageJson, PrintsDefaultsSoEveryAnswerHasOneShape) {
  absl::StatusOr<std::string> json = MessageJson(testing::v1::Book());
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, R"({"name":"","title":"","pages":"0","cover":"SHADE_UNSPECIFIED"})");
}

TEST(FillRequest, RefusesUnknownFieldsNamingThem) {
  Kitchen kitchen;
  EXPECT_EQ(Fill("POST", "/v1/kitchen", R"({"fInt32": 1, "bogus": 2})", kitchen).message(),
            "unknown field \"bogus\" in the JSON body");
  EXPECT_EQ(Fill("POST", "/v1/kitchen", R"({"rMessage": [{"name": "x", "nme": 1}]})", kitchen).message(),
            "unknown field \"r_message[0].nme\" in the JSON body");
  EXPECT_EQ(Fill("PATCH", "/v1/kitchen/1/message", R"({"next": {"nope": 1}})", kitchen).message(),
            "unknown field \"f_message.next.nope\" in the JSON body");
}

TEST(FillRequest, RefusesMalformedAndMistypedBodies) {
  Kitchen kitchen;
  EXPECT_THAT(Fill("POST", "/v1/kitchen", "{\"fInt32\": 1,}", kitchen).message(),
              HasSubstr("malformed JSON at line 1, column 14 (byte 13)"));
  EXPECT_THAT(Fill("POST", "/v1/kitchen", R"({"fInt32": "x"})", kitchen).message(),
              HasSubstr("invalid JSON body"));
  EXPECT_THAT(Fill("POST", "/v1/kitchen", R"({"fInt32": 1.5})", kitchen).message(), HasSubstr("f_int32"));
  EXPECT_THAT(Fill("POST", "/v1/kitchen", R"({"fEnum": "SHADE_PURPLE"})", kitchen).message(),
              HasSubstr("f_enum"));
  EXPECT_THAT(Fill("POST", "/v1/kitchen", "[]", kitchen).message(), HasSubstr("invalid JSON body"));
  EXPECT_THAT(Fill("GET", "/v1/kitchen/x", "{}", kitchen).message(), HasSubstr("takes no body"));
}

TEST(FillRequest, BindsANamedBodyFieldScalarOrRepeated) {
  Kitchen kitchen;
  ASSERT_TRUE(Fill("PATCH", "/v1/kitchen/77/message", R"({"name": "m", "count": "3"})", kitchen).ok());
  EXPECT_EQ(kitchen.f_int64(), 77);
  EXPECT_EQ(kitchen.f_message().count(), 3);
  Kitchen repeated;
  ASSERT_TRUE(Fill("POST", "/v1/kitchen:repeat", R"(["x", "y"])", repeated).ok());
  EXPECT_THAT(repeated.r_string(), ::testing::ElementsAre("x", "y"));
}

TEST(FillRequest, ReadsEveryTextSettableKindFromTheQuery) {
  Kitchen kitchen;
  const absl::Status filled = Fill(
      "GET",
      "/v1/kitchen/path%20value?fDouble=2.5&f_float=-1&fInt32=-3&fInt64=-9007199254740993"
      "&fUint32=4000000000&fUint64=18446744073709551615&fSint32=-7&fSint64=-8&fFixed32=9"
      "&fFixed64=10&fSfixed32=-11&fSfixed64=-12&fBool=true&fBytes=AAH_&fEnum=2"
      "&fMessage.name=in+side&f_message.next.count=4&rInt32=1&rInt32=2&rEnum=SHADE_LIGHT"
      "&rString=a%26b&oInt32=0&cString=c&tTimestamp=2026-11-22T10:00:00Z&tDuration=2s"
      "&tMask=a,b.c&wInt32=5&wString=w&wBool=true&wInt64=6&wDouble=0.25&rTimestamp=1970-01-01T00:00:00Z",
      "", kitchen);
  ASSERT_TRUE(filled.ok()) << filled;
  EXPECT_EQ(kitchen.f_string(), "path value");
  EXPECT_EQ(kitchen.f_double(), 2.5);
  EXPECT_EQ(kitchen.f_int64(), -9007199254740993);
  EXPECT_EQ(kitchen.f_uint64(), 18446744073709551615u);
  EXPECT_EQ(kitchen.f_sfixed64(), -12);
  EXPECT_TRUE(kitchen.f_bool());
  EXPECT_EQ(kitchen.f_bytes(), std::string("\x00\x01\xff", 3));  // URL-safe base64
  EXPECT_EQ(kitchen.f_enum(), testing::v1::SHADE_DARK);        // by number
  EXPECT_EQ(kitchen.f_message().name(), "in side");
  EXPECT_EQ(kitchen.f_message().next().count(), 4);
  EXPECT_THAT(kitchen.r_int32(), ::testing::ElementsAre(1, 2));
  EXPECT_EQ(kitchen.r_string(0), "a&b");
  EXPECT_TRUE(kitchen.has_o_int32());
  EXPECT_EQ(kitchen.c_string(), "c");
  EXPECT_EQ(kitchen.t_duration().seconds(), 2);
  EXPECT_EQ(kitchen.t_mask().paths(1), "b.c");
  EXPECT_EQ(kitchen.w_int32().value(), 5);
  EXPECT_EQ(kitchen.w_string().value(), "w");
  EXPECT_EQ(kitchen.w_double().value(), 0.25);
  EXPECT_EQ(kitchen.r_timestamp_size(), 1);
}

TEST(FillRequest, RefusesBadQueryParametersNamingThem) {
  Kitchen kitchen;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/v1/kitchen/x?nope=1", "query parameter \"nope\": no field"},
      {"/v1/kitchen/x?fInt32=abc", "query parameter \"fInt32\": field f_int32: \"abc\" is not an integer"},
      {"/v1/kitchen/x?fInt32=99999999999", "is not an integer in range"},
      {"/v1/kitchen/x?fBool=yes", "is not true or false"},
      {"/v1/kitchen/x?fEnum=SHADE_PURPLE", "is not a value of choreo.testing.v1.Shade"},
      {"/v1/kitchen/x?fBytes=!!", "is not base64"},
      {"/v1/kitchen/x?tTimestamp=yesterday", "google.protobuf.Timestamp"},
      {"/v1/kitchen/x?fMessage=x", "is a message; set its fields one by one"},
      {"/v1/kitchen/x?mStringInt64=x", "is a map"},
      {"/v1/kitchen/x?fString=y", "the path carries this field"},
      {"/v1/kitchen/x?fInt32.a=1", "is not a message"},
      {"/v1/kitchen/x?a=%zz", "bad percent-encoding"},
      {"/v1/kitchen/7/message?fMessage.name=x", "the body carries this field"},
  };
  for (const auto& [target, why] : cases) {
    const std::string method = target.find("/message") != std::string::npos ? "PATCH" : "GET";
    const absl::Status status = Fill(method, target, "", kitchen);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << target;
    EXPECT_THAT(status.message(), HasSubstr(why)) << target;
  }
  testing::v1::Kitchen whole;
  EXPECT_THAT(Fill("POST", "/v1/kitchen?fInt32=1", "{}", whole).message(),
              HasSubstr("the body carries this field"));
}

TEST(FillRequest, PathVariablesWinAndNestedPathsAreSet) {
  testing::v1::UpdateBookRequest update;
  ASSERT_TRUE(Fill("PATCH", "/v1/shelves/s1/books/b%2F2", R"({"name": "other", "title": "T"})", update).ok());
  // A multi-segment variable keeps an encoded '/' encoded (http.proto).
  EXPECT_EQ(update.book().name(), "shelves/s1/books/b%2F2");
  EXPECT_EQ(update.book().title(), "T");
  Kitchen kitchen;
  ASSERT_TRUE(Fill("GET", "/v1/kitchen/n/12:nested", "", kitchen).ok());
  EXPECT_EQ(kitchen.f_message().name(), "n");
  EXPECT_EQ(kitchen.f_message().next().count(), 12);
  EXPECT_THAT(Fill("GET", "/v1/kitchen/n/twelve:nested", "", kitchen).message(), HasSubstr("path: field count"));
}

TEST(ResponseJson, CarriesOnlyTheResponseBodyField) {
  testing::v1::ListBooksResponse response;
  response.add_books()->set_name("b1");
  response.set_next_page_token("t");
  const RouteLookup list = Routes().Find("GET", "/v1/shelves/s/books");
  ASSERT_NE(list.route, nullptr);
  absl::StatusOr<std::string> json = ResponseJson(*list.route, response);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, R"([{"name":"b1","title":"","pages":"0","cover":"SHADE_UNSPECIFIED"}])");
  const RouteLookup mine = Routes().Find("GET", "/v1/shelves/mine/books");
  EXPECT_THAT(*ResponseJson(*mine.route, response), HasSubstr(R"("nextPageToken":"t")"));
}

TEST(StatusJson, IsGoogleRpcStatusWithKnownDetails) {
  EXPECT_EQ(StatusJson(5, "no \"order\""), R"({"code":5,"message":"no \"order\"","details":[]})");
  google::rpc::Status rich;
  google::protobuf::Duration retry;
  retry.set_seconds(1);
  rich.add_details()->PackFrom(retry);
  EXPECT_EQ(StatusJson(14, "later", rich.SerializeAsString()),
            R"({"code":14,"message":"later","details":[{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1s"}]})");
  google::protobuf::Any* unknown = rich.add_details();
  unknown->set_type_url("type.googleapis.com/unknown.Type");
  unknown->set_value("\x08\x01");
  EXPECT_EQ(StatusJson(14, "later", rich.SerializeAsString()), R"({"code":14,"message":"later","details":[]})");
  EXPECT_TRUE(json::CheckJsonSyntax(StatusJson(3, "\x01\n")).ok());
}

}  // namespace
}  // namespace choreo::transcoding
