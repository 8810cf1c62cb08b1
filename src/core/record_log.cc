#include "courier/detail/record_log.h"

#include <span>

namespace courier::detail {

std::shared_ptr<RecordLog> RecordLog::For(const std::shared_ptr<Storage>& storage,
                                          std::string name) {
  if (storage == nullptr || !storage->keeps_records()) return nullptr;
  return std::make_shared<RecordLog>(storage, std::move(name));
}

void RecordLog::Append(std::string record) {
  if (replaying_.load(std::memory_order_relaxed) || closed_.load(std::memory_order_relaxed)) return;
  // A storage that fails to keep a record (a full disk) is the durable policy's to report; the
  // memory policies never fail.
  (void)storage_->Append(name_, std::span<const std::string>(&record, 1));
}

absl::Status RecordLog::Replay(absl::FunctionRef<absl::Status(std::string_view)> apply) {
  replaying_.store(true, std::memory_order_relaxed);
  absl::Status status;
  absl::Status read = storage_->Replay(name_, [&](std::string_view record) {
    if (status.ok()) status = apply(record);
  });
  replaying_.store(false, std::memory_order_relaxed);
  return status.ok() ? read : status;
}

}  // namespace courier::detail
