// Checks of SQS input that both queue kinds make: names, bodies, attributes, ids. Private to
// src/queue; queue_config.h builds the whole-request checks on them.
#ifndef COURIER_SRC_QUEUE_MESSAGE_CHECKS_H_
#define COURIER_SRC_QUEUE_MESSAGE_CHECKS_H_

#include <absl/status/status.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "courier/message.h"

namespace courier::queue_internal {

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
// The test of CheckFifoId without the error: eight characters at a time (every send checks two).
inline bool ValidFifoId(std::string_view value) {
  const size_t n = value.size();
  if (n == 0 || n > 128) return false;
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  // A byte is bad when its top bit is set, when it is below 33 (the classic "has a byte less
  // than n" test, exact for n <= 128), or when it is 127 (adding one sets its top bit).
  auto bad = [&](uint64_t w) {
    return (w & kHigh) | ((w - 33 * kOnes) & ~w & kHigh) | ((w + kOnes) & kHigh);
  };
  uint64_t any = 0, w;
  if (n < 8) {
    w = 0x6161616161616161ULL;  // "aaaaaaaa": the bytes past the end are good
    std::memcpy(&w, value.data(), n);
    return bad(w) == 0;
  }
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::memcpy(&w, value.data() + i, 8);
    any |= bad(w);
  }
  std::memcpy(&w, value.data() + n - 8, 8);  // the last eight (they overlap checked ones)
  return (any | bad(w)) == 0;
}

// Batch entry ids: 1-80 characters from [A-Za-z0-9_-].
bool ValidBatchEntryId(std::string_view id);

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_MESSAGE_CHECKS_H_
