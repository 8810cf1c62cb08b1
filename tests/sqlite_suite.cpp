// Linked into the queue and state machine test programs: with COURIER_TEST_STORAGE=sqlite in
// the environment, every hub their tests build on the default storage keeps its records in a
// SqliteStorage of its own (a new file, removed when the storage goes), so that the same suites
// that test the components in memory also run on the durable policy (ctest: *:on-sqlite).
// The files go to COURIER_TEST_STORAGE_DIR, else /dev/shm where it exists (the suites test
// what is recorded and how calls wait, not the disk's speed), else the temporary directory.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "courier/environment.h"
#include "courier/sqlite_storage.h"

namespace courier::testing_support {
namespace {

namespace fs = std::filesystem;

fs::path StorageDir() {
  if (const char* dir = std::getenv("COURIER_TEST_STORAGE_DIR")) return dir;
  if (fs::is_directory("/dev/shm")) return "/dev/shm";
  return fs::temp_directory_path();
}

std::shared_ptr<Storage> NewSqliteStorage() {
  static std::atomic<int> next{0};
  const fs::path file = StorageDir() / ("courier-suite-" + std::to_string(getpid()) + "-" +
                                        std::to_string(next++) + ".db");
  absl::StatusOr<std::shared_ptr<SqliteStorage>> opened = SqliteStorage::Open(file.string());
  if (!opened.ok()) {
    std::fprintf(stderr, "sqlite_suite: %s\n", std::string(opened.status().message()).c_str());
    std::abort();
  }
  std::shared_ptr<SqliteStorage> storage = *std::move(opened);
  SqliteStorage* raw = storage.get();
  // The storage's last owner closes it and removes its files.
  return std::shared_ptr<Storage>(raw, [storage = std::move(storage), file](Storage*) mutable {
    storage.reset();
    for (std::string_view suffix : {"", "-wal", "-shm"}) {
      std::error_code ignored;
      fs::remove(file.string() + std::string(suffix), ignored);
    }
  });
}

const bool chosen = [] {
  const char* choice = std::getenv("COURIER_TEST_STORAGE");
  if (choice == nullptr || std::string_view(choice) != "sqlite") return false;
  Environment::SetDefaultStorageFactory(NewSqliteStorage);
  return true;
}();

}  // namespace
}  // namespace courier::testing_support
