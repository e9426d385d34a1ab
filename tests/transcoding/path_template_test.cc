#include "transcoding/core/path_template.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::transcoding {
namespace {

using ::testing::HasSubstr;

PathTemplate Parse(absl::string_view text) {
  absl::StatusOr<PathTemplate> parsed = ParsePathTemplate(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status();
  return parsed.ok() ? *parsed : PathTemplate{};
}

// name=value pairs of a match, or "no match".
std::string Match(absl::string_view text, absl::string_view path) {
  std::optional<PathMatch> match = MatchPath(Parse(text), path);
  if (!match.has_value()) return "no match";
  std::string out;
  for (const PathBinding& binding : match->bindings) {
    std::string name;
    for (const std::string& part : binding.field_path) name += (name.empty() ? "" : ".") + part;
    out += (out.empty() ? "" : " ") + name + "=" + binding.value;
  }
  return out.empty() ? "match" : out;
}

TEST(PathTemplate, ParsesEveryFormAndPrintsItsShape) {
  EXPECT_EQ(Parse("/v1/orders").Shape(), "/v1/orders");
  EXPECT_EQ(Parse("/v1/orders/{order_id}").Shape(), "/v1/orders/*");
  EXPECT_EQ(Parse("/v1/{name=shelves/*/books/*}").Shape(), "/v1/shelves/*/books/*");
  EXPECT_EQ(Parse("/v1/files/{path=**}:download").Shape(), "/v1/files/**:download");
  EXPECT_EQ(Parse("/v1/*/x/**").Shape(), "/v1/*/x/**");
  const PathTemplate nested = Parse("/v1/{book.name}/{a.b.c=x/*}:get");
  ASSERT_EQ(nested.variables.size(), 2u);
  EXPECT_EQ(nested.variables[0].field_path, (std::vector<std::string>{"book", "name"}));
  EXPECT_EQ(nested.variables[1].field_path, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(nested.verb, "get");
  EXPECT_EQ(nested.OpenApiPath(), "/v1/{book.name}/{a.b.c}:get");
  EXPECT_EQ(Parse("/v1/{name=shelves/*/books/*}").OpenApiPath(), "/v1/{name}");
  EXPECT_EQ(Parse("/v1/caf%C3%A9").segments[1].literal, "caf\xC3\xA9");
}

TEST(PathTemplate, RefusesMalformedTemplatesSayingWhere) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "must start with '/'"},
      {"v1/orders", "must start with '/'"},
      {"/v1/{", "expected a field name"},
      {"/v1/{id", "expected '}'"},
      {"/v1/{id=}", "expected a segment"},
      {"/v1/{1id}", "expected a field name"},
      {"/v1/{a.}", "expected a field name"},
      {"/v1/**/x", "'**' must be the last segment"},
      {"/v1/{a={b}}", "variables cannot nest"},
      {"/v1//x", "expected a segment"},
      {"/v1/x/", "expected a segment"},
      {"/v1/x:", "empty verb"},
      {"/v1/{a}/{a}", "field a bound twice"},
      {"/v1/x}", "unexpected '}'"},
      {"/v1/%zz", "bad percent-encoding"},
      {"/v1/x y", "unexpected ' '"},
  };
  for (const auto& [text, why] : cases) {
    absl::StatusOr<PathTemplate> parsed = ParsePathTemplate(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr(why)) << text;
    if (why.find("**") == std::string::npos) {
      EXPECT_THAT(parsed.status().message(), HasSubstr("offset")) << text;
    }
  }
}

TEST(PathTemplate, MatchesLiteralsAndVariables) {
  EXPECT_EQ(Match("/v1/orders", "/v1/orders"), "match");
  EXPECT_EQ(Match("/v1/orders", "/v1/orders/"), "no match");
  EXPECT_EQ(Match("/v1/orders", "/v1/order"), "no match");
  EXPECT_EQ(Match("/v1/orders", "v1/orders"), "no match");
  EXPECT_EQ(Match("/v1/orders/{id}", "/v1/orders/o-1"), "id=o-1");
  EXPECT_EQ(Match("/v1/orders/{id}", "/v1/orders/"), "no match");
  EXPECT_EQ(Match("/v1/orders/{id}", "/v1/orders/a/b"), "no match");
  EXPECT_EQ(Match("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/books/b2"), "name=shelves/s1/books/b2");
  EXPECT_EQ(Match("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/cds/b2"), "no match");
  EXPECT_EQ(Match("/v1/{book.name}/{n}", "/v1/x/3"), "book.name=x n=3");
}

TEST(PathTemplate, DecodesSingleSegmentsFullyAndKeepsSlashesOfMultiSegments) {
  EXPECT_EQ(Match("/v1/orders/{id}", "/v1/orders/a%2Fb%20c"), "id=a/b c");
  EXPECT_EQ(Match("/v1/files/{path=**}", "/v1/files/a/b%2Fc/d%20e"), "path=a/b%2Fc/d e");
  EXPECT_EQ(Match("/v1/caf%C3%A9", "/v1/caf%c3%a9"), "match");
  // Literal text only in normal form: an unreserved character percent-encoded is not it.
  EXPECT_EQ(Match("/v1/accounts/balance", "/%761/accounts/balance"), "no match");
  EXPECT_EQ(Match("/v1/accounts/balance", "/v1/%61ccounts/balance"), "no match");
  EXPECT_EQ(Match("/v1/orders/{id}:cancel", "/v1/orders/o1:%63ancel"), "no match");
  EXPECT_EQ(Match("/v1/orders/{id}:cancel", "/v1/orders/o1:cancel"), "id=o1");
  // Variables still decode, unreserved characters included.
  EXPECT_EQ(Match("/v1/orders/{id}", "/v1/orders/%6F1"), "id=o1");
  EXPECT_EQ(Match("/v1/orders/{id}", "/v1/orders/%zz"), "no match");
  EXPECT_EQ(Match("/v1/orders/{id}", "/v1/orders/%4"), "no match");
}

TEST(PathTemplate, DoubleStarTakesZeroOrMoreSegmentsAndTheVerbIsSplitOff) {
  EXPECT_EQ(Match("/v1/files/{path=**}", "/v1/files"), "path=");
  EXPECT_EQ(Match("/v1/files/{path=**}", "/v1/files/a"), "path=a");
  EXPECT_EQ(Match("/v1/files/{path=**}:download", "/v1/files/a/b.txt:download"), "path=a/b.txt");
  EXPECT_EQ(Match("/v1/files/{path=**}:download", "/v1/files/a/b.txt"), "no match");
  EXPECT_EQ(Match("/v1/orders/{id}:watch", "/v1/orders/o1:watch"), "id=o1");
  EXPECT_EQ(Match("/v1/orders/{id}:watch", "/v1/orders/o1:cancel"), "no match");
  EXPECT_EQ(Match("/v1/orders/{id}:watch", "/v1/orders:watch/o1"), "no match");
  // Without a verb in the template a ':' is an ordinary character of the segment.
  EXPECT_EQ(Match("/v1/orders/{id}", "/v1/orders/o1:watch"), "id=o1:watch");
}

TEST(PathTemplate, RanksLiteralsOverVariablesAndVerbsFirst) {
  const std::optional<PathMatch> literal = MatchPath(Parse("/v1/shelves/mine/books"), "/v1/shelves/mine/books");
  const std::optional<PathMatch> variable = MatchPath(Parse("/v1/shelves/{s}/books"), "/v1/shelves/mine/books");
  const std::optional<PathMatch> rest = MatchPath(Parse("/v1/shelves/**"), "/v1/shelves/mine/books");
  ASSERT_TRUE(literal && variable && rest);
  EXPECT_GT(literal->rank, variable->rank);
  EXPECT_GT(variable->rank, rest->rank);
  const std::optional<PathMatch> verb = MatchPath(Parse("/v1/o/{id}:watch"), "/v1/o/1:watch");
  const std::optional<PathMatch> plain = MatchPath(Parse("/v1/o/{id}"), "/v1/o/1:watch");
  ASSERT_TRUE(verb && plain);
  EXPECT_GT(verb->rank, plain->rank);
}

TEST(PercentDecode, DecodesAndRefusesBadEscapes) {
  EXPECT_EQ(PercentDecode("a%20b%2F"), "a b/");
  EXPECT_EQ(PercentDecode("a%2Fb%2f", /*keep_slash=*/true), "a%2Fb%2f");
  EXPECT_EQ(PercentDecode("%"), std::nullopt);
  EXPECT_EQ(PercentDecode("%a"), std::nullopt);
  EXPECT_EQ(PercentDecode("%g0"), std::nullopt);
}

}  // namespace
}  // namespace choreo::transcoding
