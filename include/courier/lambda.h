// Lambda: the hub's registered functions — C++ callables with Lambda ARNs
// (arn:aws:lambda:<region>:<account>:function:<name>) that state machines call as Task
// resources and, later, topics and buses deliver to.
//
// Each Hub has one LambdaService (see service.h); `courier::Lambda(hub)` reaches it.
//
// Example:
//   courier::Lambda(hub).RegisterFunction("charge", [](const courier::Json& in)
//       -> absl::StatusOr<courier::Json> { return in; });
#ifndef COURIER_LAMBDA_H_
#define COURIER_LAMBDA_H_

#include <absl/status/statusor.h>

#include <memory>
#include <string_view>

#include "courier/function.h"

namespace courier {

class Hub;
class LambdaOperations;

class LambdaService {
 public:
  LambdaService(const LambdaService&) = delete;
  LambdaService& operator=(const LambdaService&) = delete;

  // Registers `handler` as arn:aws:lambda:<region>:<account>:function:<name>: a name of 1-64
  // letters, digits, '-' and '_' (else InvalidParameterValue); ResourceConflictException if
  // it is taken. Thread-safe.
  absl::StatusOr<std::shared_ptr<Function>> RegisterFunction(std::string_view name,
                                                             FunctionHandler handler);
  // As RegisterFunction, for a handler that completes later through its callback.
  absl::StatusOr<std::shared_ptr<Function>> RegisterAsyncFunction(std::string_view name,
                                                                  AsyncFunctionHandler handler);
  // By name or ARN (an ARN of another account or region, or with a version qualifier, resolves
  // by its function name: definitions written for AWS run unchanged); nullptr if none.
  // Thread-safe.
  std::shared_ptr<Function> FindFunction(std::string_view name_or_arn) const;

 private:
  friend class LambdaOperations;  // creates the hub's instance
  explicit LambdaService(Hub& hub) : hub_(hub) {}
  absl::StatusOr<std::shared_ptr<Function>> Add(std::string_view name,
                                                std::shared_ptr<Function> fn);
  std::string ArnOf(std::string_view name) const;

  Hub& hub_;
};

// The hub's functions.
LambdaService& Lambda(Hub& hub);

}  // namespace courier

#endif  // COURIER_LAMBDA_H_
