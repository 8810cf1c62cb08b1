// The durable file behind `courier invoke --storage` and `courier inspect`: opening it with
// SqliteStorage, and the manual clock's time that `courier invoke` keeps there, so that a run on
// the file goes on at the time the previous one stopped.
#ifndef COURIER_CLI_DURABLE_FILE_H_
#define COURIER_CLI_DURABLE_FILE_H_

#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <memory>
#include <optional>
#include <string>

#include "courier/sqlite_storage.h"

namespace courier::cli_internal {

// The log where `courier invoke` keeps its manual clock's time ({"op":"Clock","at":NANOS}).
inline constexpr std::string_view kClockLog = "invoke";

// Opens FILE. `must_exist`: a missing file is StorageUnavailable rather than a new one (an
// inspection creates nothing). Otherwise SqliteStorage::Open's errors (StorageLocked,
// StorageCorrupt, StorageVersion, ...).
absl::StatusOr<std::shared_ptr<SqliteStorage>> OpenDurableFile(const std::string& path,
                                                               bool must_exist);

// The manual clock's time the last `courier invoke` on the file recorded; nullopt for none.
absl::StatusOr<std::optional<absl::Time>> RecordedClock(Storage& storage);
// Records the manual clock's time.
absl::Status RecordClock(Storage& storage, absl::Time now);

}  // namespace courier::cli_internal

#endif  // COURIER_CLI_DURABLE_FILE_H_
