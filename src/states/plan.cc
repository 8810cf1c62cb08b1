#include "states/plan.h"

#include <deque>
#include <set>

#include "courier/status.h"
#include "states/intrinsics.h"
#include "states/json_util.h"
#include "states/jsonata.h"

namespace courier::states_internal {

std::string_view StateTypeName(StateType t) {
  switch (t) {
    case StateType::kPass:
      return "Pass";
    case StateType::kTask:
      return "Task";
    case StateType::kChoice:
      return "Choice";
    case StateType::kWait:
      return "Wait";
    case StateType::kSucceed:
      return "Succeed";
    case StateType::kFail:
      return "Fail";
    case StateType::kParallel:
      return "Parallel";
    case StateType::kMap:
      return "Map";
  }
  return "";
}

namespace {

using Errors = std::vector<std::pair<std::string, std::string>>;

const std::set<std::string, std::less<>> kPredefinedErrors = {
    "States.ALL",
    "States.TaskFailed",
    "States.Timeout",
    "States.HeartbeatTimeout",
    "States.Permissions",
    "States.ResultPathMatchFailure",
    "States.ParameterPathFailure",
    "States.BranchFailed",
    "States.NoChoiceMatched",
    "States.IntrinsicFailure",
    "States.ExceedToleratedFailureThreshold",
    "States.ItemReaderFailed",
    "States.ResultWriterFailed",
    "States.QueryEvaluationError",
    "States.Runtime",
    "States.DataLimitExceeded"};

struct OpInfo {
  const char* name;
  ChoiceRule::Op op;
  char kind;  // s string, n number, b bool, t timestamp, i Is*, m matches
  bool path;
};

const OpInfo kOps[] = {
    {"StringEquals", ChoiceRule::kStringEquals, 's', false},
    {"StringEqualsPath", ChoiceRule::kStringEquals, 's', true},
    {"StringLessThan", ChoiceRule::kStringLessThan, 's', false},
    {"StringLessThanPath", ChoiceRule::kStringLessThan, 's', true},
    {"StringGreaterThan", ChoiceRule::kStringGreaterThan, 's', false},
    {"StringGreaterThanPath", ChoiceRule::kStringGreaterThan, 's', true},
    {"StringLessThanEquals", ChoiceRule::kStringLessThanEquals, 's', false},
    {"StringLessThanEqualsPath", ChoiceRule::kStringLessThanEquals, 's', true},
    {"StringGreaterThanEquals", ChoiceRule::kStringGreaterThanEquals, 's', false},
    {"StringGreaterThanEqualsPath", ChoiceRule::kStringGreaterThanEquals, 's', true},
    {"StringMatches", ChoiceRule::kStringMatches, 'm', false},
    {"NumericEquals", ChoiceRule::kNumericEquals, 'n', false},
    {"NumericEqualsPath", ChoiceRule::kNumericEquals, 'n', true},
    {"NumericLessThan", ChoiceRule::kNumericLessThan, 'n', false},
    {"NumericLessThanPath", ChoiceRule::kNumericLessThan, 'n', true},
    {"NumericGreaterThan", ChoiceRule::kNumericGreaterThan, 'n', false},
    {"NumericGreaterThanPath", ChoiceRule::kNumericGreaterThan, 'n', true},
    {"NumericLessThanEquals", ChoiceRule::kNumericLessThanEquals, 'n', false},
    {"NumericLessThanEqualsPath", ChoiceRule::kNumericLessThanEquals, 'n', true},
    {"NumericGreaterThanEquals", ChoiceRule::kNumericGreaterThanEquals, 'n', false},
    {"NumericGreaterThanEqualsPath", ChoiceRule::kNumericGreaterThanEquals, 'n', true},
    {"BooleanEquals", ChoiceRule::kBooleanEquals, 'b', false},
    {"BooleanEqualsPath", ChoiceRule::kBooleanEquals, 'b', true},
    {"TimestampEquals", ChoiceRule::kTimestampEquals, 't', false},
    {"TimestampEqualsPath", ChoiceRule::kTimestampEquals, 't', true},
    {"TimestampLessThan", ChoiceRule::kTimestampLessThan, 't', false},
    {"TimestampLessThanPath", ChoiceRule::kTimestampLessThan, 't', true},
    {"TimestampGreaterThan", ChoiceRule::kTimestampGreaterThan, 't', false},
    {"TimestampGreaterThanPath", ChoiceRule::kTimestampGreaterThan, 't', true},
    {"TimestampLessThanEquals", ChoiceRule::kTimestampLessThanEquals, 't', false},
    {"TimestampLessThanEqualsPath", ChoiceRule::kTimestampLessThanEquals, 't', true},
    {"TimestampGreaterThanEquals", ChoiceRule::kTimestampGreaterThanEquals, 't', false},
    {"TimestampGreaterThanEqualsPath", ChoiceRule::kTimestampGreaterThanEquals, 't', true},
    {"IsNull", ChoiceRule::kIsNull, 'i', false},
    {"IsPresent", ChoiceRule::kIsPresent, 'i', false},
    {"IsNumeric", ChoiceRule::kIsNumeric, 'i', false},
    {"IsString", ChoiceRule::kIsString, 'i', false},
    {"IsBoolean", ChoiceRule::kIsBoolean, 'i', false},
    {"IsTimestamp", ChoiceRule::kIsTimestamp, 'i', false},
};

class Builder {
 public:
  std::vector<ValidationDiagnostic> diags;

  void Error(std::string code, std::string location, std::string message) {
    diags.push_back({.code = std::move(code),
                     .message = std::move(message),
                     .location = location.empty() ? "/" : std::move(location)});
  }
  void Schema(const std::string& location, std::string message) {
    Error("SCHEMA_VALIDATION_FAILED", location, std::move(message));
  }
  void Flush(Errors& errors, const char* code) {
    for (auto& [loc, msg] : errors) Error(code, loc, msg);
    errors.clear();
  }

  std::shared_ptr<Scope> BuildScope(const Json& node, const std::string& loc, bool jsonata,
                                    int depth);

 private:
  void BuildState(State& s, const JsonObject& o, const std::string& loc, const Scope& scope,
                  int depth);
  std::optional<JsonPath> Path(const JsonObject& o, std::string_view field, const std::string& loc,
                               bool* is_null, bool reference = false);
  std::optional<Template> Tpl(const JsonObject& o, std::string_view field, const std::string& loc,
                              bool jsonata);
  std::optional<Template> PathOrIntrinsic(const Json& v, const std::string& loc);
  NumberSource Number(const JsonObject& o, std::string_view field, const std::string& loc,
                      bool jsonata, bool integer, double min, double max);
  std::vector<std::string> ErrorEquals(const JsonObject& o, const std::string& loc);
  int Target(const Json* v, const std::string& loc, const Scope& scope);
  bool BuildRule(ChoiceRule& rule, const Json& node, const std::string& loc, bool top, bool jsonata,
                 const Scope& scope);
  ResultPathSpec ResultPath(const JsonObject& o, const std::string& loc);
};

std::optional<JsonPath> Builder::Path(const JsonObject& o, std::string_view field,
                                      const std::string& loc, bool* is_null, bool reference) {
  const Json* v = o.if_contains(field);
  if (!v) return std::nullopt;
  std::string l = loc + "/" + std::string(field);
  if (v->is_null()) {
    if (is_null) {
      *is_null = true;
    } else {
      Schema(l, fmt::format("The value for the field '{}' must be a STRING", field));
    }
    return std::nullopt;
  }
  if (!v->is_string()) {
    Schema(l, fmt::format("The value for the field '{}' must be a STRING", field));
    return std::nullopt;
  }
  auto p = JsonPath::Parse(v->get_string());
  if (!p.ok()) {
    Error("INVALID_JSON_PATH", l,
          fmt::format("The value for the field '{}' must be a valid JSONPath: {}", field,
                      std::string(v->get_string())));
    return std::nullopt;
  }
  if (reference && (!p->definite() || p->root() != JsonPath::Root::kInput)) {
    Error("INVALID_JSON_PATH", l,
          fmt::format("The value for the field '{}' must be a valid ReferencePath: {}", field,
                      std::string(v->get_string())));
    return std::nullopt;
  }
  return *std::move(p);
}

ResultPathSpec Builder::ResultPath(const JsonObject& o, const std::string& loc) {
  ResultPathSpec spec;
  bool null = false;
  spec.path = Path(o, "ResultPath", loc, &null, /*reference=*/true);
  spec.discard = null;
  if (spec.path && spec.path->is_root()) spec.path.reset();
  return spec;
}

std::optional<Template> Builder::Tpl(const JsonObject& o, std::string_view field,
                                     const std::string& loc, bool jsonata) {
  const Json* v = o.if_contains(field);
  if (!v) return std::nullopt;
  Errors errors;
  std::string l = loc + "/" + std::string(field);
  Template t = jsonata ? CompileJsonataTemplate(*v, l, errors) : CompileTemplate(*v, l, errors);
  Flush(errors, jsonata ? "INVALID_JSONATA" : "SCHEMA_VALIDATION_FAILED");
  return t;
}

std::optional<Template> Builder::PathOrIntrinsic(const Json& v, const std::string& loc) {
  if (!v.is_string()) {
    Schema(loc, "The value must be a STRING with a JSONPath or an intrinsic function");
    return std::nullopt;
  }
  JsonObject wrapper;
  wrapper["v.$"] = v;
  Errors errors;
  Template t = CompileTemplate(Json(std::move(wrapper)), loc, errors);
  if (!errors.empty()) {
    Error("INVALID_JSON_PATH", loc, errors.front().second);
    return std::nullopt;
  }
  Template inner = std::move(t.fields[0].second);
  inner.source = loc.substr(loc.rfind('/') + 1);
  return inner;
}

NumberSource Builder::Number(const JsonObject& o, std::string_view field, const std::string& loc,
                             bool jsonata, bool integer, double min, double max) {
  NumberSource src;
  std::string l = loc + "/" + std::string(field);
  if (const Json* v = o.if_contains(field)) {
    if (jsonata && v->is_string()) {
      src.expr = Tpl(o, field, loc, true);
    } else if (!v->is_number() || (integer && !AsInteger(*v))) {
      Schema(l, fmt::format("The value for the field '{}' must be {}", field,
                            integer ? "an INTEGER" : "a NUMBER"));
    } else if (AsDouble(*v) < min || AsDouble(*v) > max) {
      Schema(l, fmt::format("The value for the field '{}' must be between {} and {}", field, min,
                            max));
    } else {
      src.value = AsDouble(*v);
    }
  }
  std::string path_field = std::string(field) + "Path";
  if (o.contains(path_field)) {
    if (src.present()) {
      Schema(loc,
             fmt::format("These fields cannot be specified together: [{}, {}]", field, path_field));
    }
    src.path = Path(o, path_field, loc, nullptr);
  }
  return src;
}

std::vector<std::string> Builder::ErrorEquals(const JsonObject& o, const std::string& loc) {
  std::vector<std::string> out;
  const Json* v = o.if_contains("ErrorEquals");
  if (!v) {
    Schema(loc, "These fields are required: [ErrorEquals]");
    return out;
  }
  if (!v->is_array() || v->get_array().empty()) {
    Schema(loc + "/ErrorEquals", "The field 'ErrorEquals' must be a non-empty array of STRINGs");
    return out;
  }
  const auto& a = v->get_array();
  for (size_t i = 0; i < a.size(); ++i) {
    std::string l = loc + "/ErrorEquals/" + std::to_string(i);
    if (!a[i].is_string()) {
      Schema(l, "The value must be a STRING");
      continue;
    }
    std::string name(a[i].get_string());
    if (name.starts_with("States.") && !kPredefinedErrors.contains(name)) {
      Schema(l, fmt::format("'{}' is not a predefined error name", name));
    }
    if (name == "States.ALL" && a.size() > 1) {
      Schema(l, "States.ALL must appear alone in ErrorEquals");
    }
    out.push_back(std::move(name));
  }
  return out;
}

int Builder::Target(const Json* v, const std::string& loc, const Scope& scope) {
  if (!v->is_string()) {
    Schema(loc, "The value must be a STRING naming a state");
    return -1;
  }
  auto it = scope.index.find(std::string(v->get_string()));
  if (it == scope.index.end()) {
    Error("MISSING_TRANSITION_TARGET", loc,
          fmt::format("Missing 'Next' target: {}", std::string(v->get_string())));
    return -1;
  }
  return it->second;
}

bool Builder::BuildRule(ChoiceRule& rule, const Json& node, const std::string& loc, bool top,
                        bool jsonata, const Scope& scope) {
  if (!node.is_object()) {
    Schema(loc, "A choice rule must be an OBJECT");
    return false;
  }
  const JsonObject& o = node.get_object();
  if (top) {
    if (const Json* n = o.if_contains("Next")) {
      rule.next = Target(n, loc + "/Next", scope);
    } else {
      Schema(loc, "These fields are required: [Next]");
    }
    rule.assign = Tpl(o, "Assign", loc, jsonata);
    if (jsonata) rule.output = Tpl(o, "Output", loc, true);
  } else if (o.contains("Next")) {
    Schema(loc + "/Next", "Next is only allowed in a top-level choice rule");
  }
  if (jsonata) {
    for (const auto& [k, v] : o) {
      if (k != "Condition" && k != "Next" && k != "Assign" && k != "Output" && k != "Comment") {
        Schema(loc + "/" + std::string(k),
               fmt::format("The field '{}' is not supported in a JSONata choice rule",
                           std::string(k)));
      }
    }
    const Json* c = o.if_contains("Condition");
    if (!c) {
      Schema(loc, "These fields are required: [Condition]");
      return false;
    }
    rule.op = ChoiceRule::kCondition;
    std::string_view inner;
    if (c->is_bool()) {
      rule.operand = *c;
      return true;
    }
    if (!c->is_string() || !IsJsonataExpression(c->get_string(), &inner)) {
      Schema(loc + "/Condition", "The Condition must be a JSONata expression {% ... %}");
      return false;
    }
    auto expr = ParseJsonata(inner);
    if (!expr.ok()) {
      Error("INVALID_JSONATA", loc + "/Condition", std::string(expr.status().message()));
      return false;
    }
    rule.condition = *std::move(expr);
    return true;
  }
  int ops = 0;
  for (const char* boolean : {"And", "Or", "Not"}) {
    const Json* v = o.if_contains(boolean);
    if (!v) continue;
    ++ops;
    std::string l = loc + "/" + boolean;
    if (std::string_view(boolean) == "Not") {
      rule.op = ChoiceRule::kNot;
      rule.children.emplace_back();
      BuildRule(rule.children.back(), *v, l, false, false, scope);
    } else {
      rule.op = std::string_view(boolean) == "And" ? ChoiceRule::kAnd : ChoiceRule::kOr;
      if (!v->is_array() || v->get_array().empty()) {
        Schema(l, fmt::format("The field '{}' must be a non-empty ARRAY of rules", boolean));
        continue;
      }
      for (size_t i = 0; i < v->get_array().size(); ++i) {
        rule.children.emplace_back();
        BuildRule(rule.children.back(), v->get_array()[i], l + "/" + std::to_string(i), false,
                  false, scope);
      }
    }
  }
  for (const OpInfo& info : kOps) {
    const Json* v = o.if_contains(info.name);
    if (!v) continue;
    ++ops;
    std::string l = loc + "/" + info.name;
    rule.op = info.op;
    rule.operand_is_path = info.path;
    if (info.path) {
      rule.operand_path = Path(o, info.name, loc, nullptr);
      continue;
    }
    bool ok = true;
    switch (info.kind) {
      case 's':
      case 'm':
        ok = v->is_string();
        break;
      case 'n':
        ok = v->is_number();
        break;
      case 'b':
      case 'i':
        ok = v->is_bool();
        break;
      case 't':
        ok = v->is_string() && ParseTimestamp(v->get_string()).has_value();
        break;
    }
    if (!ok) {
      const char* want = info.kind == 'n'                         ? "a NUMBER"
                         : (info.kind == 'b' || info.kind == 'i') ? "a BOOLEAN"
                         : info.kind == 't' ? "a STRING with an RFC 3339 timestamp"
                                            : "a STRING";
      Schema(l, fmt::format("The value for the field '{}' must be {}", info.name, want));
      continue;
    }
    rule.operand = *v;
    if (info.kind == 't') rule.timestamp = ParseTimestamp(v->get_string());
  }
  bool is_boolean_rule =
      rule.op == ChoiceRule::kAnd || rule.op == ChoiceRule::kOr || rule.op == ChoiceRule::kNot;
  if (ops == 0) {
    Schema(loc, "A choice rule needs a comparison operator or And, Or, Not");
    return false;
  }
  if (ops > 1) {
    Schema(loc, "A choice rule has exactly one comparison operator or And, Or, Not");
  }
  if (!is_boolean_rule) {
    if (!o.contains("Variable")) {
      Schema(loc, "These fields are required: [Variable]");
    } else {
      rule.variable = Path(o, "Variable", loc, nullptr);
    }
  } else if (o.contains("Variable")) {
    Schema(loc + "/Variable", "Variable is not allowed with And, Or, Not");
  }
  for (const auto& [k, v] : o) {
    std::string key(k);
    bool known = key == "Variable" || key == "Next" || key == "Comment" || key == "And" ||
                 key == "Or" || key == "Not" || (top && key == "Assign");
    for (const OpInfo& info : kOps) known = known || key == info.name;
    if (!known) {
      Schema(loc + "/" + key,
             fmt::format("The field '{}' is not supported by Step Functions", key));
    }
  }
  return true;
}

const std::set<std::string, std::less<>>& AllowedFields(StateType t) {
  static const auto* fields = new std::map<StateType, std::set<std::string, std::less<>>>{
      {StateType::kPass,
       {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result", "Assign",
        "Output"}},
      {StateType::kTask,
       {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath",
        "Retry", "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds",
        "HeartbeatSecondsPath", "Credentials", "Arguments", "Output", "Assign"}},
      {StateType::kChoice, {"Choices", "Default", "InputPath", "OutputPath", "Assign", "Output"}},
      {StateType::kWait,
       {"Next", "End", "InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath",
        "TimestampPath", "Assign", "Output"}},
      {StateType::kSucceed, {"InputPath", "OutputPath", "Output"}},
      {StateType::kFail, {"Error", "Cause", "ErrorPath", "CausePath"}},
      {StateType::kParallel,
       {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath",
        "Retry", "Catch", "Branches", "Arguments", "Output", "Assign"}},
      {StateType::kMap,
       {"Next",
        "End",
        "InputPath",
        "OutputPath",
        "Parameters",
        "ItemSelector",
        "ResultSelector",
        "ResultPath",
        "Retry",
        "Catch",
        "ItemsPath",
        "Items",
        "ItemProcessor",
        "Iterator",
        "MaxConcurrency",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "Label",
        "Arguments",
        "Output",
        "Assign"}},
  };
  return fields->at(t);
}

const std::set<std::string, std::less<>> kJsonPathOnly = {"InputPath",
                                                          "OutputPath",
                                                          "Parameters",
                                                          "ResultSelector",
                                                          "ResultPath",
                                                          "Result",
                                                          "TimeoutSecondsPath",
                                                          "HeartbeatSecondsPath",
                                                          "SecondsPath",
                                                          "TimestampPath",
                                                          "ErrorPath",
                                                          "CausePath",
                                                          "ItemsPath",
                                                          "MaxConcurrencyPath",
                                                          "ToleratedFailurePercentagePath",
                                                          "ToleratedFailureCountPath"};
const std::set<std::string, std::less<>> kJsonataOnly = {"Arguments", "Output", "Items"};

void Builder::BuildState(State& s, const JsonObject& o, const std::string& loc, const Scope& scope,
                         int depth) {
  const auto& allowed = AllowedFields(s.type);
  for (const auto& [k, v] : o) {
    std::string key(k);
    if (key == "Type" || key == "Comment" || key == "QueryLanguage") continue;
    if (!allowed.contains(key)) {
      Schema(loc + "/" + key, fmt::format("The field '{}' is not supported by Step Functions for "
                                          "a state of type '{}'",
                                          key, StateTypeName(s.type)));
    } else if (s.jsonata && kJsonPathOnly.contains(key)) {
      Schema(loc + "/" + key,
             fmt::format("The field '{}' is not supported when QueryLanguage is JSONata", key));
    } else if (!s.jsonata && kJsonataOnly.contains(key)) {
      Schema(loc + "/" + key,
             fmt::format("The field '{}' is only supported when QueryLanguage is JSONata", key));
    }
  }
  if (const Json* c = o.if_contains("Comment"); c && c->is_string()) s.comment = c->get_string();

  // Transitions.
  bool terminal_type =
      s.type == StateType::kChoice || s.type == StateType::kSucceed || s.type == StateType::kFail;
  if (!terminal_type) {
    const Json* next = o.if_contains("Next");
    const Json* end = o.if_contains("End");
    if (next && end) {
      Schema(loc, "These fields cannot be specified together: [Next, End]");
    } else if (!next && !end) {
      Schema(loc, "These fields are required: [Next or End]");
    }
    if (next) s.next = Target(next, loc + "/Next", scope);
    if (end) {
      if (!end->is_bool() || !end->get_bool()) {
        Schema(loc + "/End", "The value for the field 'End' must be true");
      } else {
        s.end = true;
      }
    }
  }

  // Data flow.
  if (!s.jsonata) {
    s.input_path = Path(o, "InputPath", loc, &s.input_path_null);
    if (s.type != StateType::kFail) s.output_path = Path(o, "OutputPath", loc, &s.output_path_null);
    s.result_path = ResultPath(o, loc);
    if (s.type == StateType::kMap) {
      if (o.contains("ItemSelector") && o.contains("Parameters")) {
        Schema(loc, "These fields cannot be specified together: [ItemSelector, Parameters]");
      }
      s.parameters = Tpl(o, o.contains("ItemSelector") ? "ItemSelector" : "Parameters", loc, false);
    } else {
      s.parameters = Tpl(o, "Parameters", loc, false);
    }
    s.result_selector = Tpl(o, "ResultSelector", loc, false);
    if (const Json* r = o.if_contains("Result")) s.result = *r;
  } else {
    s.arguments = Tpl(o, "Arguments", loc, true);
    s.output = Tpl(o, "Output", loc, true);
    if (s.type == StateType::kMap) s.parameters = Tpl(o, "ItemSelector", loc, true);
  }
  if (const Json* a = o.if_contains("Assign")) {
    if (!a->is_object()) {
      Schema(loc + "/Assign", "The value for the field 'Assign' must be an OBJECT");
    } else {
      for (const auto& [k, v] : a->get_object()) {
        std::string name(k);
        if (name.ends_with(".$")) name.resize(name.size() - 2);
        if (name.empty() || name == "states" ||
            !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
          Schema(loc + "/Assign/" + std::string(k),
                 fmt::format("'{}' is not a valid variable name", name));
        }
      }
      s.assign = Tpl(o, "Assign", loc, s.jsonata);
    }
  }

  // Retry and Catch.
  if (const Json* r = o.if_contains("Retry")) {
    if (!r->is_array()) {
      Schema(loc + "/Retry", "The value for the field 'Retry' must be an ARRAY");
    } else {
      for (size_t i = 0; i < r->get_array().size(); ++i) {
        std::string l = loc + "/Retry/" + std::to_string(i);
        const Json& node = r->get_array()[i];
        if (!node.is_object()) {
          Schema(l, "A retrier must be an OBJECT");
          continue;
        }
        const JsonObject& ro = node.get_object();
        Retrier retrier;
        retrier.errors = ErrorEquals(ro, l);
        if (!retrier.errors.empty() && retrier.errors[0] == "States.ALL" &&
            i + 1 != r->get_array().size()) {
          Schema(l + "/ErrorEquals", "A retrier with States.ALL must be the last retrier");
        }
        for (const auto& [k, v] : ro) {
          std::string key(k);
          std::string kl = l + "/" + key;
          if (key == "ErrorEquals" || key == "Comment") continue;
          if (key == "IntervalSeconds") {
            if (!AsInteger(v) || AsDouble(v) < 1 || AsDouble(v) > 99999999) {
              Schema(kl, "IntervalSeconds must be an INTEGER between 1 and 99999999");
            } else {
              retrier.interval_seconds = AsDouble(v);
            }
          } else if (key == "MaxAttempts") {
            if (!AsInteger(v) || AsDouble(v) < 0 || AsDouble(v) > 99999999) {
              Schema(kl, "MaxAttempts must be an INTEGER between 0 and 99999999");
            } else {
              retrier.max_attempts = *AsInteger(v);
            }
          } else if (key == "BackoffRate") {
            if (!v.is_number() || AsDouble(v) < 1) {
              Schema(kl, "BackoffRate must be a NUMBER of at least 1.0");
            } else {
              retrier.backoff_rate = AsDouble(v);
            }
          } else if (key == "MaxDelaySeconds") {
            if (!AsInteger(v) || AsDouble(v) < 1 || AsDouble(v) > 31622401) {
              Schema(kl, "MaxDelaySeconds must be an INTEGER between 1 and 31622401");
            } else {
              retrier.max_delay_seconds = AsDouble(v);
            }
          } else if (key == "JitterStrategy") {
            if (!v.is_string() || (v.get_string() != "FULL" && v.get_string() != "NONE")) {
              Schema(kl, "JitterStrategy must be FULL or NONE");
            } else {
              retrier.full_jitter = v.get_string() == "FULL";
            }
          } else {
            Schema(kl, fmt::format("The field '{}' is not supported in a retrier", key));
          }
        }
        s.retry.push_back(std::move(retrier));
      }
    }
  }
  if (const Json* c = o.if_contains("Catch")) {
    if (!c->is_array()) {
      Schema(loc + "/Catch", "The value for the field 'Catch' must be an ARRAY");
    } else {
      for (size_t i = 0; i < c->get_array().size(); ++i) {
        std::string l = loc + "/Catch/" + std::to_string(i);
        const Json& node = c->get_array()[i];
        if (!node.is_object()) {
          Schema(l, "A catcher must be an OBJECT");
          continue;
        }
        const JsonObject& co = node.get_object();
        Catcher catcher;
        catcher.errors = ErrorEquals(co, l);
        if (!catcher.errors.empty() && catcher.errors[0] == "States.ALL" &&
            i + 1 != c->get_array().size()) {
          Schema(l + "/ErrorEquals", "A catcher with States.ALL must be the last catcher");
        }
        if (const Json* n = co.if_contains("Next")) {
          catcher.next = Target(n, l + "/Next", scope);
        } else {
          Schema(l, "These fields are required: [Next]");
        }
        for (const auto& [k, v] : co) {
          std::string key(k);
          bool ok = key == "ErrorEquals" || key == "Next" || key == "Comment" || key == "Assign" ||
                    (!s.jsonata && key == "ResultPath") || (s.jsonata && key == "Output");
          if (!ok) {
            Schema(l + "/" + key, fmt::format("The field '{}' is not supported in a catcher", key));
          }
        }
        if (!s.jsonata) catcher.result_path = ResultPath(co, l);
        if (s.jsonata) catcher.output = Tpl(co, "Output", l, true);
        catcher.assign = Tpl(co, "Assign", l, s.jsonata);
        s.catches.push_back(std::move(catcher));
      }
    }
  }

  switch (s.type) {
    case StateType::kTask: {
      const Json* r = o.if_contains("Resource");
      if (!r) {
        Schema(loc, "These fields are required: [Resource]");
      } else if (!r->is_string() || !r->get_string().starts_with("arn:")) {
        Error("INVALID_RESOURCE", loc + "/Resource",
              "The value for the field 'Resource' must be an ARN");
      } else {
        s.resource = r->get_string();
      }
      s.timeout_seconds = Number(o, "TimeoutSeconds", loc, s.jsonata, true, 1, 99999999);
      s.heartbeat_seconds = Number(o, "HeartbeatSeconds", loc, s.jsonata, true, 1, 99999999);
      if (s.timeout_seconds.value && s.heartbeat_seconds.value &&
          *s.heartbeat_seconds.value >= *s.timeout_seconds.value) {
        Schema(loc + "/HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds");
      }
      break;
    }
    case StateType::kChoice: {
      const Json* c = o.if_contains("Choices");
      if (!c || !c->is_array() || c->get_array().empty()) {
        Schema(c ? loc + "/Choices" : loc,
               c ? "Choices must be a non-empty ARRAY" : "These fields are required: [Choices]");
      } else {
        for (size_t i = 0; i < c->get_array().size(); ++i) {
          s.choices.emplace_back();
          BuildRule(s.choices.back(), c->get_array()[i], loc + "/Choices/" + std::to_string(i),
                    true, s.jsonata, scope);
        }
      }
      if (const Json* d = o.if_contains("Default"))
        s.default_next = Target(d, loc + "/Default", scope);
      break;
    }
    case StateType::kWait: {
      int count = 0;
      for (const char* f : {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"}) {
        count += o.contains(f) ? 1 : 0;
      }
      if (count != 1) {
        Schema(loc,
               "A Wait state needs exactly one of Seconds, Timestamp, SecondsPath, "
               "TimestampPath");
      }
      s.wait_seconds = Number(o, "Seconds", loc, s.jsonata, true, 0, 99999999);
      if (const Json* t = o.if_contains("Timestamp")) {
        std::string_view inner;
        if (s.jsonata && t->is_string() && IsJsonataExpression(t->get_string(), &inner)) {
          s.wait_timestamp_expr = Tpl(o, "Timestamp", loc, true);
        } else if (!t->is_string() || !ParseTimestamp(t->get_string())) {
          Schema(loc + "/Timestamp",
                 "The value for the field 'Timestamp' must be an RFC 3339 timestamp "
                 "(2016-03-14T01:59:00Z)");
        } else {
          s.wait_timestamp = ParseTimestamp(t->get_string());
        }
      }
      s.wait_timestamp_path = Path(o, "TimestampPath", loc, nullptr);
      break;
    }
    case StateType::kFail: {
      for (auto [field, value, expr] : {std::tuple{"Error", &s.error, &s.error_expr},
                                        std::tuple{"Cause", &s.cause, &s.cause_expr}}) {
        std::string path_field = std::string(field) + "Path";
        const Json* v = o.if_contains(field);
        const Json* p = o.if_contains(path_field);
        if (v && p) {
          Schema(loc, fmt::format("These fields cannot be specified together: [{}, {}]", field,
                                  path_field));
        }
        std::string_view inner;
        if (v && v->is_string() && s.jsonata && IsJsonataExpression(v->get_string(), &inner)) {
          *expr = Tpl(o, field, loc, true);
        } else if (v && !v->is_string()) {
          Schema(loc + "/" + field,
                 fmt::format("The value for the field '{}' must be a STRING", field));
        } else if (v) {
          *value = std::string(v->get_string());
        }
        if (p) *expr = PathOrIntrinsic(*p, loc + "/" + path_field);
      }
      break;
    }
    case StateType::kParallel: {
      const Json* b = o.if_contains("Branches");
      if (!b || !b->is_array() || b->get_array().empty()) {
        Schema(b ? loc + "/Branches" : loc,
               b ? "Branches must be a non-empty ARRAY" : "These fields are required: [Branches]");
        break;
      }
      for (size_t i = 0; i < b->get_array().size(); ++i) {
        auto branch = BuildScope(b->get_array()[i], loc + "/Branches/" + std::to_string(i),
                                 s.jsonata, depth + 1);
        if (branch) s.branches.push_back(std::move(branch));
      }
      break;
    }
    case StateType::kMap: {
      const Json* proc = o.if_contains("ItemProcessor");
      const char* proc_name = "ItemProcessor";
      if (!proc) {
        proc = o.if_contains("Iterator");
        proc_name = "Iterator";
      }
      if (!proc) {
        Schema(loc, "These fields are required: [ItemProcessor]");
        break;
      }
      if (o.contains("ItemProcessor") && o.contains("Iterator")) {
        Schema(loc, "These fields cannot be specified together: [ItemProcessor, Iterator]");
      }
      if (proc->is_object()) {
        if (const Json* cfg = proc->get_object().if_contains("ProcessorConfig");
            cfg && cfg->is_object()) {
          if (const Json* mode = cfg->get_object().if_contains("Mode")) {
            if (!mode->is_string() ||
                (mode->get_string() != "INLINE" && mode->get_string() != "DISTRIBUTED")) {
              Schema(loc + "/" + proc_name + "/ProcessorConfig/Mode",
                     "Mode must be INLINE or DISTRIBUTED");
            } else {
              s.distributed = mode->get_string() == "DISTRIBUTED";
            }
          }
        }
      }
      s.processor = BuildScope(*proc, loc + "/" + proc_name, s.jsonata, depth + 1);
      if (!s.jsonata) s.items_path = Path(o, "ItemsPath", loc, nullptr);
      if (s.jsonata && o.contains("Items")) s.items_expr = Tpl(o, "Items", loc, true);
      s.max_concurrency = Number(o, "MaxConcurrency", loc, s.jsonata, true, 0, 1e12);
      s.tolerated_failure_count = Number(o, "ToleratedFailureCount", loc, s.jsonata, true, 0, 1e12);
      s.tolerated_failure_percentage =
          Number(o, "ToleratedFailurePercentage", loc, s.jsonata, false, 0, 100);
      if (const Json* label = o.if_contains("Label"); label && label->is_string()) {
        s.label = label->get_string();
      }
      if (o.contains("ItemReader") || o.contains("ResultWriter") || o.contains("ItemBatcher")) {
        Error("UNSUPPORTED_FEATURE", loc,
              "ItemReader, ItemBatcher and ResultWriter (distributed Map over S3) are not "
              "supported by courier");
      }
      break;
    }
    default:
      break;
  }
}

std::shared_ptr<Scope> Builder::BuildScope(const Json& node, const std::string& loc, bool jsonata,
                                           int depth) {
  if (!node.is_object()) {
    Schema(loc, "The value must be an OBJECT with StartAt and States");
    return nullptr;
  }
  const JsonObject& o = node.get_object();
  auto scope = std::make_shared<Scope>();
  scope->location = loc;
  scope->depth = depth;
  for (const auto& [k, v] : o) {
    std::string key(k);
    bool ok =
        key == "StartAt" || key == "States" || key == "Comment" ||
        (depth == 0 && (key == "Version" || key == "TimeoutSeconds" || key == "QueryLanguage")) ||
        (depth > 0 && key == "ProcessorConfig");
    if (!ok) {
      Schema(loc + "/" + key,
             fmt::format("The field '{}' is not supported by Step Functions", key));
    }
  }
  const Json* states = o.if_contains("States");
  if (!states || !states->is_object() || states->get_object().empty()) {
    Schema(states ? loc + "/States" : loc,
           states ? "States must be a non-empty OBJECT" : "These fields are required: [States]");
    return nullptr;
  }
  // Names first, so that transitions can refer forward.
  for (const auto& [k, v] : states->get_object()) {
    int idx = static_cast<int>(scope->states.size());
    State& s = scope->states.emplace_back();
    s.name = std::string(k);
    s.index = idx;
    scope->index.emplace(s.name, idx);
    if (s.name.empty() || s.name.size() > 80) {
      Schema(loc + "/States/" + s.name, "State names must be 1 to 80 characters long");
    }
  }
  const Json* start = o.if_contains("StartAt");
  if (!start || !start->is_string()) {
    Schema(start ? loc + "/StartAt" : loc,
           start ? "The value for the field 'StartAt' must be a STRING"
                 : "These fields are required: [StartAt]");
  } else if (auto it = scope->index.find(std::string(start->get_string()));
             it == scope->index.end()) {
    Error("MISSING_TRANSITION_TARGET", loc + "/StartAt",
          fmt::format("Missing 'StartAt' target: {}", std::string(start->get_string())));
  } else {
    scope->start = it->second;
  }
  size_t i = 0;
  for (const auto& [k, v] : states->get_object()) {
    State& s = scope->states[i++];
    std::string sloc = loc + "/States/" + s.name;
    if (!v.is_object()) {
      Schema(sloc, "A state must be an OBJECT");
      continue;
    }
    const JsonObject& so = v.get_object();
    const Json* type = so.if_contains("Type");
    static const std::pair<const char*, StateType> kTypes[] = {
        {"Pass", StateType::kPass},         {"Task", StateType::kTask},
        {"Choice", StateType::kChoice},     {"Wait", StateType::kWait},
        {"Succeed", StateType::kSucceed},   {"Fail", StateType::kFail},
        {"Parallel", StateType::kParallel}, {"Map", StateType::kMap}};
    bool known = false;
    if (type && type->is_string()) {
      for (auto [name, t] : kTypes) {
        if (type->get_string() == name) {
          s.type = t;
          known = true;
        }
      }
    }
    if (!known) {
      if (!type) {
        Schema(sloc, "These fields are required: [Type]");
      } else {
        Schema(sloc + "/Type",
               "The value for the field 'Type' must be one of Pass, Task, Choice, "
               "Wait, Succeed, Fail, Parallel, Map");
      }
      continue;
    }
    s.jsonata = jsonata;
    if (const Json* ql = so.if_contains("QueryLanguage")) {
      if (!ql->is_string() || (ql->get_string() != "JSONPath" && ql->get_string() != "JSONata")) {
        Schema(sloc + "/QueryLanguage", "QueryLanguage must be JSONPath or JSONata");
      } else if (jsonata && ql->get_string() == "JSONPath") {
        Schema(sloc + "/QueryLanguage",
               "A state cannot use JSONPath when the state machine uses JSONata");
      } else {
        s.jsonata = ql->get_string() == "JSONata";
      }
    }
    BuildState(s, so, sloc, *scope, depth);
  }
  // Reachability from StartAt.
  std::vector<bool> seen(scope->states.size());
  std::deque<int> todo{scope->start};
  auto push = [&](int t) {
    if (t >= 0 && !seen[t]) todo.push_back(t);
  };
  while (!todo.empty()) {
    int at = todo.front();
    todo.pop_front();
    if (seen[at]) continue;
    seen[at] = true;
    const State& s = scope->states[at];
    push(s.next);
    push(s.default_next);
    for (const auto& r : s.choices) push(r.next);
    for (const auto& c : s.catches) push(c.next);
  }
  bool has_end = false;
  for (const State& s : scope->states) {
    if (!seen[s.index]) {
      Error("UNREACHABLE_STATE", loc + "/States/" + s.name,
            fmt::format("State '{}' is not reachable", s.name));
    }
    has_end = has_end || s.end || s.type == StateType::kSucceed || s.type == StateType::kFail ||
              s.type == StateType::kChoice;
  }
  if (!has_end) Error("MISSING_END_STATE", loc, "Workflow has no terminal state");
  return scope;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Plan>> BuildPlan(
    std::string_view definition, std::vector<ValidationDiagnostic>* diagnostics) {
  Builder b;
  auto plan = std::make_shared<Plan>();
  auto parsed = ParseJson(definition);
  if (!parsed.ok()) {
    b.Error("INVALID_JSON_DESCRIPTION", "/", std::string(parsed.status().message()));
  } else if (!parsed->is_object()) {
    b.Error("INVALID_JSON_DESCRIPTION", "/", "The definition must be a JSON object");
  } else {
    plan->definition = *std::move(parsed);
    const JsonObject& o = plan->definition.get_object();
    if (const Json* ql = o.if_contains("QueryLanguage")) {
      if (!ql->is_string() || (ql->get_string() != "JSONPath" && ql->get_string() != "JSONata")) {
        b.Schema("/QueryLanguage", "QueryLanguage must be JSONPath or JSONata");
      } else {
        plan->jsonata = ql->get_string() == "JSONata";
      }
    }
    if (const Json* t = o.if_contains("TimeoutSeconds")) {
      if (!AsInteger(*t) || AsDouble(*t) < 1 || AsDouble(*t) > 99999999) {
        b.Schema("/TimeoutSeconds", "TimeoutSeconds must be an INTEGER between 1 and 99999999");
      } else {
        plan->timeout_seconds = *AsInteger(*t);
      }
    }
    if (const Json* v = o.if_contains("Version"); v && !v->is_string()) {
      b.Schema("/Version", "The value for the field 'Version' must be a STRING");
    }
    if (const Json* c = o.if_contains("Comment"); c && c->is_string())
      plan->comment = c->get_string();
    plan->root = b.BuildScope(plan->definition, "", plan->jsonata, 0);
  }
  if (diagnostics) *diagnostics = b.diags;
  if (!b.diags.empty()) {
    const auto& d = b.diags.front();
    return AwsErrorF("InvalidDefinition", "Invalid State Machine Definition: '{}: {} at {}'",
                     d.code, d.message, d.location);
  }
  return std::shared_ptr<const Plan>(std::move(plan));
}

}  // namespace courier::states_internal

namespace courier {

ValidationResult ValidateStateMachineDefinition(std::string_view definition) {
  ValidationResult result;
  (void)states_internal::BuildPlan(definition, &result.diagnostics);
  result.result = result.diagnostics.empty() ? "OK" : "FAIL";
  return result;
}

}  // namespace courier
