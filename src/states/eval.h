// What expressions of a state read (`$`, `$$`, `$name`), and compiled payload templates
// (Parameters, ItemSelector, ResultSelector, Arguments, Output, Assign).
#ifndef COURIER_SRC_STATES_EVAL_H_
#define COURIER_SRC_STATES_EVAL_H_

#include <absl/status/statusor.h>
#include <absl/time/clock.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/json.h"
#include "courier/status.h"
#include "states/jsonpath.h"

namespace courier::states_internal {

// Failures of a running state are statuses named after the States error.
inline absl::Status StatesError(std::string_view name, std::string_view cause) {
  return AwsError(absl::StatusCode::kFailedPrecondition, name, cause);
}
inline absl::Status RuntimeError(std::string_view cause) {
  return StatesError("States.Runtime", cause);
}

// The environment of one evaluation: the context object (built on demand) and variables.
class Env {
 public:
  virtual ~Env() = default;
  virtual const Json& Context() = 0;
  // A workflow variable (or, in JSONata, `states`); nullptr when not defined.
  virtual const Json* Variable(std::string_view name) = 0;
  // The current time ($now(), $millis()).
  virtual absl::Time Now() { return absl::Now(); }
};

// The document a path's root names: `$` → input, `$$` → context, `$x` → variable x.
const Json* PathRoot(const JsonPath& path, const Json& input, Env& env);
// A definite path's value, or an indefinite path's array; nullopt when a definite path misses.
std::optional<Json> EvaluatePath(const JsonPath& path, const Json& input, Env& env);
// As EvaluatePath, without copying, for definite paths.
const Json* FindPath(const JsonPath& path, const Json& input, Env& env);

struct Intrinsic;
struct JsonataExpr;

// A compiled template node.
struct Template {
  enum Kind { kLiteral, kObject, kArray, kPath, kIntrinsic, kJsonata };
  Kind kind = kLiteral;
  Json literal;                                          // kLiteral
  std::vector<std::pair<std::string, Template>> fields;  // kObject (names without ".$")
  std::vector<Template> items;                           // kArray
  std::optional<JsonPath> path;                          // kPath
  std::shared_ptr<const Intrinsic> intrinsic;            // kIntrinsic
  std::shared_ptr<const JsonataExpr> jsonata;            // kJsonata
  std::string source;                                    // the key with ".$" (for messages)
  bool uses_context = false;
};

// Compiles a JSONPath-mode payload template (keys ending in ".$" are expressions); appends
// "message" errors to `errors` with their location below `location`.
Template CompileTemplate(const Json& value, const std::string& location,
                         std::vector<std::pair<std::string, std::string>>& errors);
// Compiles a JSONata-mode value: strings "{% expr %}" are expressions, the rest literals.
Template CompileJsonataTemplate(const Json& value, const std::string& location,
                                std::vector<std::pair<std::string, std::string>>& errors);

// Evaluates a template against `input`.
absl::StatusOr<Json> EvaluateTemplate(const Template& t, const Json& input, Env& env);

}  // namespace courier::states_internal

#endif  // COURIER_SRC_STATES_EVAL_H_
