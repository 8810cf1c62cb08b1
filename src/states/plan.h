// The immutable plan of a state machine: an ASL definition parsed and validated once, with every
// path, template, intrinsic, JSONata expression and Choice rule compiled. Executions only read it.
#ifndef COURIER_SRC_STATES_PLAN_H_
#define COURIER_SRC_STATES_PLAN_H_

#include <absl/container/flat_hash_map.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/asl_validation.h"
#include "states/eval.h"
#include "states/jsonpath.h"

namespace courier::states_internal {

enum class StateType { kPass, kTask, kChoice, kWait, kSucceed, kFail, kParallel, kMap };
std::string_view StateTypeName(StateType t);

struct Retrier {
  std::vector<std::string> errors;
  double interval_seconds = 1;
  int64_t max_attempts = 3;
  double backoff_rate = 2.0;
  std::optional<double> max_delay_seconds;
  bool full_jitter = false;
};

// ResultPath: absent = "$", null = discard, else a reference path.
struct ResultPathSpec {
  bool discard = false;
  std::optional<JsonPath> path;  // nullopt = "$"
};

struct Catcher {
  std::vector<std::string> errors;
  int next = -1;
  ResultPathSpec result_path;
  std::optional<Template> output;  // JSONata
  std::optional<Template> assign;
};

struct ChoiceRule {
  enum Op {
    kAnd,
    kOr,
    kNot,
    kCondition,
    kStringEquals,
    kStringLessThan,
    kStringGreaterThan,
    kStringLessThanEquals,
    kStringGreaterThanEquals,
    kStringMatches,
    kNumericEquals,
    kNumericLessThan,
    kNumericGreaterThan,
    kNumericLessThanEquals,
    kNumericGreaterThanEquals,
    kBooleanEquals,
    kTimestampEquals,
    kTimestampLessThan,
    kTimestampGreaterThan,
    kTimestampLessThanEquals,
    kTimestampGreaterThanEquals,
    kIsNull,
    kIsPresent,
    kIsNumeric,
    kIsString,
    kIsBoolean,
    kIsTimestamp,
  };
  Op op = kAnd;
  std::optional<JsonPath> variable;
  bool operand_is_path = false;  // the ...Path forms
  Json operand;                  // literal comparand
  std::optional<JsonPath> operand_path;
  std::optional<absl::Time> timestamp;  // a literal Timestamp* comparand, parsed once
  std::vector<ChoiceRule> children;
  std::shared_ptr<const JsonataExpr> condition;  // JSONata Condition
  int next = -1;                                 // top-level rules only
  std::optional<Template> assign;
  std::optional<Template> output;
};

struct Scope;

// A number given literally, by a JSONPath (…Path fields) or by a JSONata expression.
struct NumberSource {
  std::optional<double> value;
  std::optional<JsonPath> path;
  std::optional<Template> expr;
  bool present() const { return value || path || expr; }
};

struct State {
  std::string name;
  StateType type = StateType::kPass;
  int index = 0;
  int next = -1;
  bool end = false;
  bool jsonata = false;
  std::string comment;

  // JSONPath data flow.
  std::optional<JsonPath> input_path;  // nullopt + input_path_null → {}; nullopt → $
  bool input_path_null = false;
  std::optional<JsonPath> output_path;
  bool output_path_null = false;
  ResultPathSpec result_path;
  std::optional<Template> parameters;  // also Map ItemSelector / legacy Parameters
  std::optional<Template> result_selector;
  std::optional<Json> result;  // Pass
  // JSONata data flow.
  std::optional<Template> arguments;
  std::optional<Template> output;
  std::optional<Template> assign;

  // Task.
  std::string resource;
  NumberSource timeout_seconds;
  NumberSource heartbeat_seconds;
  std::vector<Retrier> retry;
  std::vector<Catcher> catches;

  // Choice.
  std::vector<ChoiceRule> choices;
  int default_next = -1;

  // Wait: exactly one of these.
  NumberSource wait_seconds;
  std::optional<absl::Time> wait_timestamp;
  std::optional<JsonPath> wait_timestamp_path;
  std::optional<Template> wait_timestamp_expr;

  // Fail.
  std::optional<std::string> error, cause;
  std::optional<Template> error_expr, cause_expr;  // ErrorPath/CausePath or JSONata

  // Parallel.
  std::vector<std::shared_ptr<const Scope>> branches;

  // Map.
  std::shared_ptr<const Scope> processor;
  std::optional<JsonPath> items_path;
  std::optional<Template> items_expr;  // JSONata Items
  NumberSource max_concurrency;
  NumberSource tolerated_failure_count;
  NumberSource tolerated_failure_percentage;
  bool distributed = false;
  std::string label;
};

// One state list: the top level, a Parallel branch or a Map processor.
struct Scope {
  std::vector<State> states;
  int start = 0;
  absl::flat_hash_map<std::string, int> index;
  // Where this scope sits in the definition ("", "/States/P/Branches/0", ...).
  std::string location;
  int depth = 0;
};

struct Plan {
  Json definition;
  std::string comment;
  std::optional<int64_t> timeout_seconds;
  bool jsonata = false;
  std::shared_ptr<const Scope> root;
};

// Parses and validates; every problem found is appended to `diagnostics` (when not null) and the
// result is InvalidDefinition carrying the first one.
absl::StatusOr<std::shared_ptr<const Plan>> BuildPlan(
    std::string_view definition, std::vector<ValidationDiagnostic>* diagnostics);

}  // namespace courier::states_internal

#endif  // COURIER_SRC_STATES_PLAN_H_
