// The message move tasks (spec §6) of one dead-letter queue, of either kind: the tasks it ran,
// the one-active-task rule, cancelling, and the step that moves up to a second's worth of
// messages. The queue runs the steps on its clock, a second apart, and says how one message
// moves (MoveOne); everything else is here, once for both kinds.
#ifndef COURIER_QUEUE_MOVE_TASKS_H_
#define COURIER_QUEUE_MOVE_TASKS_H_

#include <absl/functional/function_ref.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "courier/queue_requests.h"
#include "queue/sqs_records.h"

namespace courier::queue_internal {

// A task handle: "<source queue ARN>#<task number>".
std::string TaskHandle(std::string_view source_arn, uint64_t id);
// Its parts; nullopt for anything else.
std::optional<std::pair<std::string_view, uint64_t>> ParseTaskHandle(std::string_view handle);
// The status AWS names `name` (RUNNING, ...); nullopt for another name.
std::optional<MoveTaskStatus> MoveTaskStatusOf(std::string_view name);

class MoveTasks {
 public:
  // How moving the source's oldest message to `destination_arn` (empty: the message's own
  // source queue) went: moved, nothing left to move, or failed (the message put back) with the
  // reason ListMessageMoveTasks shows.
  struct Moved {
    enum Outcome { kMoved, kNoneLeft, kFailed } outcome;
    std::string failure_reason;
  };
  using MoveOne = absl::FunctionRef<Moved(const std::string& destination_arn)>;

  // A new RUNNING task of `source_arn`, whose messages (`to_move` of them now) go to `destination`
  // at `max_per_second` (default 500); its number, for Step and Cancel. InvalidParameterValue
  // while another task of this queue is active.
  absl::StatusOr<uint64_t> Start(std::string_view source_arn,
                                 std::optional<std::string> destination,
                                 std::optional<int> max_per_second, int64_t to_move,
                                 absl::Time now);
  // One step of task `id`: moves messages until its rate, its count or the queue runs out, and
  // ends it when it is done, failed or cancelled. `source_gone`: the queue was deleted or its hub
  // destroyed, and the task fails without moving. True when another step is due a second later.
  bool Step(uint64_t id, bool source_gone, MoveOne move_one);
  // A RUNNING task becomes CANCELLING (its next step stops it); returns the messages it moved.
  // ResourceNotFoundException for an unknown task, InvalidParameterValue for an ended one.
  absl::StatusOr<int64_t> Cancel(uint64_t id);
  // The newest tasks first, 1-10 of them (InvalidParameterValue otherwise).
  absl::StatusOr<std::vector<MoveTask>> List(int max_results) const;

  // Records each change of a task, whole, in `log` (MoveTaskSaved) from now on.
  void RecordTo(std::shared_ptr<SqsLog> log, std::string arn);
  // Recovery: the queue's tasks as their last records left them; returns the numbers of the
  // active ones, whose steps the queue goes on running.
  std::vector<uint64_t> Restore(std::vector<std::pair<uint64_t, MoveTask>> tasks);

 private:
  void Record(uint64_t id, const MoveTask& task) const;  // under mu_

  mutable std::mutex mu_;
  std::vector<std::pair<uint64_t, MoveTask>> tasks_;  // oldest first
  uint64_t next_id_ = 1;
  std::shared_ptr<SqsLog> log_;  // null: not recorded
  std::string arn_;
};

}  // namespace courier::queue_internal

#endif  // COURIER_QUEUE_MOVE_TASKS_H_
