// courier::NotifyingBlobStore: a BlobStore that tells an EventBridge bus what happens to its
// objects, as S3 does with EventBridge notifications on: "Object Created" (reason PutObject)
// after each Put and "Object Deleted" (reason DeleteObject) after each Delete of an object that
// was there, from source "aws.s3" with the bucket's ARN as the resource. With it, the extended
// client's payload bucket, or any store, can feed rules: "S3 events to several queues" in-process.
//
// Example:
//   auto blobs = std::make_shared<courier::NotifyingBlobStore>(
//       std::make_shared<courier::MemoryBlobStore>(),
//       courier::Events(hub).GetEventBus("default").value());
//   blobs->Put("uploads", "a.txt", "hello");  // rules with {"source":["aws.s3"]} see it
#ifndef COURIER_S3_NOTIFICATIONS_H_
#define COURIER_S3_NOTIFICATIONS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "courier/blob_store.h"
#include "courier/json.h"
#include "courier/resource.h"

namespace courier {

class Hub;

class NotifyingBlobStore final : public BlobStore {
 public:
  // `inner` keeps the bytes; `bus` (an EventBus, or any sink of events in their envelope)
  // receives the notifications, in `hub`'s account and region, timed by its clock. The store
  // must not outlive the hub.
  NotifyingBlobStore(std::shared_ptr<BlobStore> inner, Hub& hub, std::shared_ptr<MessageSink> bus);

  absl::Status Put(std::string_view bucket, std::string_view key, std::string_view data) override;
  absl::StatusOr<std::string> Get(std::string_view bucket, std::string_view key) override;
  absl::Status Delete(std::string_view bucket, std::string_view key) override;
  size_t Count() override;

 private:
  void Notify(std::string_view detail_type, std::string_view bucket, Json detail);
  std::string NextSequencer();

  std::shared_ptr<BlobStore> inner_;
  Hub& hub_;
  std::shared_ptr<MessageSink> bus_;
  std::atomic<uint64_t> sequence_{0};
};

}  // namespace courier

#endif  // COURIER_S3_NOTIFICATIONS_H_
