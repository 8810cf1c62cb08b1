#include "queue/extended_payload.h"

#include <fmt/format.h>

#include "courier/detail/digest.h"
#include "courier/detail/uuid.h"
#include "courier/json.h"
#include "courier/status.h"

namespace courier::queue_internal {
namespace {

constexpr std::string_view kBucketMark = "-..s3BucketName..-";
constexpr std::string_view kKeyMark = "-..s3Key..-";
constexpr size_t kMaxUserAttributes = 9;  // one of SQS's 10 goes to ExtendedPayloadSize

bool IsReserved(std::string_view name) {
  return name == kExtendedPayloadSize || name == kLegacyPayloadSize;
}

}  // namespace

LargePayloadOptions WithDefaultStore(LargePayloadOptions options) {
  if (options.store == nullptr) options.store = std::make_shared<MemoryBlobStore>();
  return options;
}

size_t MessageSize(const SendMessageRequest& request) {
  size_t size = request.body.size();
  for (const auto& [name, attribute] : request.attributes) {
    size += name.size() + attribute.data_type.size() + attribute.value().size();
  }
  return size;
}

std::string PointerBody(const PayloadPointer& pointer) {
  JsonArray body;
  body.emplace_back(boost::json::string_view(kPointerClass.data(), kPointerClass.size()));
  JsonObject fields;
  fields["s3BucketName"] = boost::json::string_view(pointer.bucket.data(), pointer.bucket.size());
  fields["s3Key"] = boost::json::string_view(pointer.key.data(), pointer.key.size());
  body.emplace_back(std::move(fields));
  return ToJsonText(body);
}

std::optional<PayloadPointer> ParsePointerBody(std::string_view body) {
  // Pointers are small; do not parse a large ordinary body.
  if (body.size() > 4096 || body.empty() || body.front() != '[') return std::nullopt;
  absl::StatusOr<Json> doc = ParseJson(body);
  if (!doc.ok() || !doc->is_array() || doc->as_array().size() != 2) return std::nullopt;
  const JsonArray& array = doc->as_array();
  if (!array[0].is_string() || !array[1].is_object()) return std::nullopt;
  const std::string_view cls(array[0].as_string().data(), array[0].as_string().size());
  if (cls != kPointerClass && cls != kLegacyPointerClass) return std::nullopt;
  const JsonObject& fields = array[1].as_object();
  const auto* bucket = fields.if_contains("s3BucketName");
  const auto* key = fields.if_contains("s3Key");
  if (bucket == nullptr || key == nullptr || !bucket->is_string() || !key->is_string()) {
    return std::nullopt;
  }
  return PayloadPointer{std::string(bucket->as_string()), std::string(key->as_string())};
}

absl::Status OffloadPayload(const LargePayloadOptions& options, SendMessageRequest& request) {
  for (const auto& [name, attribute] : request.attributes) {
    if (IsReserved(name)) {
      return InvalidParameterValue(fmt::format(
          "Message attribute name {} is reserved for use by SQS extended client.", name));
    }
  }
  const size_t size = MessageSize(request);
  if (!options.always && size <= options.threshold) return absl::OkStatus();
  if (request.attributes.size() > kMaxUserAttributes) {
    return InvalidParameterValue(
        fmt::format("Number of message attributes [{}] exceeds the allowed maximum [{}].",
                    request.attributes.size(), kMaxUserAttributes));
  }
  if (options.store == nullptr) {
    return AwsError("InternalError", "Large payloads are enabled without a blob store.");
  }
  PayloadPointer pointer{options.bucket, detail::NewUuid()};
  COURIER_RETURN_IF_ERROR(options.store->Put(pointer.bucket, pointer.key, request.body));
  // The extended client records the body's UTF-8 length.
  request.attributes.emplace(std::string(kExtendedPayloadSize),
                             MessageAttribute::Number(std::to_string(request.body.size())));
  request.body = PointerBody(pointer);
  return absl::OkStatus();
}

absl::Status RestorePayload(const LargePayloadOptions& options, Message& message) {
  bool reserved = false;
  for (const auto& [name, attribute] : message.message_attributes) reserved |= IsReserved(name);
  if (!reserved) return absl::OkStatus();
  std::optional<PayloadPointer> pointer = ParsePointerBody(message.body);
  if (!pointer.has_value()) return absl::OkStatus();
  if (options.store == nullptr) {
    return AwsError("InternalError", "Large payloads are enabled without a blob store.");
  }
  COURIER_ASSIGN_OR_RETURN(std::string body, options.store->Get(pointer->bucket, pointer->key));
  message.body = std::move(body);
  message.message_attributes.erase(std::string(kExtendedPayloadSize));
  message.message_attributes.erase(std::string(kLegacyPayloadSize));
  message.md5_of_body = detail::Md5Of(message.body);
  message.md5_of_message_attributes = detail::Md5OfMessageAttributes(message.message_attributes);
  message.receipt_handle =
      ReceiptHandle(JoinReceiptHandle(*pointer, message.receipt_handle.value()));
  return absl::OkStatus();
}

std::string JoinReceiptHandle(const PayloadPointer& pointer, std::string_view handle) {
  return fmt::format("{0}{1}{0}{2}{3}{2}{4}", kBucketMark, pointer.bucket, kKeyMark, pointer.key,
                     handle);
}

std::optional<PayloadPointer> SplitReceiptHandle(std::string_view handle, std::string* inner) {
  *inner = std::string(handle);
  if (!handle.starts_with(kBucketMark)) return std::nullopt;
  std::string_view rest = handle.substr(kBucketMark.size());
  const size_t bucket_end = rest.find(kBucketMark);
  if (bucket_end == std::string_view::npos) return std::nullopt;
  PayloadPointer pointer{std::string(rest.substr(0, bucket_end)), ""};
  rest.remove_prefix(bucket_end + kBucketMark.size());
  if (!rest.starts_with(kKeyMark)) return std::nullopt;
  rest.remove_prefix(kKeyMark.size());
  const size_t key_end = rest.find(kKeyMark);
  if (key_end == std::string_view::npos) return std::nullopt;
  pointer.key = std::string(rest.substr(0, key_end));
  *inner = std::string(rest.substr(key_end + kKeyMark.size()));
  return pointer;
}

absl::Status DeleteBlob(const LargePayloadOptions& options, const PayloadPointer& pointer) {
  if (options.store == nullptr) return absl::OkStatus();
  return options.store->Delete(pointer.bucket, pointer.key);
}

}  // namespace courier::queue_internal
