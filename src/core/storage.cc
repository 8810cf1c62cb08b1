#include "courier/storage.h"

namespace courier {

uint64_t RecordingStorage::Submit(std::string_view log, std::span<const std::string> records) {
  std::lock_guard lock(mu_);
  auto it = logs_.find(log);
  if (it == logs_.end()) it = logs_.emplace(std::string(log), std::vector<std::string>()).first;
  it->second.insert(it->second.end(), records.begin(), records.end());
  return 0;
}

absl::Status RecordingStorage::Replay(std::string_view log,
                                      absl::FunctionRef<void(std::string_view)> visit) {
  // A copy, so that `visit` may append (a recovering hub records nothing, but a caller might).
  for (const std::string& record : Records(log)) visit(record);
  return absl::OkStatus();
}

std::shared_ptr<RecordingStorage> RecordingStorage::Copy() const {
  auto copy = std::make_shared<RecordingStorage>();
  std::lock_guard lock(mu_);
  copy->logs_ = logs_;
  return copy;
}

std::vector<std::string> RecordingStorage::Records(std::string_view log) const {
  std::lock_guard lock(mu_);
  auto it = logs_.find(log);
  return it == logs_.end() ? std::vector<std::string>() : it->second;
}

}  // namespace courier
