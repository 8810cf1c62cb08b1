#include "courier/detail/record_log.h"

#include <algorithm>
#include <array>
#include <span>

namespace courier::detail {

std::shared_ptr<RecordLog> RecordLog::For(const std::shared_ptr<Storage>& storage,
                                          std::string name) {
  if (storage == nullptr || !storage->keeps_records()) return nullptr;
  return std::make_shared<RecordLog>(storage, std::move(name));
}

namespace {

// The tickets a thread has submitted to one storage and not yet awaited. The weak pointer tells
// a storage that is gone (whose tickets mean nothing) from a new one at the same address.
struct Unawaited {
  const Storage* storage = nullptr;
  std::weak_ptr<Storage> alive;
  uint64_t first = 0, last = 0;
};

// A thread appends to one storage almost always (two hubs with durable storages in one call
// chain are rare); a fifth storage waits for the oldest entry's tickets to make room.
struct ThreadTickets {
  std::array<Unawaited, 4> entries;
  size_t used = 0;
};
thread_local ThreadTickets tickets;

}  // namespace

constinit thread_local bool thread_has_unawaited_records = false;
constinit thread_local bool thread_defers_awaits = false;

absl::Status DeferredAwaits::Await() {
  thread_defers_awaits = outer_;
  if (outer_ || !thread_has_unawaited_records) return absl::OkStatus();
  return AwaitRecords();
}

namespace {

absl::Status AwaitEntry(Unawaited& e) {
  absl::Status status;
  if (std::shared_ptr<Storage> storage = e.alive.lock()) status = storage->Await(e.first, e.last);
  e = Unawaited();
  return status;
}

void Remember(const std::shared_ptr<Storage>& storage, uint64_t ticket) {
  ThreadTickets& t = tickets;
  for (size_t i = 0; i < t.used; ++i) {
    Unawaited& e = t.entries[i];
    if (e.storage == storage.get() && !e.alive.expired()) {
      e.last = ticket;
      return;
    }
  }
  if (t.used == t.entries.size()) {
    (void)AwaitEntry(t.entries[0]);  // its caller's AwaitRecords will find nothing to report
    std::move(t.entries.begin() + 1, t.entries.end(), t.entries.begin());
    --t.used;
  }
  t.entries[t.used++] = {storage.get(), storage, ticket, ticket};
  thread_has_unawaited_records = true;
}

}  // namespace

void RecordLog::Append(std::string record) {
  if (replaying_.load(std::memory_order_relaxed) || closed_.load(std::memory_order_relaxed)) return;
  const uint64_t ticket = storage_->Submit(name_, std::span<const std::string>(&record, 1));
  if (ticket != 0) Remember(storage_, ticket);
}

absl::Status AwaitRecords() {
  ThreadTickets& t = tickets;
  absl::Status first_error;
  for (size_t i = 0; i < t.used; ++i) {
    absl::Status s = AwaitEntry(t.entries[i]);
    if (first_error.ok()) first_error = std::move(s);
  }
  t.used = 0;
  thread_has_unawaited_records = false;
  return first_error;
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
