// SqliteStorage: the durable Storage policy, a hub's mutation records in one SQLite file.
//
// The file is in WAL mode with synchronous=FULL. Records are committed in groups: a caller that
// waits for its records when no commit is under way commits everything pending itself, and the
// callers who arrive meanwhile wait for the next commit, which one of them leads; a writer
// thread commits what no caller waits for (the records of background work) within 5 ms. So a
// call returns once the transaction holding its records is on disk: its fsync has returned.
// With Options::commit_interval above zero, calls wait for nothing and the writer commits at
// least that often; a crash can then lose that window of records, and no more.
//
// One process at a time: the file is held exclusively while it is open, and a second opener
// (another process, or a second SqliteStorage on the same file) gets StorageLocked.
//
// Example:
//   absl::StatusOr<std::shared_ptr<courier::SqliteStorage>> storage =
//       courier::SqliteStorage::Open("/var/lib/app/courier.db");
//   if (!storage.ok()) return storage.status();
//   courier::Environment env;
//   env.storage = *storage;
//   courier::Hub hub(env);
//   COURIER_RETURN_IF_ERROR(hub.Recover());  // what the file holds, back in memory
#ifndef COURIER_SQLITE_STORAGE_H_
#define COURIER_SQLITE_STORAGE_H_

#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <cstdint>
#include <memory>
#include <string>

#include "courier/storage.h"

namespace courier {

class SqliteStorage final : public Storage {
 public:
  struct Options {
    // Zero: every Append waits for its commit. Above zero: Append waits for nothing, and the
    // writer commits at least this often.
    absl::Duration commit_interval = absl::ZeroDuration();
    // Above zero: the file may grow to about this size, and a commit that would need more
    // fails with StorageFull, as on a full disk.
    int64_t max_file_bytes = 0;
  };

  // The version of the file format this build writes; it reads this one and older ones, and
  // marks an older file as this version when it first writes to it (docs/storage.md, "File
  // format").
  static constexpr int kFormatVersion = 3;

  // Opens `path`, creating it if it does not exist. Errors, each naming the file:
  //   StorageLocked      (FailedPrecondition) another SqliteStorage holds it;
  //   StorageCorrupt     (DataLoss) not a courier file, or a damaged one;
  //   StorageVersion     (FailedPrecondition) written by a newer format than kFormatVersion;
  //   StorageUnavailable (Unavailable) it cannot be created, opened or read.
  static absl::StatusOr<std::shared_ptr<SqliteStorage>> Open(const std::string& path,
                                                             Options options);
  static absl::StatusOr<std::shared_ptr<SqliteStorage>> Open(const std::string& path) {
    return Open(path, Options());
  }
  // Commits what is still pending, then closes the file.
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  bool durable() const override { return true; }
  bool keeps_records() const override { return true; }
  // Queues the records for the writer. Thread-safe.
  uint64_t Submit(std::string_view log, std::span<const std::string> records) override;
  // Waits for the commit that holds ticket `last` (in the relaxed mode, for nothing). Errors:
  // StorageFull (ResourceExhausted) when the disk or Options::max_file_bytes is full,
  // StorageReadOnly (FailedPrecondition) when the file cannot be written, StorageUnavailable for
  // any other failure to commit; the records of a failed commit are not kept. In the relaxed
  // mode it reports the failure of the latest commit. Thread-safe.
  absl::Status Await(uint64_t first, uint64_t last) override;
  // Commits what is pending first, so that a log reads back everything appended to it.
  absl::Status Replay(std::string_view log,
                      absl::FunctionRef<void(std::string_view)> visit) override;
  // Returns once everything appended so far is committed (or its commit failed).
  absl::Status Flush();

  const std::string& path() const;

 private:
  struct Impl;
  explicit SqliteStorage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace courier

#endif  // COURIER_SQLITE_STORAGE_H_
