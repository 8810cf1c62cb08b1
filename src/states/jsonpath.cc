#include "states/jsonpath.h"

#include <cctype>
#include <cstdlib>
#include <functional>

#include "courier/status.h"
#include "states/json_util.h"

namespace courier::states_internal {

// A filter expression `?(...)`: comparisons of relative paths and literals, && || ! ( ).
struct FilterExpr {
  enum Kind { kOr, kAnd, kNot, kCompare, kExists };
  Kind kind = kExists;
  std::string op;  // kCompare: == != < <= > >=
  std::vector<std::shared_ptr<FilterExpr>> children;
  // Operands of kCompare (kExists uses lhs_path).
  std::optional<JsonPath> lhs_path, rhs_path;
  Json lhs_value, rhs_value;
};

namespace {

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("Invalid JSONPath '{}': {}", text, why));
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  absl::StatusOr<JsonPath::Segment> Bracket();
  absl::StatusOr<std::shared_ptr<FilterExpr>> FilterOr();

  std::string_view s_;
  size_t pos_ = 0;

  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool Eat(std::string_view t) {
    SkipSpace();
    if (s_.substr(pos_, t.size()) == t) {
      pos_ += t.size();
      return true;
    }
    return false;
  }
  std::optional<std::string> QuotedString() {
    char q = Peek();
    if (q != '\'' && q != '"') return std::nullopt;
    ++pos_;
    std::string out;
    while (!AtEnd() && s_[pos_] != q) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out.push_back(s_[pos_++]);
    }
    if (AtEnd()) return std::nullopt;
    ++pos_;
    return out;
  }
  std::optional<int64_t> Integer() {
    SkipSpace();
    size_t start = pos_;
    if (Peek() == '-') ++pos_;
    while (!AtEnd() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ == start || (pos_ == start + 1 && s_[start] == '-')) {
      pos_ = start;
      return std::nullopt;
    }
    return std::strtoll(std::string(s_.substr(start, pos_ - start)).c_str(), nullptr, 10);
  }
  absl::StatusOr<std::shared_ptr<FilterExpr>> FilterAnd();
  absl::StatusOr<std::shared_ptr<FilterExpr>> FilterUnary();
  absl::Status Operand(std::optional<JsonPath>& path, Json& value);
};

absl::StatusOr<JsonPath::Segment> Parser::Bracket() {
  // After '['.
  JsonPath::Segment seg;
  SkipSpace();
  if (Eat("*")) {
    seg.kind = JsonPath::Segment::kWildcard;
  } else if (Eat("?")) {
    if (!Eat("(")) return absl::InvalidArgumentError("expected '(' after '?'");
    COURIER_ASSIGN_OR_RETURN(auto expr, FilterOr());
    if (!Eat(")")) return absl::InvalidArgumentError("expected ')' closing the filter");
    seg.kind = JsonPath::Segment::kFilter;
    seg.filter = std::move(expr);
  } else if (Peek() == '\'' || Peek() == '"') {
    for (;;) {
      SkipSpace();
      auto name = QuotedString();
      if (!name) return absl::InvalidArgumentError("unterminated quoted name");
      seg.names.push_back(std::move(*name));
      if (!Eat(",")) break;
    }
    if (seg.names.size() == 1) {
      seg.kind = JsonPath::Segment::kField;
      seg.name = std::move(seg.names[0]);
      seg.names.clear();
    } else {
      seg.kind = JsonPath::Segment::kUnion;
    }
  } else {
    std::optional<int64_t> first = Integer();
    SkipSpace();
    if (Peek() == ':') {
      seg.kind = JsonPath::Segment::kSlice;
      seg.start = first;
      ++pos_;
      seg.end = Integer();
      SkipSpace();
      if (Peek() == ':') {
        ++pos_;
        auto step = Integer();
        if (step) seg.step = *step;
        if (seg.step == 0) return absl::InvalidArgumentError("slice step 0");
      }
    } else if (first) {
      seg.kind = JsonPath::Segment::kIndex;
      seg.index = *first;
      if (Eat(",")) {
        seg.kind = JsonPath::Segment::kUnion;
        seg.indices.push_back(*first);
        do {
          auto more = Integer();
          if (!more) return absl::InvalidArgumentError("bad index list");
          seg.indices.push_back(*more);
        } while (Eat(","));
      }
    } else {
      return absl::InvalidArgumentError("unexpected character in brackets");
    }
  }
  if (!Eat("]")) return absl::InvalidArgumentError("expected ']'");
  return seg;
}

absl::Status Parser::Operand(std::optional<JsonPath>& path, Json& value) {
  SkipSpace();
  char c = Peek();
  if (c == '@' || c == '$') {
    size_t start = pos_;
    ++pos_;
    int depth = 0;
    while (!AtEnd()) {
      char d = s_[pos_];
      if (d == '[') ++depth;
      if (d == ']') --depth;
      if (depth == 0 && (d == ' ' || d == ')' || d == '=' || d == '!' || d == '<' || d == '>' ||
                         d == '&' || d == '|')) {
        break;
      }
      if (d == '\'' || d == '"') {
        QuotedString();
        continue;
      }
      ++pos_;
    }
    COURIER_ASSIGN_OR_RETURN(JsonPath p, JsonPath::Parse(s_.substr(start, pos_ - start)));
    path = std::move(p);
    return absl::OkStatus();
  }
  if (c == '\'' || c == '"') {
    auto str = QuotedString();
    if (!str) return absl::InvalidArgumentError("unterminated string in filter");
    value = Json(*str);
    return absl::OkStatus();
  }
  if (Eat("true")) {
    value = true;
  } else if (Eat("false")) {
    value = false;
  } else if (Eat("null")) {
    value = nullptr;
  } else {
    size_t start = pos_;
    while (!AtEnd() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-' ||
                        s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E' || s_[pos_] == '+')) {
      ++pos_;
    }
    if (start == pos_) return absl::InvalidArgumentError("bad operand in filter");
    std::string num(s_.substr(start, pos_ - start));
    if (num.find_first_of(".eE") == std::string::npos) {
      value = static_cast<int64_t>(std::strtoll(num.c_str(), nullptr, 10));
    } else {
      value = std::strtod(num.c_str(), nullptr);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<FilterExpr>> Parser::FilterUnary() {
  if (Eat("!")) {
    COURIER_ASSIGN_OR_RETURN(auto inner, FilterUnary());
    auto e = std::make_shared<FilterExpr>();
    e->kind = FilterExpr::kNot;
    e->children.push_back(std::move(inner));
    return e;
  }
  if (Eat("(")) {
    COURIER_ASSIGN_OR_RETURN(auto inner, FilterOr());
    if (!Eat(")")) return absl::InvalidArgumentError("expected ')'");
    return inner;
  }
  auto e = std::make_shared<FilterExpr>();
  COURIER_RETURN_IF_ERROR(Operand(e->lhs_path, e->lhs_value));
  for (std::string_view op : {"==", "!=", "<=", ">=", "<", ">"}) {
    if (Eat(op)) {
      e->kind = FilterExpr::kCompare;
      e->op = std::string(op);
      COURIER_RETURN_IF_ERROR(Operand(e->rhs_path, e->rhs_value));
      return e;
    }
  }
  if (!e->lhs_path) return absl::InvalidArgumentError("a filter needs a comparison");
  e->kind = FilterExpr::kExists;
  return e;
}

absl::StatusOr<std::shared_ptr<FilterExpr>> Parser::FilterAnd() {
  COURIER_ASSIGN_OR_RETURN(auto lhs, FilterUnary());
  while (Eat("&&")) {
    COURIER_ASSIGN_OR_RETURN(auto rhs, FilterUnary());
    auto e = std::make_shared<FilterExpr>();
    e->kind = FilterExpr::kAnd;
    e->children = {std::move(lhs), std::move(rhs)};
    lhs = std::move(e);
  }
  return lhs;
}

absl::StatusOr<std::shared_ptr<FilterExpr>> Parser::FilterOr() {
  COURIER_ASSIGN_OR_RETURN(auto lhs, FilterAnd());
  while (Eat("||")) {
    COURIER_ASSIGN_OR_RETURN(auto rhs, FilterAnd());
    auto e = std::make_shared<FilterExpr>();
    e->kind = FilterExpr::kOr;
    e->children = {std::move(lhs), std::move(rhs)};
    lhs = std::move(e);
  }
  return lhs;
}

bool IsNameChar(char c) { return c != '.' && c != '[' && c != ']' && c != ' '; }

// Collects the matches of segments[i..] below `node` into `out`.
void Collect(const std::vector<JsonPath::Segment>& segs, size_t i, const Json& node,
             const Json& root, std::vector<const Json*>& out);

bool FilterMatches(const FilterExpr& e, const Json& node, const Json& root) {
  auto operand = [&](const std::optional<JsonPath>& path, const Json& value) -> const Json* {
    if (!path) return &value;
    return path->Find(path->root() == JsonPath::Root::kCurrent ? node : root);
  };
  switch (e.kind) {
    case FilterExpr::kOr:
      return FilterMatches(*e.children[0], node, root) || FilterMatches(*e.children[1], node, root);
    case FilterExpr::kAnd:
      return FilterMatches(*e.children[0], node, root) && FilterMatches(*e.children[1], node, root);
    case FilterExpr::kNot:
      return !FilterMatches(*e.children[0], node, root);
    case FilterExpr::kExists:
      return operand(e.lhs_path, e.lhs_value) != nullptr;
    case FilterExpr::kCompare: {
      const Json* a = operand(e.lhs_path, e.lhs_value);
      const Json* b = operand(e.rhs_path, e.rhs_value);
      if (!a || !b) return false;
      if (e.op == "==") return JsonEquals(*a, *b);
      if (e.op == "!=") return !JsonEquals(*a, *b);
      int cmp;
      if (a->is_number() && b->is_number()) {
        double x = AsDouble(*a), y = AsDouble(*b);
        cmp = x < y ? -1 : (x > y ? 1 : 0);
      } else if (a->is_string() && b->is_string()) {
        int c = std::string_view(a->get_string()).compare(std::string_view(b->get_string()));
        cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
      } else {
        return false;
      }
      if (e.op == "<") return cmp < 0;
      if (e.op == "<=") return cmp <= 0;
      if (e.op == ">") return cmp > 0;
      return cmp >= 0;
    }
  }
  return false;
}

void DeepScan(const std::vector<JsonPath::Segment>& segs, size_t i, const Json& node,
              const Json& root, std::vector<const Json*>& out) {
  const JsonPath::Segment& seg = segs[i];
  if (node.is_object()) {
    for (const auto& [k, v] : node.get_object()) {
      if (seg.kind == JsonPath::Segment::kDeepWildcard || k == seg.name) {
        Collect(segs, i + 1, v, root, out);
      }
    }
    for (const auto& [k, v] : node.get_object()) DeepScan(segs, i, v, root, out);
  } else if (node.is_array()) {
    for (const auto& v : node.get_array()) {
      if (seg.kind == JsonPath::Segment::kDeepWildcard) Collect(segs, i + 1, v, root, out);
    }
    for (const auto& v : node.get_array()) DeepScan(segs, i, v, root, out);
  }
}

void Collect(const std::vector<JsonPath::Segment>& segs, size_t i, const Json& node,
             const Json& root, std::vector<const Json*>& out) {
  if (i == segs.size()) {
    out.push_back(&node);
    return;
  }
  const JsonPath::Segment& seg = segs[i];
  switch (seg.kind) {
    case JsonPath::Segment::kField:
      if (node.is_object()) {
        if (auto* v = node.get_object().if_contains(seg.name)) Collect(segs, i + 1, *v, root, out);
      }
      break;
    case JsonPath::Segment::kIndex:
      if (node.is_array()) {
        const auto& a = node.get_array();
        int64_t idx = seg.index < 0 ? seg.index + static_cast<int64_t>(a.size()) : seg.index;
        if (idx >= 0 && idx < static_cast<int64_t>(a.size()))
          Collect(segs, i + 1, a[idx], root, out);
      }
      break;
    case JsonPath::Segment::kUnion:
      if (node.is_object()) {
        for (const auto& n : seg.names) {
          if (auto* v = node.get_object().if_contains(n)) Collect(segs, i + 1, *v, root, out);
        }
      } else if (node.is_array()) {
        const auto& a = node.get_array();
        for (int64_t idx : seg.indices) {
          if (idx < 0) idx += static_cast<int64_t>(a.size());
          if (idx >= 0 && idx < static_cast<int64_t>(a.size())) {
            Collect(segs, i + 1, a[idx], root, out);
          }
        }
      }
      break;
    case JsonPath::Segment::kSlice:
      if (node.is_array()) {
        const auto& a = node.get_array();
        int64_t n = static_cast<int64_t>(a.size());
        auto clamp = [n](int64_t v) {
          return v < 0 ? std::max<int64_t>(0, v + n) : std::min(v, n);
        };
        if (seg.step > 0) {
          int64_t from = seg.start ? clamp(*seg.start) : 0;
          int64_t to = seg.end ? clamp(*seg.end) : n;
          for (int64_t k = from; k < to; k += seg.step) Collect(segs, i + 1, a[k], root, out);
        } else {
          int64_t from = seg.start ? std::min(clamp(*seg.start), n - 1) : n - 1;
          int64_t to = seg.end ? clamp(*seg.end) : -1;
          for (int64_t k = from; k > to && k >= 0; k += seg.step) {
            Collect(segs, i + 1, a[k], root, out);
          }
        }
      }
      break;
    case JsonPath::Segment::kWildcard:
      if (node.is_object()) {
        for (const auto& [k, v] : node.get_object()) Collect(segs, i + 1, v, root, out);
      } else if (node.is_array()) {
        for (const auto& v : node.get_array()) Collect(segs, i + 1, v, root, out);
      }
      break;
    case JsonPath::Segment::kFilter:
      if (node.is_array()) {
        for (const auto& v : node.get_array()) {
          if (FilterMatches(*seg.filter, v, root)) Collect(segs, i + 1, v, root, out);
        }
      } else if (node.is_object()) {
        for (const auto& [k, v] : node.get_object()) {
          if (FilterMatches(*seg.filter, v, root)) Collect(segs, i + 1, v, root, out);
        }
      }
      break;
    case JsonPath::Segment::kDeepField:
    case JsonPath::Segment::kDeepWildcard:
      DeepScan(segs, i, node, root, out);
      break;
  }
}

}  // namespace

absl::StatusOr<JsonPath> JsonPath::Parse(std::string_view text) {
  JsonPath path;
  path.text_ = std::string(text);
  Parser p(text);
  if (text.empty() || (text[0] != '$' && text[0] != '@')) {
    return Bad(text, "a path starts with '$'");
  }
  if (text[0] == '@') {
    path.root_ = Root::kCurrent;
    p.pos_ = 1;
  } else if (text.size() >= 2 && text[1] == '$') {
    path.root_ = Root::kContext;
    p.pos_ = 2;
  } else {
    p.pos_ = 1;
    if (!p.AtEnd() && (std::isalpha(static_cast<unsigned char>(text[1])) || text[1] == '_')) {
      path.root_ = Root::kVariable;
      while (!p.AtEnd() &&
             (std::isalnum(static_cast<unsigned char>(p.Peek())) || p.Peek() == '_')) {
        path.variable_.push_back(text[p.pos_++]);
      }
    }
  }
  while (!p.AtEnd()) {
    char c = p.Peek();
    if (c == '.') {
      ++p.pos_;
      bool deep = false;
      if (p.Peek() == '.') {
        deep = true;
        ++p.pos_;
      }
      if (deep && p.Peek() == '[') {
        ++p.pos_;
        auto seg = p.Bracket();
        if (!seg.ok()) return Bad(text, std::string(seg.status().message()));
        if (seg->kind == Segment::kWildcard) {
          seg->kind = Segment::kDeepWildcard;
        } else if (seg->kind == Segment::kField) {
          seg->kind = Segment::kDeepField;
        } else {
          return Bad(text, "unsupported deep scan");
        }
        path.segments_.push_back(std::move(*seg));
        continue;
      }
      Segment seg;
      if (p.Peek() == '*') {
        ++p.pos_;
        seg.kind = deep ? Segment::kDeepWildcard : Segment::kWildcard;
      } else {
        size_t start = p.pos_;
        while (!p.AtEnd() && IsNameChar(p.Peek())) ++p.pos_;
        if (start == p.pos_) return Bad(text, "empty field name");
        seg.kind = deep ? Segment::kDeepField : Segment::kField;
        seg.name = std::string(text.substr(start, p.pos_ - start));
      }
      path.segments_.push_back(std::move(seg));
    } else if (c == '[') {
      ++p.pos_;
      auto seg = p.Bracket();
      if (!seg.ok()) return Bad(text, std::string(seg.status().message()));
      path.segments_.push_back(std::move(*seg));
    } else {
      return Bad(text, fmt::format("unexpected '{}' at offset {}", c, p.pos_));
    }
  }
  for (const auto& seg : path.segments_) {
    if (seg.kind != Segment::kField && seg.kind != Segment::kIndex) path.definite_ = false;
  }
  return path;
}

const Json* JsonPath::Find(const Json& doc) const {
  if (!definite_) return nullptr;
  const Json* cur = &doc;
  for (const auto& seg : segments_) {
    if (seg.kind == Segment::kField) {
      if (!cur->is_object()) return nullptr;
      cur = cur->get_object().if_contains(seg.name);
      if (!cur) return nullptr;
    } else {
      if (!cur->is_array()) return nullptr;
      const auto& a = cur->get_array();
      int64_t idx = seg.index < 0 ? seg.index + static_cast<int64_t>(a.size()) : seg.index;
      if (idx < 0 || idx >= static_cast<int64_t>(a.size())) return nullptr;
      cur = &a[idx];
    }
  }
  return cur;
}

std::optional<Json> JsonPath::Evaluate(const Json& doc) const {
  if (definite_) {
    const Json* v = Find(doc);
    if (!v) return std::nullopt;
    return *v;
  }
  std::vector<const Json*> matches;
  Collect(segments_, 0, doc, doc, matches);
  JsonArray out;
  out.reserve(matches.size());
  for (const Json* m : matches) out.push_back(*m);
  return Json(std::move(out));
}

bool JsonPath::Write(Json& doc, Json value) const {
  if (segments_.empty()) {
    doc = std::move(value);
    return true;
  }
  Json* cur = &doc;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& seg = segments_[i];
    bool last = i + 1 == segments_.size();
    if (seg.kind == Segment::kField) {
      if (!cur->is_object()) return false;
      auto& obj = cur->get_object();
      if (last) {
        obj[seg.name] = std::move(value);
        return true;
      }
      Json* next = obj.if_contains(seg.name);
      if (!next) next = &obj.emplace(seg.name, JsonObject()).first->value();
      cur = next;
    } else if (seg.kind == Segment::kIndex) {
      if (!cur->is_array()) return false;
      auto& a = cur->get_array();
      int64_t idx = seg.index < 0 ? seg.index + static_cast<int64_t>(a.size()) : seg.index;
      if (idx < 0 || idx >= static_cast<int64_t>(a.size())) return false;
      if (last) {
        a[idx] = std::move(value);
        return true;
      }
      cur = &a[idx];
    } else {
      return false;
    }
  }
  return false;
}

}  // namespace courier::states_internal
