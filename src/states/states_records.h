// The Step Functions service's mutation records (courier/storage.h): what Hub::Recover rebuilds
// its state machines and Standard executions from. Not API.
//
// One log, "states", in the order things happened: machines created, updated and deleted;
// executions started, each history event, and their ends. An execution's events are its whole
// recorded state: recovery gives it back the same history, and a running one goes on from the
// top-level state its events leave it in (ExecutionImpl::Resume). Express executions keep no
// history and are not recorded, as AWS cannot describe them either.
#ifndef COURIER_SRC_STATES_STATES_RECORDS_H_
#define COURIER_SRC_STATES_STATES_RECORDS_H_

#include <absl/status/statusor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "courier/detail/record_log.h"
#include "courier/json.h"

namespace courier {
class Hub;
}

namespace courier::states_internal {

inline constexpr std::string_view kStatesLog = "states";

struct MachineCreated {
  std::string arn, name, definition, role_arn;
  bool express = false;
  int64_t created_ns = 0;
};
struct MachineUpdated {
  std::string arn, definition;
};
struct MachineDeleted {
  std::string arn;
};
struct ExecutionStarted {
  std::string machine_arn, arn, name, input;  // input: JSON text
  int64_t start_ns = 0;
};
// One history event, as the execution keeps it (ExecutionImpl::RawEvent).
struct ExecutionEvent {
  std::string arn, type;
  int64_t previous = 0, timestamp_ns = 0;
  std::optional<std::string> state;  // details.name
  int kind = 0;                      // 0: no data, 1: input, 2: output
  std::string data;                  // the input or output, JSON text
  int64_t index = -1;                // Map iteration events
  Json details;
  bool top = false;  // of the top-level state list (not inside a Map or Parallel)
};
// A task token given to the top-level Task in progress (.waitForTaskToken): a resumed execution
// waits under the same token, so that one given out before a restart completes the task after it.
struct TaskTokenIssued {
  std::string arn, token;
};
struct ExecutionEnded {
  std::string arn, status;  // AWS's status name
  int64_t stop_ns = 0;
  std::optional<std::string> output;  // JSON text
  std::optional<std::string> error, cause;
};

using StatesRecord = std::variant<MachineCreated, MachineUpdated, MachineDeleted, ExecutionStarted,
                                  ExecutionEvent, TaskTokenIssued, ExecutionEnded>;

std::string EncodeStatesRecord(const StatesRecord& record);
// DataLoss for text that is not a record this version wrote.
absl::StatusOr<StatesRecord> DecodeStatesRecord(std::string_view text);

// The hub's Step Functions log (kStatesLog), held only when the storage keeps records.
using StatesLog = detail::TypedLog<StatesRecord, EncodeStatesRecord>;

}  // namespace courier::states_internal

#endif  // COURIER_SRC_STATES_STATES_RECORDS_H_
