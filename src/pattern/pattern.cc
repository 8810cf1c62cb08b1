#include "courier/pattern.h"

#include <map>
#include <mutex>
#include <shared_mutex>

#include "courier/status.h"
#include "pattern/machine.h"

namespace courier {

using pattern_internal::CompileOptions;
using pattern_internal::Dialect;
using pattern_internal::Machine;
using pattern_internal::PatternData;

namespace {

std::shared_ptr<const Machine> SingleRuleMachine(std::shared_ptr<const PatternData> data) {
  std::vector<Machine::RuleInput> rules;
  rules.push_back({"", std::move(data)});
  return Machine::Build(std::move(rules));
}

bool MatchesAny(const Machine& machine, std::string_view event) {
  thread_local std::vector<uint32_t> out;
  return machine.Match(event, &out) > 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && pattern_internal::IsJsonSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && pattern_internal::IsJsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

// True if the whole text is one JSON number.
bool IsJsonNumber(std::string_view s) {
  int sig;
  const char* e = pattern_internal::ScanNumber(s.data(), s.data() + s.size(), &sig);
  return e == s.data() + s.size() && !s.empty();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// EventPattern

EventPattern::EventPattern(std::shared_ptr<const PatternData> data)
    : data_(std::move(data)), machine_(SingleRuleMachine(data_)) {}

absl::StatusOr<EventPattern> EventPattern::Compile(std::string_view json, Options options) {
  CompileOptions o{.dialect = Dialect::kEventBridge, .max_length = options.max_length};
  COURIER_ASSIGN_OR_RETURN(PatternData data, pattern_internal::CompilePattern(json, o));
  return EventPattern(std::make_shared<const PatternData>(std::move(data)));
}

bool EventPattern::Matches(std::string_view event_json) const {
  return MatchesAny(*machine_, event_json);
}

const std::string& EventPattern::source() const { return data_->source; }

// ---------------------------------------------------------------------------------------------
// FilterPolicy

absl::StatusOr<FilterPolicyScope> ParseFilterPolicyScope(std::string_view text) {
  if (text == "MessageAttributes") return FilterPolicyScope::kMessageAttributes;
  if (text == "MessageBody") return FilterPolicyScope::kMessageBody;
  return AwsErrorF("InvalidParameter",
                   "Invalid parameter: FilterPolicyScope: Invalid value [{}]. Please use either "
                   "MessageBody or MessageAttributes",
                   text);
}

FilterPolicy::FilterPolicy(std::shared_ptr<const PatternData> data, FilterPolicyScope scope)
    : data_(std::move(data)), machine_(SingleRuleMachine(data_)), scope_(scope) {}

absl::StatusOr<FilterPolicy> FilterPolicy::Compile(std::string_view json, FilterPolicyScope scope,
                                                   Options options) {
  CompileOptions o{.dialect = scope == FilterPolicyScope::kMessageBody ? Dialect::kSnsBody
                                                                       : Dialect::kSnsAttributes,
                   .sns_any_element = options.anything_but_matches_any_element,
                   .sns_subscribe_call = options.subscribe_call};
  COURIER_ASSIGN_OR_RETURN(PatternData data, pattern_internal::CompilePattern(json, o));
  return FilterPolicy(std::make_shared<const PatternData>(std::move(data)), scope);
}

bool FilterPolicy::MatchesBody(std::string_view body) const { return MatchesAny(*machine_, body); }

bool FilterPolicy::MatchesAttributes(const MessageAttributes& attributes) const {
  return MatchesAny(*machine_, AttributesToMatchJson(attributes));
}

bool FilterPolicy::Matches(std::string_view body, const MessageAttributes& attributes) const {
  return scope_ == FilterPolicyScope::kMessageBody ? MatchesBody(body)
                                                   : MatchesAttributes(attributes);
}

const std::string& FilterPolicy::source() const { return data_->source; }

std::string AttributesToMatchJson(const MessageAttributes& attributes) {
  std::string out = "{";
  for (const auto& [name, attr] : attributes) {
    std::string_view type = attr.base_type();
    std::string_view value = attr.string_value;
    std::string_view trimmed = Trim(value);
    bool array = attr.data_type.starts_with("String.Array");
    if (type == "Binary") continue;
    if (array && (trimmed.empty() || trimmed.front() != '[' ||
                  pattern_internal::SkipValue(trimmed.data(), trimmed.data() + trimmed.size()) !=
                      trimmed.data() + trimmed.size())) {
      continue;  // not a JSON array: nothing to match
    }
    if (out.size() > 1) out.push_back(',');
    pattern_internal::AppendJsonString(name, &out);
    out.push_back(':');
    if (array) {
      out.append(trimmed);
    } else if (type == "Number" && IsJsonNumber(trimmed)) {
      out.append(trimmed);
    } else {
      pattern_internal::AppendJsonString(value, &out);
    }
  }
  out.push_back('}');
  return out;
}

// ---------------------------------------------------------------------------------------------
// RuleSet

// Writers serialize on `write_mu` and build the new automaton without holding `ptr_mu`; the
// pointer swap is the only moment readers can wait for, a few nanoseconds. (std mutexes rather
// than absl::Mutex or std::atomic<std::shared_ptr>: ThreadSanitizer understands them.)
struct RuleSet::State {
  std::mutex write_mu;
  std::map<std::string, std::shared_ptr<const PatternData>, std::less<>> rules;  // by write_mu
  mutable std::shared_mutex ptr_mu;
  std::shared_ptr<const Machine> machine;  // guarded by ptr_mu

  void Publish() {
    std::vector<Machine::RuleInput> inputs;
    inputs.reserve(rules.size());
    for (const auto& [name, data] : rules) inputs.push_back({name, data});
    std::shared_ptr<const Machine> next = Machine::Build(std::move(inputs));
    {
      std::unique_lock lock(ptr_mu);
      machine.swap(next);
    }
    // `next` (the old automaton) is released here, outside the lock.
  }
  std::shared_ptr<const Machine> Load() const {
    std::shared_lock lock(ptr_mu);
    return machine;
  }
};

RuleSet::RuleSet() : state_(std::make_unique<State>()) { state_->machine = Machine::Build({}); }
RuleSet::~RuleSet() = default;

absl::Status RuleSet::AddRule(std::string_view name, Rule rule) {
  std::lock_guard lock(state_->write_mu);
  if (state_->rules.contains(name)) {
    return AwsErrorF("ResourceAlreadyExistsException", "Rule {} already exists.", name);
  }
  state_->rules.emplace(std::string(name), std::move(rule.data_));
  state_->Publish();
  return absl::OkStatus();
}

void RuleSet::ReplaceRule(std::string_view name, Rule rule) {
  std::lock_guard lock(state_->write_mu);
  state_->rules.insert_or_assign(std::string(name), std::move(rule.data_));
  state_->Publish();
}

bool RuleSet::RemoveRule(std::string_view name) {
  std::lock_guard lock(state_->write_mu);
  auto it = state_->rules.find(name);
  if (it == state_->rules.end()) return false;
  state_->rules.erase(it);
  state_->Publish();
  return true;
}

void RuleSet::Update(std::vector<std::pair<std::string, Rule>> upserts,
                     const std::vector<std::string>& remove) {
  std::lock_guard lock(state_->write_mu);
  for (auto& [name, rule] : upserts) state_->rules.insert_or_assign(name, std::move(rule.data_));
  for (const std::string& name : remove) state_->rules.erase(name);
  state_->Publish();
}

std::vector<std::string> RuleSet::Match(std::string_view event_json) const {
  return snapshot().Match(event_json);
}

std::vector<std::string> RuleSet::MatchAttributes(const MessageAttributes& attributes) const {
  return Match(AttributesToMatchJson(attributes));
}

size_t RuleSet::size() const { return snapshot().size(); }

RuleSet::Snapshot RuleSet::snapshot() const {
  Snapshot s;
  s.machine_ = state_->Load();
  return s;
}

size_t RuleSet::Snapshot::MatchIndexes(std::string_view event_json,
                                       std::vector<uint32_t>* out) const {
  return machine_->Match(event_json, out);
}

std::vector<std::string> RuleSet::Snapshot::Match(std::string_view event_json) const {
  thread_local std::vector<uint32_t> indexes;
  machine_->Match(event_json, &indexes);
  std::sort(indexes.begin(), indexes.end());
  std::vector<std::string> names;
  names.reserve(indexes.size());
  for (uint32_t i : indexes) names.push_back(machine_->name(i));
  return names;
}

const std::string& RuleSet::Snapshot::name(size_t rule_index) const {
  return machine_->name(rule_index);
}

size_t RuleSet::Snapshot::size() const { return machine_->rule_count(); }

}  // namespace courier
