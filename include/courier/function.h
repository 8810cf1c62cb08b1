// Function: a registered C++ callable with an ARN (arn:aws:lambda:<region>:<account>:function:
// <name>), usable as a Step Functions Task resource and, later, as an SNS subscriber or an
// EventBridge target.
//
// Example:
//   hub.RegisterFunction("charge", [](const courier::Json& in) -> absl::StatusOr<courier::Json> {
//     return courier::Json{{"charged", in.at("amount")}};
//   });
#ifndef COURIER_FUNCTION_H_
#define COURIER_FUNCTION_H_

#include <absl/status/statusor.h>

#include <functional>
#include <string>

#include "courier/json.h"
#include "courier/resource.h"

namespace courier {

// A function's body. An error status fails the invocation; its ErrorName() (or
// "Lambda.Unknown"-style name chosen by the caller) becomes the error a state machine sees.
using FunctionHandler = std::function<absl::StatusOr<Json>(const Json& input)>;

class Function final : public Resource {
 public:
  Function(std::string name, std::string arn, FunctionHandler handler)
      : Resource(std::move(name), std::move(arn)), handler_(std::move(handler)) {}

  // Calls the handler; an exception it throws becomes an error status. Thread-safe if the
  // handler is.
  absl::StatusOr<Json> Invoke(const Json& input) const;

 private:
  FunctionHandler handler_;
};

}  // namespace courier

#endif  // COURIER_FUNCTION_H_
