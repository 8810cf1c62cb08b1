// The "events" operation table: EventBridge's operations with AWS's JSON request and response
// shapes over EventsService and EventBus (events.h, event_bus.h).
#ifndef COURIER_EVENTS_EVENTS_OPERATIONS_H_
#define COURIER_EVENTS_EVENTS_OPERATIONS_H_

#include <absl/status/statusor.h>

#include <string_view>

#include "courier/json.h"
#include "courier/service.h"

namespace courier {
class Hub;
}  // namespace courier

namespace courier::events_internal {

absl::StatusOr<Json> InvokeEvents(Hub& hub, std::string_view operation, const Json& request,
                                  const Caller& caller);

}  // namespace courier::events_internal

#endif  // COURIER_EVENTS_EVENTS_OPERATIONS_H_
