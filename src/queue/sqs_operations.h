// The SQS operation table: AWS's JSON protocol (X-Amz-Target AmazonSQS.<Operation>) over the
// typed API of queue.h / fifo_queue.h / sqs.h.
//
// Every AWS-JSON ⇄ typed conversion of SQS lives in sqs_operations.cc: request members become
// typed requests (MessageAttributes with BinaryValue base64-decoded, numbers as numbers), typed
// results become AWS's response shapes (attribute maps as strings, batch results as
// {"Successful":[...],"Failed":[...]}, an empty result as {}). The "sqs" Service that
// courier::Invoke reaches forwards here; it is linked into every program that links
// courier::queue (src/queue/CMakeLists.txt).
//
// Example:
//   auto url =
//       courier::queue_internal::InvokeSqs(hub, "CreateQueue", Json{{"QueueName", "q"}}, {});
//   // url->at("QueueUrl") == "https://sqs.us-east-1.amazonaws.com/000000000000/q"
#ifndef COURIER_QUEUE_SQS_OPERATIONS_H_
#define COURIER_QUEUE_SQS_OPERATIONS_H_

#include <absl/status/statusor.h>

#include <string_view>

#include "courier/json.h"
#include "courier/message.h"
#include "courier/service.h"

namespace courier {
class Hub;
}  // namespace courier

namespace courier::queue_internal {

// One SQS operation by its AWS name ("SendMessage"). Unknown operations fail with
// InvalidAction; a request of the wrong shape with MissingParameter or InvalidParameterValue;
// everything else as the typed call fails. Thread-safe (as the typed calls are).
absl::StatusOr<Json> InvokeSqs(Hub& hub, std::string_view operation, const Json& request,
                               const Caller& caller);

// MessageAttributes in AWS's JSON shape, {"Name": {"DataType": "String", "StringValue": "v"}}
// with BinaryValue in base64, and back from member `name` of `o` (absent: none). Also the form
// in which the SQS records keep them (sqs_records.h).
Json MessageAttributesJson(const MessageAttributes& attributes);
absl::StatusOr<MessageAttributes> MessageAttributesOf(const JsonObject& o, std::string_view name);

}  // namespace courier::queue_internal

#endif  // COURIER_QUEUE_SQS_OPERATIONS_H_
