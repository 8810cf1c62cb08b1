// Checks of SQS input that FifoQueue needs: names, bodies, attributes, ids. Private to src/queue.
// (Written before the standard queue's shared validation existed; to be replaced by it.)
#ifndef COURIER_SRC_QUEUE_FIFO_CHECKS_H_
#define COURIER_SRC_QUEUE_FIFO_CHECKS_H_

#include <absl/status/status.h>

#include <cstddef>
#include <string_view>

#include "courier/message.h"

namespace courier::fifo_checks {

// [A-Za-z0-9_-], ASCII whatever the C locale: the characters of queue names and ids.
constexpr bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// 1-80 characters from [A-Za-z0-9_-] followed by ".fifo" (the suffix counts toward the 80).
absl::Status CheckFifoQueueName(std::string_view name);

// Body characters (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF, valid UTF-8) and
// at least one character: InvalidMessageContents / MissingParameter.
absl::Status CheckBody(std::string_view body);

// At most `max_attributes` attributes with valid names, types and non-empty values.
absl::Status CheckAttributes(const MessageAttributes& attributes, size_t max_attributes = 10);

// Body plus attributes at most `max_size` bytes.
absl::Status CheckSize(const SendMessageRequest& request, size_t max_size);

// MessageGroupId / MessageDeduplicationId: 1-128 alphanumeric or punctuation characters.
absl::Status CheckFifoId(std::string_view parameter, std::string_view value);

// Batch entry ids: 1-80 characters from [A-Za-z0-9_-].
bool ValidBatchEntryId(std::string_view id);

// Whether `name` is selected by MessageAttributeNames (All, .*, prefix.*, exact names).
bool Selected(const std::vector<std::string>& selectors, std::string_view name);

}  // namespace courier::fifo_checks

#endif  // COURIER_SRC_QUEUE_FIFO_CHECKS_H_
