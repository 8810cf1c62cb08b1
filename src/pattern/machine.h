// The automaton of a rule set: every rule's field constraints indexed by field path, matched in
// one pass over the event text.
#ifndef COURIER_SRC_PATTERN_MACHINE_H_
#define COURIER_SRC_PATTERN_MACHINE_H_

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pattern/pattern_ir.h"

namespace courier::pattern_internal {

// Ids stored in the value indexes: a slot (one field of one conjunction) or, with kExclusion
// set, an anything-but whose excluded values include the key.
inline constexpr uint32_t kExclusion = 0x80000000u;
using IdList = std::vector<uint32_t>;

// Transparent string hashing (Debian's Abseil has its own string_view type).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size()));
  }
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};
template <typename V>
using StringMap = absl::flat_hash_map<std::string, V, StringHash, StringEq>;

// A byte trie for prefix (and, over reversed bytes, suffix) matching.
class Trie {
 public:
  void Insert(std::string_view bytes, bool reversed, uint32_t id);
  bool empty() const { return ids_.empty(); }
  // Calls fn(ids) for every inserted key that is a prefix (suffix if reversed) of s. lower:
  // fold ASCII upper case while walking.
  template <typename Fn>
  void Walk(std::string_view s, bool reversed, bool lower, Fn&& fn) const;
  // Calls fn(IdList&) for every list of ids (to inspect or filter them).
  template <typename Fn>
  void ForEachList(Fn&& fn) {
    for (IdList& l : ids_) fn(l);
  }

 private:
  static uint64_t Key(uint32_t node, uint8_t b) { return (uint64_t{node} << 8) | b; }
  absl::flat_hash_map<uint64_t, uint32_t> edges_;
  std::vector<IdList> ids_;  // per node; node 0 is the root
};

// A nondeterministic automaton over bytes for the string matchers that neither a hash map nor
// a trie serves: wildcards and equals-ignore-case forms of non-ASCII patterns.
class ByteNfa {
 public:
  void AddWildcard(const WildcardParts& parts, uint32_t id);
  // Each position of `alts` accepts any of its byte strings; kPrefix accepts any tail after
  // the pattern, kSuffix any head before it.
  void AddCase(const CaseAlternatives& alts, Anchor anchor, uint32_t id);
  bool empty() const { return starts_.empty(); }

 private:
  friend class StringDfa;
  struct State {
    std::vector<std::pair<uint8_t, uint32_t>> edges;
    std::vector<uint32_t> epsilon;
    bool loop = false;  // consumes any byte and stays
    IdList accept;
  };
  uint32_t NewState();
  std::vector<State> states_;
  std::vector<uint32_t> starts_;
};

// The NFA made deterministic (subset construction, bytes grouped into classes), so a value is
// matched against all of those patterns in one pass whatever their number.
class StringDfa {
 public:
  // Builds the DFA; false (and nothing built) if it would exceed max_states.
  bool Build(const ByteNfa& nfa, size_t max_states);
  bool ready() const { return !accept_.empty(); }
  template <typename Fn>
  void Match(std::string_view s, Fn&& fn) const {
    uint32_t state = 1;
    for (char c : s) {
      state = next_[state * classes_ + cls_[static_cast<uint8_t>(c)]];
      if (state == 0) return;  // dead: no pattern can match any more
    }
    if (!accept_[state].empty()) fn(accept_[state]);
  }

 private:
  uint8_t cls_[256] = {};
  uint32_t classes_ = 1;
  std::vector<uint32_t> next_;  // state * classes_ + class -> state; state 0 is dead, 1 start
  std::vector<IdList> accept_;
};

// All matchers of one field path.
struct Leaf {
  StringMap<IdList> exact;
  StringMap<IdList> lower_exact;  // ASCII equals-ignore-case
  Trie prefix, suffix, lower_prefix, lower_suffix;
  struct Wildcard {
    WildcardParts parts;
    uint32_t id;
  };
  std::vector<Wildcard> wildcards;
  StringDfa string_dfa;  // all of `wildcards` and `unicode_case` at once, when it stays small
  struct CaseMatcher {
    CaseAlternatives alts;
    Anchor anchor;
    uint32_t id;
  };
  std::vector<CaseMatcher> unicode_case;
  absl::flat_hash_map<uint64_t, IdList> number_exact;  // by the bits of the double
  StringMap<IdList> number_text;                       // numbers a double cannot hold exactly
  // Numeric ranges: the sorted bounds cut the line into pieces (2i: the gap below bounds[i],
  // 2i+1: the point bounds[i], 2k: above all); `ranges` is a segment tree over the pieces (node
  // i covers its children 2i and 2i+1, leaves at pieces + index), each range stored in
  // O(log pieces) nodes, so memory stays O(n log n) however much the ranges overlap.
  std::vector<double> bounds;
  std::vector<IdList> ranges;
  size_t pieces = 0;
  struct CidrGroup {
    bool v6;
    int bits;
    StringMap<IdList> nets;  // masked address bytes
  };
  std::vector<CidrGroup> cidrs;
  IdList true_ids, false_ids, null_ids, exists_ids;
  std::vector<uint32_t> anything_buts;  // indexes into Machine::abs_
  bool lower_needed = false, numbers_needed = false;
  bool five_decimals = false;  // SNS matchers: the event's numbers are rounded (ToFiveDecimals)
  bool record = false;         // some lazy field reads this path's values at verification

  // Calls fn(IdList&) for every id list of the indexes.
  template <typename Fn>
  void ForEachList(Fn&& fn);
};

// Direct evaluation of one matcher against one value (the lazy fields' path).
enum class ValueType : uint8_t { kString, kNumber, kTrue, kFalse, kNull };
bool EvaluateMatcher(const Matcher& m, ValueType type, std::string_view text, int sig);
bool IsEvaluable(const Matcher& m);
// For anything-but: true if the value is one that the matcher excludes.
bool IsExcluded(const Matcher& m, ValueType type, std::string_view text, int sig);

class Machine {
 public:
  struct RuleInput {
    std::string name;
    std::shared_ptr<const PatternData> data;
  };
  // Builds the automaton; rules are ordered by name (so rule indexes sort like names).
  static std::shared_ptr<const Machine> Build(std::vector<RuleInput> rules);

  // Appends the indexes of the matching rules (unsorted) to out after clearing it; returns how
  // many. A malformed event matches nothing. Thread-safe (per-thread scratch).
  size_t Match(std::string_view event, std::vector<uint32_t>* out) const;

  const std::string& name(size_t rule) const { return rules_[rule].name; }
  size_t rule_count() const { return rules_.size(); }
  const std::vector<RuleInput>& rules() const { return rules_; }

 private:
  friend class Scanner;
  struct PathNode {
    std::vector<std::string> names;
    std::vector<uint32_t> ids;
    StringMap<uint32_t> index;  // when there are many children
    int32_t leaf = -1;
    uint32_t parent = 0;
  };
  struct Slot {
    uint32_t conj;
    bool required;
    bool lazy = false;  // not indexed: evaluated against the recorded values of `node`
    uint32_t node = 0;
    const FieldConstraint* field = nullptr;
  };
  struct OptionalField {
    uint32_t slot;
    uint32_t node;
  };
  struct Conj {
    uint32_t rule;
    uint32_t required = 0;
    std::vector<uint32_t> required_slots;
    std::vector<OptionalField> optional;
    std::vector<uint32_t> lazy_slots;
  };
  struct AnythingBut {
    uint32_t slot;
    bool any_element;
  };

  uint32_t EnsurePath(std::string_view path);
  uint32_t Child(uint32_t node, std::string_view key) const;
  void AddMatcher(Leaf& leaf, const Matcher& m, uint32_t slot);
  void FinishRanges(Leaf& leaf, const std::vector<std::pair<NumericRange, uint32_t>>& ranges);
  void MakeCommonFieldsLazy();

  std::vector<RuleInput> rules_;
  std::vector<PathNode> nodes_;  // node 0 is the event root
  std::vector<Leaf> leaves_;
  std::vector<Slot> slots_;
  std::vector<Conj> conjs_;
  std::vector<AnythingBut> abs_;
  std::vector<uint32_t> always_;  // conjunctions with no required field
  bool track_arrays_ = false;     // some conjunction has 2+ required fields
};

template <typename Fn>
void Leaf::ForEachList(Fn&& fn) {
  for (auto* m : {&exact, &lower_exact, &number_text}) {
    for (auto& [k, l] : *m) fn(l);
  }
  for (auto& [k, l] : number_exact) fn(l);
  for (Trie* t : {&prefix, &suffix, &lower_prefix, &lower_suffix}) t->ForEachList(fn);
  for (IdList& l : ranges) fn(l);
  for (CidrGroup& g : cidrs) {
    for (auto& [k, l] : g.nets) fn(l);
  }
  for (IdList* l : {&true_ids, &false_ids, &null_ids, &exists_ids}) fn(*l);
}

template <typename Fn>
void Trie::Walk(std::string_view s, bool reversed, bool lower, Fn&& fn) const {
  if (ids_.empty()) return;
  uint32_t node = 0;
  if (!ids_[0].empty()) fn(ids_[0]);
  size_t n = s.size();
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = static_cast<uint8_t>(reversed ? s[n - 1 - i] : s[i]);
    if (lower && b >= 'A' && b <= 'Z') b = static_cast<uint8_t>(b + 32);
    auto it = edges_.find(Key(node, b));
    if (it == edges_.end()) return;
    node = it->second;
    if (!ids_[node].empty()) fn(ids_[node]);
  }
}

}  // namespace courier::pattern_internal

#endif  // COURIER_SRC_PATTERN_MACHINE_H_
