// The "events" service: EventBridge's operation table, registered with every hub.
#include <memory>
#include <string_view>

#include "courier/hub.h"
#include "courier/service.h"
#include "courier/status.h"

namespace courier {

class EventsOperations final : public Service {
 public:
  explicit EventsOperations(Hub& hub) : hub_(hub) {}
  std::string_view name() const override { return "events"; }
  absl::StatusOr<Json> Invoke(std::string_view operation, const Json&, const Caller&) override {
    return AwsErrorF("UnknownOperationException", "Unknown operation {}", operation);
  }

 private:
  [[maybe_unused]] Hub& hub_;
};

namespace {
const ServiceRegistrar kRegistrar("events", [](Hub& hub) -> std::unique_ptr<Service> {
  return std::make_unique<EventsOperations>(hub);
});
}  // namespace
COURIER_SERVICE_ANCHOR(events);

}  // namespace courier
