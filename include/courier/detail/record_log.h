// RecordLog: one service's log in the hub's Storage (courier/storage.h), where the service
// appends its mutation records and from which Hub::Recover rebuilds it. Not API.
//
// A service holds one only when the storage keeps records (For returns nullptr otherwise), so a
// change costs the service one pointer test under MemoryStorage.
#ifndef COURIER_DETAIL_RECORD_LOG_H_
#define COURIER_DETAIL_RECORD_LOG_H_

#include <absl/functional/function_ref.h>
#include <absl/status/status.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "courier/storage.h"

namespace courier::detail {

class RecordLog {
 public:
  RecordLog(std::shared_ptr<Storage> storage, std::string name)
      : storage_(std::move(storage)), name_(std::move(name)) {}
  // The log `name` of `storage`, or nullptr when it keeps no records.
  static std::shared_ptr<RecordLog> For(const std::shared_ptr<Storage>& storage, std::string name);

  // Appends one record. Thread-safe; call under the lock that orders the change it records.
  // Nothing is appended while Replay runs (the records replayed are there already).
  void Append(std::string record);
  // Calls `apply` with each record in order, stopping at the first error, which it returns
  // (as does a storage that cannot read the log).
  absl::Status Replay(absl::FunctionRef<absl::Status(std::string_view)> apply);
  // Appends nothing from now on: the hub is going away, and what its end does to its resources
  // (executions aborted, ...) is not a change a recovered hub should see.
  void Close() { closed_.store(true, std::memory_order_relaxed); }

 private:
  std::shared_ptr<Storage> storage_;
  std::string name_;
  std::atomic<bool> replaying_{false};
  std::atomic<bool> closed_{false};
};

// A RecordLog for one service's typed records (`Encode` makes a record's text).
template <typename Record, std::string (*Encode)(const Record&)>
class TypedLog {
 public:
  explicit TypedLog(std::shared_ptr<RecordLog> log) : log_(std::move(log)) {}
  void Append(const Record& record) { log_->Append(Encode(record)); }
  RecordLog& log() { return *log_; }
  // Held while a resource is created or deleted: its record and its (un)registration in the
  // hub are one step to everyone else who creates or deletes, so no record of what happens to
  // the resource can come before the record of its creation.
  std::mutex& catalog_mu() { return catalog_mu_; }

 private:
  std::shared_ptr<RecordLog> log_;
  std::mutex catalog_mu_;
};

}  // namespace courier::detail

#endif  // COURIER_DETAIL_RECORD_LOG_H_
