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
// equal. Each script runs on a fresh hub with a manual clock (testing::Simulation).
#ifndef COURIER_TESTS_INVOKE_SCRIPT_H_
#define COURIER_TESTS_INVOKE_SCRIPT_H_

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "courier/hub.h"
#include "courier/json.h"
#include "courier/service.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier::testing_support {

// "" when `actual` matches `expected`, else where and how it does not.
inline std::string Mismatch(const Json& expected, const Json* actual, const std::string& path) {
  if (expected.is_null()) return actual == nullptr ? "" : path + ": should be absent";
  if (actual == nullptr) return path + ": missing";
  if (expected.is_string() && expected.get_string() == "*") return "";
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
    if (const Json* expect = o.if_contains("expect")) {
      CHECK(Mismatch(Substitute(*expect, saved), &actual, "") == "");
    } else {
      CHECK(result.ok());  // a line without expectations must at least succeed
    }
    if (const Json* save = o.if_contains("save"); save && result.ok()) {
      for (const auto& [name, path] : save->get_object()) {
        const Json* v = At(*result, std::string(path.get_string()));
        REQUIRE(v != nullptr);
        saved[std::string(name)] = v->is_string() ? std::string(v->get_string()) : ToJsonText(*v);
      }
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

}  // namespace courier::testing_support

#endif  // COURIER_TESTS_INVOKE_SCRIPT_H_
