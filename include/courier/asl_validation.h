// ValidateStateMachineDefinition: every problem of an Amazon States Language definition, with
// its location, as AWS's ValidateStateMachineDefinition API reports them.
//
// Example:
//   auto result = courier::ValidateStateMachineDefinition(R"({"StartAt":"A","States":{}})");
//   // result.result == "FAIL"; result.diagnostics[0].code == "SCHEMA_VALIDATION_FAILED"
//   // result.diagnostics[0].location == "/StartAt"
#ifndef COURIER_ASL_VALIDATION_H_
#define COURIER_ASL_VALIDATION_H_

#include <string>
#include <string_view>
#include <vector>

namespace courier {

struct ValidationDiagnostic {
  std::string severity = "ERROR";  // "ERROR" or "WARNING"
  // AWS's codes: SCHEMA_VALIDATION_FAILED, INVALID_JSON_DESCRIPTION, MISSING_TRANSITION_TARGET,
  // UNREACHABLE_STATE, DUPLICATE_STATE_NAME, INVALID_PATH, INVALID_INTRINSIC, ...
  std::string code;
  std::string message;
  std::string location;  // a JSON pointer into the definition, e.g. "/States/A/Next"
};

struct ValidationResult {
  std::string result;  // "OK" or "FAIL"
  std::vector<ValidationDiagnostic> diagnostics;
  bool ok() const { return result == "OK"; }
};

// Validates without creating anything. Thread-safe.
ValidationResult ValidateStateMachineDefinition(std::string_view definition);

}  // namespace courier

#endif  // COURIER_ASL_VALIDATION_H_
