#pragma once

// Which HTTP headers become gRPC metadata and back (the grpc-gateway conventions), and the
// Grpc-Timeout header. Pure.
//
// In:  Authorization, X-Request-Id, traceparent, tracestate pass through under their own
//      (lowercase) names; Grpc-Metadata-<key>: v becomes <key>: v (a -bin key's value is
//      base64-decoded); every other header is dropped. Keys outside [0-9a-z-_.], or values
//      with characters other than printable ASCII, are INVALID_ARGUMENT.
// Out: response metadata <key> becomes Grpc-Metadata-<key>, trailing metadata
//      Grpc-Trailer-<key> (-bin values base64-encoded); grpc-* keys are the transport's own
//      and are not copied.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace choreo::transcoding {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// `headers`: lowercase names. The metadata to send with the call.
absl::StatusOr<Metadata> MetadataFromHeaders(const Metadata& headers);

// `prefix` "Grpc-Metadata-" or "Grpc-Trailer-".
Metadata HeadersFromMetadata(const Metadata& metadata, absl::string_view prefix);

// "<1-8 digits><H|M|S|m|u|n>" (the gRPC over HTTP/2 spec). INVALID_ARGUMENT otherwise.
absl::StatusOr<absl::Duration> ParseGrpcTimeout(absl::string_view value);

}  // namespace choreo::transcoding
