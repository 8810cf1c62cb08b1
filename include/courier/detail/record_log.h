// RecordLog: one service's log in the hub's Storage (courier/storage.h), where the service
// appends its mutation records and from which Hub::Recover rebuilds it. Not API.
//
// A service holds one only when the storage keeps records (For returns nullptr otherwise), so a
// change costs the service one pointer test under MemoryStorage.
#ifndef COURIER_DETAIL_RECORD_LOG_H_
#define COURIER_DETAIL_RECORD_LOG_H_

#include <absl/functional/function_ref.h>
#include <absl/status/status.h>
#include <absl/status/statusor.h>

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

  // Submits one record and leaves its ticket with the calling thread, for the AwaitRecords that
  // ends the operation. Thread-safe; call under the lock that orders the change it records.
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

// Waits until the records the calling thread has appended since its last AwaitRecords are kept
// (a durable storage: on disk), and returns the error of a commit that failed to keep them. An
// operation calls it once at its end, after it has let go of its locks, so that the wait for the
// disk holds no one else up and one commit carries the records of many callers.
absl::Status AwaitRecords();
// Whether the calling thread has appended records that no AwaitRecords has waited for: never
// under MemoryStorage, which appends nothing. (constinit: read without a TLS init call.)
extern constinit thread_local bool thread_has_unawaited_records;
// Whether the calling thread is inside a DeferredAwaits: Durable leaves the waiting to it.
extern constinit thread_local bool thread_defers_awaits;

// Within its scope, the calls the thread makes do not wait for their records at their ends:
// the scope waits once, for all of them (Await), so that an operation made of many calls (a
// batch entry by entry, a publish delivered to every durable subscriber) waits for one commit.
// Scopes nest: the outermost one waits.
class DeferredAwaits {
 public:
  DeferredAwaits() : outer_(thread_defers_awaits) { thread_defers_awaits = true; }
  ~DeferredAwaits() { thread_defers_awaits = outer_; }
  DeferredAwaits(const DeferredAwaits&) = delete;
  DeferredAwaits& operator=(const DeferredAwaits&) = delete;
  // Waits for the records of the scope's calls (nothing if it is nested in another scope), and
  // returns the error of a commit that failed to keep them. Ends the deferral.
  absl::Status Await();

 private:
  bool outer_;
};

// An operation's result once its records are kept: `result`, or the storage's error if they
// could not be (a failed call's change may be in memory and not on disk, as a call to AWS that
// fails may or may not have taken effect). The StatusOr form works in place, so that the
// operation's result is not moved on the fast path.
inline absl::Status Durable(absl::Status result) {
  if (!thread_has_unawaited_records || thread_defers_awaits) [[likely]]
    return result;
  absl::Status kept = AwaitRecords();
  return result.ok() ? kept : result;
}
template <typename T>
void Durable(absl::StatusOr<T>& result) {
  if (!thread_has_unawaited_records || thread_defers_awaits) [[likely]]
    return;
  if (absl::Status kept = AwaitRecords(); !kept.ok() && result.ok()) result = std::move(kept);
}

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
