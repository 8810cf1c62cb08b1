// The runner of `courier invoke` scripts with expectations (tests/conformance/<service>/*.jsonl),
// shared by the operation-table tests of every service.
//
// A line is {"service", "operation", "request"} or {"clock": {"advance_seconds": N}}, plus
//   "expect": {"response": R} or {"error": {"code": C, "message": M}} (message optional);
//   "save": {"name": "Member/0/Path"}: a value of the response, used as "${name}" inside the
//   strings of later requests and expectations (receipt handles, message ids, task tokens);
//   "note": a comment.
// R matches a response when every member of R matches the response's member of that name; null
// in R means the member must be absent, "*" any value present; arrays match element by element
// and must have the same length; numbers match by value (1 and 1.0 alike); other values must be
// equal. Each script (a whole file: its cases share one hub and one clock) runs on a fresh hub
// with a manual clock (testing::Simulation).
// A line's own saves are made before its expectation is checked, so "${name}" in "expect" may
// name a value of the same response (the MessageId of one batch entry in another's place).
// Matchers: an object in R with a key that starts with "$" is a matcher, exactly one key of:
//   {"$ne": V}           present and not matching V (V is any expectation, matchers included);
//   {"$gt": N}, {"$gte": N}, {"$lt": N}   a number, or a string that holds one, compared with N
//                        (also a number or such a string); strings of decimal digits compare
//                        exactly, however long (20-digit SequenceNumbers);
//   {"$contains": S}, {"$prefix": S}, {"$suffix": S}   a string with S inside / at its start /
//                        at its end;
//   {"$regex": S}        a string that S (ECMAScript) matches whole;
//   {"$unordered": [E...]}   an array of as many elements, each matching a different E, in any
//                        order.
// Any other "$" key, or a matcher object with more than one key, fails the line: a misspelt
// matcher never matches silently.
#ifndef COURIER_TESTS_INVOKE_SCRIPT_H_
#define COURIER_TESTS_INVOKE_SCRIPT_H_

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "courier/hub.h"
#include "courier/json.h"
#include "courier/service.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier::testing_support {

inline std::string Mismatch(const Json& expected, const Json* actual, const std::string& path);

// A number, or a string that holds one: its text when it is a string of decimal digits (compared
// exactly), else its value.
struct Ordinal {
  std::string digits;  // without leading zeros; empty when `value` holds it
  double value = 0;
};
inline std::optional<Ordinal> OrdinalOf(const Json& v) {
  if (v.is_number()) return Ordinal{"", v.to_number<double>()};
  if (!v.is_string() || v.get_string().empty()) return std::nullopt;
  const std::string s(v.get_string());
  if (s.find_first_not_of("0123456789") == std::string::npos) {
    const size_t first = s.find_first_not_of('0');
    return Ordinal{first == std::string::npos ? "0" : s.substr(first), 0};
  }
  size_t used = 0;
  double d = 0;
  try {
    d = std::stod(s, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != s.size()) return std::nullopt;
  return Ordinal{"", d};
}
// <0, 0, >0 as a is below, equal to, above b.
inline int Compare(const Ordinal& a, const Ordinal& b) {
  if (!a.digits.empty() && !b.digits.empty()) {
    if (a.digits.size() != b.digits.size()) return a.digits.size() < b.digits.size() ? -1 : 1;
    return a.digits.compare(b.digits);
  }
  const double x = a.digits.empty() ? a.value : std::stod(a.digits);
  const double y = b.digits.empty() ? b.value : std::stod(b.digits);
  return x < y ? -1 : x > y ? 1 : 0;
}

// Whether `expected` is a matcher object (a key starting with "$").
inline bool IsMatcher(const Json& expected) {
  if (!expected.is_object()) return false;
  for (const auto& [key, value] : expected.get_object()) {
    if (!key.empty() && key.front() == '$') return true;
  }
  return false;
}

// "" when `actual` (present) satisfies the matcher `expected`, else why not.
inline std::string MatcherMismatch(const Json& expected, const Json& actual,
                                   const std::string& path) {
  const JsonObject& m = expected.get_object();
  if (m.size() != 1) return path + ": a matcher has exactly one key: " + ToJsonText(expected);
  const std::string op(m.begin()->key());
  const Json& arg = m.begin()->value();
  const std::string got = ToJsonText(actual);
  if (op == "$ne") {
    if (Mismatch(arg, &actual, path).empty())
      return path + ": " + got + " matches " + ToJsonText(arg);
    return "";
  }
  if (op == "$gt" || op == "$gte" || op == "$lt") {
    const std::optional<Ordinal> a = OrdinalOf(actual), b = OrdinalOf(arg);
    if (!b) return path + ": " + op + " needs a number, not " + ToJsonText(arg);
    if (!a) return path + ": " + got + " is not a number";
    const int c = Compare(*a, *b);
    const bool ok = op == "$gt" ? c > 0 : op == "$gte" ? c >= 0 : c < 0;
    return ok ? "" : path + ": " + got + " is not " + op + " " + ToJsonText(arg);
  }
  if (op == "$contains" || op == "$prefix" || op == "$suffix" || op == "$regex") {
    if (!arg.is_string()) return path + ": " + op + " needs a string, not " + ToJsonText(arg);
    if (!actual.is_string()) return path + ": " + got + " is not a string";
    const std::string_view s = actual.get_string(), t = arg.get_string();
    const bool ok = op == "$contains" ? s.find(t) != std::string_view::npos
                    : op == "$prefix" ? s.starts_with(t)
                    : op == "$suffix"
                        ? s.ends_with(t)
                        : std::regex_match(std::string(s), std::regex(std::string(t)));
    return ok ? "" : path + ": " + got + " is not " + op + " " + ToJsonText(arg);
  }
  if (op == "$unordered") {
    if (!arg.is_array()) return path + ": $unordered needs an array, not " + ToJsonText(arg);
    const JsonArray& want = arg.get_array();
    if (!actual.is_array() || actual.get_array().size() != want.size()) {
      return path + ": " + got + " is not an array of " + std::to_string(want.size());
    }
    const JsonArray& have = actual.get_array();
    // A perfect matching of expected to actual elements (augmenting paths; arrays are short).
    std::vector<std::vector<bool>> fits(want.size(), std::vector<bool>(have.size()));
    for (size_t i = 0; i < want.size(); ++i) {
      for (size_t j = 0; j < have.size(); ++j) fits[i][j] = Mismatch(want[i], &have[j], "").empty();
    }
    std::vector<int> owner(have.size(), -1);
    for (size_t i = 0; i < want.size(); ++i) {
      std::vector<bool> seen(have.size());
      auto assign = [&](auto& self, size_t e) -> bool {
        for (size_t j = 0; j < have.size(); ++j) {
          if (!fits[e][j] || seen[j]) continue;
          seen[j] = true;
          if (owner[j] < 0 || self(self, static_cast<size_t>(owner[j]))) {
            owner[j] = static_cast<int>(e);
            return true;
          }
        }
        return false;
      };
      if (!assign(assign, i)) {
        return path + ": no element of " + got + " left for " + ToJsonText(want[i]);
      }
    }
    return "";
  }
  return path + ": unknown matcher " + op;
}

// "" when `actual` matches `expected`, else where and how it does not.
inline std::string Mismatch(const Json& expected, const Json* actual, const std::string& path) {
  if (expected.is_null()) return actual == nullptr ? "" : path + ": should be absent";
  if (actual == nullptr) return path + ": missing";
  if (expected.is_string() && expected.get_string() == "*") return "";
  if (IsMatcher(expected)) return MatcherMismatch(expected, *actual, path);
  if (expected.is_object()) {
    if (!actual->is_object()) return path + ": not an object";
    for (const auto& [key, value] : expected.get_object()) {
      const std::string r =
          Mismatch(value, actual->get_object().if_contains(key), path + "/" + std::string(key));
      if (!r.empty()) return r;
    }
    return "";
  }
  if (expected.is_array()) {
    if (!actual->is_array() || actual->get_array().size() != expected.get_array().size()) {
      return path + ": " + ToJsonText(*actual) + " is not an array of " +
             std::to_string(expected.get_array().size());
    }
    for (size_t i = 0; i < expected.get_array().size(); ++i) {
      const std::string r = Mismatch(expected.get_array()[i], &actual->get_array()[i],
                                     path + "/" + std::to_string(i));
      if (!r.empty()) return r;
    }
    return "";
  }
  const bool equal = expected.is_number() && actual->is_number()
                         ? expected.to_number<double>() == actual->to_number<double>()
                         : expected == *actual;
  if (!equal) return path + ": " + ToJsonText(*actual) + " != " + ToJsonText(expected);
  return "";
}

// The value at "A/0/B" in `value`, or nullptr.
inline const Json* At(const Json& value, const std::string& path) {
  const Json* v = &value;
  size_t start = 0;
  while (v != nullptr && start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string key = path.substr(start, end - start);
    if (v->is_object()) {
      v = v->get_object().if_contains(key);
    } else if (v->is_array()) {
      const size_t i = std::stoul(key);
      v = i < v->get_array().size() ? &v->get_array()[i] : nullptr;
    } else {
      v = nullptr;
    }
    start = end + 1;
  }
  return v;
}

// `value` with every "${name}" in its strings replaced by the saved value.
inline Json Substitute(const Json& value, const std::map<std::string, std::string>& saved) {
  if (value.is_string()) {
    std::string s(value.get_string());
    for (const auto& [name, text] : saved) {
      const std::string ref = "${" + name + "}";
      for (size_t at = s.find(ref); at != std::string::npos; at = s.find(ref, at + text.size())) {
        s.replace(at, ref.size(), text);
      }
    }
    return Json(s);
  }
  Json out = value;
  if (out.is_object()) {
    for (auto& [key, v] : out.get_object()) v = Substitute(v, saved);
  } else if (out.is_array()) {
    for (Json& v : out.get_array()) v = Substitute(v, saved);
  }
  return out;
}

// Runs one script; each failing line is a failed CHECK naming the file and line. Returns the
// number of lines run (operations and clock steps).
inline int RunScript(const std::filesystem::path& file) {
  testing::Simulation sim;
  Hub hub(sim.environment());
  std::map<std::string, std::string> saved;
  std::ifstream in(file);
  REQUIRE(in);
  int number = 0, run = 0;
  for (std::string text; std::getline(in, text);) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++run;
    INFO(file.filename().string() << ":" << number << ": " << text);
    const Json line = ParseJson(text).value();
    const JsonObject& o = line.get_object();
    if (const Json* clock = o.if_contains("clock")) {
      sim.RunFor(absl::Seconds(clock->at("advance_seconds").to_number<double>()));
      continue;
    }
    const Json* request = o.if_contains("request");
    absl::StatusOr<Json> result =
        Invoke(hub, o.at("service").get_string(), o.at("operation").get_string(),
               request ? Substitute(*request, saved) : Json(JsonObject()));
    sim.RunFor(absl::ZeroDuration());  // what the call posted runs before the next line
    const Json actual =
        result.ok()
            ? Json(JsonObject{{"response", *result}})
            : Json(JsonObject{{"error", JsonObject{{"code", ErrorName(result.status())},
                                                   {"message", ErrorMessage(result.status())}}}});
    INFO("answer: " << ToJsonText(actual));
    if (const Json* save = o.if_contains("save"); save && result.ok()) {
      for (const auto& [name, path] : save->get_object()) {
        const Json* v = At(*result, std::string(path.get_string()));
        REQUIRE(v != nullptr);
        saved[std::string(name)] = v->is_string() ? std::string(v->get_string()) : ToJsonText(*v);
      }
    }
    if (const Json* expect = o.if_contains("expect")) {
      CHECK(Mismatch(Substitute(*expect, saved), &actual, "") == "");
    } else {
      CHECK(result.ok());  // a line without expectations must at least succeed
    }
  }
  return run;
}

// The *.jsonl scripts of `dir`, in name order.
inline std::vector<std::filesystem::path> Scripts(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> scripts;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".jsonl") scripts.push_back(entry.path());
  }
  std::sort(scripts.begin(), scripts.end());
  return scripts;
}

// Whether some line of the scripts of `dir` calls `operation`.
inline bool ScriptsUse(const std::filesystem::path& dir, const std::string& operation) {
  for (const auto& script : Scripts(dir)) {
    std::ifstream in(script);
    const std::string all{std::istreambuf_iterator<char>(in), {}};
    if (all.find("\"operation\":\"" + operation + "\"") != std::string::npos) return true;
  }
  return false;
}

// Runs every script of `dir` (there must be one), each in its own section.
inline void RunScripts(const std::filesystem::path& dir) {
  const std::vector<std::filesystem::path> scripts = Scripts(dir);
  REQUIRE(!scripts.empty());
  for (const std::filesystem::path& script : scripts) {
    DYNAMIC_SECTION(script.filename().string()) { RunScript(script); }
  }
}

// Checks that the scripts of `dir` call each of `operations` (a table's whole list).
inline void CheckScriptsUse(const std::filesystem::path& dir,
                            const std::vector<std::string>& operations) {
  for (const std::string& op : operations) {
    INFO(op);
    CHECK(ScriptsUse(dir, op));
  }
}

}  // namespace courier::testing_support

#endif  // COURIER_TESTS_INVOKE_SCRIPT_H_
