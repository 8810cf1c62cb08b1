#include "courier/function.h"

#include <exception>

#include "courier/status.h"

namespace courier {

absl::StatusOr<Json> Function::Invoke(const Json& input) const {
  try {
    return handler_(input);
  } catch (const std::exception& e) {
    return AwsError(absl::StatusCode::kInternal, "Exception", e.what());
  } catch (...) {
    return AwsError(absl::StatusCode::kInternal, "Exception", "unknown exception");
  }
}

}  // namespace courier
