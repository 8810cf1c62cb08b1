// The "schemas" operation table: the EventBridge schema registry's operations with AWS's JSON
// request and response members over SchemaRegistry (schemas.h).
#ifndef COURIER_EVENTS_SCHEMA_OPERATIONS_H_
#define COURIER_EVENTS_SCHEMA_OPERATIONS_H_

#include <absl/status/statusor.h>

#include <string_view>

#include "courier/json.h"
#include "courier/service.h"

namespace courier {
class Hub;
}  // namespace courier

namespace courier::events_internal {

absl::StatusOr<Json> InvokeSchemas(Hub& hub, std::string_view operation, const Json& request,
                                   const Caller& caller);

}  // namespace courier::events_internal

#endif  // COURIER_EVENTS_SCHEMA_OPERATIONS_H_
