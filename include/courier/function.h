// Function: a registered C++ callable with an ARN (arn:aws:lambda:<region>:<account>:function:
// <name>), usable as a Step Functions Task resource and, later, as an SNS subscriber or an
// EventBridge target. A handler returns its result, or fails with a Step Functions error name
// and cause (FunctionError); an asynchronous handler completes later through its callback.
//
// Example:
//   courier::LambdaService& lambda = courier::Lambda(hub);
//   using Result = absl::StatusOr<courier::Json>;
//   lambda.RegisterFunction("charge", [](const courier::Json& in) -> Result {
//     if (!in.as_object().contains("amount")) {
//       return courier::FunctionError("PaymentRejected", "no amount");  // Catch-able by name
//     }
//     return courier::Json{{"charged", in.at("amount")}};
//   });
//   lambda.RegisterAsyncFunction("later", [&](const courier::Json& in, auto done) {
//     hub.clock().ScheduleAfter(absl::Seconds(5), [in, done] { done(in); });
//   });
#ifndef COURIER_FUNCTION_H_
#define COURIER_FUNCTION_H_

#include <absl/status/statusor.h>

#include <functional>
#include <string>
#include <string_view>

#include "courier/json.h"
#include "courier/resource.h"

namespace courier {

// A function's body. An error status fails the invocation: the error a state machine sees is
// the name given to FunctionError, else the status's ErrorName(), else "Exception"; the cause
// is the rest of the message.
using FunctionHandler = std::function<absl::StatusOr<Json>(const Json& input)>;
// Completes an asynchronous invocation; call it exactly once, from any thread.
using FunctionCallback = std::function<void(absl::StatusOr<Json> result)>;
using AsyncFunctionHandler = std::function<void(const Json& input, FunctionCallback done)>;

// A failure carrying any Step Functions error name (letters, digits, '-', '_', spaces...) and a
// cause, exactly as a Task's Catch and Retry see them.
absl::Status FunctionError(std::string_view error, std::string_view cause = {});
// The error name and cause a failed invocation reports (see FunctionHandler).
std::string FunctionErrorName(const absl::Status& status);
std::string FunctionErrorCause(const absl::Status& status);

// As a MessageSink (an SNS subscriber, an EventBridge target), a function is invoked with the
// message's body as its input (parsed, if it is JSON; else as a JSON string); the delivery
// succeeds, with a new MessageId, when the invocation does.
class Function final : public MessageSink {
 public:
  Function(std::string name, std::string arn, FunctionHandler handler)
      : MessageSink(std::move(name), std::move(arn)), handler_(std::move(handler)) {}
  Function(std::string name, std::string arn, AsyncFunctionHandler handler)
      : MessageSink(std::move(name), std::move(arn)), async_handler_(std::move(handler)) {}

  bool is_async() const { return static_cast<bool>(async_handler_); }

  // Calls the handler; an exception it throws becomes an error status. For an asynchronous
  // function, returns the result if it completed before returning, else Unavailable.
  // Thread-safe if the handler is.
  absl::StatusOr<Json> Invoke(const Json& input) const;

  // Calls the handler and passes its result to `done` (at once for a synchronous handler).
  // An exception it throws becomes an error result. Thread-safe if the handler is.
  void InvokeAsync(const Json& input, FunctionCallback done) const;

  // MessageSink: SendMessage waits for a synchronous handler only (an asynchronous one that has
  // not completed answers Unavailable, as Invoke does); Deliver completes when the handler does.
  absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) override;
  void Deliver(SendMessageRequest request, DeliveryCallback done) override;
  bool completes_at_once() const override { return false; }

 private:
  FunctionHandler handler_;
  AsyncFunctionHandler async_handler_;
};

}  // namespace courier

#endif  // COURIER_FUNCTION_H_
