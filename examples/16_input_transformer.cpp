// An input transformer: the target receives a message built from the event's values rather than
// the whole event: strings are quoted for JSON outside quotes, written bare inside them.
#include <cassert>
#include <cstdio>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto bus = courier::Events(hub).GetEventBus("default").value();
  auto queue = courier::Sqs(hub).CreateQueue("instances").value();
  //! [transformer]
  bus->PutRule("state", {.event_pattern = R"({"source":["my.ec2"]})"}).value();
  bus->PutTargets("state",
                  {{.id = "q",
                    .arn = queue->arn(),
                    .input_transformer =
                        courier::InputTransformer{
                            .input_paths_map = {{"instance", "$.detail.instance-id"},
                                                {"state", "$.detail.state"}},
                            .input_template =
                                R"({"instance": <instance>, "summary": "<instance> is <state>",)"
                                R"( "rule": <aws.events.rule-name>})"}}})
      .value();
  bus->PutEvents({{.source = "my.ec2",
                   .detail_type = "Instance State-change",
                   .detail = R"({"instance-id": "i-123", "state": "running"})"}})
      .value();
  //! [transformer]
  auto got = queue->ReceiveMessage({}).value();
  assert(got.size() == 1);
  std::printf("%s\n", got[0].body.c_str());
  assert(got[0].body == R"({"instance": "i-123", "summary": "i-123 is running", "rule": "state"})");
  return 0;
}
