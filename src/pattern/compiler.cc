// Pattern text -> PatternData: a small JSON reader that keeps number texts and positions, then
// event-ruler's compilation rules with AWS's validation messages for both dialects.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "courier/status.h"
#include "pattern/pattern_ir.h"

namespace courier::pattern_internal {
namespace {

constexpr int kMaxPatternDepth = 64;
constexpr size_t kMaxOrCombinations = 1000;
constexpr size_t kMaxSnsPolicyBytes = 256 * 1024;

struct Member;
struct Node {
  enum Type : uint8_t { kObject, kArray, kString, kNumber, kTrue, kFalse, kNull } type = kNull;
  std::string text;  // string value or number text
  int significant_digits = 0;
  size_t offset = 0;            // where the value starts
  std::vector<Member> members;  // duplicates: the last one wins
  std::vector<size_t> member_offsets;
  std::vector<Node> items;

  bool IsNumber() const { return type == kNumber; }
};
struct Member {
  std::string first;
  Node second;
};

// Error with a position; converted to the dialect's status at the top.
struct Failure {
  std::string message;
  size_t offset = 0;
};

class Reader {
 public:
  explicit Reader(std::string_view text) : begin_(text.data()), end_(text.data() + text.size()) {}

  bool Parse(Node* out, Failure* failure) {
    p_ = SkipSpace(begin_, end_);
    if (!Value(out, 0)) {
      *failure = failure_;
      return false;
    }
    p_ = SkipSpace(p_, end_);
    if (p_ != end_) {
      *failure = {"Unexpected content after the pattern", Offset()};
      return false;
    }
    return true;
  }

 private:
  size_t Offset() const { return static_cast<size_t>(p_ - begin_); }
  bool Fail(std::string message) {
    failure_ = {std::move(message), Offset()};
    return false;
  }

  bool Value(Node* out, int depth) {
    if (p_ >= end_) return Fail("Unexpected end of input");
    out->offset = Offset();
    char c = *p_;
    if (c == '{' || c == '[') {
      if (depth >= kMaxPatternDepth) {
        return Fail(fmt::format("Pattern is nested deeper than {} levels", kMaxPatternDepth));
      }
      return c == '{' ? Object(out, depth) : Array(out, depth);
    }
    if (c == '"') {
      out->type = Node::kString;
      return String(&out->text);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      const char* e = ScanNumber(p_, end_, &out->significant_digits);
      if (e == nullptr) return Fail("Malformed number");
      out->type = Node::kNumber;
      out->text.assign(p_, e);
      p_ = e;
      return true;
    }
    auto literal = [&](std::string_view word, Node::Type type) {
      if (static_cast<size_t>(end_ - p_) < word.size() ||
          std::string_view(p_, word.size()) != word) {
        return Fail("Unrecognized token");
      }
      p_ += word.size();
      out->type = type;
      return true;
    };
    if (c == 't') return literal("true", Node::kTrue);
    if (c == 'f') return literal("false", Node::kFalse);
    if (c == 'n') return literal("null", Node::kNull);
    return Fail(fmt::format("Unexpected character '{}'", c));
  }

  bool String(std::string* out) {
    std::string_view raw;
    bool escaped = false;
    const char* e = ScanString(p_ + 1, end_, &raw, &escaped);
    if (e == nullptr) return Fail("Unterminated string");
    for (char ch : raw) {
      if (static_cast<unsigned char>(ch) < 0x20) return Fail("Control character in string");
    }
    if (escaped) {
      if (!Unescape(raw, out)) return Fail("Invalid escape in string");
    } else {
      out->assign(raw);
    }
    p_ = e;
    return true;
  }

  bool Object(Node* out, int depth) {
    out->type = Node::kObject;
    ++p_;
    p_ = SkipSpace(p_, end_);
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      p_ = SkipSpace(p_, end_);
      if (p_ >= end_ || *p_ != '"') return Fail("Expected a field name");
      size_t key_offset = Offset();
      std::string key;
      if (!String(&key)) return false;
      p_ = SkipSpace(p_, end_);
      if (p_ >= end_ || *p_ != ':') return Fail("Expected ':'");
      p_ = SkipSpace(p_ + 1, end_);
      Node value;
      if (!Value(&value, depth + 1)) return false;
      auto it = std::find_if(out->members.begin(), out->members.end(),
                             [&](const auto& m) { return m.first == key; });
      if (it != out->members.end()) {
        out->member_offsets.erase(out->member_offsets.begin() + (it - out->members.begin()));
        out->members.erase(it);
      }
      out->members.push_back(Member{std::move(key), std::move(value)});
      out->member_offsets.push_back(key_offset);
      p_ = SkipSpace(p_, end_);
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        return true;
      }
      return Fail("Expected ',' or '}'");
    }
  }

  bool Array(Node* out, int depth) {
    out->type = Node::kArray;
    ++p_;
    p_ = SkipSpace(p_, end_);
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      p_ = SkipSpace(p_, end_);
      Node item;
      if (!Value(&item, depth + 1)) return false;
      out->items.push_back(std::move(item));
      p_ = SkipSpace(p_, end_);
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ < end_ && *p_ == ']') {
        ++p_;
        return true;
      }
      return Fail("Expected ',' or ']'");
    }
  }

  const char* begin_;
  const char* end_;
  const char* p_ = nullptr;
  Failure failure_;
};

bool IsOperatorName(std::string_view k) {
  static constexpr std::string_view kOps[] = {
      "exact",  "prefix", "suffix",  "equals-ignore-case", "anything-but", "numeric",
      "exists", "cidr",   "wildcard"};
  return std::find(std::begin(kOps), std::end(kOps), k) != std::end(kOps);
}

using Conj = std::map<std::string, std::vector<Matcher>>;

class Compiler {
 public:
  explicit Compiler(const CompileOptions& options) : options_(options) {}

  bool sns() const { return options_.dialect != Dialect::kEventBridge; }

  bool Run(const Node& root, std::vector<Conj>* out, Failure* failure) {
    if (root.type != Node::kObject) return Fail(root, "Filter is not an object", failure);
    if (sns() && !SnsLimits(root, failure)) return false;
    std::vector<Conj> rules;
    if (!ParseObject(&rules, "", root, false, failure)) return false;
    *out = std::move(rules);
    return true;
  }

 private:
  static bool Fail(const Node& at, std::string message, Failure* failure) {
    *failure = {std::move(message), at.offset};
    return false;
  }

  // SNS: at most 5 top-level keys; at most 150 combinations (LocalStack's reading of the docs:
  // value counts multiply, times the key's depth; $or branches add); no nesting in attribute
  // scope.
  bool SnsLimits(const Node& root, Failure* failure) {
    if (root.members.size() > 5) {
      return Fail(root, "Filter policy can not have more than 5 keys", failure);
    }
    uint64_t combinations = 1;
    if (!SnsCount(root, 1, &combinations, failure)) return false;
    if (combinations > 150) return Fail(root, "Filter policy is too complex", failure);
    return true;
  }
  bool SnsCount(const Node& obj, uint64_t depth, uint64_t* combinations, Failure* failure) {
    if (obj.type != Node::kObject) return true;  // reported by ParseObject
    for (const auto& [key, value] : obj.members) {
      if (value.type == Node::kObject) {
        if (options_.dialect == Dialect::kSnsAttributes) {
          return Fail(
              value, "#Filter policy scope MessageAttributes does not support nested filter policy",
              failure);
        }
        if (!SnsCount(value, depth + 1, combinations, failure)) return false;
      } else if (value.type == Node::kArray) {
        if (value.items.empty()) return Fail(value, "Empty arrays are not allowed", failure);
        if (key == "$or" && IsOrArray(value)) {
          uint64_t sum = 0;
          for (const Node& branch : value.items) {
            uint64_t c = *combinations;
            if (!SnsCount(branch, depth, &c, failure)) return false;
            sum = std::min<uint64_t>(sum + c, 1u << 30);
          }
          *combinations = sum;
        } else {
          *combinations = std::min<uint64_t>(*combinations * value.items.size() * depth, 1u << 30);
        }
      }
    }
    return true;
  }

  static bool IsOrArray(const Node& value) {
    if (value.type != Node::kArray || value.items.size() < 2) return false;
    return std::all_of(value.items.begin(), value.items.end(),
                       [](const Node& n) { return n.type == Node::kObject; });
  }

  bool ParseObject(std::vector<Conj>* rules, const std::string& path, const Node& obj, bool in_or,
                   Failure* failure) {
    if (obj.members.empty()) return Fail(obj, "Empty objects are not allowed", failure);
    for (size_t i = 0; i < obj.members.size(); ++i) {
      const auto& [key, value] = obj.members[i];
      if (key == "$or" && (!sns() || IsOrArray(value))) {
        if (!ParseOr(rules, path, value, failure)) return false;
        continue;
      }
      if (in_or && !sns() && IsOperatorName(key)) {
        return Fail(value, key + " is Ruler reserved fieldName which cannot be used inside $or.",
                    failure);
      }
      std::string child = path.empty() ? key : path + "." + key;
      if (value.type == Node::kObject) {
        if (!ParseObject(rules, child, value, in_or, failure)) return false;
      } else if (value.type == Node::kArray) {
        std::vector<Matcher> matchers;
        if (!ParseValues(value, &matchers, failure)) return false;
        if (rules->empty()) rules->emplace_back();
        for (Conj& c : *rules) c[child] = matchers;
      } else {
        return Fail(value, fmt::format("\"{}\" must be an object or an array", key), failure);
      }
    }
    return true;
  }

  bool ParseOr(std::vector<Conj>* rules, const std::string& path, const Node& value,
               Failure* failure) {
    if (value.type != Node::kArray) {
      return Fail(value, "It must be an Array followed with $or.", failure);
    }
    std::vector<Conj> current = std::move(*rules);
    rules->clear();
    for (const Node& branch : value.items) {
      if (branch.type != Node::kObject) {
        return Fail(branch, "Only JSON object is allowed in array of $or relationship.", failure);
      }
      std::vector<Conj> fork = current;
      if (fork.empty()) fork.emplace_back();
      if (!ParseObject(&fork, path, branch, true, failure)) return false;
      for (Conj& c : fork) rules->push_back(std::move(c));
      if (rules->size() > kMaxOrCombinations) {
        return Fail(
            value, fmt::format("The $or combinations of the pattern exceed {}", kMaxOrCombinations),
            failure);
      }
    }
    if (value.items.size() < 2) {
      return Fail(value, "There must have at least 2 Objects in $or relationship.", failure);
    }
    return true;
  }

  bool ParseValues(const Node& array, std::vector<Matcher>* out, Failure* failure) {
    for (const Node& item : array.items) {
      Matcher m;
      switch (item.type) {
        case Node::kObject:
          if (!MatchExpression(item, &m, failure)) return false;
          break;
        case Node::kString: {
          IpAddress ip;
          if (ParseIp(item.text, &ip)) {
            m.kind = MatchKind::kCidr;
            m.ip = IpRange{ip, ip.v6 ? 128 : 32};
          } else {
            m.kind = MatchKind::kExactString;
            m.text = item.text;
          }
          break;
        }
        case Node::kNumber:
          m.kind = MatchKind::kExactNumber;
          m.text = item.text;
          m.number = ParseNumber(item.text, item.significant_digits);
          break;
        case Node::kTrue:
          m.kind = MatchKind::kTrue;
          break;
        case Node::kFalse:
          m.kind = MatchKind::kFalse;
          break;
        case Node::kNull:
          m.kind = MatchKind::kNull;
          break;
        case Node::kArray:
          return Fail(item, "Match value must be String, number, true, false, or null", failure);
      }
      if (sns()) RoundToFiveDecimals(&m);
      out->push_back(std::move(m));
    }
    if (out->empty()) return Fail(array, "Empty arrays are not allowed", failure);
    return true;
  }

  // SNS compares numbers to five decimal places: the operands are rounded here, the event's
  // numbers when they are matched. Any number a double holds then compares by value.
  static void RoundToFiveDecimals(Matcher* m) {
    m->five_decimals = true;
    double v = 0;
    if (m->kind == MatchKind::kExactNumber && ParseDouble(m->text, &v)) {
      m->number = {.value = ToFiveDecimals(v), .comparable = true};
    }
    m->range.low = ToFiveDecimals(m->range.low);
    m->range.high = ToFiveDecimals(m->range.high);
    for (double& x : m->ab_numbers) x = ToFiveDecimals(x);
  }

  // SNS matches numbers from -1e9 to 1e9 (spec §10); EventBridge has no such bound.
  bool SnsRange(const Node& n, double value, Failure* failure) {
    if (!sns() || (value >= -1e9 && value <= 1e9)) return true;
    return Fail(n, "Numeric value must be between -1.0E9 and 1.0E9 inclusive", failure);
  }

  bool Comparable(const Node& n, double* value, Failure* failure) {
    NumberValue v = ParseNumber(n.text, n.significant_digits);
    if (!v.comparable) {
      return Fail(n, fmt::format("Cannot compare number {}: it is not exactly a double", n.text),
                  failure);
    }
    *value = v.value;
    return true;
  }

  bool MatchExpression(const Node& expr, Matcher* m, Failure* failure) {
    if (expr.members.empty()) return Fail(expr, "Match expression name not found", failure);
    if (expr.members.size() > 1) {
      return Fail(expr, "Only one key allowed in match expression", failure);
    }
    const std::string& op = expr.members[0].first;
    const Node& v = expr.members[0].second;
    auto need_string = [&](std::string_view what) {
      if (v.type == Node::kString) return true;
      return Fail(v, fmt::format("{} match pattern must be a string", what), failure);
    };
    if (op == "exact") {
      if (!need_string("exact")) return false;
      m->kind = MatchKind::kExactString;
      m->text = v.text;
      return true;
    }
    if (op == "prefix" || op == "suffix") {
      bool prefix = op == "prefix";
      if (v.type == Node::kObject && v.members.size() == 1 &&
          v.members[0].first == "equals-ignore-case") {
        const Node& s = v.members[0].second;
        if (s.type != Node::kString) {
          return Fail(s, "equals-ignore-case match pattern must be a string", failure);
        }
        m->kind = prefix ? MatchKind::kPrefixIgnoreCase : MatchKind::kSuffixIgnoreCase;
        m->text = s.text;
        return true;
      }
      if (!need_string(op)) return false;
      m->kind = prefix ? MatchKind::kPrefix : MatchKind::kSuffix;
      m->text = v.text;
      return true;
    }
    if (op == "equals-ignore-case") {
      if (!need_string(op)) return false;
      m->kind = MatchKind::kEqualsIgnoreCase;
      m->text = v.text;
      return true;
    }
    if (op == "wildcard" && !sns()) {
      if (!need_string(op)) return false;
      if (!CheckWildcard(v, failure)) return false;
      m->kind = MatchKind::kWildcard;
      m->text = v.text;
      return true;
    }
    if (op == "exists") {
      if (v.type != Node::kTrue && v.type != Node::kFalse) {
        return Fail(v, "exists match pattern must be either true or false.", failure);
      }
      m->kind = v.type == Node::kTrue ? MatchKind::kExists : MatchKind::kAbsent;
      return true;
    }
    if (op == "cidr") {
      if (!need_string("prefix")) return false;
      m->kind = MatchKind::kCidr;
      return ParseCidr(v, &m->ip, failure);
    }
    if (op == "numeric") {
      m->kind = MatchKind::kNumeric;
      return Numeric(v, &m->range, failure);
    }
    if (op == "anything-but") {
      m->kind = MatchKind::kAnythingBut;
      m->ab_any_element = !sns() || options_.sns_any_element;
      return AnythingBut(v, m, failure);
    }
    return Fail(expr, "Unrecognized match type " + op, failure);
  }

  bool CheckWildcard(const Node& v, Failure* failure) {
    const std::string& s = v.text;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\') {
        if (i + 1 >= s.size() || (s[i + 1] != '*' && s[i + 1] != '\\')) {
          return Fail(v, fmt::format("Invalid escape character at pos {}", i), failure);
        }
        ++i;
      } else if (s[i] == '*' && i + 1 < s.size() && s[i + 1] == '*') {
        return Fail(v, fmt::format("Consecutive wildcard characters at pos {}", i + 1), failure);
      }
    }
    return true;
  }

  bool ParseCidr(const Node& v, IpRange* out, Failure* failure) {
    const std::string& s = v.text;
    size_t slash = s.find('/');
    if (slash == std::string::npos || s.find('/', slash + 1) != std::string::npos) {
      return Fail(v, "Malformed CIDR, one '/' required", failure);
    }
    std::string_view bits_text(s.data() + slash + 1, s.size() - slash - 1);
    int bits = 0;
    if (bits_text.empty() || bits_text.size() > 3 ||
        !std::all_of(bits_text.begin(), bits_text.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      return Fail(v, "Malformed CIDR, mask bits must be an integer", failure);
    }
    for (char c : bits_text) bits = bits * 10 + (c - '0');
    IpAddress ip;
    if (!ParseIp(std::string_view(s.data(), slash), &ip)) {
      return Fail(v, "Nonstandard IP address: " + s.substr(0, slash), failure);
    }
    int max = ip.v6 ? 128 : 32;
    if (bits >= max) {
      return Fail(v, fmt::format("Malformed CIDR, mask bits must be < {}", max), failure);
    }
    *out = IpRange{MaskIp(ip, bits), bits};
    return true;
  }

  bool Numeric(const Node& v, NumericRange* r, Failure* failure) {
    if (v.type != Node::kArray) return Fail(v, "Value of numeric must be an array.", failure);
    const auto& it = v.items;
    if (it.empty() || it[0].type != Node::kString) {
      return Fail(
          it.empty() ? v : it[0],
          "Invalid member in numeric match: " + (it.empty() ? std::string("]") : it[0].text),
          failure);
    }
    const std::string& op = it[0].text;
    if (op != "=" && op != "<" && op != "<=" && op != ">" && op != ">=") {
      return Fail(it[0], "Unrecognized numeric range operator: " + op, failure);
    }
    std::string op_name = op == "=" ? "equals" : op;
    if (it.size() < 2 || !it[1].IsNumber()) {
      return Fail(it.size() < 2 ? v : it[1], "Value of " + op_name + " must be numeric", failure);
    }
    double a = 0;
    if (!Comparable(it[1], &a, failure) || !SnsRange(it[1], a, failure)) return false;
    if (op == "=") {
      r->has_low = r->has_high = true;
      r->low = r->high = a;
    } else if (op == "<" || op == "<=") {
      r->has_high = true;
      r->high = a;
      r->high_open = op == "<";
    } else {
      r->has_low = true;
      r->low = a;
      r->low_open = op == ">";
    }
    if (it.size() == 2) return true;
    if (op != ">" && op != ">=") {
      return Fail(it[2], "Too many elements in numeric expression", failure);
    }
    if (it[2].type != Node::kString) {
      return Fail(it[2], "Bad value in numeric range: " + it[2].text, failure);
    }
    const std::string& op2 = it[2].text;
    if (op2 != "<" && op2 != "<=") {
      return Fail(it[2], "Bad numeric range operator: " + op2, failure);
    }
    if (it.size() < 4 || !it[3].IsNumber()) {
      return Fail(it.size() < 4 ? v : it[3], "Value of " + op2 + " must be numeric", failure);
    }
    double b = 0;
    if (!Comparable(it[3], &b, failure) || !SnsRange(it[3], b, failure)) return false;
    if (it.size() > 4) return Fail(it[4], "Too many terms in numeric range expression", failure);
    if (!(a < b)) return Fail(it[3], "Bottom must be less than top", failure);
    r->has_high = true;
    r->high = b;
    r->high_open = op2 == "<";
    return true;
  }

  bool AnythingBut(const Node& v, Matcher* m, Failure* failure) {
    if (v.type == Node::kObject) {
      if (v.members.empty()) return Fail(v, "Anything-But expression name not found", failure);
      if (v.members.size() > 1) {
        return Fail(v, "Only one key allowed in match expression", failure);
      }
      const std::string& op = v.members[0].first;
      const Node& inner = v.members[0].second;
      bool allowed = op == "prefix" ||
                     (!sns() && (op == "suffix" || op == "equals-ignore-case" || op == "wildcard"));
      if (!allowed) return Fail(v, "Unsupported anything-but pattern: " + op, failure);
      m->ab_kind = op == "prefix"               ? AnythingButKind::kPrefix
                   : op == "suffix"             ? AnythingButKind::kSuffix
                   : op == "equals-ignore-case" ? AnythingButKind::kEqualsIgnoreCase
                                                : AnythingButKind::kWildcard;
      std::vector<const Node*> values;
      if (inner.type == Node::kArray && !sns()) {
        for (const Node& n : inner.items) values.push_back(&n);
        if (values.empty()) return Fail(inner, "Empty arrays are not allowed", failure);
      } else {
        values.push_back(&inner);
      }
      for (const Node* n : values) {
        if (n->type != Node::kString) {
          return Fail(*n,
                      m->ab_kind == AnythingButKind::kEqualsIgnoreCase
                          ? "Inside anything-but/equals-ignore-case list, "
                            "number|start|null|boolean is not supported."
                      : m->ab_kind == AnythingButKind::kWildcard
                          ? "wildcard match pattern must be a string"
                          : "prefix/suffix match pattern must be a string",
                      failure);
        }
        if (n->text.empty() &&
            (m->ab_kind == AnythingButKind::kPrefix || m->ab_kind == AnythingButKind::kSuffix)) {
          return Fail(*n, "Null prefix/suffix not allowed", failure);
        }
        if (m->ab_kind == AnythingButKind::kWildcard && !CheckWildcard(*n, failure)) return false;
        m->ab_strings.push_back(n->text);
      }
      return true;
    }
    m->ab_kind = AnythingButKind::kValues;
    std::vector<const Node*> values;
    if (v.type == Node::kArray) {
      for (const Node& n : v.items) values.push_back(&n);
    } else if (v.type == Node::kString || v.type == Node::kNumber) {
      values.push_back(&v);
    } else {
      return Fail(v, "Value of anything-but must be an array or single string/number value.",
                  failure);
    }
    bool has_string = false, has_number = false;
    for (const Node* n : values) {
      if (n->type == Node::kString) {
        has_string = true;
        m->ab_strings.push_back(n->text);
      } else if (n->type == Node::kNumber) {
        has_number = true;
        double d = 0;
        if (!Comparable(*n, &d, failure)) return false;
        m->ab_numbers.push_back(d);
      } else {
        return Fail(*n, "Inside anything but list, start|null|boolean is not supported.", failure);
      }
    }
    if (has_string == has_number) {
      return Fail(v,
                  "Inside anything but list, either all values are number or string, mixed type "
                  "is not supported",
                  failure);
    }
    return true;
  }

  const CompileOptions& options_;
};

std::pair<size_t, size_t> LineColumn(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

absl::Status ErrorFor(const CompileOptions& options, std::string_view json, const Failure& f) {
  if (options.dialect == Dialect::kEventBridge) {
    auto [line, column] = LineColumn(json, f.offset);
    return AwsErrorF("InvalidEventPatternException",
                     "Event pattern is not valid. Reason: {} at [line: {}, column: {}]", f.message,
                     line, column);
  }
  std::string prefix =
      options.sns_subscribe_call ? "Invalid parameter: Attributes Reason: " : "Invalid parameter: ";
  // A leading '#' marks messages SNS words without the "FilterPolicy: " part.
  std::string message = f.message.starts_with('#') ? prefix + f.message.substr(1)
                                                   : prefix + "FilterPolicy: " + f.message;
  return AwsError("InvalidParameter", message);
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

absl::StatusOr<PatternData> CompilePattern(std::string_view json, const CompileOptions& options) {
  if (options.dialect == Dialect::kEventBridge && CodePoints(json) > options.max_length) {
    return AwsErrorF("InvalidEventPatternException",
                     "Event pattern is not valid. Reason: the pattern is {} characters long, "
                     "more than the maximum of {}",
                     CodePoints(json), options.max_length);
  }
  if (options.dialect != Dialect::kEventBridge && json.size() > kMaxSnsPolicyBytes) {
    return ErrorFor(options, json, {"Filter policy is larger than 256 KB", 0});
  }
  Node root;
  Failure failure;
  Reader reader(json);
  if (!reader.Parse(&root, &failure)) return ErrorFor(options, json, failure);
  std::vector<Conj> conjs;
  Compiler compiler(options);
  if (!compiler.Run(root, &conjs, &failure)) return ErrorFor(options, json, failure);
  PatternData data;
  data.source = std::string(json);
  for (Conj& c : conjs) {
    Conjunction conj;
    for (auto& [path, matchers] : c) {
      conj.fields.push_back(FieldConstraint{path, std::move(matchers)});
    }
    data.conjunctions.push_back(std::move(conj));
  }
  return data;
}

}  // namespace courier::pattern_internal
