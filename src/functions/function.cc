#include "courier/function.h"

#include <absl/strings/cord.h>

#include <exception>
#include <memory>
#include <optional>

#include "courier/detail/uuid.h"
#include "courier/status.h"

namespace courier {
namespace {
constexpr char kErrorPayload[] = "courier/function-error";
constexpr char kCausePayload[] = "courier/function-cause";
}  // namespace

absl::Status FunctionError(std::string_view error, std::string_view cause) {
  absl::Status status = AwsError(absl::StatusCode::kAborted, error, cause);
  status.SetPayload(kErrorPayload, absl::Cord(absl::string_view(error.data(), error.size())));
  status.SetPayload(kCausePayload, absl::Cord(absl::string_view(cause.data(), cause.size())));
  return status;
}

std::string FunctionErrorName(const absl::Status& status) {
  if (auto e = status.GetPayload(kErrorPayload)) return std::string(*e);
  std::string_view name = ErrorName(status);
  return name.empty() ? "Exception" : std::string(name);
}

std::string FunctionErrorCause(const absl::Status& status) {
  if (auto c = status.GetPayload(kCausePayload)) return std::string(*c);
  return std::string(ErrorMessage(status));
}

absl::StatusOr<Json> Function::Invoke(const Json& input) const {
  if (async_handler_) {
    auto result = std::make_shared<std::optional<absl::StatusOr<Json>>>();
    InvokeAsync(input, [result](absl::StatusOr<Json> r) { *result = std::move(r); });
    if (*result) return std::move(**result);
    return absl::UnavailableError("the asynchronous function has not completed yet");
  }
  try {
    return handler_(input);
  } catch (const std::exception& e) {
    return AwsError("Exception", e.what());
  } catch (...) {
    return AwsError("Exception", "unknown exception");
  }
}

void Function::InvokeAsync(const Json& input, FunctionCallback done) const {
  if (!async_handler_) {
    done(Invoke(input));
    return;
  }
  try {
    async_handler_(input, done);
  } catch (const std::exception& e) {
    done(AwsError("Exception", e.what()));
  } catch (...) {
    done(AwsError("Exception", "unknown exception"));
  }
}

namespace {

// A message's body as a function's input: its JSON, or the text as a JSON string.
Json InputOf(const SendMessageRequest& request) {
  absl::StatusOr<Json> parsed = ParseJson(request.body);
  return parsed.ok() ? *std::move(parsed) : Json(request.body);
}

absl::StatusOr<SendMessageResult> Delivered(const absl::StatusOr<Json>& invoked) {
  if (!invoked.ok()) return invoked.status();
  SendMessageResult result;
  result.message_id = MessageId(detail::NewUuid());
  return result;
}

}  // namespace

absl::StatusOr<SendMessageResult> Function::SendMessage(SendMessageRequest request) {
  return Delivered(Invoke(InputOf(request)));
}

void Function::Deliver(SendMessageRequest request, DeliveryCallback done) {
  // FunctionCallback is copyable and `done` is not: the completion is shared by the copies.
  auto once = std::make_shared<DeliveryCallback>(std::move(done));
  InvokeAsync(InputOf(request), [once](absl::StatusOr<Json> invoked) {
    DeliveryCallback& done_once = *once;
    std::move(done_once)(Delivered(invoked));
  });
}

}  // namespace courier
