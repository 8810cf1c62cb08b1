#include "states/eval.h"

#include "states/intrinsics.h"
#include "states/json_util.h"
#include "states/jsonata.h"

namespace courier::states_internal {

const Json* PathRoot(const JsonPath& path, const Json& input, Env& env) {
  switch (path.root()) {
    case JsonPath::Root::kInput:
    case JsonPath::Root::kCurrent:
      return &input;
    case JsonPath::Root::kContext:
      return &env.Context();
    case JsonPath::Root::kVariable:
      return env.Variable(path.variable());
  }
  return nullptr;
}

std::optional<Json> EvaluatePath(const JsonPath& path, const Json& input, Env& env) {
  const Json* root = PathRoot(path, input, env);
  if (!root) return std::nullopt;
  return path.Evaluate(*root);
}

const Json* FindPath(const JsonPath& path, const Json& input, Env& env) {
  const Json* root = PathRoot(path, input, env);
  return root ? path.Find(*root) : nullptr;
}

namespace {
using Errors = std::vector<std::pair<std::string, std::string>>;
}

Template CompileTemplate(const Json& value, const std::string& location, Errors& errors) {
  Template t;
  if (value.is_object()) {
    t.kind = Template::kObject;
    for (const auto& [key, v] : value.get_object()) {
      std::string k(key);
      std::string loc = location + "/" + k;
      if (k.size() > 2 && k.ends_with(".$")) {
        Template e;
        e.source = k;
        if (!v.is_string()) {
          errors.emplace_back(loc, fmt::format("The value for the field '{}' must be a STRING "
                                               "that contains a JSONPath or an intrinsic function",
                                               k));
          continue;
        }
        std::string_view text = v.get_string();
        if (LooksLikeIntrinsic(text)) {
          auto call = ParseIntrinsic(text);
          if (!call.ok()) {
            errors.emplace_back(loc, fmt::format("The value for the field '{}' must be a valid "
                                                 "intrinsic function call: {}",
                                                 k, std::string(call.status().message())));
            continue;
          }
          e.kind = Template::kIntrinsic;
          e.uses_context = (*call)->uses_context;
          e.intrinsic = *std::move(call);
        } else {
          auto path = JsonPath::Parse(text);
          if (!path.ok()) {
            errors.emplace_back(loc, fmt::format("The value for the field '{}' must be a valid "
                                                 "JSONPath or a valid intrinsic function call",
                                                 k));
            continue;
          }
          e.kind = Template::kPath;
          e.uses_context = path->root() != JsonPath::Root::kInput;
          e.path = *std::move(path);
        }
        t.uses_context = t.uses_context || e.uses_context;
        t.fields.emplace_back(k.substr(0, k.size() - 2), std::move(e));
      } else {
        Template e = CompileTemplate(v, loc, errors);
        t.uses_context = t.uses_context || e.uses_context;
        t.fields.emplace_back(k, std::move(e));
      }
    }
    // A template with no expression anywhere is a literal: copy it whole.
    bool all_literal = true;
    for (const auto& [k, f] : t.fields) all_literal = all_literal && f.kind == Template::kLiteral;
    if (all_literal) {
      t.kind = Template::kLiteral;
      t.fields.clear();
      t.literal = value;
    }
    return t;
  }
  if (value.is_array()) {
    t.kind = Template::kArray;
    bool all_literal = true;
    for (size_t i = 0; i < value.get_array().size(); ++i) {
      Template e =
          CompileTemplate(value.get_array()[i], location + "/" + std::to_string(i), errors);
      all_literal = all_literal && e.kind == Template::kLiteral;
      t.uses_context = t.uses_context || e.uses_context;
      t.items.push_back(std::move(e));
    }
    if (all_literal) {
      t.kind = Template::kLiteral;
      t.items.clear();
      t.literal = value;
    }
    return t;
  }
  t.literal = value;
  return t;
}

Template CompileJsonataTemplate(const Json& value, const std::string& location, Errors& errors) {
  Template t;
  if (value.is_string()) {
    std::string_view inner;
    if (IsJsonataExpression(value.get_string(), &inner)) {
      auto expr = ParseJsonata(inner);
      if (!expr.ok()) {
        errors.emplace_back(location, fmt::format("The JSONata expression '{}' is invalid: {}",
                                                  std::string(value.get_string()),
                                                  std::string(expr.status().message())));
        return t;
      }
      t.kind = Template::kJsonata;
      t.jsonata = *std::move(expr);
      t.uses_context = true;
      return t;
    }
  } else if (value.is_object()) {
    t.kind = Template::kObject;
    for (const auto& [key, v] : value.get_object()) {
      Template e = CompileJsonataTemplate(v, location + "/" + std::string(key), errors);
      t.uses_context = t.uses_context || e.uses_context;
      t.fields.emplace_back(std::string(key), std::move(e));
    }
    if (!t.uses_context) {
      t.kind = Template::kLiteral;
      t.fields.clear();
    } else {
      return t;
    }
  } else if (value.is_array()) {
    t.kind = Template::kArray;
    for (size_t i = 0; i < value.get_array().size(); ++i) {
      Template e =
          CompileJsonataTemplate(value.get_array()[i], location + "/" + std::to_string(i), errors);
      t.uses_context = t.uses_context || e.uses_context;
      t.items.push_back(std::move(e));
    }
    if (!t.uses_context) {
      t.kind = Template::kLiteral;
      t.items.clear();
    } else {
      return t;
    }
  }
  t.literal = value;
  return t;
}

absl::StatusOr<Json> EvaluateTemplate(const Template& t, const Json& input, Env& env) {
  switch (t.kind) {
    case Template::kLiteral:
      return t.literal;
    case Template::kObject: {
      JsonObject out;
      out.reserve(t.fields.size());
      for (const auto& [k, f] : t.fields) {
        if (f.kind == Template::kJsonata) {
          // JSONata: a field whose expression is undefined is left out.
          auto v = EvaluateJsonata(*f.jsonata, env);
          if (!v.ok()) return v.status();
          if (*v) out.emplace(k, std::move(**v));
          continue;
        }
        auto v = EvaluateTemplate(f, input, env);
        if (!v.ok()) return v.status();
        out.emplace(k, *std::move(v));
      }
      return Json(std::move(out));
    }
    case Template::kArray: {
      JsonArray out;
      out.reserve(t.items.size());
      for (const auto& item : t.items) {
        auto v = EvaluateTemplate(item, input, env);
        if (!v.ok()) return v.status();
        out.push_back(*std::move(v));
      }
      return Json(std::move(out));
    }
    case Template::kPath: {
      std::optional<Json> v = EvaluatePath(*t.path, input, env);
      if (!v) {
        if (t.path->root() == JsonPath::Root::kVariable && !env.Variable(t.path->variable())) {
          return RuntimeError(
              fmt::format("The variable '${}' specified for the field '{}' is "
                          "not defined",
                          t.path->variable(), t.source));
        }
        return RuntimeError(fmt::format(
            "The JSONPath '{}' specified for the field '{}' could not be found in "
            "the input '{}'",
            t.path->text(), t.source,
            t.path->root() == JsonPath::Root::kContext ? std::string("$$") : ToJsonText(input)));
      }
      return *std::move(v);
    }
    case Template::kIntrinsic:
      return EvaluateIntrinsic(*t.intrinsic, input, env);
    case Template::kJsonata: {
      auto v = EvaluateJsonata(*t.jsonata, env);
      if (!v.ok()) return v.status();
      if (!*v) return Json(nullptr);
      return std::move(**v);
    }
  }
  return Json();
}

}  // namespace courier::states_internal
