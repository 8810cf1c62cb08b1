// testing_support::FlakySink: a sink under an SQS ARN that fails its first `failures` tries with
// `error` (by default ServiceUnavailable, which SNS and EventBridge retry) and records when each
// try came and what the ones that got through carried.
#ifndef COURIER_TESTS_FLAKY_SINK_H_
#define COURIER_TESTS_FLAKY_SINK_H_

#include <absl/status/status.h>
#include <absl/time/time.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "courier/detail/hub_registry.h"
#include "courier/hub.h"
#include "courier/resource.h"
#include "courier/status.h"

namespace courier::testing_support {

class FlakySink final : public MessageSink {
 public:
  FlakySink(Hub& hub, std::string name, int64_t failures,
            absl::Status error = AwsError("ServiceUnavailable", "try later"))
      : MessageSink(name, hub.Arn("sqs", name)),
        hub_(hub),
        failures_(failures),
        error_(std::move(error)) {}
  absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) override {
    tries.push_back(hub_.clock().Now());
    if (static_cast<int64_t>(tries.size()) <= failures_) return error_;
    received.push_back(std::move(request));
    return SendMessageResult{};
  }
  std::vector<absl::Time> tries;
  std::vector<SendMessageRequest> received;

 private:
  Hub& hub_;
  int64_t failures_;
  absl::Status error_;
};

// A FlakySink named `name`, added to the hub's registry so that its ARN finds it.
inline std::shared_ptr<FlakySink> AddFlaky(Hub& hub, int64_t failures, std::string name = "flaky") {
  auto sink = std::make_shared<FlakySink>(hub, std::move(name), failures);
  REQUIRE(detail::AddResource(hub, sink).ok());
  return sink;
}

}  // namespace courier::testing_support

#endif  // COURIER_TESTS_FLAKY_SINK_H_
