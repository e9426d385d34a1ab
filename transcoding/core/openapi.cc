#include "transcoding/core/openapi.h"

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/rpc/status.pb.h"
#include "platform/json/json_text.h"

namespace choreo::transcoding {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using json::JsonObject;

std::string Ref(const Descriptor* message) {
  return absl::StrCat(R"({"$ref":"#/components/schemas/)", message->full_name(), R"("})");
}

// Collects the message types the document refers to.
class SchemaSet {
 public:
  std::string FieldSchema(const FieldDescriptor* field) {
    if (field->is_map()) {
      return JsonObject()
          .String("type", "object")
          .Raw("additionalProperties", SingleSchema(field->message_type()->map_value()))
          .Close();
    }
    if (field->is_repeated()) {
      return JsonObject().String("type", "array").Raw("items", SingleSchema(field)).Close();
    }
    return SingleSchema(field);
  }

  std::string MessageSchemaRef(const Descriptor* message) {
    const std::string wkt = WellKnownSchema(message);
    if (!wkt.empty()) return wkt;
    Want(message);
    return Ref(message);
  }

  std::string Components() {
    JsonObject schemas;
    std::set<std::string> done;
    while (!pending_.empty()) {
      const Descriptor* message = pending_.begin()->second;
      pending_.erase(pending_.begin());
      if (!done.insert(message->full_name()).second) continue;
      JsonObject properties;
      for (int i = 0; i < message->field_count(); ++i) {
        properties.Raw(message->field(i)->json_name(), FieldSchema(message->field(i)));
      }
      written_[message->full_name()] =
          JsonObject().String("type", "object").Raw("properties", properties.Close()).Close();
    }
    for (const auto& [name, schema] : written_) schemas.Raw(name, schema);
    return schemas.Close();
  }

 private:
  void Want(const Descriptor* message) {
    if (written_.count(message->full_name()) == 0) pending_.emplace(message->full_name(), message);
  }

  std::string SingleSchema(const FieldDescriptor* field) {
    switch (field->type()) {
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SFIXED32:
        return R"({"type":"integer","format":"int32"})";
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        return R"({"type":"integer","minimum":0,"maximum":4294967295})";
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_SFIXED64:
        return R"({"type":"string","format":"int64"})";
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        return R"({"type":"string","format":"uint64"})";
      case FieldDescriptor::TYPE_DOUBLE: return R"({"type":"number","format":"double"})";
      case FieldDescriptor::TYPE_FLOAT: return R"({"type":"number","format":"float"})";
      case FieldDescriptor::TYPE_BOOL: return R"({"type":"boolean"})";
      case FieldDescriptor::TYPE_STRING: return R"({"type":"string"})";
      case FieldDescriptor::TYPE_BYTES: return R"({"type":"string","format":"byte"})";
      case FieldDescriptor::TYPE_ENUM: {
        std::vector<std::string> names;
        for (int i = 0; i < field->enum_type()->value_count(); ++i) {
          names.push_back(json::JsonQuote(field->enum_type()->value(i)->name()));
        }
        return absl::StrCat(R"({"type":"string","enum":[)", absl::StrJoin(names, ","), "]}");
      }
      case FieldDescriptor::TYPE_MESSAGE:
      case FieldDescriptor::TYPE_GROUP:
        return MessageSchemaRef(field->message_type());
    }
    return "{}";
  }

  static std::string WellKnownSchema(const Descriptor* message) {
    static const std::map<std::string, std::string> kSchemas = {
        {"google.protobuf.Timestamp", R"({"type":"string","format":"date-time"})"},
        {"google.protobuf.Duration", R"({"type":"string","pattern":"^-?[0-9]+(\\.[0-9]{1,9})?s$"})"},
        {"google.protobuf.FieldMask", R"({"type":"string","description":"comma-separated field paths"})"},
        {"google.protobuf.Struct", R"({"type":"object","additionalProperties":true})"},
        {"google.protobuf.Value", "{}"},
        {"google.protobuf.ListValue", R"({"type":"array","items":{}})"},
        {"google.protobuf.Empty", R"({"type":"object"})"},
        {"google.protobuf.Any",
         R"({"type":"object","properties":{"@type":{"type":"string"}},"additionalProperties":true})"},
        {"google.protobuf.StringValue", R"({"type":"string","nullable":true})"},
        {"google.protobuf.BytesValue", R"({"type":"string","format":"byte","nullable":true})"},
        {"google.protobuf.BoolValue", R"({"type":"boolean","nullable":true})"},
        {"google.protobuf.Int32Value", R"({"type":"integer","format":"int32","nullable":true})"},
        {"google.protobuf.UInt32Value", R"({"type":"integer","minimum":0,"nullable":true})"},
        {"google.protobuf.Int64Value", R"({"type":"string","format":"int64","nullable":true})"},
        {"google.protobuf.UInt64Value", R"({"type":"string","format":"uint64","nullable":true})"},
        {"google.protobuf.FloatValue", R"({"type":"number","format":"float","nullable":true})"},
        {"google.protobuf.DoubleValue", R"({"type":"number","format":"double","nullable":true})"},
    };
    auto found = kSchemas.find(message->full_name());
    return found == kSchemas.end() ? "" : found->second;
  }

  std::map<std::string, const Descriptor*> pending_;
  std::map<std::string, std::string> written_;
};

bool BoundByPath(const HttpRoute& route, const FieldPath& path) {
  for (const BoundVariable& variable : route.variables) {
    if (variable.field == path) return true;
  }
  return false;
}

// Query parameters: the text-settable fields not carried by the path or the body, nested
// messages expanded (a.b.c) up to `depth`, each message type once per branch.
void AddQueryParameters(const HttpRoute& route, const Descriptor* message, FieldPath& prefix,
                        std::set<const Descriptor*>& branch, SchemaSet& schemas,
                        std::vector<std::string>& out) {
  if (branch.count(message) != 0 || prefix.size() >= 4) return;
  branch.insert(message);
  for (int i = 0; i < message->field_count(); ++i) {
    const FieldDescriptor* field = message->field(i);
    if (prefix.empty() && field == route.body_field) continue;
    prefix.push_back(field);
    if (IsTextSettable(field)) {
      if (!BoundByPath(route, prefix)) {
        std::vector<std::string> names;
        for (const FieldDescriptor* step : prefix) names.push_back(step->json_name());
        JsonObject parameter;
        parameter.String("name", absl::StrJoin(names, "."))
            .String("in", "query")
            .Raw("schema", schemas.FieldSchema(field));
        if (field->is_repeated()) parameter.Raw("explode", "true");
        out.push_back(parameter.Close());
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_repeated() &&
               !field->is_map() && field->message_type()->file()->package() != "google.protobuf") {
      AddQueryParameters(route, field->message_type(), prefix, branch, schemas, out);
    }
    prefix.pop_back();
  }
  branch.erase(message);
}

std::string JsonContent(const std::string& schema) {
  return JsonObject()
      .Raw("application/json", JsonObject().Raw("schema", schema).Close())
      .Close();
}

std::string Operation(const HttpRoute& route, const std::string& operation_id, SchemaSet& schemas,
                      bool bearer_auth) {
  const google::protobuf::MethodDescriptor* method = route.method;
  std::vector<std::string> parameters;
  for (const BoundVariable& variable : route.variables) {
    parameters.push_back(
        JsonObject()
            .String("name", absl::StrJoin(route.path.variables[variable.variable_index].field_path, "."))
            .String("in", "path")
            .Raw("required", "true")
            .Raw("schema", schemas.FieldSchema(variable.field.back()))
            .Close());
  }
  if (route.body != "*") {
    FieldPath prefix;
    std::set<const Descriptor*> branch;
    AddQueryParameters(route, method->input_type(), prefix, branch, schemas, parameters);
  }
  JsonObject operation;
  operation.String("operationId", operation_id)
      .Raw("tags", absl::StrCat("[", json::JsonQuote(method->service()->name()), "]"))
      .String("summary", method->full_name());
  if (!parameters.empty()) {
    operation.Raw("parameters", absl::StrCat("[", absl::StrJoin(parameters, ","), "]"));
  }
  if (!route.body.empty()) {
    const std::string schema = route.body == "*" ? schemas.MessageSchemaRef(method->input_type())
                                                 : schemas.FieldSchema(route.body_field);
    operation.Raw("requestBody",
                  JsonObject().Raw("required", "true").Raw("content", JsonContent(schema)).Close());
  }
  const std::string result = route.response_body_field != nullptr
                                 ? schemas.FieldSchema(route.response_body_field)
                                 : schemas.MessageSchemaRef(method->output_type());
  const std::string error = schemas.MessageSchemaRef(google::rpc::Status::descriptor());
  std::string ok;
  if (method->server_streaming()) {
    const std::string line =
        JsonObject()
            .String("type", "object")
            .Raw("properties", JsonObject().Raw("result", result).Raw("error", error).Close())
            .Close();
    ok = JsonObject()
             .String("description", "A stream: one {\"result\"} per message; an {\"error\"} ends it early.")
             .Raw("content",
                  JsonObject()
                      .Raw("application/x-ndjson", JsonObject().Raw("schema", line).Close())
                      .Raw("text/event-stream",
                           JsonObject().Raw("schema", R"({"type":"string"})").Close())
                      .Close())
             .Close();
  } else {
    ok = JsonObject().String("description", "OK").Raw("content", JsonContent(result)).Close();
  }
  operation.Raw("responses",
                JsonObject()
                    .Raw("200", ok)
                    .Raw("default", JsonObject()
                                        .String("description", "An error (google.rpc.Status)")
                                        .Raw("content", JsonContent(error))
                                        .Close())
                    .Close());
  if (bearer_auth) operation.Raw("security", R"([{"bearerAuth":[]},{}])");
  return operation.Close();
}

}  // namespace

std::string OpenApiDocument(const RouteTable& routes, const OpenApiInfo& info) {
  SchemaSet schemas;
  // path → (method → operation), paths in first-seen order.
  std::vector<std::string> path_order;
  std::map<std::string, JsonObject> paths;
  std::map<std::string, int> bindings_seen;
  for (const HttpRoute& route : routes.routes()) {
    const std::string path = route.path.OpenApiPath();
    if (paths.count(path) == 0) path_order.push_back(path);
    const std::string base =
        absl::StrCat(route.method->service()->name(), "_", route.method->name());
    const int seen = bindings_seen[base]++;
    const std::string operation_id = seen == 0 ? base : absl::StrCat(base, "_", seen);
    paths[path].Raw(absl::AsciiStrToLower(route.http_method),
                    Operation(route, operation_id, schemas, info.bearer_auth));
  }
  JsonObject paths_json;
  for (const std::string& path : path_order) paths_json.Raw(path, paths[path].Close());
  JsonObject info_json;
  info_json.String("title", info.title).String("version", info.version);
  if (!info.description.empty()) info_json.String("description", info.description);
  JsonObject components;
  components.Raw("schemas", schemas.Components());
  if (info.bearer_auth) {
    components.Raw("securitySchemes",
                   R"({"bearerAuth":{"type":"http","scheme":"bearer","bearerFormat":"JWT"}})");
  }
  return JsonObject()
      .String("openapi", "3.0.3")
      .Raw("info", info_json.Close())
      .Raw("paths", paths_json.Close())
      .Raw("components", components.Close())
      .Close();
}

}  // namespace choreo::transcoding
