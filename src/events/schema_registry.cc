// The schema registry (schemas.h). Discovery and validation hook into a bus (BusHooks in
// bus_state.h): a bus without them pays nothing. Inferred schemas are built in sorted member
// order, so that the same shape always gives the same text and a new version means a new shape.
#include <absl/strings/ascii.h>
#include <absl/time/time.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "courier/detail/uuid.h"
#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/schemas.h"
#include "courier/service.h"
#include "courier/status.h"
#include "events/bus_state.h"
#include "events/events_operations.h"

namespace courier {
namespace {

constexpr std::string_view kDiscovered = "discovered-schemas";
constexpr std::string_view kOpenApi = "OpenApi3";
constexpr std::string_view kDraft4 = "JSONSchemaDraft4";

// "Order Placed" -> "OrderPlaced": the detail's component name and the schema name's tail.
std::string PascalName(std::string_view detail_type) {
  std::string out;
  bool upper = true;
  for (char c : detail_type) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      out.push_back(upper ? absl::ascii_toupper(static_cast<unsigned char>(c)) : c);
      upper = false;
    } else {
      upper = true;
    }
  }
  return out.empty() ? "Detail" : out;
}

std::string SchemaNameOf(std::string_view source, std::string_view detail_type) {
  return fmt::format("{}@{}", source, PascalName(detail_type));
}

bool IsTimestamp(std::string_view s) {
  absl::Time t;
  std::string err;
  return s.size() >= 20 && absl::ParseTime(absl::RFC3339_full, std::string(s), &t, &err);
}

// The JSON schema of one value's shape.
Json Infer(const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      std::vector<std::string> keys;
      for (const auto& m : v.get_object()) keys.emplace_back(m.key());
      std::sort(keys.begin(), keys.end());
      JsonObject properties;
      JsonArray required;
      for (const std::string& k : keys) {
        properties[k] = Infer(v.get_object().at(k));
        required.emplace_back(k);
      }
      JsonObject o{{"type", "object"}};
      if (!required.empty()) o["required"] = std::move(required);
      o["properties"] = std::move(properties);
      return o;
    }
    case boost::json::kind::array: {
      JsonObject o{{"type", "array"}};
      if (!v.get_array().empty()) o["items"] = Infer(v.get_array().front());
      return o;
    }
    case boost::json::kind::string:
      return IsTimestamp(v.get_string()) ? JsonObject{{"type", "string"}, {"format", "date-time"}}
                                         : JsonObject{{"type", "string"}};
    case boost::json::kind::bool_:
      return JsonObject{{"type", "boolean"}};
    case boost::json::kind::null:
      return JsonObject{};
    default:
      return JsonObject{{"type", "number"}};
  }
}

// AWSEvent's members besides its detail, as EventBridge's discovered schemas have them.
JsonObject EnvelopeProperties(Json detail_schema) {
  return JsonObject{
      {"account", JsonObject{{"type", "string"}}},
      {"detail", std::move(detail_schema)},
      {"detail-type", JsonObject{{"type", "string"}}},
      {"id", JsonObject{{"type", "string"}}},
      {"region", JsonObject{{"type", "string"}}},
      {"resources", JsonObject{{"type", "array"}, {"items", JsonObject{{"type", "string"}}}}},
      {"source", JsonObject{{"type", "string"}}},
      {"time", JsonObject{{"type", "string"}, {"format", "date-time"}}},
      {"version", JsonObject{{"type", "string"}}}};
}

Json EnvelopeRequired() {
  return JsonArray{"account",   "detail", "detail-type", "id",     "region",
                   "resources", "source", "time",        "version"};
}

// The OpenAPI 3 document discovery writes for one event.
std::string DiscoveredSchema(const Json& event) {
  const std::string source(event.at("source").as_string());
  const std::string detail_type(event.at("detail-type").as_string());
  const std::string component = PascalName(detail_type);
  JsonObject aws_event{
      {"type", "object"},
      {"required", EnvelopeRequired()},
      {"x-amazon-events-detail-type", detail_type},
      {"x-amazon-events-source", source},
      {"properties",
       EnvelopeProperties(JsonObject{{"$ref", "#/components/schemas/" + component}})}};
  Json doc = JsonObject{
      {"openapi", "3.0.0"},
      {"info", JsonObject{{"version", "1.0.0"}, {"title", component}}},
      {"paths", JsonObject{}},
      {"components", JsonObject{{"schemas", JsonObject{{"AWSEvent", std::move(aws_event)},
                                                       {component, Infer(event.at("detail"))}}}}}};
  return ToJsonText(doc);
}

// ---- Validation: the draft-4 keywords a discovered or hand-written schema uses ----------------

const Json* Resolve(const Json& root, const Json& schema) {
  const JsonObject* o = schema.if_object();
  if (o == nullptr) return &schema;
  const Json* ref = o->if_contains("$ref");
  if (ref == nullptr || !ref->is_string()) return &schema;
  std::string_view path = ref->get_string();
  if (!path.starts_with("#/")) return nullptr;
  const Json* at = &root;
  path.remove_prefix(2);
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string key(path.substr(0, slash));
    const JsonObject* obj = at->if_object();
    if (obj == nullptr || (at = obj->if_contains(key)) == nullptr) return nullptr;
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return at;
}

bool HasType(const Json& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_bool();
  if (type == "null") return v.is_null();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    return v.is_int64() || v.is_uint64() ||
           (v.is_double() &&
            v.get_double() == static_cast<double>(static_cast<int64_t>(v.get_double())));
  }
  return true;
}

// Why `v` does not fit `schema` (at `where`), or "" when it does.
std::string Mismatch(const Json& root, const Json& schema_in, const Json& v,
                     const std::string& where) {
  const Json* schema = Resolve(root, schema_in);
  if (schema == nullptr) return "";
  const JsonObject* s = schema->if_object();
  if (s == nullptr) return "";
  if (const Json* type = s->if_contains("type")) {
    bool ok = false;
    if (type->is_string()) ok = HasType(v, type->get_string());
    if (type->is_array()) {
      for (const Json& t : type->get_array())
        ok = ok || (t.is_string() && HasType(v, t.get_string()));
    }
    if (!ok) return fmt::format("{} is not of type {}", where, ToJsonText(*type));
  }
  if (const Json* values = s->if_contains("enum"); values && values->is_array()) {
    const auto& list = values->get_array();
    if (std::find(list.begin(), list.end(), v) == list.end()) {
      return fmt::format("{} is not one of {}", where, ToJsonText(*values));
    }
  }
  if (const JsonObject* o = v.if_object()) {
    const JsonObject* properties = nullptr;
    if (const Json* p = s->if_contains("properties")) properties = p->if_object();
    if (const Json* required = s->if_contains("required"); required && required->is_array()) {
      for (const Json& k : required->get_array()) {
        if (k.is_string() && !o->contains(k.get_string())) {
          return fmt::format("{} lacks the required member {}", where, std::string(k.get_string()));
        }
      }
    }
    const Json* additional = s->if_contains("additionalProperties");
    for (const auto& m : *o) {
      const Json* member_schema = properties ? properties->if_contains(m.key()) : nullptr;
      const std::string at = fmt::format("{}.{}", where, std::string(m.key()));
      if (member_schema != nullptr) {
        if (std::string why = Mismatch(root, *member_schema, m.value(), at); !why.empty()) {
          return why;
        }
      } else if (additional != nullptr && additional->is_bool() && !additional->get_bool()) {
        return fmt::format("{} is not allowed", at);
      }
    }
  }
  if (const JsonArray* a = v.if_array()) {
    if (const Json* items = s->if_contains("items")) {
      for (size_t i = 0; i < a->size(); ++i) {
        if (std::string why = Mismatch(root, *items, (*a)[i], fmt::format("{}[{}]", where, i));
            !why.empty()) {
          return why;
        }
      }
    }
  }
  return "";
}

// The schema of the detail inside a schema document of either type, or nullptr.
const Json* DetailSchema(const Json& root, std::string_view type) {
  const Json* event = &root;
  if (type == kOpenApi) {
    const JsonObject* schemas = nullptr;
    if (const Json* c = root.as_object().if_contains("components"); c && c->is_object()) {
      if (const Json* s = c->get_object().if_contains("schemas"); s) schemas = s->if_object();
    }
    if (schemas == nullptr || schemas->empty()) return nullptr;
    event = schemas->if_contains("AWSEvent");
    if (event == nullptr) event = &schemas->begin()->value();
  }
  const JsonObject* e = event->if_object();
  const Json* properties = e ? e->if_contains("properties") : nullptr;
  const Json* detail = properties && properties->is_object()
                           ? properties->get_object().if_contains("detail")
                           : nullptr;
  return detail ? Resolve(root, *detail) : nullptr;
}

struct Version {
  SchemaVersionDescription description;
  Json parsed;
};

struct Registry {
  std::string description;
  std::map<std::string, std::vector<Version>, std::less<>> schemas;  // versions, oldest first
};

absl::Status NotFound(std::string_view what, std::string_view name) {
  return AwsErrorF("NotFoundException", "{} {} does not exist.", what, name);
}

}  // namespace

// One bus's hooks: discovery into the registry state, validation against one registry.
class BusSchemaHooks;

struct SchemaRegistry::State : std::enable_shared_from_this<SchemaRegistry::State> {
  Hub* hub = nullptr;
  mutable std::mutex mu;
  std::map<std::string, Registry, std::less<>> registries;
  std::map<std::string, DiscovererDescription, std::less<>> discoverers;      // by id
  std::map<std::string, std::shared_ptr<BusSchemaHooks>, std::less<>> hooks;  // by bus ARN

  absl::StatusOr<SchemaVersionDescription> AddVersion(std::string_view registry,
                                                      std::string_view name, std::string_view type,
                                                      std::string content,
                                                      std::string_view description);
  std::string SchemaArn(std::string_view registry, std::string_view name) const {
    return hub->Arn("schemas", fmt::format("schema/{}/{}", registry, name));
  }
  // The bus's hooks, attached on first need; under mu.
  absl::StatusOr<std::shared_ptr<BusSchemaHooks>> HooksOf(std::string_view bus_arn);
};

class BusSchemaHooks final : public events_internal::BusHooks {
 public:
  explicit BusSchemaHooks(std::weak_ptr<SchemaRegistry::State> state) : state_(std::move(state)) {}

  std::optional<PutEventsResultEntry> Check(const PutEventsEntry& entry) const override {
    std::shared_ptr<SchemaRegistry::State> st = state_.lock();
    if (st == nullptr) return std::nullopt;
    std::lock_guard lock(st->mu);
    if (validation_registry.empty()) return std::nullopt;
    auto r = st->registries.find(validation_registry);
    if (r == st->registries.end()) return std::nullopt;
    auto s = r->second.schemas.find(SchemaNameOf(entry.source, entry.detail_type));
    if (s == r->second.schemas.end() || s->second.empty()) return std::nullopt;
    const Version& latest = s->second.back();
    const Json* detail_schema = DetailSchema(latest.parsed, latest.description.type);
    if (detail_schema == nullptr) return std::nullopt;
    absl::StatusOr<Json> detail = ParseJson(entry.detail);
    if (!detail.ok()) return std::nullopt;  // CheckEntry has refused it already
    std::string why = Mismatch(latest.parsed, *detail_schema, *detail, "detail");
    if (why.empty()) return std::nullopt;
    return PutEventsResultEntry{
        .event_id = "",
        .error_code = "InvalidArgument",
        .error_message = fmt::format("The event does not match schema {} version {}: {}.",
                                     latest.description.name, latest.description.version, why)};
  }

  void Observe(std::string_view event) override {
    if (!discovering.load(std::memory_order_acquire)) return;
    std::shared_ptr<SchemaRegistry::State> st = state_.lock();
    if (st == nullptr) return;
    absl::StatusOr<Json> parsed = ParseJson(event);
    if (!parsed.ok() || !parsed->is_object()) return;
    const JsonObject& o = parsed->get_object();
    const Json* source = o.if_contains("source");
    const Json* detail_type = o.if_contains("detail-type");
    if (source == nullptr || !source->is_string() || detail_type == nullptr ||
        !detail_type->is_string() || !o.contains("detail")) {
      return;
    }
    std::string content = DiscoveredSchema(*parsed);
    const std::string name = SchemaNameOf(source->get_string(), detail_type->get_string());
    std::lock_guard lock(st->mu);
    Registry& registry = st->registries[std::string(kDiscovered)];
    // A shape seen before (in any version) adds none: events that alternate between two
    // shapes do not make a version each.
    if (auto it = registry.schemas.find(name); it != registry.schemas.end()) {
      for (const Version& v : it->second) {
        if (v.description.content == content) return;
      }
    }
    st->AddVersion(kDiscovered, name, kOpenApi, std::move(content), "").IgnoreError();
  }

  std::atomic<bool> discovering{false};
  std::string validation_registry;  // under the state's mu

 private:
  std::weak_ptr<SchemaRegistry::State> state_;
};

absl::StatusOr<SchemaVersionDescription> SchemaRegistry::State::AddVersion(
    std::string_view registry, std::string_view name, std::string_view type, std::string content,
    std::string_view description) {
  absl::StatusOr<Json> parsed = ParseJson(content);
  if (!parsed.ok() || !parsed->is_object()) {
    return AwsError("BadRequestException", "The schema content is not a JSON object.");
  }
  if (type == kOpenApi && !parsed->get_object().contains("openapi")) {
    return AwsError("BadRequestException", "An OpenApi3 schema needs its \"openapi\" member.");
  }
  auto r = registries.find(registry);
  if (r == registries.end()) return NotFound("Registry", registry);
  std::vector<Version>& versions = r->second.schemas[std::string(name)];
  Version v{.description = {.registry = std::string(registry),
                            .name = std::string(name),
                            .arn = SchemaArn(registry, name),
                            .version = std::to_string(versions.size() + 1),
                            .type = std::string(type),
                            .content = std::move(content),
                            .description = std::string(description),
                            .created = hub->clock().Now()},
            .parsed = *std::move(parsed)};
  versions.push_back(std::move(v));
  return versions.back().description;
}

absl::StatusOr<std::shared_ptr<BusSchemaHooks>> SchemaRegistry::State::HooksOf(
    std::string_view bus_arn) {
  if (auto it = hooks.find(bus_arn); it != hooks.end()) return it->second;
  absl::StatusOr<std::shared_ptr<EventBus>> bus = Events(*hub).GetEventBus(bus_arn);
  if (!bus.ok()) return NotFound("Event bus", bus_arn);
  auto h = std::make_shared<BusSchemaHooks>(weak_from_this());
  events_internal::BusAccess::SetHooks(**bus, h);
  hooks.emplace(std::string(bus_arn), h);
  return h;
}

SchemaRegistry::SchemaRegistry(Hub& hub) : hub_(hub), state_(std::make_shared<State>()) {
  state_->hub = &hub;
  state_->registries[std::string(kDiscovered)];
  state_->registries["aws.events"];
}

SchemaRegistry::~SchemaRegistry() = default;

// ---- Discoverers ----------------------------------------------------------------------------

absl::StatusOr<DiscovererDescription> SchemaRegistry::CreateDiscoverer(
    std::string_view bus_arn, std::string_view description) {
  std::lock_guard lock(state_->mu);
  for (const auto& [id, d] : state_->discoverers) {
    if (d.source_arn == bus_arn) {
      return AwsErrorF("ConflictException", "A discoverer for {} already exists.", bus_arn);
    }
  }
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<BusSchemaHooks> hooks, state_->HooksOf(bus_arn));
  const std::string id = detail::NewUuid();
  DiscovererDescription d{.id = id,
                          .arn = hub_.Arn("schemas", "discoverer/" + id),
                          .source_arn = std::string(bus_arn),
                          .description = std::string(description),
                          .state = "STARTED"};
  hooks->discovering.store(true, std::memory_order_release);
  state_->discoverers.emplace(id, d);
  return d;
}

absl::StatusOr<DiscovererDescription> SchemaRegistry::DescribeDiscoverer(
    std::string_view id) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->discoverers.find(id);
  if (it == state_->discoverers.end()) return NotFound("Discoverer", id);
  return it->second;
}

std::vector<DiscovererDescription> SchemaRegistry::ListDiscoverers() const {
  std::lock_guard lock(state_->mu);
  std::vector<DiscovererDescription> out;
  for (const auto& [id, d] : state_->discoverers) out.push_back(d);
  return out;
}

namespace {
absl::Status SetDiscovering(SchemaRegistry::State& st, std::string_view id, bool on, bool erase) {
  std::lock_guard lock(st.mu);
  auto it = st.discoverers.find(id);
  if (it == st.discoverers.end()) return NotFound("Discoverer", id);
  it->second.state = on ? "STARTED" : "STOPPED";
  if (auto h = st.hooks.find(it->second.source_arn); h != st.hooks.end()) {
    h->second->discovering.store(on, std::memory_order_release);
  }
  if (erase) st.discoverers.erase(it);
  return absl::OkStatus();
}
}  // namespace

absl::Status SchemaRegistry::StartDiscoverer(std::string_view id) {
  return SetDiscovering(*state_, id, true, false);
}
absl::Status SchemaRegistry::StopDiscoverer(std::string_view id) {
  return SetDiscovering(*state_, id, false, false);
}
absl::Status SchemaRegistry::DeleteDiscoverer(std::string_view id) {
  return SetDiscovering(*state_, id, false, true);
}

// ---- Registries and schemas -----------------------------------------------------------------

absl::Status SchemaRegistry::CreateRegistry(std::string_view name, std::string_view description) {
  if (name.empty() || name.size() > 64) {
    return AwsError("BadRequestException", "A registry name is 1 to 64 characters.");
  }
  std::lock_guard lock(state_->mu);
  if (state_->registries.contains(name)) {
    return AwsErrorF("ConflictException", "Registry {} already exists.", name);
  }
  state_->registries[std::string(name)].description = std::string(description);
  return absl::OkStatus();
}

absl::Status SchemaRegistry::DeleteRegistry(std::string_view name) {
  if (name == kDiscovered || name == "aws.events") {
    return AwsErrorF("BadRequestException", "Registry {} cannot be deleted.", name);
  }
  std::lock_guard lock(state_->mu);
  if (state_->registries.erase(std::string(name)) == 0) return NotFound("Registry", name);
  return absl::OkStatus();
}

std::vector<std::string> SchemaRegistry::ListRegistries() const {
  std::lock_guard lock(state_->mu);
  std::vector<std::string> out;
  for (const auto& [name, r] : state_->registries) out.push_back(name);
  return out;
}

absl::StatusOr<SchemaVersionDescription> SchemaRegistry::CreateSchema(
    std::string_view registry, std::string_view name, std::string_view type,
    std::string_view content, std::string_view description) {
  if (type != kOpenApi && type != kDraft4) {
    return AwsErrorF("BadRequestException", "Type {} is not OpenApi3 or JSONSchemaDraft4.", type);
  }
  if (name.empty() || name.size() > 385) {
    return AwsError("BadRequestException", "A schema name is 1 to 385 characters.");
  }
  std::lock_guard lock(state_->mu);
  auto r = state_->registries.find(registry);
  if (r == state_->registries.end()) return NotFound("Registry", registry);
  if (r->second.schemas.contains(name)) {
    return AwsErrorF("ConflictException", "Schema {} already exists.", name);
  }
  return state_->AddVersion(registry, name, type, std::string(content), description);
}

absl::StatusOr<SchemaVersionDescription> SchemaRegistry::UpdateSchema(std::string_view registry,
                                                                      std::string_view name,
                                                                      std::string_view content) {
  std::lock_guard lock(state_->mu);
  auto r = state_->registries.find(registry);
  if (r == state_->registries.end()) return NotFound("Registry", registry);
  auto s = r->second.schemas.find(name);
  if (s == r->second.schemas.end()) return NotFound("Schema", name);
  const SchemaVersionDescription& latest = s->second.back().description;
  return state_->AddVersion(registry, name, latest.type, std::string(content), latest.description);
}

absl::StatusOr<SchemaVersionDescription> SchemaRegistry::DescribeSchema(
    std::string_view registry, std::string_view name, std::string_view version) const {
  COURIER_ASSIGN_OR_RETURN(std::vector<SchemaVersionDescription> versions,
                           ListSchemaVersions(registry, name));
  if (version.empty()) return versions.back();
  for (SchemaVersionDescription& v : versions) {
    if (v.version == version) return std::move(v);
  }
  return NotFound("Schema version", version);
}

absl::StatusOr<std::vector<SchemaVersionDescription>> SchemaRegistry::ListSchemas(
    std::string_view registry, std::string_view prefix) const {
  std::lock_guard lock(state_->mu);
  auto r = state_->registries.find(registry);
  if (r == state_->registries.end()) return NotFound("Registry", registry);
  std::vector<SchemaVersionDescription> out;
  for (const auto& [name, versions] : r->second.schemas) {
    if (name.starts_with(prefix) && !versions.empty()) out.push_back(versions.back().description);
  }
  return out;
}

absl::StatusOr<std::vector<SchemaVersionDescription>> SchemaRegistry::ListSchemaVersions(
    std::string_view registry, std::string_view name) const {
  std::lock_guard lock(state_->mu);
  auto r = state_->registries.find(registry);
  if (r == state_->registries.end()) return NotFound("Registry", registry);
  auto s = r->second.schemas.find(name);
  if (s == r->second.schemas.end() || s->second.empty()) return NotFound("Schema", name);
  std::vector<SchemaVersionDescription> out;
  for (const Version& v : s->second) out.push_back(v.description);
  return out;
}

absl::StatusOr<std::string> SchemaRegistry::ExportSchema(std::string_view registry,
                                                         std::string_view name,
                                                         std::string_view version) const {
  COURIER_ASSIGN_OR_RETURN(SchemaVersionDescription v, DescribeSchema(registry, name, version));
  if (v.type == kDraft4) return v.content;
  // OpenAPI 3 to draft-4: AWSEvent becomes the document, the other components its definitions.
  Json doc = ParseJson(v.content).value();
  const Json* c = doc.as_object().if_contains("components");
  const Json* schemas = c && c->is_object() ? c->get_object().if_contains("schemas") : nullptr;
  if (schemas == nullptr || !schemas->is_object() || schemas->get_object().empty()) {
    return AwsErrorF("BadRequestException", "Schema {} has no components to export.", name);
  }
  const JsonObject& all = schemas->get_object();
  const Json* event = all.if_contains("AWSEvent");
  if (event == nullptr) event = &all.begin()->value();
  JsonObject out{{"$schema", "http://json-schema.org/draft-04/schema#"}, {"title", "AWSEvent"}};
  JsonObject definitions;
  for (const auto& m : all) {
    if (&m.value() != event) definitions[m.key()] = m.value();
  }
  if (!definitions.empty()) out["definitions"] = std::move(definitions);
  for (const auto& m : event->as_object()) {
    if (!m.key().starts_with("x-amazon-")) out[m.key()] = m.value();
  }
  std::string text = ToJsonText(Json(std::move(out)));
  for (size_t at = 0; (at = text.find("#/components/schemas/", at)) != std::string::npos;) {
    text.replace(at, 21, "#/definitions/");
  }
  return text;
}

absl::Status SchemaRegistry::DeleteSchema(std::string_view registry, std::string_view name) {
  std::lock_guard lock(state_->mu);
  auto r = state_->registries.find(registry);
  if (r == state_->registries.end()) return NotFound("Registry", registry);
  if (r->second.schemas.erase(std::string(name)) == 0) return NotFound("Schema", name);
  return absl::OkStatus();
}

absl::Status SchemaRegistry::SetValidation(std::string_view bus_arn, std::string_view registry) {
  std::lock_guard lock(state_->mu);
  if (!registry.empty() && !state_->registries.contains(registry)) {
    return NotFound("Registry", registry);
  }
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<BusSchemaHooks> hooks, state_->HooksOf(bus_arn));
  hooks->validation_registry = std::string(registry);
  return absl::OkStatus();
}

// ---- Registration ---------------------------------------------------------------------------

class SchemaOperations final : public Service {
 public:
  explicit SchemaOperations(Hub& hub) : hub_(hub), registry_(hub) {}
  std::string_view name() const override { return "schemas"; }
  absl::StatusOr<Json> Invoke(std::string_view operation, const Json& request,
                              const Caller& caller) override {
    return events_internal::InvokeSchemas(hub_, operation, request, caller);
  }
  SchemaRegistry& typed() { return registry_; }

 private:
  Hub& hub_;
  SchemaRegistry registry_;
};

namespace {
const ServiceRegistrar kRegistrar("schemas", [](Hub& hub) -> std::unique_ptr<Service> {
  return std::make_unique<SchemaOperations>(hub);
});
}  // namespace
COURIER_SERVICE_ANCHOR(schemas);

SchemaRegistry& Schemas(Hub& hub) {
  return static_cast<SchemaOperations*>(hub.FindService("schemas"))->typed();
}

}  // namespace courier
