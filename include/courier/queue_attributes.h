// QueueAttributes: a queue's SQS attributes as typed fields, and their AWS string form.
//
// CreateQueue, GetQueueAttributes and SetQueueAttributes speak AWS's attribute names and string
// values (the AttributeMap); C++ callers may prefer the typed struct. Unset fields keep AWS's
// defaults (table in spec §1).
//
// Example:
//   courier::QueueAttributes a{.visibility_timeout = absl::Seconds(60),
//                              .redrive_policy =
//                              R"({"deadLetterTargetArn":"arn:...","maxReceiveCount":3})"};
//   courier::QueueAttributeMap m = a.ToMap();   // {"RedrivePolicy": ..., "VisibilityTimeout":
//   "60"}
#ifndef COURIER_QUEUE_ATTRIBUTES_H_
#define COURIER_QUEUE_ATTRIBUTES_H_

#include <absl/time/time.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace courier {

// AWS attribute names to values, as CreateQueue / Get/SetQueueAttributes carry them.
using QueueAttributeMap = std::map<std::string, std::string, std::less<>>;

struct QueueAttributes {
  std::optional<absl::Duration> delay;                      // DelaySeconds 0-900 s
  std::optional<int64_t> maximum_message_size;              // 1,024-1,048,576 bytes
  std::optional<absl::Duration> message_retention_period;   // 60-1,209,600 s
  std::optional<absl::Duration> receive_message_wait_time;  // 0-20 s
  std::optional<absl::Duration> visibility_timeout;         // 0-43,200 s
  std::optional<std::string> redrive_policy;                // JSON
  std::optional<std::string> redrive_allow_policy;          // JSON
  std::optional<bool> sqs_managed_sse_enabled;
  // FIFO only (InvalidAttributeName on a standard queue).
  std::optional<bool> fifo_queue;
  std::optional<bool> content_based_deduplication;
  std::optional<std::string> deduplication_scope;    // queue | messageGroup
  std::optional<std::string> fifo_throughput_limit;  // perQueue | perMessageGroupId
  // Any other AWS attribute (Policy, KmsMasterKeyId, ...), by AWS name.
  QueueAttributeMap other;

  // The AWS string form of the fields that are set (whole seconds).
  QueueAttributeMap ToMap() const;
};

}  // namespace courier

#endif  // COURIER_QUEUE_ATTRIBUTES_H_
