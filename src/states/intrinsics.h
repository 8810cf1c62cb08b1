// Intrinsic functions (States.Format, States.Array, ...): parsed once, evaluated per use.
#ifndef COURIER_SRC_STATES_INTRINSICS_H_
#define COURIER_SRC_STATES_INTRINSICS_H_

#include <absl/status/statusor.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "states/eval.h"

namespace courier::states_internal {

struct Intrinsic {
  struct Arg {
    enum Kind { kLiteral, kPath, kCall };
    Kind kind = kLiteral;
    Json literal;
    std::optional<JsonPath> path;
    std::shared_ptr<const Intrinsic> call;
  };
  std::string name;  // "States.Format"
  int function = 0;  // index into the function table
  std::vector<Arg> args;
  bool uses_context = false;
};

// True when `text` is written as an intrinsic call ("States.Xxx(...)").
bool LooksLikeIntrinsic(std::string_view text);

// Parses and checks (known function, arity, literal argument types, nesting ≤ 10).
absl::StatusOr<std::shared_ptr<const Intrinsic>> ParseIntrinsic(std::string_view text);

// Evaluates; failures are States.IntrinsicFailure (States.Runtime for missing paths).
absl::StatusOr<Json> EvaluateIntrinsic(const Intrinsic& call, const Json& input, Env& env);

}  // namespace courier::states_internal

#endif  // COURIER_SRC_STATES_INTRINSICS_H_
