#include "states/jsonata.h"

namespace courier::states {

struct JsonataExpr {};

bool IsJsonataExpression(std::string_view text, std::string_view* inner) {
  size_t b = text.find_first_not_of(" \t\r\n");
  size_t e = text.find_last_not_of(" \t\r\n");
  if (b == std::string_view::npos) return false;
  text = text.substr(b, e - b + 1);
  if (text.size() < 4 || !text.starts_with("{%") || !text.ends_with("%}")) return false;
  *inner = text.substr(2, text.size() - 4);
  return true;
}

absl::StatusOr<std::shared_ptr<const JsonataExpr>> ParseJsonata(std::string_view) {
  return absl::UnimplementedError("JSONata is not implemented yet");
}

absl::StatusOr<std::optional<Json>> EvaluateJsonata(const JsonataExpr&, Env&) {
  return StatesError("States.QueryEvaluationError", "JSONata is not implemented yet");
}

}  // namespace courier::states
