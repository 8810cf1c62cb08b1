#include "cli/durable_file.h"

#include <fmt/format.h>

#include <filesystem>
#include <span>
#include <system_error>

#include "courier/json.h"
#include "courier/status.h"

namespace courier::cli_internal {

absl::StatusOr<std::shared_ptr<SqliteStorage>> OpenDurableFile(const std::string& path,
                                                               bool must_exist) {
  std::error_code error;
  if (must_exist && !std::filesystem::exists(path, error)) {
    return absl::UnavailableError(fmt::format("StorageUnavailable: {} does not exist", path));
  }
  return SqliteStorage::Open(path);
}

absl::StatusOr<std::optional<absl::Time>> RecordedClock(Storage& storage) {
  std::optional<absl::Time> last;
  absl::Status bad;
  COURIER_RETURN_IF_ERROR(storage.Replay(kClockLog, [&](std::string_view text) {
    absl::StatusOr<Json> record = ParseJson(text);
    const JsonObject* o = record.ok() ? record->if_object() : nullptr;
    const Json* at = o != nullptr ? o->if_contains("at") : nullptr;
    if (at == nullptr || !at->is_int64()) {
      bad = absl::DataLossError(
          fmt::format("StorageCorrupt: a clock record cannot be read: {}", text.substr(0, 200)));
      return;
    }
    last = absl::FromUnixNanos(at->get_int64());
  }));
  COURIER_RETURN_IF_ERROR(bad);
  return last;
}

absl::Status RecordClock(Storage& storage, absl::Time now) {
  const std::string record =
      ToJsonText(JsonObject{{"op", "Clock"}, {"at", absl::ToUnixNanos(now)}});
  return storage.Append(kClockLog, std::span<const std::string>(&record, 1));
}

}  // namespace courier::cli_internal
