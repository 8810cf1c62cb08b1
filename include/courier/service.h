// Service: one AWS service's operation table, reached by name through courier::Invoke.
//
// A service answers AWS's operation names with AWS's JSON-protocol request and response shapes
// (SQS's SendMessage takes {"QueueUrl": ..., "MessageBody": ...}), beside its typed C++ API.
// This is the layer the Step Functions integrations, `courier invoke` and an AWS-wire endpoint
// share. Errors are statuses whose message starts with the AWS error name (courier/status.h).
//
// A service registers itself from its own .cc with a static ServiceRegistrar; every Hub then
// creates one instance of it. Core names no service.
//
// Example:
//   courier::Hub hub(sim.environment());
//   auto request = courier::ParseJson(R"({"QueueName":"q"})").value();
//   auto r = courier::Invoke(hub, "sqs", "CreateQueue", request);
//   // r->at("QueueUrl") == "https://sqs.us-east-1.amazonaws.com/000000000000/q"
#ifndef COURIER_SERVICE_H_
#define COURIER_SERVICE_H_

#include <absl/status/statusor.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "courier/json.h"

namespace courier {

class Hub;

// Who makes a call: the identity access policies (spec/access-policies.md) evaluate. Empty
// fields mean the hub's own: its account, its region, that account's root
// (arn:aws:iam::<account>:root). courier::Invoke fills them in before a service sees the call.
struct Caller {
  std::string account;
  std::string region;
  std::string principal_arn;
  // The resource of a service acting on the caller's behalf (aws:SourceArn: a topic, a rule, a
  // state machine); none for a direct call.
  std::optional<std::string> source_arn;
};

class Service {
 public:
  virtual ~Service() = default;
  // AWS's signing name: "sqs", "states", "sns", "events".
  virtual std::string_view name() const = 0;
  // One operation ("SendMessage"). An operation this service does not have fails with
  // InvalidAction (SQS) or UnknownOperationException; a request of the wrong shape with
  // MissingParameter / InvalidParameterValue (or the service's equivalents). Thread-safe.
  virtual absl::StatusOr<Json> Invoke(std::string_view operation, const Json& request,
                                      const Caller& caller) = 0;
  // The hub is being destroyed (its resources and services are still there): end the work that
  // would reach it later (timers, executions), since handles and the clock may outlive it.
  virtual void Shutdown() {}
  // Rebuilds this service's state from its records in the environment's Storage (Hub::Recover).
  // Called once, on a new hub, before anything else uses it; records nothing while it runs.
  virtual absl::Status Recover() { return absl::OkStatus(); }
};

// Creates a hub's instance of a service; the service may keep `hub` (it lives as long).
using ServiceFactory = std::unique_ptr<Service> (*)(Hub& hub);

// AWS's JSON-protocol call to the service `service` of `hub`: InvalidAction if no such service is
// linked, else the service's answer. `caller`'s empty fields become the hub's account, region and
// account root.
absl::StatusOr<Json> Invoke(Hub& hub, std::string_view service, std::string_view operation,
                            const Json& request, const Caller& caller = {});

// Static registration: a namespace-scope ServiceRegistrar in the service's .cc adds its factory
// before main. Registrations made later reach hubs created later only.
struct ServiceRegistrar {
  ServiceRegistrar(std::string_view name, ServiceFactory factory);
};

// Beside a ServiceRegistrar, outside any unnamed namespace: the symbol that
// courier_component(... SERVICES name) makes every program link, so that the registration
// reaches a program that names the service only by its string (courier::Invoke, a Step Functions
// task, `courier invoke`).
#define COURIER_SERVICE_ANCHOR(name) extern "C" const int courier_##name##_service_anchor = 0

}  // namespace courier

#endif  // COURIER_SERVICE_H_
