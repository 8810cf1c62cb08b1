// Hub: the environment, a registry of resources by ARN, and the way to reach each service.
//
// The hub knows no AWS service: each service (sqs.h, lambda.h, step_functions.h, ...) registers
// itself (service.h), and every hub holds one instance of each linked service, which owns that
// service's control plane and state. Resources get ARNs from the environment's region and account
// (arn:aws:sqs:us-east-1:000000000000:orders), because definitions written for AWS refer to
// resources by ARN (a redrive policy's deadLetterTargetArn, an ASL Task's Resource) and must run
// unchanged. The hub hands out std::shared_ptr handles; a deleted resource stays usable by those
// who hold it but is no longer found by name or ARN.
//
// Example:
//   courier::testing::Simulation sim;
//   courier::Hub hub(sim.environment());
//   auto orders = courier::Sqs(hub).CreateQueue("orders").value();
//   hub.FindResource(orders->arn());  // the same queue
//
// Destroying the hub deletes its resources: a handle kept longer answers as the service does for
// a deleted resource (QueueDoesNotExist, ...).
#ifndef COURIER_HUB_H_
#define COURIER_HUB_H_

#include <absl/base/thread_annotations.h>
#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "courier/detail/mutex.h"
#include "courier/environment.h"
#include "courier/resource.h"

namespace courier {

class Hub;
class Service;
namespace detail {
absl::Status AddResource(Hub& hub, std::shared_ptr<Resource> resource);
std::shared_ptr<Resource> RemoveResource(Hub& hub, std::string_view arn);
}  // namespace detail

class Hub {
 public:
  // The default environment: system clock, thread pool, memory storage.
  Hub();
  explicit Hub(Environment environment);
  ~Hub();
  // Resources and services keep a reference to their hub: neither copyable nor movable.
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  const Environment& environment() const { return environment_; }
  Clock& clock() const { return *environment_.clock; }

  // "arn:aws:<service>:<region>:<account>:<resource>".
  std::string Arn(std::string_view service, std::string_view resource) const;

  // ---- Resources by ARN (any kind), kept by the services. Thread-safe. ----
  // (Services add and remove them: courier/detail/hub_registry.h.)
  std::shared_ptr<Resource> FindResource(std::string_view arn) const;
  std::shared_ptr<MessageSink> FindSink(std::string_view arn) const;
  // Every resource whose ARN starts with `arn_prefix`, in ARN order.
  std::vector<std::shared_ptr<Resource>> ListResources(std::string_view arn_prefix) const;

  // ---- Services' operation tables (courier/service.h). Thread-safe. ----
  // The service registered under `name` ("sqs"), or nullptr.
  Service* FindService(std::string_view name) const;
  // (courier::Invoke, in service.h, calls one by name.)

  // Rebuilds every service's state from the environment's Storage, as the records there left it
  // (courier/storage.h): queues, their messages and receipt handles, state machines and their
  // executions. Call once, right after construction, before anything else uses the hub. A
  // record that cannot be read fails it (DataLoss), naming the log and the record.
  absl::Status Recover();

 private:
  friend absl::Status detail::AddResource(Hub& hub, std::shared_ptr<Resource> resource);
  friend std::shared_ptr<Resource> detail::RemoveResource(Hub& hub, std::string_view arn);
  absl::Status AddResource(std::shared_ptr<Resource> resource);
  std::shared_ptr<Resource> RemoveResource(std::string_view arn);

  Environment environment_;
  mutable detail::Mutex mu_;
  std::map<std::string, std::shared_ptr<Resource>, std::less<>> resources_ ABSL_GUARDED_BY(mu_);
  // Created in the constructor from the registered factories; never changed after.
  std::map<std::string, std::unique_ptr<Service>, std::less<>> services_;
};

}  // namespace courier

#endif  // COURIER_HUB_H_
