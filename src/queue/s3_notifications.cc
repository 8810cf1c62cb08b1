// S3's EventBridge notifications from a blob store (s3_notifications.h). The events reach the
// bus as a sink, in their envelope, as S3 puts them: by the service, so the "aws.s3" source
// that PutEvents refuses from callers is allowed.
#include "courier/s3_notifications.h"

#include <absl/time/time.h>
#include <fmt/format.h>

#include "courier/detail/digest.h"
#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/message.h"
#include "courier/status.h"

namespace courier {

NotifyingBlobStore::NotifyingBlobStore(std::shared_ptr<BlobStore> inner, Hub& hub,
                                       std::shared_ptr<MessageSink> bus)
    : inner_(std::move(inner)), hub_(hub), bus_(std::move(bus)) {}

std::string NotifyingBlobStore::NextSequencer() {
  return fmt::format("{:016X}", sequence_.fetch_add(1, std::memory_order_relaxed) + 1);
}

void NotifyingBlobStore::Notify(std::string_view detail_type, std::string_view bucket,
                                Json detail) {
  Hub& hub = hub_;
  std::string bucket_arn = fmt::format("arn:aws:s3:::{}", bucket);
  Json event = JsonObject{
      {"version", "0"},
      {"id", detail::NewUuid()},
      {"detail-type", detail_type},
      {"source", "aws.s3"},
      {"account", hub.environment().account},
      {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", hub.clock().Now(), absl::UTCTimeZone())},
      {"region", hub.environment().region},
      {"resources", JsonArray{Json(bucket_arn)}},
      {"detail", std::move(detail)}};
  // The bus as a sink takes an event already in its envelope, as from another bus.
  bus_->SendMessage({.body = ToJsonText(event)}).IgnoreError();
}

namespace {
JsonObject Common(std::string_view bucket, JsonObject object, std::string_view reason,
                  std::string_view requester) {
  return JsonObject{{"version", "0"},
                    {"bucket", JsonObject{{"name", bucket}}},
                    {"object", std::move(object)},
                    {"request-id", detail::NewUuid().substr(0, 16)},
                    {"requester", requester},
                    {"source-ip-address", "127.0.0.1"},
                    {"reason", reason}};
}
}  // namespace

absl::Status NotifyingBlobStore::Put(std::string_view bucket, std::string_view key,
                                     std::string_view data) {
  COURIER_RETURN_IF_ERROR(inner_->Put(bucket, key, data));
  const std::string& account = hub_.environment().account;
  JsonObject detail = Common(bucket,
                             JsonObject{{"key", key},
                                        {"size", static_cast<int64_t>(data.size())},
                                        {"etag", detail::Md5Of(data).view()},
                                        {"sequencer", NextSequencer()}},
                             "PutObject", account);
  Notify("Object Created", bucket, std::move(detail));
  return absl::OkStatus();
}

absl::StatusOr<std::string> NotifyingBlobStore::Get(std::string_view bucket, std::string_view key) {
  return inner_->Get(bucket, key);
}

absl::Status NotifyingBlobStore::Delete(std::string_view bucket, std::string_view key) {
  const bool existed = inner_->Get(bucket, key).ok();
  COURIER_RETURN_IF_ERROR(inner_->Delete(bucket, key));
  if (!existed) return absl::OkStatus();  // S3 notifies deletions of objects only
  const std::string& account = hub_.environment().account;
  JsonObject detail = Common(bucket, JsonObject{{"key", key}, {"sequencer", NextSequencer()}},
                             "DeleteObject", account);
  detail["deletion-type"] = "Permanently Deleted";
  Notify("Object Deleted", bucket, std::move(detail));
  return absl::OkStatus();
}

size_t NotifyingBlobStore::Count() { return inner_->Count(); }

}  // namespace courier
