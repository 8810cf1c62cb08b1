#include "courier/status.h"

#include <array>
#include <utility>

namespace courier {
namespace {

bool Contains(std::string_view name, std::string_view part) {
  return name.find(part) != std::string_view::npos;
}

}  // namespace

absl::StatusCode AwsErrorCode(std::string_view name) {
  using enum absl::StatusCode;
  // Names the rules below would place wrongly, or that no rule reaches.
  static constexpr std::array<std::pair<std::string_view, absl::StatusCode>, 14> kNamed = {{
      {"EmptyBatchRequest", kInvalidArgument},
      {"TooManyEntriesInBatchRequest", kInvalidArgument},
      {"BatchEntryIdsNotDistinct", kInvalidArgument},
      {"BatchRequestTooLong", kInvalidArgument},
      {"StateMachineTypeNotSupported", kInvalidArgument},
      {"UnsupportedOperation", kInvalidArgument},
      {"SerializationException", kInvalidArgument},
      {"ValidationException", kInvalidArgument},
      {"NoSuchKey", kNotFound},
      {"ResourceConflictException", kAlreadyExists},
      {"OverLimit", kResourceExhausted},
      {"InvalidAction", kUnimplemented},
      {"InternalError", kInternal},
      {"Exception", kInternal},
  }};
  for (const auto& [n, code] : kNamed) {
    if (n == name) return code;
  }
  if (name.starts_with("Kms") || Contains(name, "AccessDenied") || Contains(name, "Authoriz")) {
    return kPermissionDenied;
  }
  if (Contains(name, "DoesNotExist") || Contains(name, "NotFound") ||
      Contains(name, "NonExistent")) {
    return kNotFound;
  }
  if (Contains(name, "AlreadyExists")) return kAlreadyExists;
  if (Contains(name, "Invalid") || name.starts_with("Missing") || name.starts_with("Malformed")) {
    return kInvalidArgument;
  }
  if (Contains(name, "LimitExceeded") || Contains(name, "Throttl") || Contains(name, "TooMany")) {
    return kResourceExhausted;
  }
  if (name.starts_with("Unknown")) return kUnimplemented;
  if (Contains(name, "Internal") || Contains(name, "ServiceException")) return kInternal;
  return kFailedPrecondition;  // InProgress, DeletedRecently, TimedOut, Deleting, ...
}

absl::Status AwsError(std::string_view aws_name, std::string_view message) {
  return AwsError(AwsErrorCode(aws_name), aws_name, message);
}

absl::Status AwsError(absl::StatusCode code, std::string_view aws_name, std::string_view message) {
  std::string text;
  text.reserve(aws_name.size() + 2 + message.size());
  text.append(aws_name).append(": ").append(message);
  return absl::Status(code, absl::string_view(text.data(), text.size()));
}

std::string_view ErrorName(const absl::Status& status) {
  std::string_view message(status.message().data(), status.message().size());
  size_t colon = message.find(": ");
  if (status.ok() || colon == std::string_view::npos) return {};
  std::string_view name = message.substr(0, colon);
  // An AWS error name is one word of letters, digits and dots (AWS.SimpleQueueService.X).
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
    if (!ok) return {};
  }
  return name;
}

std::string_view ErrorMessage(const absl::Status& status) {
  std::string_view name = ErrorName(status);
  std::string_view message(status.message().data(), status.message().size());
  return name.empty() ? message : message.substr(name.size() + 2);
}

}  // namespace courier
