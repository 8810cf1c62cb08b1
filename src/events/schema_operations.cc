// The schema registry's operation table (events_operations.h). Timestamps are epoch seconds,
// as in the other tables.

#include <string>
#include <vector>

#include "courier/detail/json_request.h"
#include "courier/hub.h"
#include "courier/schemas.h"
#include "courier/status.h"
#include "events/events_operations.h"

namespace courier::events_internal {
namespace {

using detail::EpochSeconds;
using detail::OptionalString;
using detail::RequiredString;

Json DiscovererJson(const DiscovererDescription& d) {
  return JsonObject{{"DiscovererId", d.id},
                    {"DiscovererArn", d.arn},
                    {"SourceArn", d.source_arn},
                    {"State", d.state},
                    {"Description", d.description}};
}

Json VersionJson(const SchemaVersionDescription& v, bool content) {
  JsonObject o{{"SchemaName", v.name},
               {"SchemaArn", v.arn},
               {"SchemaVersion", v.version},
               {"Type", v.type},
               {"VersionCreatedDate", EpochSeconds(v.created)}};
  if (!v.description.empty()) o["Description"] = v.description;
  if (content) o["Content"] = v.content;
  return o;
}

absl::StatusOr<Json> CreateDiscovererOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string source, RequiredString(r, "SourceArn", 1600));
  COURIER_ASSIGN_OR_RETURN(auto description, OptionalString(r, "Description", 256, 0));
  COURIER_ASSIGN_OR_RETURN(DiscovererDescription d,
                           Schemas(hub).CreateDiscoverer(source, description.value_or("")));
  return DiscovererJson(d);
}

absl::StatusOr<Json> DescribeDiscovererOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string id, RequiredString(r, "DiscovererId", 256));
  COURIER_ASSIGN_OR_RETURN(DiscovererDescription d, Schemas(hub).DescribeDiscoverer(id));
  return DiscovererJson(d);
}

absl::StatusOr<Json> ListDiscoverersOp(Hub& hub, const JsonObject& r, const Caller&) {
  return PagedList(r, "Discoverers", Schemas(hub).ListDiscoverers(), DiscovererJson, "Limit");
}

template <absl::Status (SchemaRegistry::*Method)(std::string_view)>
absl::StatusOr<Json> DiscovererStateOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string id, RequiredString(r, "DiscovererId", 256));
  COURIER_RETURN_IF_ERROR((Schemas(hub).*Method)(id));
  if (Method == &SchemaRegistry::DeleteDiscoverer) return JsonObject{};
  COURIER_ASSIGN_OR_RETURN(DiscovererDescription d, Schemas(hub).DescribeDiscoverer(id));
  return JsonObject{{"DiscovererId", d.id}, {"State", d.state}};
}

absl::StatusOr<Json> CreateRegistryOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "RegistryName", 64));
  COURIER_ASSIGN_OR_RETURN(auto description, OptionalString(r, "Description", 256, 0));
  COURIER_RETURN_IF_ERROR(Schemas(hub).CreateRegistry(name, description.value_or("")));
  return JsonObject{{"RegistryName", name},
                    {"RegistryArn", hub.Arn("schemas", "registry/" + name)},
                    {"Description", description.value_or("")}};
}

absl::StatusOr<Json> DeleteRegistryOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "RegistryName", 64));
  COURIER_RETURN_IF_ERROR(Schemas(hub).DeleteRegistry(name));
  return JsonObject{};
}

absl::StatusOr<Json> ListRegistriesOp(Hub& hub, const JsonObject& r, const Caller&) {
  return PagedList(
      r, "Registries", Schemas(hub).ListRegistries(),
      [&](const std::string& name) {
        return Json(JsonObject{{"RegistryName", name},
                               {"RegistryArn", hub.Arn("schemas", "registry/" + name)}});
      },
      "Limit");
}

absl::StatusOr<Json> CreateSchemaOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string registry, RequiredString(r, "RegistryName", 64));
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "SchemaName", 385));
  COURIER_ASSIGN_OR_RETURN(std::string type, RequiredString(r, "Type", 64));
  COURIER_ASSIGN_OR_RETURN(std::string content, RequiredString(r, "Content", 100000));
  COURIER_ASSIGN_OR_RETURN(auto description, OptionalString(r, "Description", 256, 0));
  COURIER_ASSIGN_OR_RETURN(
      SchemaVersionDescription v,
      Schemas(hub).CreateSchema(registry, name, type, content, description.value_or("")));
  return VersionJson(v, false);
}

absl::StatusOr<Json> UpdateSchemaOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string registry, RequiredString(r, "RegistryName", 64));
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "SchemaName", 385));
  COURIER_ASSIGN_OR_RETURN(std::string content, RequiredString(r, "Content", 100000));
  COURIER_ASSIGN_OR_RETURN(SchemaVersionDescription v,
                           Schemas(hub).UpdateSchema(registry, name, content));
  return VersionJson(v, false);
}

absl::StatusOr<Json> DescribeSchemaOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string registry, RequiredString(r, "RegistryName", 64));
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "SchemaName", 385));
  COURIER_ASSIGN_OR_RETURN(auto version, OptionalString(r, "SchemaVersion", 32));
  COURIER_ASSIGN_OR_RETURN(SchemaVersionDescription v,
                           Schemas(hub).DescribeSchema(registry, name, version.value_or("")));
  return VersionJson(v, true);
}

absl::StatusOr<Json> ListSchemasOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string registry, RequiredString(r, "RegistryName", 64));
  COURIER_ASSIGN_OR_RETURN(auto prefix, OptionalString(r, "SchemaNamePrefix", 385));
  COURIER_ASSIGN_OR_RETURN(auto schemas, Schemas(hub).ListSchemas(registry, prefix.value_or("")));
  return PagedList(
      r, "Schemas", schemas,
      [](const SchemaVersionDescription& v) {
        return Json(JsonObject{
            {"SchemaName", v.name}, {"SchemaArn", v.arn}, {"VersionCount", std::stoll(v.version)}});
      },
      "Limit");
}

absl::StatusOr<Json> ListSchemaVersionsOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string registry, RequiredString(r, "RegistryName", 64));
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "SchemaName", 385));
  COURIER_ASSIGN_OR_RETURN(auto versions, Schemas(hub).ListSchemaVersions(registry, name));
  return PagedList(
      r, "SchemaVersions", versions,
      [](const SchemaVersionDescription& v) {
        return Json(JsonObject{{"SchemaName", v.name},
                               {"SchemaArn", v.arn},
                               {"SchemaVersion", v.version},
                               {"Type", v.type}});
      },
      "Limit");
}

absl::StatusOr<Json> ExportSchemaOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string registry, RequiredString(r, "RegistryName", 64));
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "SchemaName", 385));
  COURIER_ASSIGN_OR_RETURN(auto version, OptionalString(r, "SchemaVersion", 32));
  COURIER_ASSIGN_OR_RETURN(std::string type, RequiredString(r, "Type", 64));
  if (type != "JSONSchemaDraft4") {
    return AwsErrorF("BadRequestException", "Type {} is not JSONSchemaDraft4.", type);
  }
  COURIER_ASSIGN_OR_RETURN(SchemaVersionDescription v,
                           Schemas(hub).DescribeSchema(registry, name, version.value_or("")));
  COURIER_ASSIGN_OR_RETURN(std::string content,
                           Schemas(hub).ExportSchema(registry, name, v.version));
  return JsonObject{{"Content", content},
                    {"SchemaName", v.name},
                    {"SchemaArn", v.arn},
                    {"SchemaVersion", v.version},
                    {"Type", "JSONSchemaDraft4"}};
}

absl::StatusOr<Json> DeleteSchemaOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string registry, RequiredString(r, "RegistryName", 64));
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "SchemaName", 385));
  COURIER_RETURN_IF_ERROR(Schemas(hub).DeleteSchema(registry, name));
  return JsonObject{};
}

const OperationTable& Operations() {
  static const auto* table = new OperationTable{
      {"CreateDiscoverer", CreateDiscovererOp},
      {"DescribeDiscoverer", DescribeDiscovererOp},
      {"ListDiscoverers", ListDiscoverersOp},
      {"StartDiscoverer", DiscovererStateOp<&SchemaRegistry::StartDiscoverer>},
      {"StopDiscoverer", DiscovererStateOp<&SchemaRegistry::StopDiscoverer>},
      {"DeleteDiscoverer", DiscovererStateOp<&SchemaRegistry::DeleteDiscoverer>},
      {"CreateRegistry", CreateRegistryOp},
      {"DeleteRegistry", DeleteRegistryOp},
      {"ListRegistries", ListRegistriesOp},
      {"CreateSchema", CreateSchemaOp},
      {"UpdateSchema", UpdateSchemaOp},
      {"DescribeSchema", DescribeSchemaOp},
      {"ListSchemas", ListSchemasOp},
      {"ListSchemaVersions", ListSchemaVersionsOp},
      {"ExportSchema", ExportSchemaOp},
      {"DeleteSchema", DeleteSchemaOp},
  };
  return *table;
}

}  // namespace

absl::StatusOr<Json> InvokeSchemas(Hub& hub, std::string_view operation, const Json& request,
                                   const Caller& caller) {
  return Dispatch(Operations(), hub, operation, request, caller);
}

}  // namespace courier::events_internal
