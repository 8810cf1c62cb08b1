#include "states/intrinsics.h"

#include <openssl/evp.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "courier/detail/uuid.h"
#include "states/json_util.h"

namespace courier::states_internal {
namespace {

enum Fn {
  kFormat,
  kStringToJson,
  kJsonToString,
  kArray,
  kArrayPartition,
  kArrayContains,
  kArrayRange,
  kArrayGetItem,
  kArrayLength,
  kArrayUnique,
  kBase64Encode,
  kBase64Decode,
  kHash,
  kJsonMerge,
  kMathRandom,
  kMathAdd,
  kStringSplit,
  kUuid,
  kFnCount
};

struct FnInfo {
  const char* name;
  int min_args;
  int max_args;  // -1 = any
};

constexpr FnInfo kFns[kFnCount] = {
    {"States.Format", 1, -1},     {"States.StringToJson", 1, 1},   {"States.JsonToString", 1, 1},
    {"States.Array", 0, -1},      {"States.ArrayPartition", 2, 2}, {"States.ArrayContains", 2, 2},
    {"States.ArrayRange", 3, 3},  {"States.ArrayGetItem", 2, 2},   {"States.ArrayLength", 1, 1},
    {"States.ArrayUnique", 1, 1}, {"States.Base64Encode", 1, 1},   {"States.Base64Decode", 1, 1},
    {"States.Hash", 2, 2},        {"States.JsonMerge", 3, 3},      {"States.MathRandom", 2, 3},
    {"States.MathAdd", 2, 2},     {"States.StringSplit", 2, 2},    {"States.UUID", 0, 0},
};

absl::Status Failure(std::string_view cause) {
  return StatesError("States.IntrinsicFailure", cause);
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}
  std::string_view s_;
  size_t pos_ = 0;

  void Space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }

  absl::StatusOr<std::shared_ptr<Intrinsic>> Call(int depth) {
    if (depth > 10) return absl::InvalidArgumentError("intrinsic functions nest at most 10 deep");
    Space();
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '.' || s_[pos_] == '_')) {
      ++pos_;
    }
    auto call = std::make_shared<Intrinsic>();
    call->name = std::string(s_.substr(start, pos_ - start));
    call->function = -1;
    for (int i = 0; i < kFnCount; ++i) {
      if (call->name == kFns[i].name) call->function = i;
    }
    if (call->function < 0) {
      return absl::InvalidArgumentError(fmt::format("unknown intrinsic function '{}'", call->name));
    }
    Space();
    if (pos_ >= s_.size() || s_[pos_] != '(') {
      return absl::InvalidArgumentError(fmt::format("expected '(' after {}", call->name));
    }
    ++pos_;
    Space();
    if (pos_ < s_.size() && s_[pos_] == ')') {
      ++pos_;
    } else {
      for (;;) {
        COURIER_ASSIGN_OR_RETURN(Intrinsic::Arg arg, Argument(depth));
        if (arg.kind == Intrinsic::Arg::kCall && arg.call->uses_context) call->uses_context = true;
        if (arg.kind == Intrinsic::Arg::kPath && arg.path->root() != JsonPath::Root::kInput) {
          call->uses_context = true;
        }
        call->args.push_back(std::move(arg));
        Space();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == ')') {
          ++pos_;
          break;
        }
        return absl::InvalidArgumentError(fmt::format("expected ',' or ')' in {}", call->name));
      }
    }
    const FnInfo& info = kFns[call->function];
    int n = static_cast<int>(call->args.size());
    if (n < info.min_args || (info.max_args >= 0 && n > info.max_args)) {
      return absl::InvalidArgumentError(fmt::format(
          "{} takes {} arguments, got {}", call->name,
          info.max_args < 0                ? fmt::format("at least {}", info.min_args)
          : info.min_args == info.max_args ? fmt::format("{}", info.min_args)
                                           : fmt::format("{} to {}", info.min_args, info.max_args),
          n));
    }
    if (call->function == kFormat && call->args[0].kind == Intrinsic::Arg::kLiteral &&
        !call->args[0].literal.is_string()) {
      return absl::InvalidArgumentError("States.Format's template must be a string");
    }
    return call;
  }

  absl::StatusOr<Intrinsic::Arg> Argument(int depth) {
    Space();
    Intrinsic::Arg arg;
    if (pos_ >= s_.size()) return absl::InvalidArgumentError("missing argument");
    char c = s_[pos_];
    if (c == '\'') {
      ++pos_;
      std::string raw;
      while (pos_ < s_.size() && s_[pos_] != '\'') {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) raw.push_back(s_[pos_++]);
        raw.push_back(s_[pos_++]);
      }
      if (pos_ >= s_.size()) return absl::InvalidArgumentError("unterminated string argument");
      ++pos_;
      arg.literal = Json(raw);  // escapes kept; see Unescape / Format
      arg.kind = Intrinsic::Arg::kLiteral;
      raw_strings_.push_back(true);
      return arg;
    }
    if (c == '$') {
      size_t start = pos_;
      int depth_br = 0;
      while (pos_ < s_.size()) {
        char d = s_[pos_];
        if (d == '[') ++depth_br;
        if (d == ']') --depth_br;
        if (depth_br == 0 &&
            (d == ',' || d == ')' || std::isspace(static_cast<unsigned char>(d)))) {
          break;
        }
        if (d == '\'' || d == '"') {
          ++pos_;
          while (pos_ < s_.size() && s_[pos_] != d) ++pos_;
        }
        ++pos_;
      }
      COURIER_ASSIGN_OR_RETURN(JsonPath p, JsonPath::Parse(s_.substr(start, pos_ - start)));
      arg.kind = Intrinsic::Arg::kPath;
      arg.path = std::move(p);
      return arg;
    }
    if (s_.substr(pos_).starts_with("States.")) {
      COURIER_ASSIGN_OR_RETURN(auto call, Call(depth + 1));
      arg.kind = Intrinsic::Arg::kCall;
      arg.call = std::move(call);
      return arg;
    }
    for (auto [word, value] :
         {std::pair<std::string_view, Json>{"true", true}, {"false", false}, {"null", nullptr}}) {
      if (s_.substr(pos_).starts_with(word)) {
        pos_ += word.size();
        arg.literal = value;
        return arg;
      }
    }
    size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-' ||
            s_[pos_] == '+' || s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
    }
    if (start == pos_) {
      return absl::InvalidArgumentError(fmt::format("unexpected '{}' in intrinsic arguments", c));
    }
    std::string num(s_.substr(start, pos_ - start));
    char* end = nullptr;
    if (num.find_first_of(".eE") == std::string::npos) {
      long long v = std::strtoll(num.c_str(), &end, 10);
      arg.literal = static_cast<int64_t>(v);
    } else {
      arg.literal = std::strtod(num.c_str(), &end);
    }
    if (end != num.c_str() + num.size()) {
      return absl::InvalidArgumentError(fmt::format("bad number '{}'", num));
    }
    return arg;
  }

  std::vector<bool> raw_strings_;
};

// Removes the intrinsic escapes \' \{ \} \\ from a string literal.
std::string Unescape(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
    out.push_back(raw[i]);
  }
  return out;
}

void RenderJava(const Json& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::string:
      out += v.get_string();
      break;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        RenderJava(e, out);
      }
      out.push_back(']');
      break;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        out += k;
        out.push_back('=');
        RenderJava(e, out);
      }
      out.push_back('}');
      break;
    }
    default:
      AppendJsonText(v, out);
  }
}

std::string Base64Encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63],
            kAlphabet[n & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < in.size() && in[i] != '='; ++i) {
    int v = val(in[i]);
    if (v < 0) return std::nullopt;
    buf = (buf << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  for (; i < in.size(); ++i) {
    if (in[i] != '=') return std::nullopt;
  }
  return out;
}

absl::StatusOr<std::string> Hash(std::string_view data, std::string_view alg) {
  const char* name = alg == "MD5"       ? "MD5"
                     : alg == "SHA-1"   ? "SHA1"
                     : alg == "SHA-256" ? "SHA256"
                     : alg == "SHA-384" ? "SHA384"
                     : alg == "SHA-512" ? "SHA512"
                                        : nullptr;
  if (!name) {
    return Failure(fmt::format(
        "The hash algorithm '{}' is not supported; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512",
        alg));
  }
  const EVP_MD* md = EVP_get_digestbyname(name);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!md || EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr) != 1) {
    return Failure("hash computation failed");
  }
  std::string hex;
  for (unsigned i = 0; i < len; ++i) fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  return hex;
}

absl::StatusOr<Json> Evaluate(const Intrinsic& call, const Json& input, Env& env);

absl::StatusOr<Json> ArgValue(const Intrinsic::Arg& arg, const Json& input, Env& env) {
  switch (arg.kind) {
    case Intrinsic::Arg::kLiteral:
      if (arg.literal.is_string()) return Json(Unescape(arg.literal.get_string()));
      return arg.literal;
    case Intrinsic::Arg::kPath: {
      std::optional<Json> v = EvaluatePath(*arg.path, input, env);
      if (!v) {
        return RuntimeError(fmt::format(
            "The JSONPath '{}' specified in an intrinsic function could not be found in the input",
            arg.path->text()));
      }
      return *std::move(v);
    }
    case Intrinsic::Arg::kCall:
      return Evaluate(*arg.call, input, env);
  }
  return Json();
}

absl::StatusOr<int64_t> IntArg(const Json& v, std::string_view fn, int index) {
  auto i = AsInteger(v);
  if (!v.is_number() || !i) {
    return Failure(
        fmt::format("{}: argument {} must be an integer, got {}", fn, index + 1, ToJsonText(v)));
  }
  return *i;
}

absl::StatusOr<Json> Evaluate(const Intrinsic& call, const Json& input, Env& env) {
  std::vector<Json> a;
  a.reserve(call.args.size());
  for (size_t i = 0; i < call.args.size(); ++i) {
    if (call.function == kFormat && i == 0 && call.args[0].kind == Intrinsic::Arg::kLiteral) {
      a.push_back(call.args[0].literal);  // raw: escapes resolved below
      continue;
    }
    COURIER_ASSIGN_OR_RETURN(Json v, ArgValue(call.args[i], input, env));
    a.push_back(std::move(v));
  }
  const std::string& fn = call.name;
  auto need = [&](size_t i, boost::json::kind k, std::string_view what) -> absl::Status {
    bool ok = k == boost::json::kind::double_ ? a[i].is_number() : a[i].kind() == k;
    if (ok) return absl::OkStatus();
    return Failure(
        fmt::format("{}: argument {} must be {}, got {}", fn, i + 1, what, JsonTypeName(a[i])));
  };
  switch (call.function) {
    case kFormat: {
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::string, "a string"));
      std::string_view tpl = a[0].get_string();
      bool literal_template = call.args[0].kind == Intrinsic::Arg::kLiteral;
      std::string out;
      size_t next = 1;
      for (size_t i = 0; i < tpl.size(); ++i) {
        if (literal_template && tpl[i] == '\\' && i + 1 < tpl.size()) {
          out.push_back(tpl[++i]);
        } else if (tpl[i] == '{' && i + 1 < tpl.size() && tpl[i + 1] == '}') {
          if (next >= a.size()) {
            return Failure(
                "States.Format: the number of arguments does not match the number of "
                "'{}' placeholders");
          }
          RenderJava(a[next++], out);
          ++i;
        } else {
          out.push_back(tpl[i]);
        }
      }
      if (next != a.size()) {
        return Failure(
            "States.Format: the number of arguments does not match the number of "
            "'{}' placeholders");
      }
      return Json(out);
    }
    case kStringToJson: {
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::string, "a string"));
      std::string_view s = a[0].get_string();
      if (s.find_first_not_of(" \t\r\n") == std::string_view::npos) return Json(nullptr);
      auto parsed = ParseJson(s);
      if (!parsed.ok()) {
        return Failure(fmt::format("States.StringToJson: invalid JSON '{}'", s));
      }
      return *std::move(parsed);
    }
    case kJsonToString:
      return Json(ToJsonText(a[0]));
    case kArray: {
      JsonArray out;
      for (auto& v : a) out.push_back(std::move(v));
      return Json(std::move(out));
    }
    case kArrayPartition: {
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::array, "an array"));
      COURIER_ASSIGN_OR_RETURN(int64_t size, IntArg(a[1], fn, 1));
      if (size <= 0) return Failure("States.ArrayPartition: the chunk size must be positive");
      JsonArray out;
      const auto& in = a[0].get_array();
      for (size_t i = 0; i < in.size(); i += size) {
        JsonArray chunk;
        for (size_t j = i; j < std::min(in.size(), i + static_cast<size_t>(size)); ++j) {
          chunk.push_back(in[j]);
        }
        out.push_back(std::move(chunk));
      }
      return Json(std::move(out));
    }
    case kArrayContains: {
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::array, "an array"));
      for (const auto& v : a[0].get_array()) {
        if (JsonEquals(v, a[1])) return Json(true);
      }
      return Json(false);
    }
    case kArrayRange: {
      COURIER_ASSIGN_OR_RETURN(int64_t start, IntArg(a[0], fn, 0));
      COURIER_ASSIGN_OR_RETURN(int64_t end, IntArg(a[1], fn, 1));
      COURIER_ASSIGN_OR_RETURN(int64_t step, IntArg(a[2], fn, 2));
      if (step == 0) return Failure("States.ArrayRange: the step must not be 0");
      JsonArray out;
      for (int64_t v = start; step > 0 ? v <= end : v >= end; v += step) {
        if (out.size() >= 1000) {
          return Failure("States.ArrayRange: the result has more than 1000 items");
        }
        out.push_back(v);
      }
      return Json(std::move(out));
    }
    case kArrayGetItem: {
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::array, "an array"));
      COURIER_ASSIGN_OR_RETURN(int64_t i, IntArg(a[1], fn, 1));
      const auto& arr = a[0].get_array();
      if (i < 0 || i >= static_cast<int64_t>(arr.size())) {
        return Failure(fmt::format("States.ArrayGetItem: index {} is out of bounds", i));
      }
      return arr[i];
    }
    case kArrayLength:
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::array, "an array"));
      return Json(static_cast<int64_t>(a[0].get_array().size()));
    case kArrayUnique: {
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::array, "an array"));
      JsonArray out;
      for (const auto& v : a[0].get_array()) {
        bool seen = false;
        for (const auto& o : out) seen = seen || JsonEquals(o, v);
        if (!seen) out.push_back(v);
      }
      return Json(std::move(out));
    }
    case kBase64Encode: {
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::string, "a string"));
      if (a[0].get_string().size() > 10000) {
        return Failure("States.Base64Encode: the input is longer than 10000 characters");
      }
      return Json(Base64Encode(a[0].get_string()));
    }
    case kBase64Decode: {
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::string, "a string"));
      if (a[0].get_string().size() > 10000) {
        return Failure("States.Base64Decode: the input is longer than 10000 characters");
      }
      auto out = Base64Decode(a[0].get_string());
      if (!out) return Failure("States.Base64Decode: the input is not valid base64");
      return Json(*out);
    }
    case kHash: {
      COURIER_RETURN_IF_ERROR(need(1, boost::json::kind::string, "a string"));
      std::string data = a[0].is_string() ? std::string(a[0].get_string()) : ToJsonText(a[0]);
      if (data.size() > 10000) {
        return Failure("States.Hash: the input is longer than 10000 characters");
      }
      COURIER_ASSIGN_OR_RETURN(std::string hex, Hash(data, a[1].get_string()));
      return Json(hex);
    }
    case kJsonMerge: {
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::object, "an object"));
      COURIER_RETURN_IF_ERROR(need(1, boost::json::kind::object, "an object"));
      COURIER_RETURN_IF_ERROR(need(2, boost::json::kind::bool_, "a boolean"));
      if (a[2].get_bool()) return Failure("States.JsonMerge: deep merge is not supported");
      JsonObject out = a[0].get_object();
      for (const auto& [k, v] : a[1].get_object()) out[k] = v;
      return Json(std::move(out));
    }
    case kMathRandom: {
      COURIER_ASSIGN_OR_RETURN(int64_t lo, IntArg(a[0], fn, 0));
      COURIER_ASSIGN_OR_RETURN(int64_t hi, IntArg(a[1], fn, 1));
      if (hi < lo) return Failure("States.MathRandom: end is less than start");
      uint64_t bits;
      if (a.size() == 3) {
        COURIER_ASSIGN_OR_RETURN(int64_t seed, IntArg(a[2], fn, 2));
        uint64_t z = static_cast<uint64_t>(seed) + 0x9e3779b97f4a7c15ULL;  // splitmix64
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        bits = z ^ (z >> 31);
      } else {
        bits = detail::RandomBits();
      }
      return Json(lo + static_cast<int64_t>(bits % static_cast<uint64_t>(hi - lo + 1)));
    }
    case kMathAdd: {
      int64_t sum = 0;
      for (int i = 0; i < 2; ++i) {
        COURIER_RETURN_IF_ERROR(need(i, boost::json::kind::double_, "a number"));
        double d = std::floor(AsDouble(a[i]) + 0.5);
        if (std::fabs(d) > 2147483647.0) return Failure("States.MathAdd: value out of range");
        sum += static_cast<int64_t>(d);
      }
      return Json(sum);
    }
    case kStringSplit: {
      COURIER_RETURN_IF_ERROR(need(0, boost::json::kind::string, "a string"));
      COURIER_RETURN_IF_ERROR(need(1, boost::json::kind::string, "a string"));
      std::string_view s = a[0].get_string();
      std::string_view seps = a[1].get_string();
      JsonArray out;
      size_t start = 0;
      for (size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || seps.find(s[i]) != std::string_view::npos) {
          if (i > start) out.push_back(Json(s.substr(start, i - start)));
          start = i + 1;
        }
      }
      return Json(std::move(out));
    }
    case kUuid:
      return Json(detail::NewUuid());
  }
  return Failure("unknown intrinsic");
}

}  // namespace

bool LooksLikeIntrinsic(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  return text.starts_with("States.");
}

absl::StatusOr<std::shared_ptr<const Intrinsic>> ParseIntrinsic(std::string_view text) {
  Parser p(text);
  auto call = p.Call(1);
  if (!call.ok()) return call.status();
  p.Space();
  if (p.pos_ != text.size()) {
    return absl::InvalidArgumentError("unexpected text after the intrinsic function call");
  }
  return std::shared_ptr<const Intrinsic>(*std::move(call));
}

absl::StatusOr<Json> EvaluateIntrinsic(const Intrinsic& call, const Json& input, Env& env) {
  return Evaluate(call, input, env);
}

}  // namespace courier::states_internal
