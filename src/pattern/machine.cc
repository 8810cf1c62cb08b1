#include "pattern/machine.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace courier::pattern_internal {

void Trie::Insert(std::string_view bytes, bool reversed, uint32_t id) {
  if (ids_.empty()) ids_.emplace_back();
  uint32_t node = 0;
  size_t n = bytes.size();
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = static_cast<uint8_t>(reversed ? bytes[n - 1 - i] : bytes[i]);
    auto [it, inserted] = edges_.try_emplace(Key(node, b), static_cast<uint32_t>(ids_.size()));
    if (inserted) ids_.emplace_back();
    node = it->second;
  }
  ids_[node].push_back(id);
}

uint32_t ByteNfa::NewState() {
  states_.emplace_back();
  return static_cast<uint32_t>(states_.size() - 1);
}

void ByteNfa::AddWildcard(const WildcardParts& parts, uint32_t id) {
  uint32_t cur = NewState();
  starts_.push_back(cur);
  for (size_t k = 0; k < parts.literals.size(); ++k) {
    if (k > 0) {  // a star: any run of bytes, the empty one included
      uint32_t star = NewState();
      states_[cur].epsilon.push_back(star);
      states_[star].loop = true;
      cur = star;
    }
    for (char c : parts.literals[k]) {
      uint32_t n = NewState();
      states_[cur].edges.emplace_back(static_cast<uint8_t>(c), n);
      cur = n;
    }
  }
  states_[cur].accept.push_back(id);
}

void ByteNfa::AddCase(const CaseAlternatives& alts, Anchor anchor, uint32_t id) {
  uint32_t cur = NewState();
  starts_.push_back(cur);
  if (anchor == Anchor::kSuffix) states_[cur].loop = true;
  for (const auto& position : alts.positions) {
    uint32_t next = NewState();
    for (const std::string& alt : position) {
      uint32_t at = cur;
      for (size_t i = 0; i < alt.size(); ++i) {
        uint32_t to = i + 1 == alt.size() ? next : NewState();
        states_[at].edges.emplace_back(static_cast<uint8_t>(alt[i]), to);
        at = to;
      }
    }
    cur = next;
  }
  if (anchor == Anchor::kPrefix) states_[cur].loop = true;
  states_[cur].accept.push_back(id);
}

bool StringDfa::Build(const ByteNfa& nfa, size_t max_states) {
  const auto& st = nfa.states_;
  bool used[256] = {};
  for (const auto& state : st) {
    for (const auto& [b, to] : state.edges) used[b] = true;
  }
  // Byte classes: each byte an edge names is its own class; all others share class 0.
  uint32_t classes = 1;
  std::vector<int> representative{-1};
  for (int b = 0; b < 256; ++b) {
    if (used[b]) {
      if (classes == 256) return false;
      cls_[b] = static_cast<uint8_t>(classes++);
      representative.push_back(b);
    } else {
      cls_[b] = 0;
      if (representative[0] < 0) representative[0] = b;
    }
  }
  using Set = std::vector<uint32_t>;  // NFA states, sorted, closed under epsilon
  auto closure = [&](Set& set) {
    for (size_t k = 0; k < set.size(); ++k) {
      for (uint32_t e : st[set[k]].epsilon) set.push_back(e);
    }
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
  };
  std::map<Set, uint32_t> ids;
  std::vector<Set> sets{Set{}};  // state 0: dead
  Set start = nfa.starts_;
  closure(start);
  ids[Set{}] = 0;
  ids[start] = 1;
  sets.push_back(start);
  std::vector<uint32_t> next;
  size_t work = 0;  // bounds the build time as well as the size
  for (size_t state = 0; state < sets.size(); ++state) {
    for (uint32_t c = 0; c < classes; ++c) {
      Set to;
      int b = representative[c];
      if (b >= 0) {
        for (uint32_t n : sets[state]) {
          work += st[n].edges.size() + 1;
          if (st[n].loop) to.push_back(n);
          for (const auto& [eb, target] : st[n].edges) {
            if (eb == b) to.push_back(target);
          }
        }
        if (work > max_states * 4096) return false;
        closure(to);
      }
      auto [it, inserted] = ids.try_emplace(to, static_cast<uint32_t>(sets.size()));
      if (inserted) {
        if (sets.size() >= max_states) return false;
        sets.push_back(to);
      }
      next.push_back(it->second);
    }
  }
  classes_ = classes;
  next_ = std::move(next);
  accept_.assign(sets.size(), {});
  for (size_t state = 0; state < sets.size(); ++state) {
    for (uint32_t n : sets[state]) {
      for (uint32_t id : st[n].accept) accept_[state].push_back(id);
    }
  }
  return ready();
}

namespace {

constexpr uint32_t kNoNode = 0xFFFFFFFFu;

std::string LowerAscii(std::string_view s) {
  std::string out;
  AsciiLower(s, &out);
  return out;
}

uint64_t DoubleBits(double d) {
  if (d == 0) d = 0;  // -0.0
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

std::string IpKey(const IpAddress& ip) {
  return std::string(reinterpret_cast<const char*>(ip.bytes.data()), 16);
}

// Per-thread matching state. Stamps avoid clearing between events: an entry is "set for this
// event" when its stamp equals the event's tick.
struct Scratch {
  uint32_t tick = 0;
  std::vector<uint32_t> slot_stamp;
  std::vector<uint8_t> slot_root;  // the slot has a hit outside every array
  std::vector<uint32_t> conj_stamp, conj_count, conj_done;
  std::vector<uint32_t> node_present, node_seen;
  std::vector<uint32_t> ab_value, ab_seen, ab_veto;
  std::vector<uint32_t> rule_stamp;
  std::vector<uint32_t> candidates, pending_abs;
  struct Hit {
    uint32_t slot, ctx;
  };
  std::vector<Hit> hits;
  struct Ctx {
    uint32_t parent, array, depth;
  };
  std::vector<Ctx> ctx;
  struct Recorded {
    uint32_t node;
    ValueType type;
    int sig;
    uint32_t offset, size, ctx;
  };
  std::vector<Recorded> recorded;  // values of paths that lazy fields read
  std::string arena;               // their texts
  std::string buffer, lower;

  uint32_t Next() {
    if (++tick == 0) {  // wrapped: forget every stamp
      for (auto* v : {&slot_stamp, &conj_stamp, &conj_done, &node_present, &node_seen, &ab_value,
                      &ab_seen, &ab_veto, &rule_stamp}) {
        std::fill(v->begin(), v->end(), 0);
      }
      tick = 1;
    }
    return tick;
  }
};

template <typename T>
void Fit(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

class Scanner {
 public:
  Scanner(const Machine& m, Scratch& s, std::string_view text)
      : m_(m), s_(s), p_(text.data()), end_(text.data() + text.size()) {}

  bool Run() {
    event_ = s_.Next();
    s_.candidates.clear();
    s_.pending_abs.clear();
    s_.hits.clear();
    s_.recorded.clear();
    s_.arena.clear();
    s_.ctx.clear();
    s_.ctx.push_back({0, 0, 0});
    p_ = SkipSpace(p_, end_);
    if (p_ >= end_ || *p_ != '{') return false;
    if (!Object(0, 0, 0)) return false;
    if (done_) return true;
    p_ = SkipSpace(p_, end_);
    return p_ == end_;
  }

  void Finish(std::vector<uint32_t>* out) {
    for (uint32_t ab : s_.pending_abs) {
      if (s_.ab_veto[ab] != event_) Hit(m_.abs_[ab].slot, 0);
    }
    for (uint32_t c : m_.always_) s_.candidates.push_back(c);
    for (uint32_t c : s_.candidates) {
      if (s_.conj_done[c] == event_) continue;
      s_.conj_done[c] = event_;
      const Machine::Conj& conj = m_.conjs_[c];
      if (s_.rule_stamp[conj.rule] == event_) continue;
      if (!Verify(conj)) continue;
      s_.rule_stamp[conj.rule] = event_;
      out->push_back(conj.rule);
    }
  }

 private:
  // Reads an object at `node`. Outside arrays, once every field that rules name under `node`
  // has been read the rest cannot change the outcome: at the top level reading stops (done_);
  // below it the object is left open (unclosed_ counts such objects) for the caller to skip,
  // or to leave open too if that completes the caller's object.
  bool Object(uint32_t node, uint32_t ctx, int depth) {
    const size_t named = m_.nodes_[node].ids.size();
    size_t seen = 0;
    ++p_;  // '{'
    p_ = SkipSpace(p_, end_);
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (p_ >= end_ || *p_ != '"') return false;
      std::string_view key;
      bool escaped;
      p_ = ScanString(p_ + 1, end_, &key, &escaped);
      if (p_ == nullptr) return false;
      if (escaped) {
        if (!Unescape(key, &s_.buffer)) return false;
        key = s_.buffer;
      }
      uint32_t child = m_.Child(node, key);
      p_ = SkipSpace(p_, end_);
      if (p_ >= end_ || *p_ != ':') return false;
      p_ = SkipSpace(p_ + 1, end_);
      if (child == kNoNode) {
        p_ = SkipValue(p_, end_, depth + 1);
        if (p_ == nullptr) return false;
      } else {
        if (!Value(child, ctx, depth + 1)) return false;
        if (done_) return true;
        if (arrays_open_ == 0 && m_.nodes_[child].parent == node && s_.node_seen[child] != event_) {
          s_.node_seen[child] = event_;
          if (++seen == named) {
            if (depth == 0) {
              done_ = true;
            } else {
              ++unclosed_;
            }
            return true;
          }
        }
        if (unclosed_ > 0) {  // the child's object was left open: skip its rest
          p_ = SkipRest(p_, end_, unclosed_);
          unclosed_ = 0;
          if (p_ == nullptr) return false;
        }
      }
      p_ = SkipSpace(p_, end_);
      if (p_ >= end_) return false;
      if (*p_ == ',') {
        p_ = SkipSpace(p_ + 1, end_);
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      return false;
    }
  }

  bool Value(uint32_t node, uint32_t ctx, int depth) {
    if (p_ >= end_) return false;
    if (depth > kMaxJsonDepth) return false;
    const Machine::PathNode& pn = m_.nodes_[node];
    char c = *p_;
    switch (c) {
      case '{':
        if (pn.ids.empty()) {
          p_ = SkipValue(p_, end_, depth);
          return p_ != nullptr;
        }
        return Object(node, ctx, depth);
      case '[': {
        uint32_t array = ++arrays_;
        ++p_;
        p_ = SkipSpace(p_, end_);
        if (p_ < end_ && *p_ == ']') {
          ++p_;
          return true;
        }
        ++arrays_open_;
        for (;;) {
          uint32_t elem = ctx;
          if (m_.track_arrays_) {
            elem = static_cast<uint32_t>(s_.ctx.size());
            s_.ctx.push_back({ctx, array, s_.ctx[ctx].depth + 1});
          }
          if (!Value(node, elem, depth + 1)) return false;
          p_ = SkipSpace(p_, end_);
          if (p_ >= end_) return false;
          if (*p_ == ',') {
            p_ = SkipSpace(p_ + 1, end_);
            continue;
          }
          if (*p_ == ']') {
            ++p_;
            --arrays_open_;
            return true;
          }
          return false;
        }
      }
      case '"': {
        std::string_view raw;
        bool escaped;
        p_ = ScanString(p_ + 1, end_, &raw, &escaped);
        if (p_ == nullptr) return false;
        if (pn.leaf < 0) return true;
        if (escaped) {
          if (!Unescape(raw, &s_.buffer)) return false;
          raw = s_.buffer;
        }
        OnString(node, m_.leaves_[static_cast<size_t>(pn.leaf)], raw, ctx);
        return true;
      }
      case 't':
      case 'f':
      case 'n': {
        std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
        if (static_cast<size_t>(end_ - p_) < word.size() ||
            std::memcmp(p_, word.data(), word.size()) != 0) {
          return false;
        }
        p_ += word.size();
        if (pn.leaf < 0) return true;
        const Leaf& leaf = m_.leaves_[static_cast<size_t>(pn.leaf)];
        BeginValue(node, leaf, ctx);
        if (leaf.record) {
          Record(node,
                 c == 't'   ? ValueType::kTrue
                 : c == 'f' ? ValueType::kFalse
                            : ValueType::kNull,
                 {}, 0, ctx);
        }
        Emit(c == 't' ? leaf.true_ids : c == 'f' ? leaf.false_ids : leaf.null_ids, ctx);
        EndValue(leaf, ctx);
        return true;
      }
      default: {
        int sig = 0;
        const char* e = ScanNumber(p_, end_, &sig);
        if (e == nullptr) return false;
        std::string_view text(p_, static_cast<size_t>(e - p_));
        p_ = e;
        if (pn.leaf >= 0) OnNumber(node, m_.leaves_[static_cast<size_t>(pn.leaf)], text, sig, ctx);
        return true;
      }
    }
  }

  void Record(uint32_t node, ValueType type, std::string_view text, int sig, uint32_t ctx) {
    s_.recorded.push_back({node, type, sig, static_cast<uint32_t>(s_.arena.size()),
                           static_cast<uint32_t>(text.size()), ctx});
    s_.arena.append(text);
  }

  void BeginValue(uint32_t node, const Leaf& leaf, uint32_t ctx) {
    s_.node_present[node] = event_;
    value_ = s_.Next();
    Emit(leaf.exists_ids, ctx);
  }

  void EndValue(const Leaf& leaf, uint32_t ctx) {
    for (uint32_t ab : leaf.anything_buts) {
      const Machine::AnythingBut& a = m_.abs_[ab];
      bool excluded = s_.ab_value[ab] == value_;
      if (a.any_element) {
        if (!excluded) Hit(a.slot, ctx);
      } else {
        if (s_.ab_seen[ab] != event_) {
          s_.ab_seen[ab] = event_;
          s_.pending_abs.push_back(ab);
        }
        if (excluded) s_.ab_veto[ab] = event_;
      }
    }
  }

  void EmitOne(uint32_t id, uint32_t ctx) {
    if (id & kExclusion) {
      s_.ab_value[id & ~kExclusion] = value_;
    } else {
      Hit(id, ctx);
    }
  }
  void Emit(const IdList& ids, uint32_t ctx) {
    for (uint32_t id : ids) EmitOne(id, ctx);
  }

  template <typename Map, typename Key>
  void Lookup(const Map& map, const Key& key, uint32_t ctx) {
    if (map.empty()) return;
    auto it = map.find(key);
    if (it != map.end()) Emit(it->second, ctx);
  }

  void OnString(uint32_t node, const Leaf& leaf, std::string_view s, uint32_t ctx) {
    BeginValue(node, leaf, ctx);
    if (leaf.record) Record(node, ValueType::kString, s, 0, ctx);
    Lookup(leaf.exact, s, ctx);
    auto emit = [&](const IdList& ids) { Emit(ids, ctx); };
    leaf.prefix.Walk(s, false, false, emit);
    leaf.suffix.Walk(s, true, false, emit);
    if (leaf.lower_needed) {
      if (!leaf.lower_exact.empty()) {
        AsciiLower(s, &s_.lower);
        Lookup(leaf.lower_exact, std::string_view(s_.lower), ctx);
      }
      leaf.lower_prefix.Walk(s, false, true, emit);
      leaf.lower_suffix.Walk(s, true, true, emit);
    }
    if (leaf.string_dfa.ready()) {
      leaf.string_dfa.Match(s, emit);
    } else {
      for (const Leaf::Wildcard& w : leaf.wildcards) {
        if (WildcardMatches(w.parts, s)) EmitOne(w.id, ctx);
      }
      for (const Leaf::CaseMatcher& cm : leaf.unicode_case) {
        if (CaseAlternativesMatch(cm.alts, s, cm.anchor)) EmitOne(cm.id, ctx);
      }
    }
    if (!leaf.cidrs.empty()) {
      IpAddress ip;
      if (ParseIp(s, &ip)) {
        for (const Leaf::CidrGroup& g : leaf.cidrs) {
          if (g.v6 != ip.v6) continue;
          Lookup(g.nets, IpKey(MaskIp(ip, g.bits)), ctx);
        }
      }
    }
    EndValue(leaf, ctx);
  }

  void OnNumber(uint32_t node, const Leaf& leaf, std::string_view text, int sig, uint32_t ctx) {
    BeginValue(node, leaf, ctx);
    if (leaf.record) Record(node, ValueType::kNumber, text, sig, ctx);
    if (leaf.numbers_needed) {
      // Look up by value first: the (costlier) check that the text is exactly its double is
      // needed only when the value would match something.
      double value;
      const IdList* exact = nullptr;
      const IdList* found[64];  // non-empty segment-tree nodes on the path to the piece
      int found_count = 0;
      bool parsed = ParseDouble(text, &value);
      if (parsed && leaf.five_decimals) value = ToFiveDecimals(value);
      if (parsed) {
        if (!leaf.number_exact.empty()) {
          auto it = leaf.number_exact.find(DoubleBits(value));
          if (it != leaf.number_exact.end()) exact = &it->second;
        }
        if (!leaf.bounds.empty()) {
          size_t i =
              static_cast<size_t>(std::lower_bound(leaf.bounds.begin(), leaf.bounds.end(), value) -
                                  leaf.bounds.begin());
          size_t k = (i < leaf.bounds.size() && leaf.bounds[i] == value) ? 2 * i + 1 : 2 * i;
          for (size_t n = k + leaf.pieces; n > 0 && found_count < 64; n >>= 1) {
            if (!leaf.ranges[n].empty()) found[found_count++] = &leaf.ranges[n];
          }
        }
      }
      bool needs_text = !leaf.number_text.empty();
      if (exact != nullptr || found_count > 0 || needs_text) {
        if (parsed && (leaf.five_decimals || IsShortestText(text, sig, value))) {
          if (exact != nullptr) Emit(*exact, ctx);
          for (int f = 0; f < found_count; ++f) Emit(*found[f], ctx);
        } else {
          Lookup(leaf.number_text, text, ctx);
        }
      }
    }
    EndValue(leaf, ctx);
  }

  void Hit(uint32_t slot, uint32_t ctx) {
    if (s_.slot_stamp[slot] != event_) {
      s_.slot_stamp[slot] = event_;
      s_.slot_root[slot] = ctx == 0;
      const Machine::Slot& info = m_.slots_[slot];
      if (info.required) {
        uint32_t c = info.conj;
        if (s_.conj_stamp[c] != event_) {
          s_.conj_stamp[c] = event_;
          s_.conj_count[c] = 0;
        }
        if (++s_.conj_count[c] == m_.conjs_[c].required) s_.candidates.push_back(c);
      }
    } else if (ctx == 0) {
      s_.slot_root[slot] = 1;
    }
    if (ctx != 0) s_.hits.push_back({slot, ctx});
  }

  // Two values may combine unless they sit in different elements of one array.
  bool Compatible(uint32_t u, uint32_t v) const {
    const auto& cx = s_.ctx;
    while (cx[u].depth > cx[v].depth) u = cx[u].parent;
    while (cx[v].depth > cx[u].depth) v = cx[v].parent;
    if (u == v) return true;
    while (cx[u].parent != cx[v].parent) {
      u = cx[u].parent;
      v = cx[v].parent;
    }
    return cx[u].array != cx[v].array;
  }

  bool Verify(const Machine::Conj& conj) {
    for (const Machine::OptionalField& f : conj.optional) {
      if (s_.slot_stamp[f.slot] != event_ && s_.node_present[f.node] == event_) return false;
    }
    // Lazy fields: some recorded value of the path must satisfy one of the field's matchers.
    std::vector<std::vector<uint32_t>> choices;
    for (uint32_t slot : conj.lazy_slots) {
      const Machine::Slot& info = m_.slots_[slot];
      std::vector<uint32_t> ctxs;
      bool root = false;
      for (const Scratch::Recorded& r : s_.recorded) {
        if (r.node != info.node) continue;
        std::string_view text(s_.arena.data() + r.offset, r.size);
        for (const Matcher& m : info.field->matchers) {
          if (EvaluateMatcher(m, r.type, text, r.sig)) {
            root |= r.ctx == 0;
            ctxs.push_back(r.ctx);
            break;
          }
        }
      }
      // anything-but, SNS style: the path has values and none of them is excluded.
      for (const Matcher& m : info.field->matchers) {
        if (m.kind != MatchKind::kAnythingBut || m.ab_any_element || root) continue;
        bool seen = false, excluded = false;
        for (const Scratch::Recorded& r : s_.recorded) {
          if (r.node != info.node) continue;
          seen = true;
          excluded |=
              IsExcluded(m, r.type, std::string_view(s_.arena.data() + r.offset, r.size), r.sig);
        }
        if (seen && !excluded) {
          root = true;
          ctxs.push_back(0);
        }
      }
      if (ctxs.empty()) return false;
      if (!root) choices.push_back(std::move(ctxs));
    }
    if (!m_.track_arrays_ || conj.required_slots.size() + conj.lazy_slots.size() < 2) return true;
    size_t in_arrays_only = choices.size();
    for (uint32_t slot : conj.required_slots) in_arrays_only += !s_.slot_root[slot];
    if (in_arrays_only < 2) return true;  // a value outside arrays combines with anything
    for (uint32_t slot : conj.required_slots) {
      if (s_.slot_root[slot]) continue;
      std::vector<uint32_t> ctxs;
      for (const Scratch::Hit& h : s_.hits) {
        if (h.slot == slot) ctxs.push_back(h.ctx);
      }
      choices.push_back(std::move(ctxs));
    }
    // Fewest choices first; the same array position twice is one choice.
    for (auto& c : choices) {
      std::sort(c.begin(), c.end());
      c.erase(std::unique(c.begin(), c.end()), c.end());
    }
    std::sort(choices.begin(), choices.end(),
              [](const auto& a, const auto& b) { return a.size() < b.size(); });
    std::vector<uint32_t> picked;
    pick_budget_ = kPickBudget;
    return Pick(choices, 0, &picked);
  }

  // The search for values from one array element can be exponential on a crafted event: past
  // this many compatibility checks the conjunction is taken as not matching.
  static constexpr int64_t kPickBudget = 1'000'000;
  int64_t pick_budget_ = 0;

  bool Pick(const std::vector<std::vector<uint32_t>>& choices, size_t k,
            std::vector<uint32_t>* picked) {
    if (k == choices.size()) return true;
    for (uint32_t c : choices[k]) {
      bool ok = true;
      for (uint32_t p : *picked) {
        if (--pick_budget_ < 0) return false;
        if (!Compatible(c, p)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      picked->push_back(c);
      if (Pick(choices, k + 1, picked)) return true;
      picked->pop_back();
    }
    return false;
  }

  const Machine& m_;
  Scratch& s_;
  const char* p_;
  const char* end_;
  uint32_t event_ = 0;
  uint32_t value_ = 0;
  uint32_t arrays_ = 0;
  int arrays_open_ = 0;  // arrays being read around the current value
  int unclosed_ = 0;     // objects left open after their named fields were read
  bool done_ = false;
};

uint32_t Machine::EnsurePath(std::string_view path) {
  uint32_t node = 0;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string_view seg =
        path.substr(start, dot == std::string_view::npos ? path.npos : dot - start);
    uint32_t next = kNoNode;
    for (size_t i = 0; i < nodes_[node].names.size(); ++i) {
      if (nodes_[node].names[i] == seg) next = nodes_[node].ids[i];
    }
    if (next == kNoNode) {
      next = static_cast<uint32_t>(nodes_.size());
      nodes_[node].names.emplace_back(seg);
      nodes_[node].ids.push_back(next);
      nodes_.emplace_back();
      nodes_.back().parent = node;
    }
    node = next;
    if (dot == std::string_view::npos) return node;
    start = dot + 1;
  }
}

uint32_t Machine::Child(uint32_t node, std::string_view key) const {
  // Keys holding dots walk several levels: event-ruler joins path segments with '.'.
  for (;;) {
    const PathNode& pn = nodes_[node];
    if (pn.ids.empty()) return kNoNode;
    size_t dot = key.find('.');
    std::string_view seg = dot == std::string_view::npos ? key : key.substr(0, dot);
    uint32_t next = kNoNode;
    if (!pn.index.empty()) {
      auto it = pn.index.find(seg);
      if (it != pn.index.end()) next = it->second;
    } else {
      for (size_t i = 0; i < pn.names.size(); ++i) {
        const std::string& n = pn.names[i];
        if (n.size() == seg.size() && std::memcmp(n.data(), seg.data(), seg.size()) == 0) {
          next = pn.ids[i];
          break;
        }
      }
    }
    if (next == kNoNode || dot == std::string_view::npos) return next;
    node = next;
    key = key.substr(dot + 1);
  }
}

void Machine::AddMatcher(Leaf& leaf, const Matcher& m, uint32_t slot) {
  if (m.five_decimals) leaf.five_decimals = true;
  auto add_case = [&](std::string_view text, Anchor anchor, uint32_t id) {
    if (IsAscii(text)) {
      leaf.lower_needed = true;
      std::string lower = LowerAscii(text);
      if (anchor == Anchor::kWhole) leaf.lower_exact[lower].push_back(id);
      if (anchor == Anchor::kPrefix) leaf.lower_prefix.Insert(lower, false, id);
      if (anchor == Anchor::kSuffix) leaf.lower_suffix.Insert(lower, true, id);
    } else {
      leaf.unicode_case.push_back({BuildCaseAlternatives(text), anchor, id});
    }
  };
  auto add_wildcard = [&](std::string_view text, uint32_t id) {
    WildcardParts parts = SplitWildcard(text);
    if (parts.literals.size() == 1) {
      leaf.exact[parts.literals[0]].push_back(id);
    } else if (parts.literals.size() == 2 && parts.literals[1].empty()) {
      leaf.prefix.Insert(parts.literals[0], false, id);
    } else if (parts.literals.size() == 2 && parts.literals[0].empty()) {
      leaf.suffix.Insert(parts.literals[1], true, id);
    } else {
      leaf.wildcards.push_back({std::move(parts), id});
    }
  };
  auto add_cidr = [&](const IpRange& r, uint32_t id) {
    for (Leaf::CidrGroup& g : leaf.cidrs) {
      if (g.v6 == r.base.v6 && g.bits == r.prefix_bits) {
        g.nets[IpKey(r.base)].push_back(id);
        return;
      }
    }
    leaf.cidrs.push_back({r.base.v6, r.prefix_bits, {}});
    leaf.cidrs.back().nets[IpKey(r.base)].push_back(id);
  };
  switch (m.kind) {
    case MatchKind::kExactString:
      leaf.exact[m.text].push_back(slot);
      break;
    case MatchKind::kExactNumber:
      leaf.numbers_needed = true;
      if (m.number.comparable) {
        leaf.number_exact[DoubleBits(m.number.value)].push_back(slot);
      } else {
        leaf.number_text[m.text].push_back(slot);
      }
      break;
    case MatchKind::kTrue:
      leaf.true_ids.push_back(slot);
      break;
    case MatchKind::kFalse:
      leaf.false_ids.push_back(slot);
      break;
    case MatchKind::kNull:
      leaf.null_ids.push_back(slot);
      break;
    case MatchKind::kPrefix:
      leaf.prefix.Insert(m.text, false, slot);
      break;
    case MatchKind::kSuffix:
      leaf.suffix.Insert(m.text, true, slot);
      break;
    case MatchKind::kEqualsIgnoreCase:
      add_case(m.text, Anchor::kWhole, slot);
      break;
    case MatchKind::kPrefixIgnoreCase:
      add_case(m.text, Anchor::kPrefix, slot);
      break;
    case MatchKind::kSuffixIgnoreCase:
      add_case(m.text, Anchor::kSuffix, slot);
      break;
    case MatchKind::kWildcard:
      add_wildcard(m.text, slot);
      break;
    case MatchKind::kNumeric:
      leaf.numbers_needed = true;
      break;  // FinishRanges
    case MatchKind::kExists:
      leaf.exists_ids.push_back(slot);
      break;
    case MatchKind::kAbsent:
      break;  // Conj::optional
    case MatchKind::kCidr:
      add_cidr(m.ip, slot);
      break;
    case MatchKind::kAnythingBut: {
      uint32_t ab = static_cast<uint32_t>(abs_.size());
      abs_.push_back({slot, m.ab_any_element});
      leaf.anything_buts.push_back(ab);
      uint32_t id = ab | kExclusion;
      for (const std::string& s : m.ab_strings) {
        switch (m.ab_kind) {
          case AnythingButKind::kValues:
            leaf.exact[s].push_back(id);
            break;
          case AnythingButKind::kPrefix:
            leaf.prefix.Insert(s, false, id);
            break;
          case AnythingButKind::kSuffix:
            leaf.suffix.Insert(s, true, id);
            break;
          case AnythingButKind::kEqualsIgnoreCase:
            add_case(s, Anchor::kWhole, id);
            break;
          case AnythingButKind::kWildcard:
            add_wildcard(s, id);
            break;
        }
      }
      for (double d : m.ab_numbers) {
        leaf.numbers_needed = true;
        leaf.number_exact[DoubleBits(d)].push_back(id);
      }
      break;
    }
  }
}

void Machine::FinishRanges(Leaf& leaf,
                           const std::vector<std::pair<NumericRange, uint32_t>>& ranges) {
  for (const auto& [r, slot] : ranges) {
    if (r.has_low) leaf.bounds.push_back(r.low);
    if (r.has_high) leaf.bounds.push_back(r.high);
  }
  std::sort(leaf.bounds.begin(), leaf.bounds.end());
  leaf.bounds.erase(std::unique(leaf.bounds.begin(), leaf.bounds.end()), leaf.bounds.end());
  // Pieces: 2i is the open gap below bounds[i], 2i+1 the point bounds[i], 2k the gap above all.
  size_t k = leaf.bounds.size();
  leaf.pieces = 2 * k + 1;
  leaf.ranges.assign(2 * leaf.pieces, {});
  auto index = [&](double v) {
    return static_cast<size_t>(std::lower_bound(leaf.bounds.begin(), leaf.bounds.end(), v) -
                               leaf.bounds.begin());
  };
  for (const auto& [r, slot] : ranges) {
    size_t first = r.has_low ? (r.low_open ? 2 * index(r.low) + 2 : 2 * index(r.low) + 1) : 0;
    size_t last = r.has_high ? (r.high_open ? 2 * index(r.high) : 2 * index(r.high) + 1) : 2 * k;
    if (first > last) continue;
    // The canonical cover of pieces [first, last] in the bottom-up segment tree.
    for (size_t l = first + leaf.pieces, r = last + leaf.pieces + 1; l < r; l >>= 1, r >>= 1) {
      if (l & 1) leaf.ranges[l++].push_back(slot);
      if (r & 1) leaf.ranges[--r].push_back(slot);
    }
  }
}

// A value shared by many rules (every rule of a bus saying "source": ["aws.ec2"]) would make
// every event carrying it touch all of those rules. For a conjunction with several fields, only
// the most selective field stays in the indexes; a field whose index entries are shared by more
// than kLazyFanOut slots is instead evaluated directly, at verification, against the recorded
// values of its path, and only for conjunctions whose selective fields matched.
constexpr size_t kLazyFanOut = 32;

void Machine::MakeCommonFieldsLazy() {
  std::vector<size_t> fan_out(slots_.size(), 0);
  for (Leaf& leaf : leaves_) {
    leaf.ForEachList([&](IdList& l) {
      for (uint32_t id : l) {
        if (!(id & kExclusion)) fan_out[id] = std::max(fan_out[id], l.size());
      }
    });
    // Every value of the field visits every anything-but on it.
    for (uint32_t ab : leaf.anything_buts) {
      fan_out[abs_[ab].slot] = std::max(fan_out[abs_[ab].slot], leaf.anything_buts.size());
    }
  }
  std::vector<bool> lazy(slots_.size(), false);
  bool any = false;
  for (Conj& conj : conjs_) {
    if (conj.required_slots.size() < 2) continue;
    auto evaluable = [&](uint32_t slot) {
      const auto& ms = slots_[slot].field->matchers;
      return std::all_of(ms.begin(), ms.end(), [](const Matcher& m) { return IsEvaluable(m); });
    };
    uint32_t key = conj.required_slots[0];
    for (uint32_t slot : conj.required_slots) {
      if (fan_out[slot] < fan_out[key]) key = slot;
    }
    std::vector<uint32_t> keep;
    for (uint32_t slot : conj.required_slots) {
      if (slot != key && fan_out[slot] > kLazyFanOut && evaluable(slot)) {
        lazy[slot] = true;
        any = true;
        slots_[slot].lazy = true;
        slots_[slot].required = false;
        conj.lazy_slots.push_back(slot);
        leaves_[static_cast<size_t>(nodes_[slots_[slot].node].leaf)].record = true;
      } else {
        keep.push_back(slot);
      }
    }
    conj.required_slots = std::move(keep);
    conj.required = static_cast<uint32_t>(conj.required_slots.size());
  }
  if (!any) return;
  auto is_lazy = [&](uint32_t id) { return !(id & kExclusion) && lazy[id]; };
  for (Leaf& leaf : leaves_) {
    leaf.ForEachList([&](IdList& l) { std::erase_if(l, is_lazy); });
    std::erase_if(leaf.anything_buts, [&](uint32_t ab) { return lazy[abs_[ab].slot]; });
    std::erase_if(leaf.wildcards, [&](const Leaf::Wildcard& w) { return is_lazy(w.id); });
    std::erase_if(leaf.unicode_case, [&](const Leaf::CaseMatcher& c) { return is_lazy(c.id); });
  }
}

bool IsEvaluable(const Matcher& m) { return m.kind != MatchKind::kAbsent; }

namespace {
// The value of a number in the event, as `m` compares it; false if `m` cannot compare it.
bool ComparableNumber(const Matcher& m, ValueType type, std::string_view text, int sig,
                      double* value) {
  if (type != ValueType::kNumber || !ParseDouble(text, value)) return false;
  if (m.five_decimals) {
    *value = ToFiveDecimals(*value);
    return true;
  }
  return IsShortestText(text, sig, *value);
}
}  // namespace

bool IsExcluded(const Matcher& m, ValueType type, std::string_view text, int sig) {
  bool is_string = type == ValueType::kString;
  for (const std::string& x : m.ab_strings) {
    if (!is_string) break;
    switch (m.ab_kind) {
      case AnythingButKind::kValues:
        if (text == x) return true;
        break;
      case AnythingButKind::kPrefix:
        if (text.starts_with(x)) return true;
        break;
      case AnythingButKind::kSuffix:
        if (text.ends_with(x)) return true;
        break;
      case AnythingButKind::kEqualsIgnoreCase:
        if (CaseAlternativesMatch(BuildCaseAlternatives(x), text, Anchor::kWhole)) return true;
        break;
      case AnythingButKind::kWildcard:
        if (WildcardMatches(SplitWildcard(x), text)) return true;
        break;
    }
  }
  double v;
  if (!m.ab_numbers.empty() && ComparableNumber(m, type, text, sig, &v)) {
    for (double x : m.ab_numbers) {
      if (v == x) return true;
    }
  }
  return false;
}

bool EvaluateMatcher(const Matcher& m, ValueType type, std::string_view text, int sig) {
  bool is_string = type == ValueType::kString;
  auto number = [&](double* v) { return ComparableNumber(m, type, text, sig, v); };
  double v = 0;
  switch (m.kind) {
    case MatchKind::kExactString:
      return is_string && text == m.text;
    case MatchKind::kExactNumber:
      if (type != ValueType::kNumber) return false;
      if (!m.number.comparable) return text == m.text;
      return number(&v) && v == m.number.value;
    case MatchKind::kTrue:
      return type == ValueType::kTrue;
    case MatchKind::kFalse:
      return type == ValueType::kFalse;
    case MatchKind::kNull:
      return type == ValueType::kNull;
    case MatchKind::kPrefix:
      return is_string && text.starts_with(m.text);
    case MatchKind::kSuffix:
      return is_string && text.ends_with(m.text);
    case MatchKind::kEqualsIgnoreCase:
      return is_string &&
             CaseAlternativesMatch(BuildCaseAlternatives(m.text), text, Anchor::kWhole);
    case MatchKind::kPrefixIgnoreCase:
      return is_string &&
             CaseAlternativesMatch(BuildCaseAlternatives(m.text), text, Anchor::kPrefix);
    case MatchKind::kSuffixIgnoreCase:
      return is_string &&
             CaseAlternativesMatch(BuildCaseAlternatives(m.text), text, Anchor::kSuffix);
    case MatchKind::kWildcard:
      return is_string && WildcardMatches(SplitWildcard(m.text), text);
    case MatchKind::kNumeric: {
      if (!number(&v)) return false;
      const NumericRange& r = m.range;
      if (r.has_low && (r.low_open ? !(v > r.low) : !(v >= r.low))) return false;
      if (r.has_high && (r.high_open ? !(v < r.high) : !(v <= r.high))) return false;
      return true;
    }
    case MatchKind::kExists:
      return true;
    case MatchKind::kCidr: {
      IpAddress ip;
      if (!is_string || !ParseIp(text, &ip) || ip.v6 != m.ip.base.v6) return false;
      return MaskIp(ip, m.ip.prefix_bits).bytes == m.ip.base.bytes;
    }
    case MatchKind::kAnythingBut:
      // Per value, EventBridge style; the SNS style (no value excluded) is checked per field.
      return m.ab_any_element && !IsExcluded(m, type, text, sig);
    case MatchKind::kAbsent:
      return false;
  }
  return false;
}

std::shared_ptr<const Machine> Machine::Build(std::vector<RuleInput> rules) {
  auto m = std::make_shared<Machine>();
  std::sort(rules.begin(), rules.end(),
            [](const RuleInput& a, const RuleInput& b) { return a.name < b.name; });
  m->rules_ = std::move(rules);
  m->nodes_.emplace_back();
  std::vector<std::vector<std::pair<NumericRange, uint32_t>>> ranges;
  for (size_t r = 0; r < m->rules_.size(); ++r) {
    for (const Conjunction& cj : m->rules_[r].data->conjunctions) {
      uint32_t conj_id = static_cast<uint32_t>(m->conjs_.size());
      Conj conj{static_cast<uint32_t>(r), 0, {}, {}};
      for (const FieldConstraint& f : cj.fields) {
        uint32_t node = m->EnsurePath(f.path);
        if (m->nodes_[node].leaf < 0) {
          m->nodes_[node].leaf = static_cast<int32_t>(m->leaves_.size());
          m->leaves_.emplace_back();
          ranges.emplace_back();
        }
        size_t leaf_index = static_cast<size_t>(m->nodes_[node].leaf);
        bool absent_ok = std::any_of(f.matchers.begin(), f.matchers.end(),
                                     [](const Matcher& x) { return x.kind == MatchKind::kAbsent; });
        uint32_t slot = static_cast<uint32_t>(m->slots_.size());
        m->slots_.push_back({conj_id, !absent_ok, false, node, &f});
        if (absent_ok) {
          conj.optional.push_back({slot, node});
        } else {
          ++conj.required;
          conj.required_slots.push_back(slot);
        }
        for (const Matcher& x : f.matchers) {
          if (x.kind == MatchKind::kNumeric) ranges[leaf_index].push_back({x.range, slot});
          m->AddMatcher(m->leaves_[leaf_index], x, slot);
        }
      }
      if (conj.required == 0) m->always_.push_back(conj_id);
      if (conj.required >= 2) m->track_arrays_ = true;
      m->conjs_.push_back(std::move(conj));
    }
  }
  for (size_t i = 0; i < m->leaves_.size(); ++i) {
    if (!ranges[i].empty()) m->FinishRanges(m->leaves_[i], ranges[i]);
  }
  m->MakeCommonFieldsLazy();
  for (Leaf& leaf : m->leaves_) {
    if (leaf.wildcards.empty() && leaf.unicode_case.empty()) continue;
    ByteNfa nfa;
    for (const Leaf::Wildcard& w : leaf.wildcards) nfa.AddWildcard(w.parts, w.id);
    for (const Leaf::CaseMatcher& c : leaf.unicode_case) nfa.AddCase(c.alts, c.anchor, c.id);
    // Past this many states the patterns are matched one by one instead.
    leaf.string_dfa.Build(nfa, 4096);
  }
  for (PathNode& n : m->nodes_) {
    if (n.names.size() > 8) {
      for (size_t i = 0; i < n.names.size(); ++i) n.index[n.names[i]] = n.ids[i];
    }
  }
  return m;
}

size_t Machine::Match(std::string_view event, std::vector<uint32_t>* out) const {
  thread_local Scratch scratch;
  out->clear();
  Fit(scratch.slot_stamp, slots_.size());
  Fit(scratch.slot_root, slots_.size());
  Fit(scratch.conj_stamp, conjs_.size());
  Fit(scratch.conj_count, conjs_.size());
  Fit(scratch.conj_done, conjs_.size());
  Fit(scratch.node_present, nodes_.size());
  Fit(scratch.node_seen, nodes_.size());
  Fit(scratch.ab_value, abs_.size());
  Fit(scratch.ab_seen, abs_.size());
  Fit(scratch.ab_veto, abs_.size());
  Fit(scratch.rule_stamp, rules_.size());
  Scanner scanner(*this, scratch, event);
  if (!scanner.Run()) return 0;
  scanner.Finish(out);
  return out->size();
}

}  // namespace courier::pattern_internal
