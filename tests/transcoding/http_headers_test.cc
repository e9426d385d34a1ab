#include "transcoding/core/http_headers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::transcoding {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(MetadataFromHeaders, PassesTheKnownHeadersAndGrpcMetadata) {
  absl::StatusOr<Metadata> metadata = MetadataFromHeaders({
      {"authorization", "Bearer t"},
      {"x-request-id", "r-1"},
      {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
      {"tracestate", "k=v"},
      {"grpc-metadata-tenant", "acme"},
      {"grpc-metadata-blob-bin", "AAEC"},
      {"user-agent", "curl/7.88"},
      {"cookie", "secret"},
  });
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  EXPECT_THAT(*metadata, UnorderedElementsAre(
                             Pair("authorization", "Bearer t"), Pair("x-request-id", "r-1"),
                             Pair("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
                             Pair("tracestate", "k=v"), Pair("tenant", "acme"),
                             Pair("blob-bin", std::string("\x00\x01\x02", 3))));
}

TEST(MetadataFromHeaders, RefusesBadKeysAndValues) {
  EXPECT_THAT(MetadataFromHeaders({{"grpc-metadata-", "x"}}).status().message(), HasSubstr("metadata key"));
  EXPECT_THAT(MetadataFromHeaders({{"grpc-metadata-a b", "x"}}).status().message(), HasSubstr("metadata key"));
  EXPECT_THAT(MetadataFromHeaders({{"grpc-metadata-grpc-status", "0"}}).status().message(),
              HasSubstr("metadata key"));
  EXPECT_THAT(MetadataFromHeaders({{"grpc-metadata-x-bin", "!!"}}).status().message(), HasSubstr("base64"));
  EXPECT_THAT(MetadataFromHeaders({{"grpc-metadata-x", "caf\xC3\xA9"}}).status().message(),
              HasSubstr("printable ASCII"));
}

TEST(HeadersFromMetadata, PrefixesAndEncodesBinaryValues) {
  EXPECT_THAT(HeadersFromMetadata({{"served-by", "a"}, {"grpc-status", "0"}, {"raw-bin", "\x01\x02"}},
                                  "Grpc-Metadata-"),
              UnorderedElementsAre(Pair("Grpc-Metadata-served-by", "a"), Pair("Grpc-Metadata-raw-bin", "AQI=")));
}

TEST(ParseGrpcTimeout, ReadsEveryUnitAndRefusesTheRest) {
  EXPECT_EQ(*ParseGrpcTimeout("1H"), absl::Hours(1));
  EXPECT_EQ(*ParseGrpcTimeout("2M"), absl::Minutes(2));
  EXPECT_EQ(*ParseGrpcTimeout("3S"), absl::Seconds(3));
  EXPECT_EQ(*ParseGrpcTimeout("250m"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseGrpcTimeout("7u"), absl::Microseconds(7));
  EXPECT_EQ(*ParseGrpcTimeout("99999999n"), absl::Nanoseconds(99999999));
  for (const char* bad : {"", "S", "1", "1s", "-1S", "123456789S", "1.5S", " 1S"}) {
    EXPECT_EQ(ParseGrpcTimeout(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace choreo::transcoding
