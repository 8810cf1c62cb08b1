#include "courier/environment.h"

namespace courier {

Environment Environment::Default() {
  return Environment{.clock = std::make_shared<SystemClock>(),
                     .executor = std::make_shared<ThreadPoolExecutor>(),
                     .storage = std::make_shared<MemoryStorage>()};
}

Environment Environment::Deterministic(std::shared_ptr<ManualClock> clock) {
  if (!clock) clock = std::make_shared<ManualClock>();
  return Environment{.clock = std::move(clock),
                     .executor = std::make_shared<InlineExecutor>(),
                     .storage = std::make_shared<MemoryStorage>()};
}

}  // namespace courier
