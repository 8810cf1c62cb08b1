#include "queue/move_tasks.h"

#include <fmt/format.h>

#include <algorithm>

#include "courier/status.h"
#include "queue/queue_config.h"

namespace courier::queue_internal {
namespace {

constexpr int kDefaultMovesPerSecond = 500;

bool Active(MoveTaskStatus s) {
  return s == MoveTaskStatus::kRunning || s == MoveTaskStatus::kCancelling;
}

// Ends `task` with `status` (and `reason`, if it failed): an ended task has no handle.
void End(MoveTask& task, MoveTaskStatus status, std::string reason = {}) {
  task.status = status;
  task.failure_reason = std::move(reason);
  task.task_handle.clear();
}

}  // namespace

std::string TaskHandle(std::string_view source_arn, uint64_t id) {
  return fmt::format("{}#{}", source_arn, id);
}

std::optional<std::pair<std::string_view, uint64_t>> ParseTaskHandle(std::string_view handle) {
  const size_t hash = handle.rfind('#');
  if (hash == std::string_view::npos) return std::nullopt;
  const std::optional<int64_t> id = ParseInt(handle.substr(hash + 1));
  if (!id || *id <= 0) return std::nullopt;
  return std::pair(handle.substr(0, hash), static_cast<uint64_t>(*id));
}

std::optional<MoveTaskStatus> MoveTaskStatusOf(std::string_view name) {
  for (MoveTaskStatus s :
       {MoveTaskStatus::kRunning, MoveTaskStatus::kCompleted, MoveTaskStatus::kCancelling,
        MoveTaskStatus::kCancelled, MoveTaskStatus::kFailed}) {
    if (s == name) return s;
  }
  return std::nullopt;
}

void MoveTasks::RecordTo(std::shared_ptr<SqsLog> log, std::string arn) {
  std::lock_guard lock(mu_);
  log_ = std::move(log);
  arn_ = std::move(arn);
}

void MoveTasks::Record(uint64_t id, const MoveTask& task) const {
  if (log_ != nullptr) log_->Append(MoveTaskSaved{arn_, id, task});
}

std::vector<uint64_t> MoveTasks::Restore(std::vector<std::pair<uint64_t, MoveTask>> tasks) {
  std::lock_guard lock(mu_);
  tasks_ = std::move(tasks);
  std::vector<uint64_t> active;
  for (auto& [id, task] : tasks_) {
    next_id_ = std::max(next_id_, id + 1);
    if (Active(task.status)) {
      task.task_handle = TaskHandle(task.source_arn, id);
      active.push_back(id);
    }
  }
  return active;
}

absl::StatusOr<uint64_t> MoveTasks::Start(std::string_view source_arn,
                                          std::optional<std::string> destination,
                                          std::optional<int> max_per_second, int64_t to_move,
                                          absl::Time now) {
  std::lock_guard lock(mu_);
  for (const auto& [id, task] : tasks_) {
    if (Active(task.status)) {
      return InvalidParameterValue(
          "There is already a task running. Only one active task is allowed for a source queue "
          "arn at a given time.");
    }
  }
  const uint64_t id = next_id_++;
  MoveTask task;
  task.task_handle = TaskHandle(source_arn, id);
  task.source_arn = std::string(source_arn);
  task.destination_arn = destination.value_or("");
  task.max_number_of_messages_per_second = max_per_second.value_or(0);
  task.approximate_number_of_messages_to_move = to_move;
  task.started_timestamp = now;
  Record(id, task);
  tasks_.emplace_back(id, std::move(task));
  return id;
}

bool MoveTasks::Step(uint64_t id, bool source_gone, MoveOne move_one) {
  auto find = [&]() -> MoveTask* {
    auto it =
        std::find_if(tasks_.begin(), tasks_.end(), [&](const auto& t) { return t.first == id; });
    return it == tasks_.end() ? nullptr : &it->second;
  };
  MoveTask snapshot;
  {
    std::lock_guard lock(mu_);
    MoveTask* task = find();
    if (task == nullptr || !Active(task->status)) return false;
    if (source_gone) {
      End(*task, MoveTaskStatus::kFailed, "AWS.SimpleQueueService.NonExistentQueue");
      Record(id, *task);
      return false;
    }
    if (task->status == MoveTaskStatus::kCancelling) {  // cancelled since the last step
      End(*task, MoveTaskStatus::kCancelled);
      Record(id, *task);
      return false;
    }
    snapshot = *task;
  }
  const int rate = snapshot.max_number_of_messages_per_second > 0
                       ? snapshot.max_number_of_messages_per_second
                       : kDefaultMovesPerSecond;
  int64_t moved = 0;
  bool done = false;
  std::string failure;
  for (int n = 0; n < rate && failure.empty(); ++n) {
    if (snapshot.approximate_number_of_messages_moved + moved >=
        snapshot.approximate_number_of_messages_to_move) {
      done = true;
      break;
    }
    Moved one = move_one(snapshot.destination_arn);
    if (one.outcome == Moved::kNoneLeft) {
      done = true;
      break;
    }
    if (one.outcome == Moved::kFailed) {
      failure = std::move(one.failure_reason);
    } else {
      ++moved;
    }
  }
  std::lock_guard lock(mu_);
  MoveTask* task = find();
  if (task == nullptr) return false;
  task->approximate_number_of_messages_moved += moved;
  bool again = false;
  if (!failure.empty()) {
    End(*task, MoveTaskStatus::kFailed, std::move(failure));
  } else if (task->status == MoveTaskStatus::kCancelling) {  // cancelled during this step
    End(*task, MoveTaskStatus::kCancelled);
  } else if (done || task->approximate_number_of_messages_moved >=
                         task->approximate_number_of_messages_to_move) {
    End(*task, MoveTaskStatus::kCompleted);
  } else {
    again = true;
  }
  if (moved > 0 || !again) Record(id, *task);
  return again;
}

absl::StatusOr<int64_t> MoveTasks::Cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  for (auto& [task_id, task] : tasks_) {
    if (task_id != id) continue;
    if (task.status != MoveTaskStatus::kRunning) {
      return InvalidParameterValue(
          fmt::format("Only a RUNNING task can be cancelled; this one is {}.",
                      MoveTaskStatusName(task.status)));
    }
    // As in SQS: CANCELLING until the task's next step, which stops it (CANCELLED).
    task.status = MoveTaskStatus::kCancelling;
    Record(id, task);
    return task.approximate_number_of_messages_moved;
  }
  return ResourceNotFound("Task does not exist.");
}

absl::StatusOr<std::vector<MoveTask>> MoveTasks::List(int max_results) const {
  if (max_results < 1 || max_results > 10) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter MaxResults is invalid. Reason: Must be between 1 and 10.",
        max_results));
  }
  std::lock_guard lock(mu_);
  std::vector<MoveTask> out;
  for (auto it = tasks_.rbegin();
       it != tasks_.rend() && out.size() < static_cast<size_t>(max_results); ++it) {
    out.push_back(it->second);
  }
  return out;
}

}  // namespace courier::queue_internal
