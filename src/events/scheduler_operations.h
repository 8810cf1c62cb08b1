// The "scheduler" operation table: EventBridge Scheduler's operations with AWS's JSON request
// and response shapes over SchedulerService (scheduler.h).
#ifndef COURIER_EVENTS_SCHEDULER_OPERATIONS_H_
#define COURIER_EVENTS_SCHEDULER_OPERATIONS_H_

#include <absl/status/statusor.h>

#include <string_view>

#include "courier/json.h"
#include "courier/service.h"

namespace courier {
class Hub;
}  // namespace courier

namespace courier::events_internal {

absl::StatusOr<Json> InvokeScheduler(Hub& hub, std::string_view operation, const Json& request,
                                     const Caller& caller);

}  // namespace courier::events_internal

#endif  // COURIER_EVENTS_SCHEDULER_OPERATIONS_H_
