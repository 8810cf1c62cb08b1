#include "courier/testing/case_handlers.h"

#include <set>

#include "courier/function.h"
#include "courier/lambda.h"
#include "courier/status.h"

namespace courier::testing {
namespace {

void Behave(Hub& hub, const Json& spec, const Json& input, int n, FunctionCallback done) {
  std::string type = "echo";
  if (spec.is_object()) {
    if (const Json* t = spec.get_object().if_contains("type"); t && t->is_string()) {
      type = t->get_string();
    }
  }
  auto field = [&](std::string_view name) -> Json {
    if (!spec.is_object()) return Json();
    const Json* v = spec.get_object().if_contains(name);
    return v ? *v : Json();
  };
  if (type == "echo") return done(input);
  if (type == "const") return done(field("value"));
  if (type == "wrap") return done(Json(JsonObject{{"wrapped", input}}));
  if (type == "merge") {
    JsonObject out = input.is_object() ? input.get_object() : JsonObject();
    Json value = field("value");
    if (value.is_object()) {
      for (const auto& [k, v] : value.get_object()) out[k] = v;
    }
    return done(Json(std::move(out)));
  }
  if (type == "fail") {
    Json e = field("error"), c = field("cause");
    return done(FunctionError(e.is_string() ? std::string_view(e.get_string()) : "",
                              c.is_string() ? std::string_view(c.get_string()) : ""));
  }
  if (type == "sleep") {
    Json ms = field("ms");
    Json then = field("then");
    int64_t millis = ms.is_int64() ? ms.get_int64() : 0;
    hub.clock().ScheduleAfter(absl::Milliseconds(millis),
                              [&hub, then, input, n, done] { Behave(hub, then, input, n, done); });
    return;
  }
  if (type == "sequence") {
    Json steps = field("steps");
    if (!steps.is_array() || steps.get_array().empty()) return done(input);
    const auto& a = steps.get_array();
    return Behave(hub, a[std::min<size_t>(n, a.size() - 1)], input, n, done);
  }
  done(FunctionError("Handler.Unknown", "unknown handler type " + type));
}

}  // namespace

absl::StatusOr<std::shared_ptr<HandlerStats>> RegisterCaseHandlers(Hub& hub, const Json& handlers,
                                                                   std::string_view definition) {
  std::set<std::string> names;
  for (size_t at = definition.find(":function:"); at != std::string_view::npos;
       at = definition.find(":function:", at + 1)) {
    size_t start = at + 10;
    size_t end = start;
    while (end < definition.size() && definition[end] != '"' && definition[end] != ':') ++end;
    names.insert(std::string(definition.substr(start, end - start)));
  }
  if (handlers.is_object()) {
    for (const auto& [k, v] : handlers.get_object()) names.insert(std::string(k));
  }
  auto stats = std::make_shared<HandlerStats>();
  for (const std::string& name : names) {
    Json spec;
    if (handlers.is_object()) {
      if (const Json* s = handlers.get_object().if_contains(name)) spec = *s;
    }
    auto fn = Lambda(hub).RegisterAsyncFunction(
        name, [&hub, spec, name, stats](const Json& input, FunctionCallback done) {
          int n;
          {
            detail::MutexLock lock(&stats->mu);
            n = stats->invocations[name]++;
          }
          Behave(hub, spec, input, n, std::move(done));
        });
    if (!fn.ok()) return fn.status();
  }
  return stats;
}

}  // namespace courier::testing
