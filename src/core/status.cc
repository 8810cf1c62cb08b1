#include "courier/status.h"

namespace courier {

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
