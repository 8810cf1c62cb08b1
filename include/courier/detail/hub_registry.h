// The hub's registry, as the services use it: each service adds the resources it creates
// (queues, state machines, functions, ...) under their ARNs and removes those it deletes.
// Applications create and delete resources through the services, never here. Not API.
//
// Example (in a service's .cc):
//   if (absl::Status st = detail::AddResource(hub, queue); !st.ok()) ...  // AlreadyExists
#ifndef COURIER_DETAIL_HUB_REGISTRY_H_
#define COURIER_DETAIL_HUB_REGISTRY_H_

#include <absl/status/status.h>

#include <memory>
#include <string_view>

#include "courier/hub.h"
#include "courier/resource.h"

namespace courier::detail {

// Adds a resource under its ARN; AlreadyExists if the ARN is taken. Thread-safe.
absl::Status AddResource(Hub& hub, std::shared_ptr<Resource> resource);
// Removes and returns the resource, or nullptr. Thread-safe.
std::shared_ptr<Resource> RemoveResource(Hub& hub, std::string_view arn);

}  // namespace courier::detail

#endif  // COURIER_DETAIL_HUB_REGISTRY_H_
