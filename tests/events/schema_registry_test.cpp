// The schema registry: discovery infers an OpenAPI 3 schema per source and detail-type with a
// new version when the shape changes, export as JSON Schema draft-4, hand-made schemas and
// registries, and PutEvents validated against a registry (failing entries alone, undelivered).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/schemas.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  SchemaRegistry& schemas = Schemas(hub);
  std::shared_ptr<EventBus> bus = Events(hub).GetEventBus("default").value();

  void Put(std::string detail, std::string source = "shop") {
    auto r = bus->PutEvents({{.source = std::move(source),
                              .detail_type = "Order Placed",
                              .detail = std::move(detail)}});
    REQUIRE(r.ok());
    REQUIRE(r->failed_entry_count == 0);
  }
};

Json Parsed(std::string_view text) { return ParseJson(text).value(); }

TEST_CASE("Discovery infers a schema per source and detail-type, versioned by shape",
          "[events][schemas]") {
  Fixture f;
  DiscovererDescription d = f.schemas.CreateDiscoverer(f.bus->arn(), "all orders").value();
  CHECK(d.state == "STARTED");
  CHECK(d.arn == "arn:aws:schemas:us-east-1:000000000000:discoverer/" + d.id);
  f.Put(R"({"id": 1, "amount": 9.5, "paid": true, "items": [{"sku": "a"}],)"
        R"( "at": "2026-01-01T10:00:00Z"})");
  SchemaVersionDescription v =
      f.schemas.DescribeSchema("discovered-schemas", "shop@OrderPlaced").value();
  CHECK(v.version == "1");
  CHECK(v.type == "OpenApi3");
  CHECK(v.arn ==
        "arn:aws:schemas:us-east-1:000000000000:schema/discovered-schemas/shop@OrderPlaced");
  Json doc = Parsed(v.content);
  CHECK(doc.at("openapi") == "3.0.0");
  const Json& event = doc.at("components").at("schemas").at("AWSEvent");
  CHECK(event.at("x-amazon-events-source") == "shop");
  CHECK(event.at("x-amazon-events-detail-type") == "Order Placed");
  CHECK(event.at("properties").at("detail").at("$ref") == "#/components/schemas/OrderPlaced");
  const Json& detail = doc.at("components").at("schemas").at("OrderPlaced");
  CHECK(detail.at("required") == Parsed(R"(["amount","at","id","items","paid"])"));
  CHECK(detail.at("properties").at("amount").at("type") == "number");
  CHECK(detail.at("properties").at("paid").at("type") == "boolean");
  CHECK(detail.at("properties").at("at").at("format") == "date-time");
  CHECK(detail.at("properties").at("items").at("items").at("properties").at("sku").at("type") ==
        "string");

  // The same shape with other values: no new version. Another shape: version 2; the first
  // shape again: none.
  f.Put(R"({"id": 2, "amount": 1, "paid": false, "items": [{"sku": "b"}],)"
        R"( "at": "2026-01-02T10:00:00Z"})");
  CHECK(f.schemas.ListSchemaVersions("discovered-schemas", "shop@OrderPlaced")->size() == 1);
  f.Put(R"({"id": 3, "amount": 1, "paid": false, "items": [], "at": "2026-01-02T10:00:00Z"})");
  CHECK(f.schemas.ListSchemaVersions("discovered-schemas", "shop@OrderPlaced")->size() == 2);
  f.Put(R"({"id": 4, "amount": 9.5, "paid": true, "items": [{"sku": "a"}],)"
        R"( "at": "2026-01-01T10:00:00Z"})");
  CHECK(f.schemas.ListSchemaVersions("discovered-schemas", "shop@OrderPlaced")->size() == 2);
  f.Put(R"({"id": 5, "coupon": "X"})");
  CHECK(f.schemas.ListSchemaVersions("discovered-schemas", "shop@OrderPlaced")->size() == 3);
  CHECK(f.schemas.DescribeSchema("discovered-schemas", "shop@OrderPlaced", "1")->content ==
        v.content);
  f.Put(R"({"x": 1})", "billing");
  CHECK(f.schemas.ListSchemas("discovered-schemas")->size() == 2);

  // Stopped, it sees nothing.
  REQUIRE(f.schemas.StopDiscoverer(d.id).ok());
  f.Put(R"({"new": "shape"})");
  CHECK(f.schemas.ListSchemaVersions("discovered-schemas", "shop@OrderPlaced")->size() == 3);
  CHECK(f.schemas.DescribeDiscoverer(d.id)->state == "STOPPED");
}

TEST_CASE("ExportSchema gives JSON Schema draft-4", "[events][schemas]") {
  Fixture f;
  REQUIRE(f.schemas.CreateDiscoverer(f.bus->arn()).ok());
  f.Put(R"({"id": 1})");
  Json doc = Parsed(f.schemas.ExportSchema("discovered-schemas", "shop@OrderPlaced").value());
  CHECK(doc.at("$schema") == "http://json-schema.org/draft-04/schema#");
  CHECK(doc.at("type") == "object");
  CHECK(doc.at("properties").at("detail").at("$ref") == "#/definitions/OrderPlaced");
  CHECK(doc.at("definitions").at("OrderPlaced").at("properties").at("id").at("type") == "number");
  CHECK_FALSE(doc.as_object().contains("x-amazon-events-source"));
}

TEST_CASE("A bus validates PutEvents against a registry's schemas", "[events][schemas]") {
  Fixture f;
  auto queue = Sqs(f.hub).CreateQueue("orders").value();
  REQUIRE(f.bus->PutRule("all", {.event_pattern = R"({"source":["shop","other"]})"}).ok());
  REQUIRE(f.bus->PutTargets("all", {{.id = "q", .arn = queue->arn()}}).ok());
  REQUIRE(f.schemas.CreateRegistry("contracts").ok());
  REQUIRE(f.schemas
              .CreateSchema("contracts", "shop@OrderPlaced", "JSONSchemaDraft4", R"({
                "$schema": "http://json-schema.org/draft-04/schema#",
                "type": "object",
                "properties": {"detail": {"$ref": "#/definitions/Order"}},
                "definitions": {"Order": {"type": "object", "required": ["amount"],
                  "additionalProperties": false,
                  "properties": {"amount": {"type": "number"},
                                 "currency": {"enum": ["EUR", "USD"]}}}}})")
              .ok());
  REQUIRE(f.schemas.SetValidation(f.bus->arn(), "contracts").ok());
  PutEventsResult r =
      f.bus
          ->PutEvents({
              {.source = "shop",
               .detail_type = "Order Placed",
               .detail = R"({"amount": 5, "currency": "EUR"})"},
              {.source = "shop", .detail_type = "Order Placed", .detail = R"({"amount": "five"})"},
              {.source = "shop", .detail_type = "Order Placed", .detail = R"({"currency": "EUR"})"},
              {.source = "shop",
               .detail_type = "Order Placed",
               .detail = R"({"amount": 5, "currency": "GBP"})"},
              {.source = "shop",
               .detail_type = "Order Placed",
               .detail = R"({"amount": 5, "extra": 1})"},
              {.source = "other",
               .detail_type = "Order Placed",
               .detail = R"({"anything": true})"},  // no schema: let through
          })
          .value();
  CHECK(r.failed_entry_count == 4);
  CHECK(r.entries[0].error_code.empty());
  CHECK(r.entries[1].error_code == "InvalidArgument");
  CHECK_THAT(r.entries[1].error_message, Catch::Contains("detail.amount is not of type"));
  CHECK_THAT(r.entries[2].error_message, Catch::Contains("lacks the required member amount"));
  CHECK_THAT(r.entries[3].error_message, Catch::Contains("detail.currency is not one of"));
  CHECK_THAT(r.entries[4].error_message, Catch::Contains("detail.extra is not allowed"));
  CHECK(r.entries[5].error_code.empty());
  CHECK(queue->ReceiveMessage({.max_number_of_messages = 10})->size() == 2);
  // Validation off: everything goes.
  REQUIRE(f.schemas.SetValidation(f.bus->arn(), "").ok());
  CHECK(f.bus->PutEvents({{.source = "shop", .detail_type = "Order Placed", .detail = "{}"}})
            ->failed_entry_count == 0);
}

TEST_CASE("Schema registry errors", "[events][schemas]") {
  Fixture f;
  CHECK(ErrorName(f.schemas.CreateSchema("nope", "s", "OpenApi3", "{}").status()) ==
        "NotFoundException");
  CHECK(ErrorName(f.schemas.CreateSchema("discovered-schemas", "s", "XML", "{}").status()) ==
        "BadRequestException");
  CHECK(ErrorName(f.schemas.CreateSchema("discovered-schemas", "s", "OpenApi3", "[").status()) ==
        "BadRequestException");
  REQUIRE(f.schemas.CreateSchema("discovered-schemas", "s", "JSONSchemaDraft4", "{}").ok());
  CHECK(ErrorName(
            f.schemas.CreateSchema("discovered-schemas", "s", "JSONSchemaDraft4", "{}").status()) ==
        "ConflictException");
  CHECK(f.schemas.UpdateSchema("discovered-schemas", "s", R"({"type":"object"})")->version == "2");
  CHECK(ErrorName(f.schemas.DescribeSchema("discovered-schemas", "s", "9").status()) ==
        "NotFoundException");
  REQUIRE(f.schemas.CreateDiscoverer(f.bus->arn()).ok());
  CHECK(ErrorName(f.schemas.CreateDiscoverer(f.bus->arn()).status()) == "ConflictException");
  CHECK(ErrorName(f.schemas.CreateDiscoverer("arn:aws:events:us-east-1:000000000000:event-bus/none")
                      .status()) == "NotFoundException");
  CHECK(ErrorName(f.schemas.DeleteRegistry("discovered-schemas")) == "BadRequestException");
  REQUIRE(f.schemas.DeleteSchema("discovered-schemas", "s").ok());
  CHECK(ErrorName(f.schemas.DeleteSchema("discovered-schemas", "s")) == "NotFoundException");
}

}  // namespace
}  // namespace courier
