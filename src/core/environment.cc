#include "courier/environment.h"

namespace courier {

Environment Environment::Default() {
  return Environment{.clock = std::make_shared<SystemClock>(),
                     .executor = std::make_shared<ThreadPoolExecutor>(),
                     .storage = Environment::DefaultStorage()};
}

Environment Environment::Deterministic(std::shared_ptr<ManualClock> clock) {
  if (!clock) clock = std::make_shared<ManualClock>();
  return Environment{.clock = std::move(clock),
                     .executor = std::make_shared<InlineExecutor>(),
                     .storage = Environment::DefaultStorage()};
}

namespace {
std::function<std::shared_ptr<Storage>()>& StorageFactory() {
  static std::function<std::shared_ptr<Storage>()> factory;
  return factory;
}
}  // namespace

std::shared_ptr<Storage> Environment::DefaultStorage() {
  const auto& factory = StorageFactory();
  return factory ? factory() : std::make_shared<MemoryStorage>();
}

void Environment::SetDefaultStorageFactory(std::function<std::shared_ptr<Storage>()> factory) {
  StorageFactory() = std::move(factory);
}

}  // namespace courier
