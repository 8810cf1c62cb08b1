// Errors as AWS names them, carried in absl::Status.
//
// Every fallible courier call returns absl::Status or absl::StatusOr<T>. The message starts with
// the AWS error name followed by ": ", so a test written against AWS can check the same name:
//
// Example:
//   absl::Status s = queue->DeleteMessage(courier::ReceiptHandle("junk"));
//   assert(courier::ErrorName(s) == "ReceiptHandleIsInvalid");
//   // s.message() == "ReceiptHandleIsInvalid: The input receipt handle \"junk\" is not valid."
#ifndef COURIER_STATUS_H_
#define COURIER_STATUS_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

namespace courier {

// The status code of an AWS error name, the same wherever the error is raised: kNotFound for
// "...DoesNotExist" and "...NotFound...", kAlreadyExists for "...AlreadyExists...",
// kInvalidArgument for "...Invalid...", "Missing..." and the batch-shape errors,
// kFailedPrecondition for a state that forbids the call now (PurgeQueueInProgress,
// QueueDeletedRecently, ...), kResourceExhausted for limits, kPermissionDenied for access and KMS
// errors, kUnimplemented for unknown operations, kInternal for internal errors; kFailedPrecondition
// for any other name.
absl::StatusCode AwsErrorCode(std::string_view aws_name);

// Builds a status whose message is "<aws_name>: <message>", with the code AwsErrorCode gives.
absl::Status AwsError(std::string_view aws_name, std::string_view message);

// As AwsError, with the message formatted by fmt.
template <typename... Args>
absl::Status AwsErrorF(std::string_view aws_name, fmt::format_string<Args...> format,
                       Args&&... args) {
  return AwsError(aws_name, fmt::format(format, std::forward<Args>(args)...));
}

// With a code of the caller's choice: for error names chosen at run time (a Task state's error,
// a function's), not AWS's own, which go through the forms above.
absl::Status AwsError(absl::StatusCode code, std::string_view aws_name, std::string_view message);
template <typename... Args>
absl::Status AwsErrorF(absl::StatusCode code, std::string_view aws_name,
                       fmt::format_string<Args...> format, Args&&... args) {
  return AwsError(code, aws_name, fmt::format(format, std::forward<Args>(args)...));
}

// The AWS error name a status carries ("" for OK or for a status not made by AwsError).
std::string_view ErrorName(const absl::Status& status);

// The message without the leading "<name>: ".
std::string_view ErrorMessage(const absl::Status& status);

// Shorthands for the errors every component uses.
inline absl::Status InvalidParameterValue(std::string_view message) {
  return AwsError("InvalidParameterValue", message);
}
inline absl::Status ResourceNotFound(std::string_view message) {
  return AwsError("ResourceNotFoundException", message);
}

}  // namespace courier

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define COURIER_RETURN_IF_ERROR(expr)                                          \
  do {                                                                         \
    if (::absl::Status _courier_st = (expr); !_courier_st.ok()) [[unlikely]] { \
      return _courier_st;                                                      \
    }                                                                          \
  } while (false)

#define COURIER_CONCAT_INNER_(a, b) a##b
#define COURIER_CONCAT_(a, b) COURIER_CONCAT_INNER_(a, b)
// Declares `lhs` from the value of `rexpr` (an absl::StatusOr) or returns its error.
#define COURIER_ASSIGN_OR_RETURN(lhs, rexpr) \
  COURIER_ASSIGN_OR_RETURN_IMPL_(COURIER_CONCAT_(_courier_or_, __LINE__), lhs, rexpr)
#define COURIER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                   \
  if (!tmp.ok()) [[unlikely]]                           \
    return tmp.status();                                \
  lhs = std::move(tmp).value()

#endif  // COURIER_STATUS_H_
