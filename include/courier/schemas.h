// courier::SchemaRegistry: the EventBridge schema registry in-process. A discoverer on a bus
// infers an OpenAPI 3 schema for each source and detail-type from the events that pass, in the
// "discovered-schemas" registry, with a new version whenever the shape changes; schemas can be
// created by hand in registries of one's own, described, listed by version and exported as
// JSON Schema draft-4. Beyond AWS, a bus can validate PutEvents against a registry: an entry
// whose detail does not fit its schema fails alone, and nothing of it is delivered.
//
// Example:
//   auto& schemas = courier::Schemas(hub);
//   schemas.CreateDiscoverer(bus->arn());
//   bus->PutEvents({{.source = "shop", .detail_type = "Order Placed", .detail = R"({"id":1})"}});
//   auto s = schemas.DescribeSchema("discovered-schemas", "shop@OrderPlaced");  // version "1"
#ifndef COURIER_SCHEMAS_H_
#define COURIER_SCHEMAS_H_

#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace courier {

class Hub;

struct DiscovererDescription {
  std::string id;
  std::string arn;         // arn:aws:schemas:<region>:<account>:discoverer/<id>
  std::string source_arn;  // the bus
  std::string description;
  std::string state;  // STARTED or STOPPED
};

struct SchemaVersionDescription {
  std::string registry;
  std::string name;
  std::string arn;      // arn:aws:schemas:<region>:<account>:schema/<registry>/<name>
  std::string version;  // "1", "2", ...
  std::string type;     // OpenApi3 or JSONSchemaDraft4
  std::string content;  // the schema's JSON text
  std::string description;
  absl::Time created;
};

class SchemaRegistry {
 public:
  ~SchemaRegistry();
  SchemaRegistry(const SchemaRegistry&) = delete;
  SchemaRegistry& operator=(const SchemaRegistry&) = delete;

  // Discoverers: one per bus (ConflictException for a second); NotFoundException for a bus or
  // discoverer that does not exist. A stopped discoverer sees nothing.
  absl::StatusOr<DiscovererDescription> CreateDiscoverer(std::string_view bus_arn,
                                                         std::string_view description = "");
  absl::StatusOr<DiscovererDescription> DescribeDiscoverer(std::string_view id) const;
  std::vector<DiscovererDescription> ListDiscoverers() const;
  absl::Status StartDiscoverer(std::string_view id);
  absl::Status StopDiscoverer(std::string_view id);
  absl::Status DeleteDiscoverer(std::string_view id);

  // Registries: "discovered-schemas" and "aws.events" always exist.
  absl::Status CreateRegistry(std::string_view name, std::string_view description = "");
  absl::Status DeleteRegistry(std::string_view name);
  std::vector<std::string> ListRegistries() const;

  // CreateSchema: version 1 of `content` (BadRequestException when it is not a JSON object of
  // that type); UpdateSchema adds a version. ConflictException / NotFoundException as AWS.
  absl::StatusOr<SchemaVersionDescription> CreateSchema(std::string_view registry,
                                                        std::string_view name,
                                                        std::string_view type,
                                                        std::string_view content,
                                                        std::string_view description = "");
  absl::StatusOr<SchemaVersionDescription> UpdateSchema(std::string_view registry,
                                                        std::string_view name,
                                                        std::string_view content);
  // The latest version, or `version`.
  absl::StatusOr<SchemaVersionDescription> DescribeSchema(std::string_view registry,
                                                          std::string_view name,
                                                          std::string_view version = "") const;
  // Names in `registry`, with their latest versions.
  absl::StatusOr<std::vector<SchemaVersionDescription>> ListSchemas(
      std::string_view registry, std::string_view prefix = "") const;
  absl::StatusOr<std::vector<SchemaVersionDescription>> ListSchemaVersions(
      std::string_view registry, std::string_view name) const;
  // The schema as JSON Schema draft-4 (the whole event, its detail inlined).
  absl::StatusOr<std::string> ExportSchema(std::string_view registry, std::string_view name,
                                           std::string_view version = "") const;
  absl::Status DeleteSchema(std::string_view registry, std::string_view name);

  // Not AWS: PutEvents on `bus_arn` checks each entry whose "<source>@<DetailType without
  // spaces>" has a schema in `registry` against its latest version (type, properties, required,
  // items, enum, additionalProperties); a mismatch fails the entry with InvalidArgument. An
  // empty registry stops validating.
  absl::Status SetValidation(std::string_view bus_arn, std::string_view registry);

  struct State;  // defined and used inside the EventBridge module only

 private:
  friend class SchemaOperations;
  explicit SchemaRegistry(Hub& hub);
  Hub& hub_;
  std::shared_ptr<State> state_;
};

// The hub's schema registry.
SchemaRegistry& Schemas(Hub& hub);

}  // namespace courier

#endif  // COURIER_SCHEMAS_H_
