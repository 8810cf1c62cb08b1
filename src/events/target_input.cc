// Target input (spec §9). A template is split once into literal text and placeholders, each
// placeholder tagged with where it stands, because EventBridge writes a value differently there:
//   in a JSON template, outside quotes: the value as JSON (a string gets its quotes);
//   in a JSON template, inside quotes:  a string's characters, escaped; other values as JSON text;
//   in a text template:                 a string's characters as they are; other values as JSON.
// A path that selects nothing gives null outside quotes and nothing elsewhere.
#include "events/target_input.h"

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <fmt/format.h>

#include <utility>
#include <vector>

#include "courier/status.h"
#include "events/bus_state.h"

namespace courier::events_internal {
namespace {

constexpr size_t kMaxPaths = 100;
constexpr size_t kMaxPathLength = 256;
constexpr size_t kMaxTemplateLength = 8192;

// EventBridge's JSON paths: `$`, `.name`, `.*`, `[n]` and `[*]`.
class EventPath {
 public:
  static absl::StatusOr<EventPath> Parse(std::string_view text, std::string_view member) {
    auto invalid = [&](std::string_view why) {
      return AwsErrorF("ValidationException", "Parameter {} is not valid. Reason: {} ({})", member,
                       why, text);
    };
    if (text.empty() || text.size() > kMaxPathLength) {
      return invalid("a path is 1 to 256 characters");
    }
    if (text[0] != '$') return invalid("a path starts with $");
    EventPath path;
    size_t i = 1;
    while (i < text.size()) {
      if (text[i] == '.') {
        size_t end = i + 1;
        while (end < text.size() && text[end] != '.' && text[end] != '[') ++end;
        std::string_view name = text.substr(i + 1, end - i - 1);
        if (name.empty()) return invalid("an empty field name");
        for (char c : name) {
          if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == ']') {
            return invalid("a field name holds a space or ]");
          }
        }
        path.steps_.push_back(name == "*" ? Step{.kind = Step::kAny}
                                          : Step{.name = std::string(name)});
        i = end;
      } else if (text[i] == '[') {
        size_t close = text.find(']', i);
        if (close == std::string_view::npos) return invalid("an unclosed [");
        std::string_view inside = text.substr(i + 1, close - i - 1);
        if (inside == "*") {
          path.steps_.push_back({.kind = Step::kAny});
        } else {
          if (inside.empty() || inside.size() > 9) return invalid("an index is a number");
          size_t index = 0;
          for (char c : inside) {
            if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
              return invalid("an index is a number");
            }
            index = index * 10 + static_cast<size_t>(c - '0');
          }
          path.steps_.push_back({.kind = Step::kIndex, .index = index});
        }
        i = close + 1;
      } else {
        return invalid("steps are .name, .*, [n] or [*]");
      }
    }
    return path;
  }

  // The selected value; with a wildcard, an array of every match. Nullopt when none.
  std::optional<Json> Select(const Json& doc) const {
    if (!HasWildcard()) {
      const Json* v = &doc;
      for (const Step& s : steps_) {
        v = Child(*v, s);
        if (v == nullptr) return std::nullopt;
      }
      return *v;
    }
    JsonArray matches;
    Collect(doc, 0, matches);
    return Json(std::move(matches));
  }

 private:
  struct Step {
    enum Kind { kField, kIndex, kAny } kind = kField;
    std::string name;
    size_t index = 0;
  };

  bool HasWildcard() const {
    for (const Step& s : steps_) {
      if (s.kind == Step::kAny) return true;
    }
    return false;
  }

  static const Json* Child(const Json& v, const Step& s) {
    if (s.kind == Step::kField) {
      const JsonObject* o = v.if_object();
      if (o == nullptr) return nullptr;
      auto it = o->find(s.name);
      return it == o->end() ? nullptr : &it->value();
    }
    const JsonArray* a = v.if_array();
    return a != nullptr && s.index < a->size() ? &(*a)[s.index] : nullptr;
  }

  void Collect(const Json& v, size_t step, JsonArray& out) const {
    if (step == steps_.size()) {
      out.push_back(v);
      return;
    }
    const Step& s = steps_[step];
    if (s.kind != Step::kAny) {
      if (const Json* c = Child(v, s)) Collect(*c, step + 1, out);
    } else if (const JsonObject* o = v.if_object()) {
      for (const auto& member : *o) Collect(member.value(), step + 1, out);
    } else if (const JsonArray* a = v.if_array()) {
      for (const Json& element : *a) Collect(element, step + 1, out);
    }
  }

  std::vector<Step> steps_;
};

// A template's variable: a path of InputPathsMap or one of the predefined ones.
enum class Predefined { kNone, kRuleArn, kRuleName, kIngestionTime, kEvent, kEventJson };

Predefined PredefinedNamed(std::string_view name) {
  if (name == "aws.events.rule-arn") return Predefined::kRuleArn;
  if (name == "aws.events.rule-name") return Predefined::kRuleName;
  if (name == "aws.events.event.ingestion-time") return Predefined::kIngestionTime;
  if (name == "aws.events.event") return Predefined::kEvent;
  if (name == "aws.events.event.json") return Predefined::kEventJson;
  return Predefined::kNone;
}

bool IsVariableNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

enum class Place { kText, kJsonValue, kJsonString };

struct Piece {
  std::string literal;  // written before the placeholder
  int variable = -1;    // -1: no placeholder (the last piece)
  Place place = Place::kText;
};

// The characters of `s` as they stand inside a JSON string.
void AppendEscaped(std::string_view s, std::string& out) {
  std::string quoted;
  AppendJsonText(Json(s), quoted);
  out.append(quoted, 1, quoted.size() - 2);
}

void AppendValue(const std::optional<Json>& value, Place place, std::string& out) {
  if (!value) {
    if (place == Place::kJsonValue) out += "null";
    return;
  }
  const boost::json::string* s = value->if_string();
  switch (place) {
    case Place::kJsonValue:
      AppendJsonText(*value, out);
      return;
    case Place::kJsonString:
      if (s != nullptr) {
        AppendEscaped(*s, out);
      } else {
        AppendEscaped(ToJsonText(*value), out);
      }
      return;
    case Place::kText:
      if (s != nullptr) {
        out.append(s->data(), s->size());
      } else {
        AppendJsonText(*value, out);
      }
      return;
  }
}

}  // namespace

struct TargetInput::Compiled {
  struct Variable {
    Predefined predefined = Predefined::kNone;
    std::optional<EventPath> path;
  };
  std::optional<std::string> constant;  // Input
  std::optional<EventPath> input_path;  // InputPath
  std::vector<Variable> variables;      // InputTransformer
  std::vector<Piece> pieces;
};

namespace {

absl::Status TemplateError(std::string_view why) {
  return AwsErrorF("ValidationException", "Parameter InputTemplate is not valid. Reason: {}", why);
}

// Splits `text` into pieces; `variable_of` names a variable's index, or -1 for text that only
// looks like a placeholder (it stays literal, as EventBridge leaves it).
template <typename VariableOf>
absl::StatusOr<std::vector<Piece>> SplitTemplate(std::string_view text, VariableOf variable_of) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  const char opening = first == std::string_view::npos ? '\0' : text[first];
  const bool json = opening == '{' || opening == '[' || opening == '"';
  std::vector<Piece> pieces(1);
  std::string probe;  // the template with stand-ins, to check that it is JSON
  bool in_string = false, string_has_placeholder = false;
  auto next_is_colon = [&](size_t from) {
    while (from < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[from]))) {
      ++from;
    }
    return from < text.size() && text[from] == ':';
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (json && in_string && c == '\\' && i + 1 < text.size()) {
      pieces.back().literal.append(text.substr(i, 2));
      probe.append(text.substr(i, 2));
      ++i;
      continue;
    }
    if (json && c == '"') {
      if (in_string && string_has_placeholder && next_is_colon(i + 1)) {
        return TemplateError("a placeholder cannot be an object key");
      }
      in_string = !in_string;
      string_has_placeholder = false;
    }
    if (c == '<') {
      size_t end = i + 1;
      while (end < text.size() && IsVariableNameChar(text[end])) ++end;
      if (end < text.size() && text[end] == '>' && end > i + 1) {
        int variable = variable_of(text.substr(i + 1, end - i - 1));
        if (variable >= 0) {
          const Place place = !json       ? Place::kText
                              : in_string ? Place::kJsonString
                                          : Place::kJsonValue;
          if (place == Place::kJsonValue && next_is_colon(end + 1)) {
            return TemplateError("a placeholder cannot be an object key");
          }
          string_has_placeholder = string_has_placeholder || in_string;
          pieces.back().variable = variable;
          pieces.back().place = place;
          pieces.emplace_back();
          probe += place == Place::kJsonValue ? "null" : "x";
          i = end;
          continue;
        }
      }
    }
    pieces.back().literal.push_back(c);
    probe.push_back(c);
  }
  if ((opening == '{' || opening == '[') && !ParseJson(probe).ok()) {
    return TemplateError("it is not valid JSON once its placeholders are filled");
  }
  return pieces;
}

}  // namespace

absl::StatusOr<TargetInput> TargetInput::Compile(const Spec& spec) {
  TargetInput out;
  if (!spec.input && !spec.input_path && !spec.input_template) return out;
  auto c = std::make_shared<Compiled>();
  if (spec.input) {
    if (spec.input->size() > kMaxTemplateLength || !ParseJson(*spec.input).ok()) {
      return AwsError("ValidationException",
                      "Parameter Input is not valid. Reason: it must be valid JSON text of at "
                      "most 8192 characters.");
    }
    c->constant = *spec.input;
  } else if (spec.input_path) {
    COURIER_ASSIGN_OR_RETURN(c->input_path, EventPath::Parse(*spec.input_path, "InputPath"));
  } else {
    const std::string& text = *spec.input_template;
    if (text.empty() || text.size() > kMaxTemplateLength) {
      return TemplateError("it must be 1 to 8192 characters");
    }
    std::map<std::string, int, std::less<>> index_of;
    if (spec.input_paths_map) {
      if (spec.input_paths_map->size() > kMaxPaths) {
        return AwsError("ValidationException",
                        "Parameter InputPathsMap is not valid. Reason: it can have at most 100 "
                        "entries.");
      }
      for (const auto& [name, path] : *spec.input_paths_map) {
        bool well_formed = !name.empty() && name.size() <= 256;
        for (char ch : name) well_formed = well_formed && IsVariableNameChar(ch);
        if (!well_formed || absl::StartsWithIgnoreCase(name, "aws.")) {
          return AwsErrorF("ValidationException",
                           "Parameter InputPathsMap is not valid. Reason: the key {} is {}.", name,
                           well_formed ? "reserved" : "not a valid variable name");
        }
        COURIER_ASSIGN_OR_RETURN(EventPath p, EventPath::Parse(path, "InputPathsMap"));
        index_of.emplace(name, static_cast<int>(c->variables.size()));
        c->variables.push_back({.predefined = Predefined::kNone, .path = std::move(p)});
      }
    }
    auto variable_of = [&](std::string_view name) -> int {
      if (auto it = index_of.find(name); it != index_of.end()) return it->second;
      Predefined p = PredefinedNamed(name);
      if (p == Predefined::kNone) return -1;
      index_of.emplace(std::string(name), static_cast<int>(c->variables.size()));
      c->variables.push_back({.predefined = p, .path = std::nullopt});
      return static_cast<int>(c->variables.size()) - 1;
    };
    COURIER_ASSIGN_OR_RETURN(c->pieces, SplitTemplate(text, variable_of));
  }
  out.compiled_ = std::move(c);
  return out;
}

bool TargetInput::needs_document() const { return compiled_ != nullptr && !compiled_->constant; }

std::string TargetInput::Render(const Json& event, std::string_view event_text,
                                const Context& context) const {
  if (compiled_ == nullptr) return std::string(event_text);
  const Compiled& c = *compiled_;
  if (c.constant) return *c.constant;
  if (c.input_path) {
    std::optional<Json> value = c.input_path->Select(event);
    return value ? ToJsonText(*value) : "null";
  }
  // Each variable once, however often the template names it.
  std::vector<std::optional<Json>> values(c.variables.size());
  for (size_t i = 0; i < c.variables.size(); ++i) {
    const Compiled::Variable& v = c.variables[i];
    switch (v.predefined) {
      case Predefined::kNone:
        values[i] = v.path->Select(event);
        break;
      case Predefined::kRuleArn:
        values[i] = Json(context.rule_arn);
        break;
      case Predefined::kRuleName:
        values[i] = Json(context.rule_name);
        break;
      case Predefined::kIngestionTime:
        values[i] = Json(EventTime(context.ingestion_time));
        break;
      case Predefined::kEvent:
        values[i] = event;
        break;
      case Predefined::kEventJson:
        values[i] = Json(event_text);
        break;
    }
  }
  std::string out;
  out.reserve(event_text.size());
  for (const Piece& piece : c.pieces) {
    out += piece.literal;
    if (piece.variable >= 0) AppendValue(values[piece.variable], piece.place, out);
  }
  return out;
}

}  // namespace courier::events_internal
