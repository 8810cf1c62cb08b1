// A program that links courier::core and nothing else (tests/layering/core_alone/CMakeLists.txt):
// a hub on a manual clock, its registry of resources by ARN, and courier::Invoke with no service
// linked. Exits non-zero, naming the failed check, if core does not work alone.
#include <cstdio>
#include <memory>
#include <string>

#include "courier/clock.h"
#include "courier/detail/hub_registry.h"
#include "courier/environment.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/resource.h"
#include "courier/service.h"
#include "courier/status.h"

namespace {

int failures = 0;

void Expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "core-alone: FAILED: %s\n", what);
    ++failures;
  }
}

// The simplest resource: a name and an ARN.
class Thing final : public courier::Resource {
 public:
  using Resource::Resource;
};

}  // namespace

int main() {
  auto clock = std::make_shared<courier::ManualClock>();
  const absl::Time start = clock->Now();
  courier::Hub hub(courier::Environment::Deterministic(clock));

  // The registry: an unknown ARN is not found; an added resource is, until removed.
  Expect(hub.FindResource(hub.Arn("sqs", "orders")) == nullptr, "an unknown ARN is not found");
  auto thing = std::make_shared<Thing>("t", hub.Arn("things", "t"));
  Expect(thing->arn() == "arn:aws:things:us-east-1:000000000000:t", "the ARN of a resource");
  Expect(courier::detail::AddResource(hub, thing).ok(), "AddResource");
  Expect(!courier::detail::AddResource(hub, thing).ok(), "AddResource of a taken ARN fails");
  Expect(hub.FindResource(thing->arn()) == thing, "FindResource finds the added resource");
  Expect(hub.FindSink(thing->arn()) == nullptr, "a resource that is no MessageSink");
  Expect(courier::detail::RemoveResource(hub, thing->arn()) == thing, "RemoveResource");
  Expect(hub.FindResource(thing->arn()) == nullptr, "a removed resource is not found");

  // No service is linked: none is found, and Invoke answers InvalidAction.
  Expect(hub.FindService("sqs") == nullptr, "no sqs service in a core-only program");
  absl::StatusOr<courier::Json> request = courier::ParseJson(R"({"QueueName":"orders"})");
  Expect(request.ok(), "ParseJson");
  absl::StatusOr<courier::Json> reply = courier::Invoke(hub, "sqs", "CreateQueue", *request);
  Expect(!reply.ok() && courier::ErrorName(reply.status()) == "InvalidAction",
         "Invoke of a service not linked answers InvalidAction");

  // The manual clock: a timer fires when the clock is advanced to it, not before.
  bool fired = false;
  hub.clock().ScheduleAfter(absl::Seconds(30), [&fired] { fired = true; });
  clock->Advance(absl::Seconds(29));
  Expect(!fired, "a timer does not fire early");
  clock->Advance(absl::Seconds(1));
  Expect(fired, "a timer fires on time");
  Expect(hub.clock().Now() == start + absl::Seconds(30), "the hub reads the manual clock");

  if (failures > 0) return 1;
  std::puts("core-alone: courier::core links and works alone");
  return 0;
}
