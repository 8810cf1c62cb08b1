// A JSONata subset: the expressions Step Functions workflows write (see docs/states.md).
#include "states/jsonata.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

#include "courier/detail/uuid.h"
#include "states/json_util.h"

namespace courier::states_internal {

struct JsonataExpr {
  enum Kind {
    kLiteral,
    kVar,
    kName,
    kWildcard,
    kPath,
    kFilter,
    kBinary,
    kNeg,
    kCond,
    kCall,
    kLambda,
    kArray,
    kObject,
    kBlock,
    kBind,
    kRange,
    kContext
  };
  Kind kind = kLiteral;
  Json literal;
  std::string name;  // kVar, kName, kBinary (operator), kBind (variable)
  std::vector<std::shared_ptr<JsonataExpr>> kids;
  std::vector<std::string> params;  // kLambda
};

namespace {

using Expr = JsonataExpr;
using ExprPtr = std::shared_ptr<Expr>;

absl::Status QueryError(std::string_view msg) {
  return StatesError("States.QueryEvaluationError", msg);
}

// ---------------------------------------------------------------------------------------------
// Lexer.

struct Token {
  enum Kind { kEnd, kNumber, kString, kName, kVariable, kOp } kind = kEnd;
  std::string text;
  double number = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ + 1 < s_.size() && s_[pos_] == '/' && s_[pos_ + 1] == '*') {
        size_t end = s_.find("*/", pos_ + 2);
        if (end == std::string_view::npos)
          return absl::InvalidArgumentError("unterminated comment");
        pos_ = end + 2;
        continue;
      }
      if (pos_ >= s_.size()) break;
      char c = s_[pos_];
      Token t;
      if (std::isdigit(static_cast<unsigned char>(c))) {
        size_t start = pos_;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        if (pos_ + 1 < s_.size() && s_[pos_] == '.' &&
            std::isdigit(static_cast<unsigned char>(s_[pos_ + 1]))) {
          ++pos_;
          while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        }
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
          ++pos_;
          if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
          while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        }
        t.kind = Token::kNumber;
        t.text = std::string(s_.substr(start, pos_ - start));
        t.number = std::strtod(t.text.c_str(), nullptr);
      } else if (c == '"' || c == '\'') {
        ++pos_;
        std::string str;
        while (pos_ < s_.size() && s_[pos_] != c) {
          if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
            char e = s_[++pos_];
            switch (e) {
              case 'n':
                str.push_back('\n');
                break;
              case 't':
                str.push_back('\t');
                break;
              case 'r':
                str.push_back('\r');
                break;
              default:
                str.push_back(e);
            }
            ++pos_;
            continue;
          }
          str.push_back(s_[pos_++]);
        }
        if (pos_ >= s_.size()) return absl::InvalidArgumentError("unterminated string");
        ++pos_;
        t.kind = Token::kString;
        t.text = std::move(str);
      } else if (c == '`') {
        size_t end = s_.find('`', pos_ + 1);
        if (end == std::string_view::npos) return absl::InvalidArgumentError("unterminated name");
        t.kind = Token::kName;
        t.text = std::string(s_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end + 1;
      } else if (c == '$') {
        ++pos_;
        size_t start = pos_;
        if (pos_ < s_.size() && s_[pos_] == '$') {
          ++pos_;
        } else {
          while (pos_ < s_.size() &&
                 (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
            ++pos_;
          }
        }
        t.kind = Token::kVariable;
        t.text = std::string(s_.substr(start, pos_ - start));
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t start = pos_;
        while (pos_ < s_.size() &&
               (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
          ++pos_;
        }
        t.kind = Token::kName;
        t.text = std::string(s_.substr(start, pos_ - start));
      } else {
        static const char* kOps[] = {"..", ":=", "!=", "<=", ">=", "~>", "**", "=", "<",
                                     ">",  "+",  "-",  "*",  "/",  "%",  "&",  ".", ",",
                                     ";",  ":",  "?",  "(",  ")",  "[",  "]",  "{", "}"};
        bool found = false;
        for (const char* op : kOps) {
          if (s_.substr(pos_).starts_with(op)) {
            t.kind = Token::kOp;
            t.text = op;
            pos_ += t.text.size();
            found = true;
            break;
          }
        }
        if (!found) return absl::InvalidArgumentError(fmt::format("unexpected character '{}'", c));
      }
      out.push_back(std::move(t));
    }
    out.push_back(Token{});
    return out;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Parser (Pratt).

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  absl::StatusOr<ExprPtr> Parse() {
    COURIER_ASSIGN_OR_RETURN(ExprPtr e, Expression(0));
    if (t_[i_].kind != Token::kEnd) {
      return absl::InvalidArgumentError(fmt::format("unexpected '{}'", t_[i_].text));
    }
    return e;
  }

 private:
  const Token& Peek() const { return t_[i_]; }
  bool IsOp(std::string_view op) const { return t_[i_].kind == Token::kOp && t_[i_].text == op; }
  bool IsWord(std::string_view w) const { return t_[i_].kind == Token::kName && t_[i_].text == w; }
  absl::Status Expect(std::string_view op) {
    if (!IsOp(op)) {
      return absl::InvalidArgumentError(fmt::format("expected '{}' but found '{}'", op,
                                                    t_[i_].text.empty() ? "end" : t_[i_].text));
    }
    ++i_;
    return absl::OkStatus();
  }

  static int Binding(const Token& t) {
    if (t.kind == Token::kName) {
      if (t.text == "and") return 30;
      if (t.text == "or") return 25;
      if (t.text == "in") return 40;
      return 0;
    }
    if (t.kind != Token::kOp) return 0;
    const std::string& o = t.text;
    if (o == ".") return 75;
    if (o == "[" || o == "(") return 80;
    if (o == "*" || o == "/" || o == "%") return 60;
    if (o == "+" || o == "-" || o == "&") return 50;
    if (o == "=" || o == "!=" || o == "<" || o == "<=" || o == ">" || o == ">=" || o == "~>") {
      return 40;
    }
    if (o == "?") return 20;
    if (o == ":=") return 10;
    return 0;
  }

  absl::StatusOr<ExprPtr> Expression(int rbp) {
    COURIER_ASSIGN_OR_RETURN(ExprPtr left, Prefix());
    while (Binding(Peek()) > rbp) {
      COURIER_ASSIGN_OR_RETURN(left, Infix(std::move(left)));
    }
    return left;
  }

  absl::StatusOr<ExprPtr> Prefix() {
    Token t = Peek();
    ++i_;
    auto e = std::make_shared<Expr>();
    switch (t.kind) {
      case Token::kEnd:
        return absl::InvalidArgumentError("unexpected end of expression");
      case Token::kNumber:
        if (t.text.find_first_of(".eE") == std::string::npos && t.text.size() < 16) {
          e->literal = static_cast<int64_t>(std::strtoll(t.text.c_str(), nullptr, 10));
        } else {
          e->literal = t.number;
        }
        return e;
      case Token::kString:
        e->literal = Json(t.text);
        return e;
      case Token::kVariable:
        e->kind = t.text.empty() ? Expr::kContext : Expr::kVar;
        e->name = t.text;
        return e;
      case Token::kName:
        if (t.text == "true" || t.text == "false") {
          e->literal = t.text == "true";
          return e;
        }
        if (t.text == "null") {
          e->literal = nullptr;
          return e;
        }
        if ((t.text == "function" || t.text == "λ") && IsOp("(")) {
          ++i_;
          e->kind = Expr::kLambda;
          while (!IsOp(")")) {
            if (Peek().kind != Token::kVariable) {
              return absl::InvalidArgumentError("function parameters are $variables");
            }
            e->params.push_back(Peek().text);
            ++i_;
            if (IsOp(",")) ++i_;
          }
          ++i_;
          COURIER_RETURN_IF_ERROR(Expect("{"));
          COURIER_ASSIGN_OR_RETURN(ExprPtr body, Expression(0));
          COURIER_RETURN_IF_ERROR(Expect("}"));
          e->kids.push_back(std::move(body));
          return e;
        }
        e->kind = Expr::kName;
        e->name = t.text;
        return e;
      case Token::kOp:
        break;
    }
    if (t.text == "-") {
      COURIER_ASSIGN_OR_RETURN(ExprPtr operand, Expression(70));
      e->kind = Expr::kNeg;
      e->kids.push_back(std::move(operand));
      return e;
    }
    if (t.text == "*") {
      e->kind = Expr::kWildcard;
      return e;
    }
    if (t.text == "(") {
      e->kind = Expr::kBlock;
      while (!IsOp(")")) {
        COURIER_ASSIGN_OR_RETURN(ExprPtr item, Expression(0));
        e->kids.push_back(std::move(item));
        if (IsOp(";")) {
          ++i_;
        } else if (!IsOp(")")) {
          return absl::InvalidArgumentError("expected ';' or ')'");
        }
      }
      ++i_;
      return e;
    }
    if (t.text == "[") {
      e->kind = Expr::kArray;
      while (!IsOp("]")) {
        COURIER_ASSIGN_OR_RETURN(ExprPtr item, Expression(0));
        if (IsOp("..")) {
          ++i_;
          COURIER_ASSIGN_OR_RETURN(ExprPtr hi, Expression(0));
          auto range = std::make_shared<Expr>();
          range->kind = Expr::kRange;
          range->kids = {std::move(item), std::move(hi)};
          item = std::move(range);
        }
        e->kids.push_back(std::move(item));
        if (IsOp(",")) {
          ++i_;
        } else if (!IsOp("]")) {
          return absl::InvalidArgumentError("expected ',' or ']'");
        }
      }
      ++i_;
      return e;
    }
    if (t.text == "{") {
      e->kind = Expr::kObject;
      while (!IsOp("}")) {
        COURIER_ASSIGN_OR_RETURN(ExprPtr key, Expression(0));
        COURIER_RETURN_IF_ERROR(Expect(":"));
        COURIER_ASSIGN_OR_RETURN(ExprPtr value, Expression(0));
        e->kids.push_back(std::move(key));
        e->kids.push_back(std::move(value));
        if (IsOp(",")) {
          ++i_;
        } else if (!IsOp("}")) {
          return absl::InvalidArgumentError("expected ',' or '}'");
        }
      }
      ++i_;
      return e;
    }
    return absl::InvalidArgumentError(fmt::format("unexpected '{}'", t.text));
  }

  absl::StatusOr<ExprPtr> Infix(ExprPtr left) {
    Token t = Peek();
    ++i_;
    auto e = std::make_shared<Expr>();
    if (t.kind == Token::kOp && t.text == ".") {
      COURIER_ASSIGN_OR_RETURN(ExprPtr right, Expression(75));
      e->kind = Expr::kPath;
      e->kids = {std::move(left), std::move(right)};
      return e;
    }
    if (t.kind == Token::kOp && t.text == "[") {
      e->kind = Expr::kFilter;
      if (IsOp("]")) {  // a[] keeps an array
        ++i_;
        return left;
      }
      COURIER_ASSIGN_OR_RETURN(ExprPtr pred, Expression(0));
      COURIER_RETURN_IF_ERROR(Expect("]"));
      e->kids = {std::move(left), std::move(pred)};
      return e;
    }
    if (t.kind == Token::kOp && t.text == "(") {
      e->kind = Expr::kCall;
      e->kids.push_back(std::move(left));
      while (!IsOp(")")) {
        COURIER_ASSIGN_OR_RETURN(ExprPtr arg, Expression(0));
        e->kids.push_back(std::move(arg));
        if (IsOp(",")) {
          ++i_;
        } else if (!IsOp(")")) {
          return absl::InvalidArgumentError("expected ',' or ')'");
        }
      }
      ++i_;
      return e;
    }
    if (t.kind == Token::kOp && t.text == "?") {
      COURIER_ASSIGN_OR_RETURN(ExprPtr then, Expression(0));
      e->kind = Expr::kCond;
      e->kids = {std::move(left), std::move(then)};
      if (IsOp(":")) {
        ++i_;
        COURIER_ASSIGN_OR_RETURN(ExprPtr otherwise, Expression(0));
        e->kids.push_back(std::move(otherwise));
      }
      return e;
    }
    if (t.kind == Token::kOp && t.text == ":=") {
      if (left->kind != Expr::kVar) return absl::InvalidArgumentError("':=' needs a $variable");
      COURIER_ASSIGN_OR_RETURN(ExprPtr value, Expression(9));
      e->kind = Expr::kBind;
      e->name = left->name;
      e->kids.push_back(std::move(value));
      return e;
    }
    if (t.kind == Token::kOp && t.text == "~>") {
      COURIER_ASSIGN_OR_RETURN(ExprPtr right, Expression(40));
      // a ~> $f(b) is $f(a, b); a ~> $f is $f(a).
      e->kind = Expr::kCall;
      if (right->kind == Expr::kCall) {
        e->kids.push_back(right->kids[0]);
        e->kids.push_back(std::move(left));
        for (size_t k = 1; k < right->kids.size(); ++k) e->kids.push_back(right->kids[k]);
      } else {
        e->kids = {std::move(right), std::move(left)};
      }
      return e;
    }
    COURIER_ASSIGN_OR_RETURN(ExprPtr right, Expression(Binding(t)));
    e->kind = Expr::kBinary;
    e->name = t.text;
    e->kids = {std::move(left), std::move(right)};
    return e;
  }

  std::vector<Token> t_;
  size_t i_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Evaluation.

// A value: undefined (nullopt), a JSON value, a sequence (from mapping over arrays) or a function.
struct Val {
  std::optional<Json> json;
  bool sequence = false;
  ExprPtr lambda;
  std::string builtin;
  bool defined() const { return json.has_value() || lambda || !builtin.empty(); }
  static Val Of(Json j) { return Val{std::move(j)}; }
};

struct Frame {
  std::map<std::string, Val, std::less<>> vars;
  const Frame* parent = nullptr;
};

bool IsBuiltin(std::string_view name) {
  static const char* kNames[] = {"count",
                                 "sum",
                                 "max",
                                 "min",
                                 "average",
                                 "string",
                                 "number",
                                 "boolean",
                                 "not",
                                 "exists",
                                 "type",
                                 "uppercase",
                                 "lowercase",
                                 "trim",
                                 "length",
                                 "substring",
                                 "substringBefore",
                                 "substringAfter",
                                 "contains",
                                 "split",
                                 "join",
                                 "replace",
                                 "abs",
                                 "floor",
                                 "ceil",
                                 "round",
                                 "sqrt",
                                 "power",
                                 "keys",
                                 "lookup",
                                 "merge",
                                 "append",
                                 "reverse",
                                 "distinct",
                                 "sort",
                                 "map",
                                 "filter",
                                 "reduce",
                                 "now",
                                 "millis",
                                 "toMillis",
                                 "fromMillis",
                                 "partition",
                                 "range",
                                 "hash",
                                 "random",
                                 "uuid",
                                 "parse"};
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  return false;
}

class Evaluator {
 public:
  explicit Evaluator(Env& env) : env_(env) {}

  absl::StatusOr<Val> Eval(const Expr& e, const Val& ctx, Frame& frame);

 private:
  absl::StatusOr<Val> Call(const Val& fn, std::vector<Val> args, const Val& ctx, Frame& frame);
  absl::StatusOr<Val> Builtin(const std::string& name, std::vector<Val>& args, const Val& ctx,
                              Frame& frame);
  absl::StatusOr<Val> Step(const Expr& step, const Val& input, Frame& frame);

  Env& env_;
  int depth_ = 0;
};

// Unwraps a one-element sequence, turns an empty one into undefined.
Val Settle(Val v) {
  if (v.sequence && v.json && v.json->is_array()) {
    auto& a = v.json->get_array();
    if (a.empty()) return Val{};
    if (a.size() == 1) return Val::Of(a[0]);
  }
  v.sequence = false;
  return v;
}

bool Truthy(const Val& v) {
  if (!v.json) return v.lambda != nullptr;
  const Json& j = *v.json;
  switch (j.kind()) {
    case boost::json::kind::null:
      return false;
    case boost::json::kind::bool_:
      return j.get_bool();
    case boost::json::kind::string:
      return !j.get_string().empty();
    case boost::json::kind::array:
      for (const auto& e : j.get_array()) {
        if (Truthy(Val::Of(e))) return true;
      }
      return false;
    case boost::json::kind::object:
      return !j.get_object().empty();
    default:
      return AsDouble(j) != 0;
  }
}

Json Number(double d) {
  if (std::trunc(d) == d && std::fabs(d) < 9e15) return Json(static_cast<int64_t>(d));
  return Json(d);
}

std::string StringOf(const Json& j) {
  if (j.is_string()) return std::string(j.get_string());
  return ToJsonText(j);
}

absl::StatusOr<Val> Evaluator::Step(const Expr& step, const Val& input, Frame& frame) {
  // Applies `step` to each item of an array input, flattening array results.
  if (input.json && input.json->is_array()) {
    JsonArray out;
    for (const auto& item : input.json->get_array()) {
      COURIER_ASSIGN_OR_RETURN(Val r, Eval(step, Val::Of(item), frame));
      if (!r.json) continue;
      if (r.json->is_array() &&
          (r.sequence || step.kind == Expr::kName || step.kind == Expr::kWildcard)) {
        for (auto& x : r.json->get_array()) out.push_back(x);
      } else {
        out.push_back(*std::move(r.json));
      }
    }
    Val v = Val::Of(Json(std::move(out)));
    v.sequence = true;
    return v;
  }
  return Eval(step, input, frame);
}

absl::StatusOr<Val> Evaluator::Eval(const Expr& e, const Val& ctx, Frame& frame) {
  if (++depth_ > 500) return QueryError("The JSONata expression nests too deeply");
  struct Guard {
    int& d;
    ~Guard() { --d; }
  } guard{depth_};
  switch (e.kind) {
    case Expr::kLiteral:
      return Val::Of(e.literal);
    case Expr::kContext:
      return ctx;
    case Expr::kVar: {
      for (const Frame* f = &frame; f; f = f->parent) {
        auto it = f->vars.find(e.name);
        if (it != f->vars.end()) return it->second;
      }
      if (const Json* v = env_.Variable(e.name)) return Val::Of(*v);
      if (!IsBuiltin(e.name)) return Val{};  // an unknown variable is undefined
      Val fn;
      fn.builtin = e.name;
      return fn;
    }
    case Expr::kName: {
      if (!ctx.json) return Val{};
      if (ctx.json->is_object()) {
        if (const Json* v = ctx.json->get_object().if_contains(e.name)) return Val::Of(*v);
        return Val{};
      }
      if (ctx.json->is_array()) return Step(e, ctx, frame);
      return Val{};
    }
    case Expr::kWildcard: {
      if (!ctx.json || !ctx.json->is_object()) return Val{};
      JsonArray out;
      for (const auto& [k, v] : ctx.json->get_object()) {
        if (v.is_array()) {
          for (const auto& x : v.get_array()) out.push_back(x);
        } else {
          out.push_back(v);
        }
      }
      Val r = Val::Of(Json(std::move(out)));
      r.sequence = true;
      return Settle(r);
    }
    case Expr::kPath: {
      COURIER_ASSIGN_OR_RETURN(Val left, Eval(*e.kids[0], ctx, frame));
      if (!left.json) return Val{};
      COURIER_ASSIGN_OR_RETURN(Val r, Step(*e.kids[1], left, frame));
      return Settle(std::move(r));
    }
    case Expr::kFilter: {
      COURIER_ASSIGN_OR_RETURN(Val left, Eval(*e.kids[0], ctx, frame));
      if (!left.json) return Val{};
      JsonArray items;
      if (left.json->is_array()) {
        items = left.json->get_array();
      } else {
        items.push_back(*left.json);
      }
      const Expr& pred = *e.kids[1];
      JsonArray out;
      if (pred.kind == Expr::kLiteral && pred.literal.is_number()) {
        int64_t n = static_cast<int64_t>(std::floor(AsDouble(pred.literal)));
        if (n < 0) n += static_cast<int64_t>(items.size());
        if (n < 0 || n >= static_cast<int64_t>(items.size())) return Val{};
        return Val::Of(items[n]);
      }
      for (size_t k = 0; k < items.size(); ++k) {
        COURIER_ASSIGN_OR_RETURN(Val p, Eval(pred, Val::Of(items[k]), frame));
        if (p.json && p.json->is_number()) {
          int64_t n = static_cast<int64_t>(std::floor(AsDouble(*p.json)));
          if (n < 0) n += static_cast<int64_t>(items.size());
          if (n == static_cast<int64_t>(k)) out.push_back(items[k]);
        } else if (Truthy(p)) {
          out.push_back(items[k]);
        }
      }
      Val r = Val::Of(Json(std::move(out)));
      r.sequence = true;
      return Settle(r);
    }
    case Expr::kNeg: {
      COURIER_ASSIGN_OR_RETURN(Val v, Eval(*e.kids[0], ctx, frame));
      if (!v.json) return Val{};
      if (!v.json->is_number()) return QueryError("The operand of '-' must be a number");
      return Val::Of(Number(-AsDouble(*v.json)));
    }
    case Expr::kCond: {
      COURIER_ASSIGN_OR_RETURN(Val c, Eval(*e.kids[0], ctx, frame));
      if (Truthy(c)) return Eval(*e.kids[1], ctx, frame);
      if (e.kids.size() > 2) return Eval(*e.kids[2], ctx, frame);
      return Val{};
    }
    case Expr::kBlock: {
      Frame inner{.parent = &frame};
      Val last;
      for (const auto& k : e.kids) {
        COURIER_ASSIGN_OR_RETURN(last, Eval(*k, ctx, inner));
      }
      return last;
    }
    case Expr::kBind: {
      COURIER_ASSIGN_OR_RETURN(Val v, Eval(*e.kids[0], ctx, frame));
      frame.vars[e.name] = v;
      return v;
    }
    case Expr::kLambda: {
      Val v;
      v.lambda = std::make_shared<Expr>(e);
      return v;
    }
    case Expr::kArray: {
      JsonArray out;
      for (const auto& k : e.kids) {
        if (k->kind == Expr::kRange) {
          COURIER_ASSIGN_OR_RETURN(Val lo, Eval(*k->kids[0], ctx, frame));
          COURIER_ASSIGN_OR_RETURN(Val hi, Eval(*k->kids[1], ctx, frame));
          if (!lo.json || !hi.json) continue;
          auto a = AsInteger(*lo.json), b = AsInteger(*hi.json);
          if (!a || !b) return QueryError("The bounds of a range must be integers");
          if (*b - *a > 10000000) return QueryError("The range is too large");
          for (int64_t x = *a; x <= *b; ++x) out.push_back(x);
          continue;
        }
        COURIER_ASSIGN_OR_RETURN(Val v, Eval(*k, ctx, frame));
        if (!v.json) continue;
        if (v.sequence && v.json->is_array()) {
          for (auto& x : v.json->get_array()) out.push_back(x);
        } else {
          out.push_back(*std::move(v.json));
        }
      }
      return Val::Of(Json(std::move(out)));
    }
    case Expr::kObject: {
      JsonObject out;
      for (size_t k = 0; k + 1 < e.kids.size(); k += 2) {
        COURIER_ASSIGN_OR_RETURN(Val key, Eval(*e.kids[k], ctx, frame));
        if (!key.json || !key.json->is_string()) {
          return QueryError("Object keys must evaluate to strings");
        }
        COURIER_ASSIGN_OR_RETURN(Val v, Eval(*e.kids[k + 1], ctx, frame));
        if (v.json) out[key.json->get_string()] = *std::move(v.json);
      }
      return Val::Of(Json(std::move(out)));
    }
    case Expr::kCall: {
      COURIER_ASSIGN_OR_RETURN(Val fn, Eval(*e.kids[0], ctx, frame));
      std::vector<Val> args;
      for (size_t k = 1; k < e.kids.size(); ++k) {
        COURIER_ASSIGN_OR_RETURN(Val a, Eval(*e.kids[k], ctx, frame));
        args.push_back(Settle(std::move(a)));
      }
      return Call(fn, std::move(args), ctx, frame);
    }
    case Expr::kRange:
      return QueryError("A range is only allowed in an array constructor");
    case Expr::kBinary:
      break;
  }
  // Binary operators.
  const std::string& op = e.name;
  COURIER_ASSIGN_OR_RETURN(Val l, Eval(*e.kids[0], ctx, frame));
  if (op == "and") {
    if (!Truthy(l)) return Val::Of(false);
    COURIER_ASSIGN_OR_RETURN(Val r, Eval(*e.kids[1], ctx, frame));
    return Val::Of(Truthy(r));
  }
  if (op == "or") {
    if (Truthy(l)) return Val::Of(true);
    COURIER_ASSIGN_OR_RETURN(Val r, Eval(*e.kids[1], ctx, frame));
    return Val::Of(Truthy(r));
  }
  COURIER_ASSIGN_OR_RETURN(Val r, Eval(*e.kids[1], ctx, frame));
  l = Settle(std::move(l));
  r = Settle(std::move(r));
  if (op == "&") {
    std::string s = (l.json ? StringOf(*l.json) : "") + (r.json ? StringOf(*r.json) : "");
    return Val::Of(Json(s));
  }
  if (op == "in") {
    if (!l.json || !r.json) return Val::Of(false);
    if (r.json->is_array()) {
      for (const auto& x : r.json->get_array()) {
        if (JsonEquals(x, *l.json)) return Val::Of(true);
      }
      return Val::Of(false);
    }
    return Val::Of(JsonEquals(*l.json, *r.json));
  }
  if (op == "=" || op == "!=") {
    if (!l.json || !r.json) return Val::Of(false);
    bool eq = JsonEquals(*l.json, *r.json);
    return Val::Of(op == "=" ? eq : !eq);
  }
  if (op == "<" || op == "<=" || op == ">" || op == ">=") {
    if (!l.json || !r.json) return Val::Of(false);
    int c;
    if (l.json->is_number() && r.json->is_number()) {
      double a = AsDouble(*l.json), b = AsDouble(*r.json);
      c = a < b ? -1 : (a > b ? 1 : 0);
    } else if (l.json->is_string() && r.json->is_string()) {
      int x =
          std::string_view(l.json->get_string()).compare(std::string_view(r.json->get_string()));
      c = x < 0 ? -1 : (x > 0 ? 1 : 0);
    } else {
      return QueryError(fmt::format("Cannot compare {} with {} using '{}'", JsonTypeName(*l.json),
                                    JsonTypeName(*r.json), op));
    }
    bool res = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    return Val::Of(res);
  }
  // Arithmetic.
  if (!l.json || !r.json) return Val{};
  if (!l.json->is_number() || !r.json->is_number()) {
    return QueryError(fmt::format("The operands of '{}' must be numbers, got {} and {}", op,
                                  JsonTypeName(*l.json), JsonTypeName(*r.json)));
  }
  double a = AsDouble(*l.json), b = AsDouble(*r.json);
  double res = 0;
  if (op == "+") res = a + b;
  if (op == "-") res = a - b;
  if (op == "*") res = a * b;
  if (op == "/") res = a / b;
  if (op == "%") res = std::fmod(a, b);
  if (!std::isfinite(res)) return QueryError("The arithmetic result is not a finite number");
  return Val::Of(Number(res));
}

absl::StatusOr<Val> Evaluator::Call(const Val& fn, std::vector<Val> args, const Val& ctx,
                                    Frame& frame) {
  if (fn.lambda) {
    Frame inner{.parent = &frame};
    for (size_t k = 0; k < fn.lambda->params.size(); ++k) {
      inner.vars[fn.lambda->params[k]] = k < args.size() ? args[k] : Val{};
    }
    return Eval(*fn.lambda->kids[0], ctx, inner);
  }
  if (!fn.builtin.empty()) return Builtin(fn.builtin, args, ctx, frame);
  return QueryError("Attempted to invoke a non-function");
}

absl::StatusOr<std::string> HashHex(std::string_view data, std::string_view alg) {
  const char* name = alg == "MD5"       ? "MD5"
                     : alg == "SHA-1"   ? "SHA1"
                     : alg == "SHA-256" ? "SHA256"
                     : alg == "SHA-384" ? "SHA384"
                     : alg == "SHA-512" ? "SHA512"
                                        : nullptr;
  if (!name) return QueryError(fmt::format("Unsupported hash algorithm '{}'", alg));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_get_digestbyname(name), nullptr);
  std::string hex;
  for (unsigned k = 0; k < len; ++k) fmt::format_to(std::back_inserter(hex), "{:02x}", digest[k]);
  return hex;
}

absl::StatusOr<Val> Evaluator::Builtin(const std::string& name, std::vector<Val>& args,
                                       const Val& ctx, Frame& frame) {
  auto arg = [&](size_t k) -> const std::optional<Json>& {
    static const std::optional<Json> kNone;
    return k < args.size() ? args[k].json : kNone;
  };
  auto str = [&](size_t k) -> absl::StatusOr<std::string> {
    if (!arg(k) || !arg(k)->is_string()) {
      return QueryError(fmt::format("Argument {} of function ${} must be a string", k + 1, name));
    }
    return std::string(arg(k)->get_string());
  };
  auto num = [&](size_t k) -> absl::StatusOr<double> {
    if (!arg(k) || !arg(k)->is_number()) {
      return QueryError(fmt::format("Argument {} of function ${} must be a number", k + 1, name));
    }
    return AsDouble(*arg(k));
  };
  auto array = [&](size_t k) -> JsonArray {
    if (!arg(k)) return {};
    if (arg(k)->is_array()) return arg(k)->get_array();
    JsonArray a;
    a.push_back(*arg(k));
    return a;
  };
  auto numbers = [&](size_t k) -> absl::StatusOr<std::vector<double>> {
    std::vector<double> out;
    for (const auto& x : array(k)) {
      if (!x.is_number()) {
        return QueryError(fmt::format("Function ${} needs an array of numbers", name));
      }
      out.push_back(AsDouble(x));
    }
    return out;
  };
  if (name == "count") return Val::Of(static_cast<int64_t>(arg(0) ? array(0).size() : 0));
  if (name == "sum" || name == "max" || name == "min" || name == "average") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(auto xs, numbers(0));
    if (xs.empty()) return name == "sum" ? Val::Of(Json(0)) : Val{};
    double acc = name == "max" || name == "min" ? xs[0] : 0;
    for (double x : xs) {
      if (name == "sum" || name == "average") acc += x;
      if (name == "max") acc = std::max(acc, x);
      if (name == "min") acc = std::min(acc, x);
    }
    if (name == "average") acc /= static_cast<double>(xs.size());
    return Val::Of(Number(acc));
  }
  if (name == "string") {
    if (!arg(0)) return Val{};
    return Val::Of(Json(StringOf(*arg(0))));
  }
  if (name == "number") {
    if (!arg(0)) return Val{};
    if (arg(0)->is_number()) return Val::Of(*arg(0));
    if (arg(0)->is_bool()) return Val::Of(Json(arg(0)->get_bool() ? 1 : 0));
    COURIER_ASSIGN_OR_RETURN(std::string s, str(0));
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) {
      return QueryError(fmt::format("Unable to cast value to a number: \"{}\"", s));
    }
    return Val::Of(Number(d));
  }
  if (name == "boolean") return arg(0) ? Val::Of(Truthy(args[0])) : Val{};
  if (name == "not") return arg(0) ? Val::Of(!Truthy(args[0])) : Val{};
  if (name == "exists") return Val::Of(!args.empty() && args[0].defined());
  if (name == "type") {
    if (!arg(0)) return Val{};
    std::string_view t = JsonTypeName(*arg(0));
    return Val::Of(Json(t == "boolean" ? "boolean" : t));
  }
  if (name == "uppercase" || name == "lowercase" || name == "trim" || name == "length") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(std::string s, str(0));
    if (name == "length") return Val::Of(static_cast<int64_t>(s.size()));
    if (name == "trim") {
      std::string out;
      bool space = false;
      for (char c : s) {
        if (std::isspace(static_cast<unsigned char>(c))) {
          space = true;
        } else {
          if (space && !out.empty()) out.push_back(' ');
          space = false;
          out.push_back(c);
        }
      }
      return Val::Of(Json(out));
    }
    for (char& c : s) {
      c = static_cast<char>(name == "uppercase" ? std::toupper(static_cast<unsigned char>(c))
                                                : std::tolower(static_cast<unsigned char>(c)));
    }
    return Val::Of(Json(s));
  }
  if (name == "substring") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(std::string s, str(0));
    COURIER_ASSIGN_OR_RETURN(double start, num(1));
    int64_t n = static_cast<int64_t>(s.size());
    int64_t b = static_cast<int64_t>(start);
    if (b < 0) b = std::max<int64_t>(0, n + b);
    b = std::min(b, n);
    int64_t len = n - b;
    if (args.size() > 2) {
      COURIER_ASSIGN_OR_RETURN(double l, num(2));
      len = std::max<int64_t>(0, std::min<int64_t>(len, static_cast<int64_t>(l)));
    }
    return Val::Of(Json(s.substr(b, len)));
  }
  if (name == "substringBefore" || name == "substringAfter") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(std::string s, str(0));
    COURIER_ASSIGN_OR_RETURN(std::string sep, str(1));
    size_t at = s.find(sep);
    if (at == std::string::npos) return Val::Of(Json(s));
    return Val::Of(Json(name == "substringBefore" ? s.substr(0, at) : s.substr(at + sep.size())));
  }
  if (name == "contains") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(std::string s, str(0));
    COURIER_ASSIGN_OR_RETURN(std::string sub, str(1));
    return Val::Of(s.find(sub) != std::string::npos);
  }
  if (name == "split") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(std::string s, str(0));
    COURIER_ASSIGN_OR_RETURN(std::string sep, str(1));
    JsonArray out;
    if (sep.empty()) {
      for (char c : s) out.push_back(Json(std::string(1, c)));
    } else {
      size_t start = 0;
      for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size()) {
        out.push_back(Json(s.substr(start, at - start)));
      }
      out.push_back(Json(s.substr(start)));
    }
    if (args.size() > 2) {
      COURIER_ASSIGN_OR_RETURN(double limit, num(2));
      if (out.size() > static_cast<size_t>(limit)) out.resize(static_cast<size_t>(limit));
    }
    return Val::Of(Json(std::move(out)));
  }
  if (name == "join") {
    if (!arg(0)) return Val{};
    std::string sep;
    if (args.size() > 1) {
      COURIER_ASSIGN_OR_RETURN(sep, str(1));
    }
    std::string out;
    bool first = true;
    for (const auto& x : array(0)) {
      if (!x.is_string()) return QueryError("$join needs an array of strings");
      if (!first) out += sep;
      first = false;
      out += x.get_string();
    }
    return Val::Of(Json(out));
  }
  if (name == "replace") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(std::string s, str(0));
    COURIER_ASSIGN_OR_RETURN(std::string pat, str(1));
    COURIER_ASSIGN_OR_RETURN(std::string rep, str(2));
    if (pat.empty()) return QueryError("$replace needs a non-empty pattern");
    std::string out;
    size_t start = 0;
    for (size_t at; (at = s.find(pat, start)) != std::string::npos; start = at + pat.size()) {
      out += s.substr(start, at - start) + rep;
    }
    return Val::Of(Json(out + s.substr(start)));
  }
  if (name == "abs" || name == "floor" || name == "ceil" || name == "round" || name == "sqrt") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(double x, num(0));
    double r = name == "abs"     ? std::fabs(x)
               : name == "floor" ? std::floor(x)
               : name == "ceil"  ? std::ceil(x)
               : name == "sqrt"  ? std::sqrt(x)
                                 : std::nearbyint(x);  // round half to even, as JSONata
    if (name == "round" && args.size() > 1) {
      COURIER_ASSIGN_OR_RETURN(double p, num(1));
      double scale = std::pow(10.0, p);
      r = std::nearbyint(x * scale) / scale;
    }
    return Val::Of(Number(r));
  }
  if (name == "power") {
    COURIER_ASSIGN_OR_RETURN(double x, num(0));
    COURIER_ASSIGN_OR_RETURN(double y, num(1));
    return Val::Of(Number(std::pow(x, y)));
  }
  if (name == "keys") {
    JsonArray out;
    if (arg(0) && arg(0)->is_object()) {
      for (const auto& [k, v] : arg(0)->get_object()) out.push_back(Json(std::string(k)));
    }
    return Val::Of(Json(std::move(out)));
  }
  if (name == "lookup") {
    if (!arg(0) || !arg(0)->is_object()) return Val{};
    COURIER_ASSIGN_OR_RETURN(std::string k, str(1));
    if (const Json* v = arg(0)->get_object().if_contains(k)) return Val::Of(*v);
    return Val{};
  }
  if (name == "merge") {
    JsonObject out;
    for (const auto& x : array(0)) {
      if (!x.is_object()) return QueryError("$merge needs an array of objects");
      for (const auto& [k, v] : x.get_object()) out[k] = v;
    }
    return Val::Of(Json(std::move(out)));
  }
  if (name == "append") {
    if (!arg(0)) return arg(1) ? Val::Of(*arg(1)) : Val{};
    if (!arg(1)) return Val::Of(*arg(0));
    JsonArray out = array(0);
    for (auto& x : array(1)) out.push_back(x);
    return Val::Of(Json(std::move(out)));
  }
  if (name == "reverse") {
    if (!arg(0)) return Val{};
    JsonArray out = array(0);
    std::reverse(out.begin(), out.end());
    return Val::Of(Json(std::move(out)));
  }
  if (name == "distinct") {
    if (!arg(0)) return Val{};
    JsonArray out;
    for (const auto& x : array(0)) {
      bool seen = false;
      for (const auto& y : out) seen = seen || JsonEquals(x, y);
      if (!seen) out.push_back(x);
    }
    return Val::Of(Json(std::move(out)));
  }
  if (name == "sort") {
    if (!arg(0)) return Val{};
    JsonArray out = array(0);
    std::vector<Json> v(out.begin(), out.end());
    if (args.size() > 1) {
      absl::Status err;
      std::stable_sort(v.begin(), v.end(), [&](const Json& a, const Json& b) {
        auto r = Call(args[1], {Val::Of(a), Val::Of(b)}, ctx, frame);
        if (!r.ok()) {
          err = r.status();
          return false;
        }
        return !Truthy(*r);  // the function says whether a comes after b
      });
      COURIER_RETURN_IF_ERROR(err);
    } else {
      for (const auto& x : v) {
        if (!x.is_number() && !x.is_string()) {
          return QueryError("$sort without a function needs numbers or strings");
        }
      }
      std::stable_sort(v.begin(), v.end(), [](const Json& a, const Json& b) {
        if (a.is_number() && b.is_number()) return AsDouble(a) < AsDouble(b);
        if (a.is_string() && b.is_string()) {
          return std::string_view(a.get_string()) < std::string_view(b.get_string());
        }
        return a.is_number();
      });
    }
    return Val::Of(Json(JsonArray(v.begin(), v.end())));
  }
  if (name == "map" || name == "filter") {
    if (!arg(0)) return Val{};
    JsonArray out;
    JsonArray in = array(0);
    for (size_t k = 0; k < in.size(); ++k) {
      COURIER_ASSIGN_OR_RETURN(
          Val r, Call(args.size() > 1 ? args[1] : Val{},
                      {Val::Of(in[k]), Val::Of(Json(static_cast<int64_t>(k))), Val::Of(Json(in))},
                      ctx, frame));
      if (name == "map") {
        if (r.json) out.push_back(*std::move(r.json));
      } else if (Truthy(r)) {
        out.push_back(in[k]);
      }
    }
    Val v = Val::Of(Json(std::move(out)));
    v.sequence = true;
    return Settle(v);
  }
  if (name == "reduce") {
    if (!arg(0)) return Val{};
    JsonArray in = array(0);
    size_t start = 0;
    Val acc;
    if (args.size() > 2) {
      acc = args[2];
    } else if (!in.empty()) {
      acc = Val::Of(in[0]);
      start = 1;
    }
    for (size_t k = start; k < in.size(); ++k) {
      COURIER_ASSIGN_OR_RETURN(acc, Call(args[1], {acc, Val::Of(in[k])}, ctx, frame));
    }
    return acc;
  }
  if (name == "now") {
    return Val::Of(Json(FormatTimestamp(env_.Now())));
  }
  if (name == "millis") return Val::Of(Json(absl::ToUnixMillis(env_.Now())));
  if (name == "toMillis") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(std::string s, str(0));
    auto t = ParseTimestamp(s);
    if (!t) return QueryError(fmt::format("Unable to parse the timestamp '{}'", s));
    return Val::Of(Json(absl::ToUnixMillis(*t)));
  }
  if (name == "fromMillis") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(double ms, num(0));
    return Val::Of(Json(FormatTimestamp(absl::FromUnixMillis(static_cast<int64_t>(ms)))));
  }
  // Step Functions' own functions.
  if (name == "partition") {
    if (!arg(0)) return Val{};
    COURIER_ASSIGN_OR_RETURN(double size, num(1));
    if (size < 1) return QueryError("$partition needs a positive chunk size");
    JsonArray in = array(0), out;
    for (size_t k = 0; k < in.size(); k += static_cast<size_t>(size)) {
      JsonArray chunk;
      for (size_t m = k; m < std::min(in.size(), k + static_cast<size_t>(size)); ++m) {
        chunk.push_back(in[m]);
      }
      out.push_back(std::move(chunk));
    }
    return Val::Of(Json(std::move(out)));
  }
  if (name == "range") {
    COURIER_ASSIGN_OR_RETURN(double a, num(0));
    COURIER_ASSIGN_OR_RETURN(double b, num(1));
    COURIER_ASSIGN_OR_RETURN(double step, num(2));
    if (step == 0) return QueryError("$range needs a non-zero step");
    JsonArray out;
    for (double x = a; step > 0 ? x <= b : x >= b; x += step) {
      if (out.size() >= 1000) return QueryError("$range returns at most 1000 items");
      out.push_back(Number(x));
    }
    return Val::Of(Json(std::move(out)));
  }
  if (name == "hash") {
    COURIER_ASSIGN_OR_RETURN(std::string s, str(0));
    COURIER_ASSIGN_OR_RETURN(std::string alg, str(1));
    COURIER_ASSIGN_OR_RETURN(std::string hex, HashHex(s, alg));
    return Val::Of(Json(hex));
  }
  if (name == "random") {
    double r = static_cast<double>(detail::RandomBits() >> 11) / 9007199254740992.0;
    return Val::Of(Json(r));
  }
  if (name == "uuid") return Val::Of(Json(detail::NewUuid()));
  if (name == "parse") {
    COURIER_ASSIGN_OR_RETURN(std::string s, str(0));
    auto v = ParseJson(s);
    if (!v.ok()) return QueryError(fmt::format("$parse: invalid JSON '{}'", s));
    return Val::Of(*std::move(v));
  }
  return QueryError(fmt::format("Unknown function ${}", name));
}

}  // namespace

bool IsJsonataExpression(std::string_view text, std::string_view* inner) {
  size_t b = text.find_first_not_of(" \t\r\n");
  size_t e = text.find_last_not_of(" \t\r\n");
  if (b == std::string_view::npos) return false;
  text = text.substr(b, e - b + 1);
  if (text.size() < 4 || !text.starts_with("{%") || !text.ends_with("%}")) return false;
  *inner = text.substr(2, text.size() - 4);
  return true;
}

absl::StatusOr<std::shared_ptr<const JsonataExpr>> ParseJsonata(std::string_view text) {
  Lexer lexer(text);
  COURIER_ASSIGN_OR_RETURN(std::vector<Token> tokens, lexer.Run());
  Parser parser(std::move(tokens));
  COURIER_ASSIGN_OR_RETURN(ExprPtr e, parser.Parse());
  return std::shared_ptr<const JsonataExpr>(std::move(e));
}

absl::StatusOr<std::optional<Json>> EvaluateJsonata(const JsonataExpr& expr, Env& env) {
  Evaluator ev(env);
  Frame frame;
  Val ctx;
  if (const Json* states = env.Variable("states")) {
    if (const Json* input = states->get_object().if_contains("input")) ctx = Val::Of(*input);
  }
  COURIER_ASSIGN_OR_RETURN(Val v, ev.Eval(expr, ctx, frame));
  v = Settle(std::move(v));
  if (v.lambda || !v.builtin.empty()) {
    return QueryError("A JSONata expression of a state must not evaluate to a function");
  }
  return v.json;
}

}  // namespace courier::states_internal
