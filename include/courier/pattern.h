// Event patterns (EventBridge) and filter policies (SNS), compiled once and matched many times.
//
// One engine serves both services: a pattern compiles into conjunctions of (field path, matchers)
// constraints; a RuleSet compiles all of its rules into one automaton keyed by field path, and
// reads an event in one pass without building a document, skipping fields that no rule names, so
// matching cost grows with the event and the number of matches, not with the number of rules.
// The operators and AWS's validation messages are those of spec/event-patterns.md.
//
// Example:
//   auto pattern = courier::EventPattern::Compile(
//       R"({"detail":{"amount":[{"numeric":[">",100]}]}})");
//   assert(pattern.ok() && pattern->Matches(R"({"detail":{"amount":250}})"));
//
//   courier::RuleSet rules;
//   rules.AddRule("big", *pattern).IgnoreError();
//   std::vector<std::string> hits = rules.Match(R"({"detail":{"amount":250}})");  // {"big"}
//
//   auto policy = courier::FilterPolicy::Compile(R"({"kind":["new"]})");
//   courier::MessageAttributes attrs{{"kind", courier::MessageAttribute::String("new")}};
//   assert(policy.ok() && policy->MatchesAttributes(attrs));
#ifndef COURIER_PATTERN_H_
#define COURIER_PATTERN_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "courier/message.h"

namespace courier {

namespace pattern_internal {
struct PatternData;
class Machine;
}  // namespace pattern_internal

// Largest event pattern EventBridge accepts by default (characters).
inline constexpr size_t kMaxEventPatternLength = 2048;

// A compiled EventBridge event pattern. Immutable; copies share the compiled form.
class EventPattern {
 public:
  struct Options {
    // Patterns longer than this are rejected (EventBridge: 2048 by default, 4096 at most).
    size_t max_length = kMaxEventPatternLength;
  };

  // Compiles `json`. An invalid pattern is InvalidEventPatternException with a message that says
  // what is wrong and where ("... at [line: 1, column: 25]"). Never crashes on any input.
  static absl::StatusOr<EventPattern> Compile(std::string_view json, Options options);
  static absl::StatusOr<EventPattern> Compile(std::string_view json) { return Compile(json, {}); }

  // True if the event (JSON text) matches, as TestEventPattern answers. The event is read as
  // RuleSet::Match reads it (well-formedness is the caller's to check). Thread-safe.
  bool Matches(std::string_view event_json) const;

  const std::string& source() const;

 private:
  friend class RuleSet;
  explicit EventPattern(std::shared_ptr<const pattern_internal::PatternData> data);
  std::shared_ptr<const pattern_internal::PatternData> data_;
  std::shared_ptr<const pattern_internal::Machine> machine_;  // this pattern alone
};

// Which part of an SNS message a filter policy reads.
enum class FilterPolicyScope { kMessageAttributes, kMessageBody };

// "MessageAttributes" / "MessageBody"; anything else is InvalidParameter as SNS words it.
absl::StatusOr<FilterPolicyScope> ParseFilterPolicyScope(std::string_view text);

// A compiled SNS subscription filter policy. Immutable; copies share the compiled form.
class FilterPolicy {
 public:
  struct Options {
    // How anything-but treats an array value. false (the current SNS documentation): the
    // message matches only if no element is excluded. true (older documentation): it matches
    // if any element is not excluded, as EventBridge does.
    bool anything_but_matches_any_element = false;
    // Errors from Subscribe read "Invalid parameter: Attributes Reason: FilterPolicy: ...";
    // from SetSubscriptionAttributes "Invalid parameter: FilterPolicy: ...".
    bool subscribe_call = false;
  };

  // Compiles `json` for `scope`: InvalidParameter with SNS's message when it is not valid
  // (more than 5 keys, more than 150 combinations, nesting in attribute scope, ...).
  static absl::StatusOr<FilterPolicy> Compile(std::string_view json, FilterPolicyScope scope,
                                              Options options);
  static absl::StatusOr<FilterPolicy> Compile(
      std::string_view json, FilterPolicyScope scope = FilterPolicyScope::kMessageAttributes) {
    return Compile(json, scope, {});
  }

  // Body scope: true if the JSON object body matches (a body that is not a JSON object never
  // does). Thread-safe.
  bool MatchesBody(std::string_view body) const;
  // Attribute scope: String, String.Array and Number attributes are matched; Binary ones are
  // ignored. Thread-safe.
  bool MatchesAttributes(const MessageAttributes& attributes) const;
  // Dispatches on scope(). Thread-safe.
  bool Matches(std::string_view body, const MessageAttributes& attributes) const;

  FilterPolicyScope scope() const { return scope_; }
  const std::string& source() const;

 private:
  friend class RuleSet;
  FilterPolicy(std::shared_ptr<const pattern_internal::PatternData> data, FilterPolicyScope scope);
  std::shared_ptr<const pattern_internal::PatternData> data_;
  std::shared_ptr<const pattern_internal::Machine> machine_;
  FilterPolicyScope scope_;
};

// Turns SNS message attributes into the JSON object that attribute-scope policies match:
// String -> string, Number -> number (a string if it is not a JSON number), String.Array -> its
// array (ignored if it is not a JSON array), Binary -> left out.
std::string AttributesToMatchJson(const MessageAttributes& attributes);

// Named rules (event patterns and/or filter policies) matched together.
//
// Changes (AddRule, ReplaceRule, RemoveRule, Update) build a new automaton off to the side and
// publish it with one pointer swap; Match copies the current pointer under a reader lock held for
// a few nanoseconds, so it never waits for a change's compilation, and sees either the old or
// the new rule set. Each change costs time linear in the number of rules: load
// many rules at once with Update. Not copyable (holds the published snapshot).
class RuleSet {
 public:
  // A rule that is either kind of compiled pattern.
  class Rule {
   public:
    Rule(const EventPattern& p) : data_(p.data_) {}  // NOLINT: implicit on purpose
    Rule(const FilterPolicy& p) : data_(p.data_) {}  // NOLINT
   private:
    friend class RuleSet;
    std::shared_ptr<const pattern_internal::PatternData> data_;
  };

  RuleSet();
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // Adds a rule; AlreadyExists if the name is taken. Thread-safe; writers are serialized.
  absl::Status AddRule(std::string_view name, Rule rule);
  // Adds or replaces a rule. Thread-safe.
  void ReplaceRule(std::string_view name, Rule rule);
  // Removes a rule; false if there was none of that name. Thread-safe.
  bool RemoveRule(std::string_view name);
  // Applies many changes with one rebuild: each (name, rule) is added or replaced, each name in
  // `remove` removed. Thread-safe.
  void Update(std::vector<std::pair<std::string, Rule>> upserts,
              const std::vector<std::string>& remove = {});

  // Names of all rules matching the event (JSON text), sorted, without duplicates.
  // The event is read only as far as the fields that rules name: outside arrays, once every
  // field that rules name in an object has been read the rest of that object is skipped, and
  // at the top level reading stops (a duplicate key after that point is ignored). Malformed text
  // never crashes or reads out of bounds, and matches nothing when the malformation is in the part
  // that was read; callers that must reject malformed events (PutEvents, Publish) validate them
  // first. Thread-safe; never waits for a writer's compilation.
  std::vector<std::string> Match(std::string_view event_json) const;
  // The same for SNS message attributes (see AttributesToMatchJson). Thread-safe.
  std::vector<std::string> MatchAttributes(const MessageAttributes& attributes) const;

  // Number of rules. Thread-safe.
  size_t size() const;

  // An immutable view for hot loops: match many events without reloading the snapshot.
  class Snapshot {
   public:
    std::vector<std::string> Match(std::string_view event_json) const;
    // Calls fn(rule_index) for each matching rule (unsorted, no allocation per match) and
    // returns the number of matches; name(i) gives the rule's name. fn may match other events
    // (re-entrant).
    template <typename Fn>
    size_t ForEachMatch(std::string_view event_json, Fn&& fn) const;
    // Matches a batch of events (PutEvents and PublishBatch carry up to 10): calls
    // fn(event_index, rule_index) for each match. While one event is matched the next is
    // prefetched, which matters when events are not in cache.
    template <typename Fn>
    void ForEachMatchInBatch(const std::vector<std::string_view>& events, Fn&& fn) const;
    const std::string& name(size_t rule_index) const;
    size_t size() const;

   private:
    friend class RuleSet;
    size_t MatchIndexes(std::string_view event_json, std::vector<uint32_t>* out) const;
    std::shared_ptr<const pattern_internal::Machine> machine_;
  };
  // The current rule set, kept alive as long as the view. Thread-safe.
  Snapshot snapshot() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The per-thread buffer is taken out while fn runs, so fn may itself match events (a
// delivery that publishes again) without disturbing the iteration.
template <typename Fn>
size_t RuleSet::Snapshot::ForEachMatch(std::string_view event_json, Fn&& fn) const {
  thread_local std::vector<uint32_t> buffer;
  std::vector<uint32_t> indexes;
  indexes.swap(buffer);
  size_t n = MatchIndexes(event_json, &indexes);
  for (uint32_t i : indexes) fn(static_cast<size_t>(i));
  indexes.swap(buffer);
  return n;
}

template <typename Fn>
void RuleSet::Snapshot::ForEachMatchInBatch(const std::vector<std::string_view>& events,
                                            Fn&& fn) const {
  thread_local std::vector<uint32_t> buffer;
  std::vector<uint32_t> indexes;
  indexes.swap(buffer);
  for (size_t e = 0; e < events.size(); ++e) {
    if (e + 1 < events.size()) {
      const char* next = events[e + 1].data();
      __builtin_prefetch(next);
      if (events[e + 1].size() > 64) __builtin_prefetch(next + 64);
    }
    MatchIndexes(events[e], &indexes);
    for (uint32_t i : indexes) fn(e, static_cast<size_t>(i));
  }
  indexes.swap(buffer);
}

}  // namespace courier

#endif  // COURIER_PATTERN_H_
