// Storage: where a hub's state goes to be rebuilt later, as ordered logs of mutation records.
//
// In-memory structures stay the source of truth while running. Each service appends a record of
// every change it makes (a queue created, a message stored, received with its deadline, deleted;
// an execution's event) to its log, and rebuilds itself from that log in Hub::Recover. Records
// are the services' own (each encodes and decodes its typed records); a Storage only keeps them
// in order.
//
// MemoryStorage, the default, keeps nothing: services build no records for it, so choosing it
// costs one branch per change. RecordingStorage keeps them in memory (a test rebuilds a hub from
// it); a durable storage keeps them on disk.
//
// Example:
//   auto log = std::make_shared<courier::RecordingStorage>();
//   courier::Hub first(courier::Environment{.clock = clock, .storage = log});
//   ... use it ...
//   courier::Hub second(courier::Environment{.clock = clock, .storage = log->Copy()});
//   second.Recover();  // the same queues, messages, handles and executions
#ifndef COURIER_STORAGE_H_
#define COURIER_STORAGE_H_

#include <absl/functional/function_ref.h>
#include <absl/status/status.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace courier {

class Storage {
 public:
  virtual ~Storage() = default;
  // Whether acknowledged records survive a crash.
  virtual bool durable() const = 0;
  // Whether Append keeps anything. When false, services skip building records altogether.
  virtual bool keeps_records() const = 0;
  // Appends records to the named log, in order, and returns a ticket for Await without waiting
  // for them to be kept: callers submit while holding the lock that orders the change (so a
  // log's order matches the order of the changes) and wait after they let it go. Tickets grow
  // with every Submit; 0 means "nothing to wait for". Thread-safe.
  virtual uint64_t Submit(std::string_view log, std::span<const std::string> records) = 0;
  // Returns once the records of every ticket up to `last` are kept (a durable store: on disk),
  // with the error of a failed commit that held any ticket in [first, last].
  virtual absl::Status Await(uint64_t first, uint64_t last) = 0;
  // Submit, then Await.
  absl::Status Append(std::string_view log, std::span<const std::string> records) {
    const uint64_t ticket = Submit(log, records);
    return Await(ticket, ticket);
  }
  // Calls `visit` with every record of the log in append order.
  virtual absl::Status Replay(std::string_view log,
                              absl::FunctionRef<void(std::string_view)> visit) = 0;
};

// Keeps nothing: the default for applications that need no durability, and for tests.
class MemoryStorage final : public Storage {
 public:
  bool durable() const override { return false; }
  bool keeps_records() const override { return false; }
  uint64_t Submit(std::string_view, std::span<const std::string>) override { return 0; }
  absl::Status Await(uint64_t, uint64_t) override { return absl::OkStatus(); }
  absl::Status Replay(std::string_view, absl::FunctionRef<void(std::string_view)>) override {
    return absl::OkStatus();
  }
};

// Keeps every record in memory for as long as it lives, so that a hub can be rebuilt from it
// (Hub::Recover). Not durable. Thread-safe: one lock around its logs.
class RecordingStorage final : public Storage {
 public:
  bool durable() const override { return false; }
  bool keeps_records() const override { return true; }
  // Keeps the records at once, so there is never anything to await.
  uint64_t Submit(std::string_view log, std::span<const std::string> records) override;
  absl::Status Await(uint64_t, uint64_t) override { return absl::OkStatus(); }
  absl::Status Replay(std::string_view log,
                      absl::FunctionRef<void(std::string_view)> visit) override;
  // Another storage holding the same records. A second hub can then recover from it while the
  // first goes on appending to this one.
  std::shared_ptr<RecordingStorage> Copy() const;
  // The records of one log, in order.
  std::vector<std::string> Records(std::string_view log) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::string>, std::less<>> logs_;
};

}  // namespace courier

#endif  // COURIER_STORAGE_H_
