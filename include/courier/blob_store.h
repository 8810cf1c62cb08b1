// BlobStore: where large message bodies go (the S3 of SQS's extended client), and the option
// that makes a queue offload them (spec §7).
//
// A queue created with `LargePayloadOptions` stores every body above `threshold` bytes (or every
// body, with `always`) as a blob and queues in its place the pointer JSON AWS's extended client
// writes:
//   ["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"B","s3Key":"K"}]
// plus the message attribute `ExtendedPayloadSize`. A receive returns the original body, the
// receipt handle takes the extended client's form, and deleting the message deletes the blob.
//
// Example:
//   auto blobs = std::make_shared<courier::MemoryBlobStore>();
//   courier::LargePayloadOptions large{.store = blobs};          // threshold 256 KiB
//   // pass `large` in the queue's creation options; then a 64 MiB body just works.
//   blobs->Put("bucket", "key", "bytes");
//   assert(blobs->Get("bucket", "key").value() == "bytes");
#ifndef COURIER_BLOB_STORE_H_
#define COURIER_BLOB_STORE_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace courier {

// A bucket/key store of immutable byte strings. Errors use S3's names (`NoSuchKey`,
// `InvalidArgument`, `InternalError`). Implementations are thread-safe.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Stores `data` under bucket/key, replacing any blob there.
  virtual absl::Status Put(std::string_view bucket, std::string_view key,
                           std::string_view data) = 0;
  // The blob's bytes, or NoSuchKey.
  virtual absl::StatusOr<std::string> Get(std::string_view bucket, std::string_view key) = 0;
  // Removes the blob; removing a missing blob succeeds (as S3's DeleteObject does).
  virtual absl::Status Delete(std::string_view bucket, std::string_view key) = 0;
  // How many blobs are stored.
  virtual size_t Count() = 0;
};

// The default: blobs in memory. Thread-safe (one mutex; blobs are large and rare).
class MemoryBlobStore final : public BlobStore {
 public:
  absl::Status Put(std::string_view bucket, std::string_view key, std::string_view data) override;
  absl::StatusOr<std::string> Get(std::string_view bucket, std::string_view key) override;
  absl::Status Delete(std::string_view bucket, std::string_view key) override;
  size_t Count() override;

 private:
  std::mutex mu_;  // std::mutex: visible to ThreadSanitizer
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const std::string>> blobs_;
};

// Blobs as files: <root>/<bucket>/<key>, written to a temporary file and renamed into place so a
// reader never sees half a blob. Bucket and key must be safe file names (no "/", not "." or "..").
// Thread-safe.
class DirectoryBlobStore final : public BlobStore {
 public:
  // Creates `root` if needed; fails with InternalError if it cannot.
  static absl::StatusOr<std::shared_ptr<DirectoryBlobStore>> Open(std::string root);

  absl::Status Put(std::string_view bucket, std::string_view key, std::string_view data) override;
  absl::StatusOr<std::string> Get(std::string_view bucket, std::string_view key) override;
  absl::Status Delete(std::string_view bucket, std::string_view key) override;
  size_t Count() override;
  const std::string& root() const { return root_; }

 private:
  explicit DirectoryBlobStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

// The extended-client option of a queue (standard or FIFO).
struct LargePayloadOptions {
  // Where bodies go; a MemoryBlobStore when null.
  std::shared_ptr<BlobStore> store;
  // The "s3BucketName" written in pointers.
  std::string bucket = "courier-large-payloads";
  // Bodies whose message size (body plus attributes, as SQS counts it) exceeds this are offloaded.
  size_t threshold = 262144;
  // Offload every body, whatever its size.
  bool always = false;
};

}  // namespace courier

#endif  // COURIER_BLOB_STORE_H_
