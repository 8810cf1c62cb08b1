// A JSONata evaluator for the subset Step Functions workflows use (see docs/states.md).
#ifndef COURIER_SRC_STATES_JSONATA_H_
#define COURIER_SRC_STATES_JSONATA_H_

#include <absl/status/statusor.h>

#include <memory>
#include <optional>
#include <string_view>

#include "states/eval.h"

namespace courier::states_internal {

// Parses an expression (the text inside "{% ... %}"); InvalidArgument with the reason.
absl::StatusOr<std::shared_ptr<const JsonataExpr>> ParseJsonata(std::string_view text);

// Evaluates; `$name` reads env.Variable(name) (`$states` included). nullopt = JSONata's
// "undefined". Errors are States.QueryEvaluationError.
absl::StatusOr<std::optional<Json>> EvaluateJsonata(const JsonataExpr& expr, Env& env);

// True when `text` is a whole "{% ... %}" expression; sets `inner` to the expression.
bool IsJsonataExpression(std::string_view text, std::string_view* inner);

}  // namespace courier::states_internal

#endif  // COURIER_SRC_STATES_JSONATA_H_
