#include "courier/sqlite_storage.h"

#include <fmt/format.h>
#include <linux/futex.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "courier/detail/binary_record.h"
#include "courier/status.h"

namespace courier {
namespace {

// PRAGMA application_id of a courier file ("cour"), so a foreign SQLite file is told apart.
constexpr int32_t kApplicationId = 0x636f7572;

// The error a failed SQLite call becomes, by its result code.
absl::Status SqliteError(sqlite3* db, int code, std::string_view path, std::string_view doing) {
  const std::string detail = fmt::format("{} {}: {}", doing, path,
                                         db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::FailedPreconditionError(
          fmt::format("StorageLocked: {} (another process or storage has the file open)", detail));
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return absl::DataLossError(fmt::format("StorageCorrupt: {}", detail));
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(fmt::format("StorageFull: {}", detail));
    case SQLITE_READONLY:
      return absl::FailedPreconditionError(fmt::format("StorageReadOnly: {}", detail));
    default:
      return absl::UnavailableError(fmt::format("StorageUnavailable: {}", detail));
  }
}

// The records of one log waiting for the next commit, already as the row they will be: each
// record's length (LEB128) and bytes (a row of one record drops its length at the commit).
// Submit appends to it under the lock, so that a caller's records cost no allocation of their
// own and the writer frees nothing another thread allocated.
struct PendingRow {
  std::string log;
  std::string row;
  int64_t count = 0;
};

// A commit that failed: the tickets it held, and why.
struct FailedCommit {
  uint64_t first, last;
  absl::Status status;
};

// How many failed commits are remembered for Await (a caller awaits within moments of its
// Submit, long before this many commits could have failed since).
constexpr size_t kFailuresKept = 256;

// A pending row's buffer is kept from one commit to the next up to this size (a burst's larger
// one goes), so that the commits of steady work allocate nothing.
constexpr size_t kRowBufferKept = size_t{1} << 20;

// How many bytes of records Replay reads at a time: a buffer that stays in the cache's
// neighbourhood, not a copy of the whole log.
constexpr size_t kReplayChunkBytes = size_t{4} << 20;

// A commit's records of one log are one row (one B-tree insert, not one per record): a row of
// `count` records holds, when count > 1, each record as a length-prefixed string (LEB128, as
// in binary records); a row of one holds that record's bytes alone (docs/storage.md, "File
// format"). A pending row holds its records framed, and a row of one drops the length here.
std::string_view StoredRow(const PendingRow& p) {
  if (p.count != 1) return p.row;
  return detail::BinaryRecordReader(p.row).String();
}

// The `count` records of a row, or false when it does not hold exactly that many.
bool SplitRow(std::string_view row, int64_t count, std::vector<std::string_view>& records) {
  records.clear();
  if (count == 1) {
    records.push_back(row);
    return true;
  }
  if (count < 1) return false;
  detail::BinaryRecordReader in(row);
  for (int64_t i = 0; i < count && in.ok(); ++i) records.push_back(in.String());
  return in.ok() && in.at_end();
}

// The word the callers of a commit wait on, bumped at its end. A commit ends within one or two
// fsyncs, and on a VM a thread that sleeps costs an interrupt to wake, so Wait first yields the
// processor a few times; End makes a system call only when someone sleeps.
class CommitEnd {
 public:
  uint32_t Seen() const { return word_.load(std::memory_order_acquire); }
  // Returns once the word is not `seen`.
  void Wait(uint32_t seen) {
    for (int i = 0; i < kYields; ++i) {
      if (word_.load(std::memory_order_acquire) != seen) return;
      sched_yield();
    }
    // seq_cst on both sides: either End sees this sleeper, or the check below sees End's bump.
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    while (word_.load(std::memory_order_seq_cst) == seen) Futex(FUTEX_WAIT_PRIVATE, seen);
    sleepers_.fetch_sub(1, std::memory_order_release);
  }
  void End() {
    word_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) Futex(FUTEX_WAKE_PRIVATE, INT32_MAX);
  }

 private:
  // Measured with 100 callers (docs/benchmarks.md): 4 and 8 alike, and both better than
  // libstdc++'s atomic wait (which spins on the processor first) or sleeping at once.
  static constexpr int kYields = 4;

  void Futex(int op, uint32_t value) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), op, value, nullptr, nullptr, 0);
  }

  std::atomic<uint32_t> word_{0};
  std::atomic<int> sleepers_{0};
};

}  // namespace

struct SqliteStorage::Impl {
  std::string path;
  Options options;
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* select = nullptr;    // a log's rows in a range of seq
  sqlite3_stmt* last_seq = nullptr;  // the newest record's seq

  // What waits to be committed, in ticket order. A commit is led by one thread at a time: a
  // caller that waits for its ticket when no commit is under way commits everything pending
  // itself (no hand-off to another thread and back); a commit that ends with more pending hands
  // the next one to the writer thread, which goes on while callers keep it busy, so that their
  // threads only submit and sleep. The writer also commits records no caller waits for, and the
  // relaxed mode's windows.
  std::mutex mu;
  std::condition_variable work;  // the writer's
  // What waits, a row per log; `spare`: the rows of the last commit, emptied, whose buffers
  // the next one reuses.
  std::vector<PendingRow> pending, spare;
  uint64_t pending_first = 0;  // the first ticket waiting, 0 for none
  bool committing = false;
  bool handed_over = false;    // a commit ended with more pending: the writer leads the next
  int flushes = 0;             // Flushes waiting in the relaxed mode
  uint64_t submitted = 0;      // the last ticket given
  uint64_t leading_last = 0;   // the last ticket of the commit under way
  uint64_t commit_number = 0;  // of the commit under way, or of the last one
  // Every ticket up to this one has been through a commit. Written under `mu`; a woken waiter
  // reads it without the lock, so that the callers of one commit do not queue for it.
  std::atomic<uint64_t> committed = 0;
  // The callers of a commit sleep on the word of its number's parity, bumped at its end after
  // the lock is let go: one call wakes them all (one system call, not one per caller), and
  // not the callers of the next commit, whose records came during this one.
  std::array<CommitEnd, 2> ends;
  std::deque<FailedCommit> failures;  // the newest kFailuresKept
  std::atomic<bool> any_failure = false;
  absl::Status last_commit;  // what a relaxed Await reports until a commit succeeds
  bool stopping = false;
  std::thread writer;

  // Serializes statements on the connection between the writer and Replay.
  std::mutex db_mu;
  // The file has an older format: the first commit of records marks it as this one, since they
  // may be records only this format's readers know (so that an older build refuses the file
  // rather than stop in the middle of it). Opening and reading alone change nothing. Under db_mu.
  bool upgrade = false;
  // The records table has its `count` column (format 3 on): an older file gets it, every row
  // counting one, in the commit that marks it.
  bool counted = true;

  ~Impl() {
    if (writer.joinable()) {
      {
        std::lock_guard lock(mu);
        stopping = true;
      }
      work.notify_all();
      writer.join();
    }
    sqlite3_finalize(insert);
    sqlite3_finalize(select);
    sqlite3_finalize(last_seq);
    sqlite3_close_v2(db);
  }

  absl::Status Exec(const char* sql, std::string_view doing) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    sqlite3_free(message);
    return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db, rc, path, doing);
  }

  // An integer PRAGMA's value.
  absl::StatusOr<int64_t> Pragma(const char* name) {
    sqlite3_stmt* stmt = nullptr;
    const std::string sql = fmt::format("PRAGMA {}", name);
    int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    const int64_t value = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) return SqliteError(db, rc, path, "reading");
    return value;
  }

  // Checks what the file is and sets it up: a new file gets the schema, an existing one must be
  // a courier file of a format this build reads, and whole.
  absl::Status Prepare() {
    COURIER_RETURN_IF_ERROR(Exec("PRAGMA locking_mode=EXCLUSIVE", "opening"));
    // The first write takes the exclusive lock (and a second opener fails here, not later).
    COURIER_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE", "opening"));
    COURIER_ASSIGN_OR_RETURN(int64_t application_id, Pragma("application_id"));
    COURIER_ASSIGN_OR_RETURN(int64_t version, Pragma("user_version"));
    COURIER_ASSIGN_OR_RETURN(int64_t objects, [&]() -> absl::StatusOr<int64_t> {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &stmt, nullptr);
      if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
      const int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
      sqlite3_finalize(stmt);
      if (rc != SQLITE_ROW) return SqliteError(db, rc, path, "reading");
      return n;
    }());
    if (application_id == 0 && objects == 0) {  // a new file
      COURIER_RETURN_IF_ERROR(Exec(
          "CREATE TABLE records(seq INTEGER PRIMARY KEY, log TEXT NOT NULL, body BLOB NOT NULL,"
          " count INTEGER NOT NULL DEFAULT 1);"
          "CREATE INDEX records_by_log ON records(log, seq);",
          "creating"));
      COURIER_RETURN_IF_ERROR(Exec(fmt::format("PRAGMA application_id={}; PRAGMA user_version={}",
                                               kApplicationId, kFormatVersion)
                                       .c_str(),
                                   "creating"));
    } else if (application_id != kApplicationId) {
      Exec("ROLLBACK", "opening").IgnoreError();
      return absl::DataLossError(
          fmt::format("StorageCorrupt: {} is an SQLite file, but not one of courier's", path));
    } else if (version > kFormatVersion) {
      Exec("ROLLBACK", "opening").IgnoreError();
      return absl::FailedPreconditionError(
          fmt::format("StorageVersion: {} has format {}; this build reads up to format {}", path,
                      version, kFormatVersion));
    } else if (version < kFormatVersion) {
      upgrade = true;
      counted = version >= 3;
    }
    COURIER_RETURN_IF_ERROR(Exec("COMMIT", "opening"));
    // A file cut short or damaged inside fails here rather than in the middle of a Replay.
    sqlite3_stmt* check = nullptr;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &check, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(check);
    const std::string verdict =
        rc == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(check, 0)) : "";
    sqlite3_finalize(check);
    if (rc != SQLITE_ROW) return SqliteError(db, rc, path, "checking");
    if (verdict != "ok") {
      return absl::DataLossError(fmt::format("StorageCorrupt: {} is damaged: {}", path, verdict));
    }
    rc =
        sqlite3_prepare_v2(db, "SELECT coalesce(max(seq), 0) FROM records", -1, &last_seq, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db, rc, path, "preparing");
    return PrepareRows();
  }

  // The statements that write and read rows, for the table as it is (`counted` or not).
  absl::Status PrepareRows() {
    sqlite3_finalize(insert);
    sqlite3_finalize(select);
    insert = select = nullptr;
    int rc = sqlite3_prepare_v2(db,
                                counted ? "INSERT INTO records(log, body, count) VALUES(?1, ?2, ?3)"
                                        : "INSERT INTO records(log, body) VALUES(?1, ?2)",
                                -1, &insert, nullptr);
    if (rc == SQLITE_OK) {
      rc = sqlite3_prepare_v2(db,
                              counted ? "SELECT seq, body, count FROM records WHERE log = ?1 AND "
                                        "seq > ?2 AND seq <= ?3 ORDER BY seq"
                                      : "SELECT seq, body, 1 FROM records WHERE log = ?1 AND "
                                        "seq > ?2 AND seq <= ?3 ORDER BY seq",
                              -1, &select, nullptr);
    }
    return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db, rc, path, "preparing");
  }

  // Inserts one pending row.
  int InsertRow(const PendingRow& p) {
    const std::string_view body = StoredRow(p);
    sqlite3_bind_text(insert, 1, p.log.data(), static_cast<int>(p.log.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert, 2, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert, 3, p.count);
    const int rc = sqlite3_step(insert);
    sqlite3_reset(insert);
    return rc;
  }

  // One transaction for `rows`.
  absl::Status Commit(const std::vector<PendingRow>& rows) {
    std::lock_guard lock(db_mu);
    COURIER_RETURN_IF_ERROR(Exec("BEGIN", "writing"));
    const bool marks = upgrade && std::any_of(rows.begin(), rows.end(),
                                              [](const PendingRow& p) { return p.count > 0; });
    bool altered = false;  // the column this commit adds goes with its rollback
    auto failed = [&](absl::Status error) {
      Exec("ROLLBACK", "writing").IgnoreError();
      if (altered) {
        counted = false;
        PrepareRows().IgnoreError();
      }
      return error;
    };
    if (marks) {
      std::string mark = fmt::format("PRAGMA user_version={};", kFormatVersion);
      if (!counted) mark += "ALTER TABLE records ADD COLUMN count INTEGER NOT NULL DEFAULT 1;";
      if (absl::Status marked = Exec(mark.c_str(), "writing"); !marked.ok()) return failed(marked);
      if (!counted) {
        altered = counted = true;
        if (absl::Status prepared = PrepareRows(); !prepared.ok()) return failed(prepared);
      }
    }
    // One row per log, each log's records in their order.
    for (const PendingRow& p : rows) {
      if (p.count == 0) continue;
      if (const int rc = InsertRow(p); rc != SQLITE_DONE) {
        return failed(SqliteError(db, rc, path, "writing"));
      }
    }
    absl::Status status = Exec("COMMIT", "committing");
    if (!status.ok()) return failed(status);
    if (marks) upgrade = false;
    return status;
  }

  bool relaxed() const { return options.commit_interval > absl::ZeroDuration(); }

  // Commits everything pending; called with `lock` held and not `committing`, returns with it
  // let go.
  void Lead(std::unique_lock<std::mutex>& lock) {
    committing = true;
    handed_over = false;
    const uint64_t number = ++commit_number;
    std::vector<PendingRow> rows;
    rows.swap(pending);
    pending.swap(spare);
    const uint64_t first = pending_first, last = submitted;
    pending_first = 0;
    leading_last = last;
    lock.unlock();
    absl::Status status = Commit(rows);
    for (PendingRow& p : rows) {  // emptied for the commit after the next, buffers kept
      if (p.row.capacity() > kRowBufferKept) std::string().swap(p.row);  // a burst's: let go
      p.row.clear();
      p.count = 0;
    }
    lock.lock();
    if (spare.empty()) spare.swap(rows);
    if (!status.ok()) {
      failures.push_back({first, last, status});
      if (failures.size() > kFailuresKept) failures.pop_front();
      any_failure.store(true, std::memory_order_release);
    }
    last_commit = std::move(status);
    committed.store(last, std::memory_order_release);
    committing = false;
    // The callers of what came meanwhile sleep until the commit after this one ends: the
    // writer leads it (in the relaxed mode, at its next window, unless a Flush waits).
    const bool more = pending_first != 0 && (!relaxed() || flushes > 0);
    if (more) handed_over = true;
    if (stopping || more) work.notify_one();
    lock.unlock();
    ends[number % 2].End();
  }

  // How long records no caller waits for may stay pending: the relaxed mode's window, or (when
  // every caller waits for its own) a moment for the records of background work.
  absl::Duration WriterPeriod() const {
    return relaxed() ? options.commit_interval : absl::Milliseconds(5);
  }

  void WriterLoop() {
    std::unique_lock lock(mu);
    while (!stopping) {
      work.wait_for(lock, absl::ToChronoNanoseconds(WriterPeriod()),
                    [&] { return stopping || handed_over; });
      if (!committing && pending_first != 0) {
        Lead(lock);
        lock.lock();
      }
    }
    // The rest, once no one else is committing.
    work.wait(lock, [&] { return !committing; });
    if (pending_first != 0) Lead(lock);
  }

  // A ticket for `records` of `log` (none: a Flush's).
  uint64_t Submit(std::string_view log, std::span<const std::string> records) {
    std::lock_guard lock(mu);
    if (!records.empty()) {
      auto p = std::find_if(pending.begin(), pending.end(),
                            [&](const PendingRow& r) { return r.log == log; });
      if (p == pending.end()) {
        pending.push_back({.log = std::string(log)});
        p = pending.end() - 1;
      }
      detail::BinaryRecordWriter out(p->row);
      for (const std::string& r : records) out.String(r);
      p->count += static_cast<int64_t>(records.size());
    }
    if (pending_first == 0) pending_first = submitted + 1;
    return ++submitted;
  }

  // Waits for ticket `last` to be committed (a relaxed Await without `always` does not), then
  // reports the failure of a commit that held any of [first, last].
  absl::Status Await(uint64_t first, uint64_t last, bool always) {
    if (last == 0) return absl::OkStatus();
    std::unique_lock lock(mu);
    if (relaxed() && !always) return last_commit;
    const bool flush = relaxed();  // in the relaxed mode, only a Flush waits
    if (flush) ++flushes;
    while (committed.load(std::memory_order_relaxed) < last) {
      if (!committing && !handed_over) {
        Lead(lock);
      } else {
        // The commit that holds `last`: the one under way, or else the next. Its word is read
        // under the lock, so that the bump at its end comes after.
        const uint64_t number = commit_number + (committing && last <= leading_last ? 0 : 1);
        CommitEnd& end = ends[number % 2];
        const uint32_t seen = end.Seen();
        lock.unlock();
        end.Wait(seen);
        if (!flush && committed.load(std::memory_order_acquire) >= last &&
            !any_failure.load(std::memory_order_acquire)) {
          return absl::OkStatus();
        }
      }
      lock.lock();
    }
    if (flush) --flushes;
    for (auto f = failures.rbegin(); f != failures.rend(); ++f) {
      if (f->first <= last && first <= f->last) return f->status;
    }
    return absl::OkStatus();
  }
};

absl::StatusOr<std::shared_ptr<SqliteStorage>> SqliteStorage::Open(const std::string& path,
                                                                   Options options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  int rc =
      sqlite3_open_v2(path.c_str(), &impl->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqliteError(impl->db, rc, path, "opening");
  sqlite3_extended_result_codes(impl->db, 1);
  // WAL with a full sync at each commit: a commit that returned survives a crash or power loss.
  if (absl::Status s = impl->Exec("PRAGMA journal_mode=WAL", "opening"); !s.ok()) return s;
  if (absl::Status s = impl->Exec("PRAGMA synchronous=FULL", "opening"); !s.ok()) return s;
  COURIER_RETURN_IF_ERROR(impl->Prepare());
  if (options.max_file_bytes > 0) {
    absl::StatusOr<int64_t> page = impl->Pragma("page_size");
    if (!page.ok()) return page.status();
    const int64_t pages =
        std::max<int64_t>(1, options.max_file_bytes / std::max<int64_t>(1, *page));
    COURIER_RETURN_IF_ERROR(
        impl->Exec(fmt::format("PRAGMA max_page_count={}", pages).c_str(), "opening"));
  }
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->WriterLoop(); });
  return std::shared_ptr<SqliteStorage>(new SqliteStorage(std::move(impl)));
}

SqliteStorage::SqliteStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteStorage::~SqliteStorage() = default;

const std::string& SqliteStorage::path() const { return impl_->path; }

uint64_t SqliteStorage::Submit(std::string_view log, std::span<const std::string> records) {
  return impl_->Submit(log, records);
}

absl::Status SqliteStorage::Await(uint64_t first, uint64_t last) {
  return impl_->Await(first, last, /*always=*/false);
}

// A ticket with no records: its commit ends after every record submitted before it.
absl::Status SqliteStorage::Flush() {
  const uint64_t ticket = impl_->Submit({}, {});
  return impl_->Await(ticket, ticket, /*always=*/true);
}

absl::Status SqliteStorage::Replay(std::string_view log,
                                   absl::FunctionRef<void(std::string_view)> visit) {
  COURIER_RETURN_IF_ERROR(Flush());
  Impl& s = *impl_;
  // The rows are read a chunk at a time into one buffer, split into their records (a chunk
  // whose rows do not split is refused before any of it is visited), then visited without the
  // lock: `visit` may append. The replay ends at the last row there was when it began.
  std::string chunk;
  std::vector<std::pair<size_t, int64_t>> rows;  // each row's end in `chunk`, and its count
  std::vector<std::string_view> records, split;
  int64_t after = 0, last = 0;
  {
    std::lock_guard lock(s.db_mu);
    const int rc = sqlite3_step(s.last_seq);
    last = rc == SQLITE_ROW ? sqlite3_column_int64(s.last_seq, 0) : 0;
    sqlite3_reset(s.last_seq);
    if (rc != SQLITE_ROW) return SqliteError(s.db, rc, s.path, "reading");
  }
  while (after < last) {
    chunk.clear();
    rows.clear();
    {
      std::lock_guard lock(s.db_mu);
      sqlite3_bind_text(s.select, 1, log.data(), static_cast<int>(log.size()), SQLITE_STATIC);
      sqlite3_bind_int64(s.select, 2, after);
      sqlite3_bind_int64(s.select, 3, last);
      int rc = SQLITE_DONE;
      while (chunk.size() < kReplayChunkBytes && (rc = sqlite3_step(s.select)) == SQLITE_ROW) {
        after = sqlite3_column_int64(s.select, 0);
        const auto* data = static_cast<const char*>(sqlite3_column_blob(s.select, 1));
        if (data != nullptr) chunk.append(data, sqlite3_column_bytes(s.select, 1));  // or empty
        rows.emplace_back(chunk.size(), sqlite3_column_int64(s.select, 2));
      }
      sqlite3_reset(s.select);
      if (chunk.size() < kReplayChunkBytes && rc != SQLITE_DONE) {
        return SqliteError(s.db, rc, s.path, "reading");
      }
      if (chunk.size() < kReplayChunkBytes) after = last;  // every row read
    }
    records.clear();
    size_t begin = 0;
    for (const auto& [end, count] : rows) {
      if (!SplitRow(std::string_view(chunk).substr(begin, end - begin), count, split)) {
        return absl::DataLossError(fmt::format(
            "StorageCorrupt: {} is damaged: a row of log {} does not hold the {} records it "
            "counts",
            s.path, log, count));
      }
      records.insert(records.end(), split.begin(), split.end());
      begin = end;
    }
    for (std::string_view record : records) visit(record);
  }
  return absl::OkStatus();
}

}  // namespace courier
