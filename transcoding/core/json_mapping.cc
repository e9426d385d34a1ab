#include "transcoding/core/json_mapping.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
#include "edges/http/status_body.h"
#include "platform/json/json_text.h"
#include "transcoding/core/path_template.h"

namespace choreo::transcoding {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// protobuf reports an unknown field as "(a.b[0]) name: Cannot find field."; say it plainly.
std::string ClientMessage(absl::string_view parser_message, absl::string_view prefix) {
  constexpr absl::string_view kUnknown = ": Cannot find field.";
  if (absl::EndsWith(parser_message, kUnknown)) {
    absl::string_view where = parser_message.substr(0, parser_message.size() - kUnknown.size());
    std::string path(prefix);
    if (absl::StartsWith(where, "(")) {
      const size_t close = where.find(") ");
      if (close != absl::string_view::npos) {
        absl::StrAppend(&path, path.empty() ? "" : ".", where.substr(1, close - 1));
        where.remove_prefix(close + 2);
      }
    }
    absl::StrAppend(&path, path.empty() ? "" : ".", where);
    return absl::StrCat("unknown field \"", path, "\" in the JSON body");
  }
  return absl::StrCat("invalid JSON body: ", prefix.empty() ? "" : absl::StrCat("(", prefix, ") "),
                      parser_message);
}

absl::Status ParseJsonInto(absl::string_view json, Message& message, absl::string_view prefix) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        ClientMessage(absl::string_view(parsed.message().data(), parsed.message().size()), prefix));
  }
  return absl::OkStatus();
}

absl::Status FillBody(const HttpRoute& route, absl::string_view body, Message& request) {
  if (route.body.empty()) {
    if (!body.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(route.http_method, " ", route.path_text,
                                                     " takes no body; use query parameters"));
    }
    return absl::OkStatus();
  }
  if (body.empty()) return absl::OkStatus();
  if (absl::Status syntax = json::CheckJsonSyntax(body); !syntax.ok()) return syntax;
  if (route.body == "*") return ParseJsonInto(body, request, "");
  const FieldDescriptor* field = route.body_field;
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_repeated()) {
    return ParseJsonInto(body, *request.GetReflection()->MutableMessage(&request, field),
                         field->name());
  }
  // A repeated or scalar field: parse it as the one member of the request.
  return ParseJsonInto(absl::StrCat("{", json::JsonQuote(field->json_name()), ":", body, "}"), request, "");
}

bool SamePrefix(const FieldPath& path, const FieldPath& prefix) {
  if (prefix.size() > path.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (path[i] != prefix[i]) return false;
  }
  return true;
}

absl::Status FillQuery(const HttpRoute& route, const std::vector<QueryParam>& query,
                       Message& request) {
  for (const QueryParam& param : query) {
    const std::vector<std::string> names = absl::StrSplit(param.key, '.');
    absl::StatusOr<FieldPath> path = ResolveFieldPath(request.GetDescriptor(), names);
    if (!path.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("query parameter \"", param.key, "\": ",
                                                     path.status().message()));
    }
    if (route.body == "*" || (route.body_field != nullptr && path->front() == route.body_field)) {
      return absl::InvalidArgumentError(
          absl::StrCat("query parameter \"", param.key, "\": the body carries this field"));
    }
    for (const BoundVariable& variable : route.variables) {
      if (SamePrefix(*path, variable.field) || SamePrefix(variable.field, *path)) {
        return absl::InvalidArgumentError(
            absl::StrCat("query parameter \"", param.key, "\": the path carries this field"));
      }
    }
    if (absl::Status set = SetFieldFromText(request, *path, param.value); !set.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("query parameter \"", param.key, "\": ", set.message()));
    }
  }
  return absl::OkStatus();
}

// Form decoding: '+' is a space, then RFC 3986 percent-decoding (PercentDecode).
absl::StatusOr<std::string> FormDecode(absl::string_view text) {
  std::string spaced(text);
  std::replace(spaced.begin(), spaced.end(), '+', ' ');
  std::optional<std::string> decoded = PercentDecode(spaced);
  if (!decoded.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad percent-encoding in the query string in \"", text, "\""));
  }
  return *std::move(decoded);
}

}  // namespace

absl::StatusOr<std::vector<QueryParam>> ParseQueryString(absl::string_view raw_query) {
  std::vector<QueryParam> params;
  for (absl::string_view pair : absl::StrSplit(raw_query, '&', absl::SkipEmpty())) {
    const size_t equals = pair.find('=');
    absl::StatusOr<std::string> key = FormDecode(pair.substr(0, equals));
    absl::StatusOr<std::string> value =
        FormDecode(equals == absl::string_view::npos ? "" : pair.substr(equals + 1));
    if (!key.ok()) return key.status();
    if (!value.ok()) return value.status();
    params.push_back({.key = *std::move(key), .value = *std::move(value)});
  }
  return params;
}

absl::Status FillRequest(const HttpRoute& route, absl::string_view body,
                         const std::vector<QueryParam>& query,
                         const std::vector<PathBinding>& bindings, Message& request) {
  if (absl::Status filled = FillBody(route, body, request); !filled.ok()) return filled;
  if (absl::Status filled = FillQuery(route, query, request); !filled.ok()) return filled;
  for (size_t i = 0; i < route.variables.size() && i < bindings.size(); ++i) {
    if (absl::Status set = SetFieldFromText(request, route.variables[i].field, bindings[i].value);
        !set.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("path: ", set.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MessageJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  const auto printed = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!printed.ok()) {
    return absl::InternalError(absl::StrCat("cannot print ", message.GetDescriptor()->full_name(),
                                            " as JSON: ", printed.message().ToString()));
  }
  return json;
}

absl::StatusOr<std::string> ResponseJson(const HttpRoute& route, const Message& response) {
  absl::StatusOr<std::string> json = MessageJson(response);
  if (!json.ok() || route.response_body_field == nullptr) return json;
  std::optional<absl::string_view> member =
      json::JsonMemberText(*json, route.response_body_field->json_name());
  if (!member.has_value()) {
    // Only an unset message field is left out of the JSON.
    return std::string("null");
  }
  return std::string(*member);
}

std::string StatusJson(int grpc_code, absl::string_view message, absl::string_view status_details) {
  google::rpc::Status status;
  if (status_details.empty() ||
      !status.ParseFromArray(status_details.data(), static_cast<int>(status_details.size())) ||
      status.details().empty()) {
    return http::StatusBody(grpc_code, message);
  }
  // Keep the details; the code and message are the call's own.
  status.set_code(grpc_code);
  status.set_message(std::string(message));
  absl::StatusOr<std::string> json = MessageJson(status);
  // A detail of a type this binary does not know: the status without details.
  return json.ok() ? *json : http::StatusBody(grpc_code, message);
}

}  // namespace choreo::transcoding
