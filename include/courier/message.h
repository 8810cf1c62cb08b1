// Message value types shared by every component: attributes, send requests and results,
// received messages, receipt handles.
//
// Example:
//   courier::SendMessageRequest request{
//       .body = "hello",
//       .attributes = {{"kind", courier::MessageAttribute::String("new")},
//                      {"count", courier::MessageAttribute::Number("3")}},
//       .delay = absl::Seconds(5)};
#ifndef COURIER_MESSAGE_H_
#define COURIER_MESSAGE_H_

#include <absl/time/time.h>

#include <compare>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "courier/inline_string.h"

namespace courier {

// A message's id: a UUID in its 36-character text form.
using MessageId = InlineString<36>;
// An MD5 digest as 32 lowercase hex digits (MD5OfMessageBody, MD5OfMessageAttributes).
using Md5Hex = InlineString<32>;

// One message attribute. `data_type` is "String", "Number" or "Binary", optionally followed by
// ".label" (e.g. "Number.float"); Number values are kept as their decimal text, Binary values as
// raw bytes (not base64).
struct MessageAttribute {
  std::string data_type;
  std::string string_value;  // String and Number
  std::string binary_value;  // Binary

  static MessageAttribute String(std::string value, std::string_view label = {});
  static MessageAttribute Number(std::string value, std::string_view label = {});
  static MessageAttribute Binary(std::string bytes, std::string_view label = {});

  // "String", "Number" or "Binary": the data type without its label.
  std::string_view base_type() const;
  bool is_binary() const { return base_type() == "Binary"; }
  const std::string& value() const { return is_binary() ? binary_value : string_value; }

  friend bool operator==(const MessageAttribute&, const MessageAttribute&) = default;
};

// Sorted by name, byte-wise, which is also the order MD5OfMessageAttributes hashes them in.
using MessageAttributes = std::map<std::string, MessageAttribute, std::less<>>;

// Identifies one receive of one message; opaque to users. The handles courier's queues issue fit
// inline; longer ones (the extended client's, which embed a blob pointer) live on the heap.
class ReceiptHandle {
 public:
  ReceiptHandle() = default;
  explicit ReceiptHandle(std::string_view value) {
    if (value.size() <= Short::capacity()) {
      short_.assign(value);
    } else {
      long_ = value;
    }
  }
  std::string_view value() const { return long_.empty() ? short_.view() : long_; }
  // For queues issuing handles: makes this handle `n` characters (at most 56) long and returns
  // them to be written, so a receive fills its reused Message without a temporary.
  char* Overwrite(size_t n) {
    long_.clear();
    return short_.resize(n);
  }
  bool empty() const { return value().empty(); }
  friend bool operator==(const ReceiptHandle& a, const ReceiptHandle& b) {
    return a.value() == b.value();
  }
  friend std::strong_ordering operator<=>(const ReceiptHandle& a, const ReceiptHandle& b) {
    return a.value() <=> b.value();
  }

 private:
  using Short = InlineString<56>;
  Short short_;
  std::string long_;
};

struct SendMessageRequest {
  std::string body;
  MessageAttributes attributes;
  // Per-message delay (0-900 s); unset means the queue's DelaySeconds.
  std::optional<absl::Duration> delay;
  // The one system attribute SQS accepts on send (X-Ray trace header).
  std::optional<std::string> aws_trace_header;
  // FIFO queues (required there); fair queues on standard queues.
  std::optional<std::string> message_group_id;
  std::optional<std::string> message_deduplication_id;
};

struct SendMessageResult {
  MessageId message_id;
  Md5Hex md5_of_message_body;               // empty from Queue::SendMessageNoMd5
  Md5Hex md5_of_message_attributes;         // empty when the message has no attributes
  Md5Hex md5_of_message_system_attributes;  // empty without AWSTraceHeader
  InlineString<20> sequence_number;         // FIFO only: 20 digits
  friend bool operator==(const SendMessageResult&, const SendMessageResult&) = default;
};

// A message as ReceiveMessage returns it.
struct Message {
  MessageId message_id;
  ReceiptHandle receipt_handle;
  std::string body;
  Md5Hex md5_of_body;
  Md5Hex md5_of_message_attributes;
  MessageAttributes message_attributes;
  // System attributes by AWS name (SentTimestamp, ApproximateReceiveCount, ...), as AWS's strings.
  std::map<std::string, std::string, std::less<>> attributes;
  friend bool operator==(const Message&, const Message&) = default;
};

}  // namespace courier

#endif  // COURIER_MESSAGE_H_
