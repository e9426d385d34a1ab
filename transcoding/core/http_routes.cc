#include "transcoding/core/http_routes.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/api/annotations.pb.h"

namespace choreo::transcoding {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;

absl::Status RuleError(const MethodDescriptor* method, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("google.api.http of ", method->full_name(), ": ", what));
}

// The top-level field `name` of `message` for body / response_body.
absl::StatusOr<const FieldDescriptor*> TopLevelField(const MethodDescriptor* method,
                                                     const google::protobuf::Descriptor* message,
                                                     absl::string_view role, absl::string_view name) {
  const FieldDescriptor* field = message->FindFieldByName(std::string(name));
  if (field == nullptr) {
    return RuleError(method, absl::StrCat(role, " \"", name, "\" is not a field of ", message->full_name()));
  }
  return field;
}

absl::StatusOr<HttpRoute> RouteOf(const MethodDescriptor* method, const google::api::HttpRule& rule) {
  HttpRoute route;
  route.method = method;
  route.rpc_path = absl::StrCat("/", method->service()->full_name(), "/", method->name());
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet: route.http_method = "GET"; route.path_text = rule.get(); break;
    case google::api::HttpRule::kPut: route.http_method = "PUT"; route.path_text = rule.put(); break;
    case google::api::HttpRule::kPost: route.http_method = "POST"; route.path_text = rule.post(); break;
    case google::api::HttpRule::kDelete: route.http_method = "DELETE"; route.path_text = rule.delete_(); break;
    case google::api::HttpRule::kPatch: route.http_method = "PATCH"; route.path_text = rule.patch(); break;
    case google::api::HttpRule::kCustom:
      route.http_method = absl::AsciiStrToUpper(rule.custom().kind());
      route.path_text = rule.custom().path();
      if (route.http_method.empty()) return RuleError(method, "custom pattern without a kind");
      break;
    case google::api::HttpRule::PATTERN_NOT_SET: return RuleError(method, "no pattern");
  }
  if (method->client_streaming()) return RuleError(method, "client streaming cannot be transcoded");
  absl::StatusOr<PathTemplate> path = ParsePathTemplate(route.path_text);
  if (!path.ok()) return RuleError(method, path.status().message());
  route.path = *std::move(path);
  for (size_t i = 0; i < route.path.variables.size(); ++i) {
    absl::StatusOr<FieldPath> field =
        ResolveFieldPath(method->input_type(), route.path.variables[i].field_path);
    if (!field.ok()) return RuleError(method, field.status().message());
    if (field->back()->is_repeated()) {
      return RuleError(method, absl::StrCat("path variable ", FieldPathName(*field), " is repeated"));
    }
    route.variables.push_back({.field = *std::move(field), .variable_index = i});
  }
  route.body = rule.body();
  if (!route.body.empty() && (route.http_method == "GET" || route.http_method == "DELETE")) {
    return RuleError(method, absl::StrCat(route.http_method, " takes no body"));
  }
  if (!route.body.empty() && route.body != "*") {
    absl::StatusOr<const FieldDescriptor*> field =
        TopLevelField(method, method->input_type(), "body", route.body);
    if (!field.ok()) return field.status();
    route.body_field = *field;
  }
  if (!rule.response_body().empty()) {
    absl::StatusOr<const FieldDescriptor*> field =
        TopLevelField(method, method->output_type(), "response_body", rule.response_body());
    if (!field.ok()) return field.status();
    route.response_body_field = *field;
  }
  return route;
}

}  // namespace

absl::Status RouteTable::Add(HttpRoute route) {
  const std::string shape = route.path.Shape();
  for (const HttpRoute& other : routes_) {
    if (other.http_method == route.http_method && other.path.Shape() == shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          "conflicting HTTP routes: ", route.http_method, " ", route.path_text, " (",
          route.method->full_name(), ") and ", other.path_text, " (", other.method->full_name(), ")"));
    }
  }
  routes_.push_back(std::move(route));
  return absl::OkStatus();
}

absl::StatusOr<RouteTable> RouteTable::Build(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  RouteTable table;
  for (const google::protobuf::ServiceDescriptor* service : services) {
    for (int m = 0; m < service->method_count(); ++m) {
      const MethodDescriptor* method = service->method(m);
      if (!method->options().HasExtension(google::api::http)) continue;
      const google::api::HttpRule& rule = method->options().GetExtension(google::api::http);
      std::vector<const google::api::HttpRule*> rules = {&rule};
      for (const google::api::HttpRule& extra : rule.additional_bindings()) {
        if (!extra.additional_bindings().empty()) {
          return RuleError(method, "additional_bindings cannot nest");
        }
        rules.push_back(&extra);
      }
      for (const google::api::HttpRule* one : rules) {
        absl::StatusOr<HttpRoute> route = RouteOf(method, *one);
        if (!route.ok()) return route.status();
        if (absl::Status added = table.Add(*std::move(route)); !added.ok()) return added;
      }
    }
  }
  return table;
}

RouteLookup RouteTable::Find(absl::string_view http_method, absl::string_view raw_path) const {
  const absl::string_view wanted = http_method == "HEAD" ? "GET" : http_method;
  RouteLookup found;
  MatchRank best;
  for (const HttpRoute& route : routes_) {
    std::optional<PathMatch> match = MatchPath(route.path, raw_path);
    if (!match.has_value()) continue;
    if (route.http_method != wanted) {
      if (std::find(found.allowed_methods.begin(), found.allowed_methods.end(), route.http_method) ==
          found.allowed_methods.end()) {
        found.allowed_methods.push_back(route.http_method);
      }
      continue;
    }
    if (found.route == nullptr || match->rank > best) {
      found.route = &route;
      found.bindings = std::move(match->bindings);
      best = std::move(match->rank);
    }
  }
  if (found.route != nullptr) found.allowed_methods.clear();
  std::sort(found.allowed_methods.begin(), found.allowed_methods.end());
  return found;
}

}  // namespace choreo::transcoding
