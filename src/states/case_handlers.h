// The conformance cases' handler language ({"Fn": {"type": "echo" | "const" | "wrap" | "merge" |
// "fail" | "sleep" | "sequence", ...}}), shared by the conformance test and `courier run`.
#ifndef COURIER_SRC_STATES_CASE_HANDLERS_H_
#define COURIER_SRC_STATES_CASE_HANDLERS_H_

#include <absl/status/status.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "courier/detail/mutex.h"
#include "courier/hub.h"
#include "courier/json.h"

namespace courier::states {

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

}  // namespace courier::states

#endif  // COURIER_SRC_STATES_CASE_HANDLERS_H_
