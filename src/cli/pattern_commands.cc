// courier test-event-pattern / courier match: check patterns and filter policies from the shell.
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "courier/json.h"
#include "courier/pattern.h"
#include "courier/status.h"

namespace courier::cli_internal {
namespace {

int Usage(const char* text) {
  std::fprintf(stderr, "%s", text);
  return 2;
}

constexpr char kTestUsage[] =
    "usage: courier test-event-pattern --pattern P --event E [--sns-filter-policy "
    "[attributes|body]]\n"
    "  P and E are JSON text or @FILE. Prints true or false (exit 0), or the validation error\n"
    "  (exit 2). With --sns-filter-policy, P is an SNS filter policy and E the message: for\n"
    "  attribute scope (the default) a JSON object {name: {\"Type\": ..., \"Value\": ...}}, for\n"
    "  body scope the message body.\n";

// {name: {Type, Value}} (or DataType/StringValue, as the SNS API spells them).
absl::StatusOr<MessageAttributes> ParseAttributes(const std::string& text) {
  COURIER_ASSIGN_OR_RETURN(Json doc, ParseJson(text));
  if (!doc.is_object()) return InvalidParameterValue("attributes must be a JSON object");
  MessageAttributes out;
  for (const auto& [name, v] : doc.as_object()) {
    if (!v.is_object()) return InvalidParameterValue("each attribute must be {Type, Value}");
    const auto& o = v.as_object();
    auto field = [&](const char* a, const char* b) -> std::string {
      for (const char* k : {a, b}) {
        if (o.contains(k)) {
          const Json& x = o.at(k);
          return x.is_string() ? std::string(x.as_string()) : ToJsonText(x);
        }
      }
      return "";
    };
    MessageAttribute attr;
    attr.data_type = field("Type", "DataType");
    if (attr.data_type.empty()) attr.data_type = "String";
    if (attr.base_type() == "Binary") {
      attr.binary_value = field("Value", "BinaryValue");
    } else {
      attr.string_value = field("Value", "StringValue");
    }
    out.emplace(std::string(name), std::move(attr));
  }
  return out;
}

int TestEventPattern(const std::vector<std::string>& args) {
  std::string pattern, event;
  bool have_pattern = false, have_event = false, sns = false;
  FilterPolicyScope scope = FilterPolicyScope::kMessageAttributes;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--pattern" && i + 1 < args.size()) {
      pattern = TextOrFile(args[++i]);
      have_pattern = true;
    } else if (args[i] == "--event" && i + 1 < args.size()) {
      event = TextOrFile(args[++i]);
      have_event = true;
    } else if (args[i] == "--sns-filter-policy") {
      sns = true;
      if (i + 1 < args.size() && (args[i + 1] == "attributes" || args[i + 1] == "body")) {
        scope = args[++i] == "body" ? FilterPolicyScope::kMessageBody
                                    : FilterPolicyScope::kMessageAttributes;
      }
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::printf("%s", kTestUsage);
      return 0;
    } else {
      return Usage(kTestUsage);
    }
  }
  if (!have_pattern || !have_event) return Usage(kTestUsage);
  bool matched = false;
  if (sns) {
    auto policy = FilterPolicy::Compile(pattern, scope);
    if (!policy.ok()) {
      std::fprintf(stderr, "%s\n", std::string(policy.status().message()).c_str());
      return 2;
    }
    if (scope == FilterPolicyScope::kMessageBody) {
      matched = policy->MatchesBody(event);
    } else {
      auto attrs = ParseAttributes(event);
      if (!attrs.ok()) {
        std::fprintf(stderr, "%s\n", std::string(attrs.status().message()).c_str());
        return 2;
      }
      matched = policy->MatchesAttributes(*attrs);
    }
  } else {
    auto compiled = EventPattern::Compile(pattern);
    if (!compiled.ok()) {
      std::fprintf(stderr, "%s\n", std::string(compiled.status().message()).c_str());
      return 2;
    }
    auto doc = ParseJson(event);
    if (!doc.ok() || !doc->is_object()) {
      std::fprintf(stderr, "InvalidEventPatternException: Event is not a valid JSON object\n");
      return 2;
    }
    matched = compiled->Matches(event);
  }
  std::printf("%s\n", matched ? "true" : "false");
  return 0;
}

constexpr char kMatchUsage[] =
    "usage: courier match --rules RULES.json EVENTS.jsonl[.gz]\n"
    "  RULES.json: {\"name\": pattern, ...} (a pattern is a JSON object or its text) or an array\n"
    "  of patterns. Prints the number of matching events per rule and the events per second.\n";

int MatchCommand(const std::vector<std::string>& args) {
  std::string rules_file, events_file;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--rules" && i + 1 < args.size()) {
      rules_file = args[++i];
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::printf("%s", kMatchUsage);
      return 0;
    } else if (events_file.empty() && !args[i].starts_with("--")) {
      events_file = args[i];
    } else {
      return Usage(kMatchUsage);
    }
  }
  if (rules_file.empty() || events_file.empty()) return Usage(kMatchUsage);
  auto doc = ParseJson(TextOrFile("@" + rules_file));
  if (!doc.ok()) {
    std::fprintf(stderr, "%s: %s\n", rules_file.c_str(),
                 std::string(doc.status().message()).c_str());
    return 2;
  }
  std::vector<std::pair<std::string, Json>> named;
  if (doc->is_object()) {
    for (const auto& [k, v] : doc->as_object()) named.emplace_back(std::string(k), v);
  } else if (doc->is_array()) {
    size_t i = 0;
    for (const auto& v : doc->as_array()) named.emplace_back("rule-" + std::to_string(i++), v);
  } else {
    return Usage(kMatchUsage);
  }
  RuleSet rules;
  std::vector<std::pair<std::string, RuleSet::Rule>> compiled;
  for (const auto& [name, v] : named) {
    std::string text = v.is_string() ? std::string(v.as_string()) : ToJsonText(v);
    auto p = EventPattern::Compile(text, {.max_length = 1 << 20});
    if (!p.ok()) {
      std::fprintf(stderr, "rule %s: %s\n", name.c_str(),
                   std::string(p.status().message()).c_str());
      return 2;
    }
    compiled.emplace_back(name, *p);
  }
  rules.Update(std::move(compiled));
  auto snap = rules.snapshot();

  gzFile gz = gzopen(events_file.c_str(), "rb");
  if (gz == nullptr) {
    std::fprintf(stderr, "cannot read %s\n", events_file.c_str());
    return 2;
  }
  std::vector<std::string> events;
  std::string line;
  std::vector<char> buf(1 << 16);
  while (gzgets(gz, buf.data(), static_cast<int>(buf.size())) != nullptr) {
    line.append(buf.data());
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      if (!line.empty()) events.push_back(std::move(line));
      line.clear();
    }
  }
  if (!line.empty()) events.push_back(std::move(line));
  gzclose(gz);

  std::vector<uint64_t> counts(snap.size());
  auto start = std::chrono::steady_clock::now();
  for (const std::string& e : events) snap.ForEachMatch(e, [&](size_t i) { ++counts[i]; });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (size_t i = 0; i < counts.size(); ++i) {
    std::printf("%s\t%llu\n", snap.name(i).c_str(), static_cast<unsigned long long>(counts[i]));
  }
  std::printf("%zu events in %.3f s: %.0f events/s\n", events.size(), seconds,
              seconds > 0 ? static_cast<double>(events.size()) / seconds : 0.0);
  return 0;
}

}  // namespace

COURIER_CLI_COMMAND("test-event-pattern",
                    "check an event against an EventBridge pattern or SNS filter policy",
                    TestEventPattern);
COURIER_CLI_COMMAND("match", "count matches of a rules file over a JSON-lines event file",
                    MatchCommand);

}  // namespace courier::cli_internal
