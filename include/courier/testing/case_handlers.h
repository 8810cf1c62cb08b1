// testing::RegisterCaseHandlers: the Lambda functions a Step Functions conformance case names,
// made from its handler language ({"Fn": {"type": "echo" | "const" | "wrap" | "merge" | "fail" |
// "sleep" | "sequence", ...}}). The conformance test and `courier run` share it.
//
// Example:
//   auto stats = courier::testing::RegisterCaseHandlers(hub, handlers, definition).value();
//   ... run the case ...
//   stats->Count("Charge");  // how often the function ran
#ifndef COURIER_TESTING_CASE_HANDLERS_H_
#define COURIER_TESTING_CASE_HANDLERS_H_

#include <absl/status/status.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "courier/detail/mutex.h"
#include "courier/hub.h"
#include "courier/json.h"

namespace courier::testing {

struct HandlerStats {
  detail::Mutex mu;
  std::map<std::string, int> invocations ABSL_GUARDED_BY(mu);
  int Count(const std::string& fn) {
    detail::MutexLock lock(&mu);
    auto it = invocations.find(fn);
    return it == invocations.end() ? 0 : it->second;
  }
};

// Registers one function per `:function:<Name>` ARN in `definition` (behaviour from `handlers`,
// absent = echo). `sleep` waits on the hub's clock (virtual time in a Simulation).
absl::StatusOr<std::shared_ptr<HandlerStats>> RegisterCaseHandlers(Hub& hub, const Json& handlers,
                                                                   std::string_view definition);

}  // namespace courier::testing

#endif  // COURIER_TESTING_CASE_HANDLERS_H_
