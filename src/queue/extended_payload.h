// The extended client's wire format (spec §7): pointer bodies, the reserved size attribute and
// the prefixed receipt handle. A queue with LargePayloadOptions calls these four functions at its
// edges; the queue's own logic sees only the small pointer message. Not API.
#ifndef COURIER_SRC_QUEUE_EXTENDED_PAYLOAD_H_
#define COURIER_SRC_QUEUE_EXTENDED_PAYLOAD_H_

#include <absl/status/status.h>

#include <optional>
#include <string>
#include <string_view>

#include "courier/blob_store.h"
#include "courier/message.h"

namespace courier::queue_internal {

inline constexpr std::string_view kPointerClass =
    "software.amazon.payloadoffloading.PayloadS3Pointer";
inline constexpr std::string_view kLegacyPointerClass =
    "com.amazon.sqs.javamessaging.MessageS3Pointer";
inline constexpr std::string_view kExtendedPayloadSize = "ExtendedPayloadSize";
inline constexpr std::string_view kLegacyPayloadSize = "SQSLargePayloadSize";

struct PayloadPointer {
  std::string bucket;
  std::string key;
  friend bool operator==(const PayloadPointer&, const PayloadPointer&) = default;
};

// `options` with `store` set (a new MemoryBlobStore if it was null): a queue resolves its
// options once at creation so that all its messages share one store.
LargePayloadOptions WithDefaultStore(LargePayloadOptions options);

// The SQS size of a request: UTF-8 body bytes plus name + type + value of every attribute.
size_t MessageSize(const SendMessageRequest& request);

// The pointer JSON for bucket/key, and its parse (either class name); nullopt if `body` is not one.
std::string PointerBody(const PayloadPointer& pointer);
std::optional<PayloadPointer> ParsePointerBody(std::string_view body);

// If the request is large (or options.always), stores its body as a new blob and rewrites the
// request into the pointer message with ExtendedPayloadSize. Fails, changing nothing, when the
// request already has 10 attributes or uses a reserved attribute name (InvalidParameterValue),
// or when the store fails.
absl::Status OffloadPayload(const LargePayloadOptions& options, SendMessageRequest& request);

// If `message` is a pointer message, replaces its body by the blob's bytes (and the MD5s by those
// of the original body and user attributes), drops the reserved attribute and prefixes the
// receipt handle. A missing blob fails with NoSuchKey.
absl::Status RestorePayload(const LargePayloadOptions& options, Message& message);

// "-..s3BucketName..-B-..s3BucketName..--..s3Key..-K-..s3Key..-<handle>": returns bucket/key and
// sets *inner to <handle>; for any other handle returns nullopt and sets *inner to it whole.
std::optional<PayloadPointer> SplitReceiptHandle(std::string_view handle, std::string* inner);
std::string JoinReceiptHandle(const PayloadPointer& pointer, std::string_view handle);

// Deletes the blob a pointer names (after its message was deleted); a missing blob is fine.
absl::Status DeleteBlob(const LargePayloadOptions& options, const PayloadPointer& pointer);

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_EXTENDED_PAYLOAD_H_
