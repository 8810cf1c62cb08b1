// Storage: where state that must survive a restart goes, as ordered logs of mutations.
//
// In-memory structures stay the source of truth while running; a durable Storage receives each
// component's mutations (message enqueued, deleted, ...) and replays them on open. MemoryStorage,
// the default, keeps nothing.
//
// Example:
//   courier::MemoryStorage storage;
//   storage.Append("queue/orders", {"enqueued ..."});  // accepted, not persisted
#ifndef COURIER_STORAGE_H_
#define COURIER_STORAGE_H_

#include <absl/functional/function_ref.h>
#include <absl/status/status.h>

#include <span>
#include <string>
#include <string_view>

namespace courier {

class Storage {
 public:
  virtual ~Storage() = default;
  // Whether acknowledged mutations survive a crash.
  virtual bool durable() const = 0;
  // Appends records to the named log, in order; a durable store returns after they are on disk.
  // Batch-oriented so that one call carries a whole batch. Thread-safe.
  virtual absl::Status Append(std::string_view log, std::span<const std::string> records) = 0;
  // Calls `visit` with every record of the log in append order.
  virtual absl::Status Replay(std::string_view log,
                              absl::FunctionRef<void(std::string_view)> visit) = 0;
};

// Keeps nothing: the default for applications that need no durability, and for tests.
class MemoryStorage final : public Storage {
 public:
  bool durable() const override { return false; }
  absl::Status Append(std::string_view, std::span<const std::string>) override {
    return absl::OkStatus();
  }
  absl::Status Replay(std::string_view, absl::FunctionRef<void(std::string_view)>) override {
    return absl::OkStatus();
  }
};

}  // namespace courier

#endif  // COURIER_STORAGE_H_
