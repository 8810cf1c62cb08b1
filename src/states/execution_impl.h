// The interpreter: one ExecutionImpl per execution, running the plan as steps on the hub's
// executor. Everything an execution does happens on its strand (one closure at a time, in
// order), so frames need no locks; Describe/History read a snapshot under info_mu_.
#ifndef COURIER_SRC_STATES_EXECUTION_IMPL_H_
#define COURIER_SRC_STATES_EXECUTION_IMPL_H_

#include <absl/container/flat_hash_set.h>
#include <absl/functional/any_invocable.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "courier/clock.h"
#include "courier/detail/mutex.h"
#include "courier/execution.h"
#include "courier/state_machine.h"
#include "states/plan.h"
#include "states/states_records.h"

namespace courier::states_internal {

// A failure travelling through the state machine.
struct Failure {
  std::optional<std::string> error;
  std::optional<std::string> cause;
  bool heartbeat = false;  // a missed heartbeat (reported as States.Timeout)
  static Failure From(const absl::Status& status);
  Json ErrorOutput() const;  // {"Error": .., "Cause": ..} with "" for missing parts
  const std::string& name() const;
};

struct FanOut;

// A running state list: the top level, one Parallel branch or one Map iteration.
struct Frame : std::enable_shared_from_this<Frame> {
  const Scope* scope = nullptr;
  Frame* parent = nullptr;  // variables are looked up outwards
  JsonObject vars;
  int state = -1;
  Json input;  // the current state's raw input
  absl::Time entered;
  int64_t last_event = 0;
  std::vector<int64_t> retry_counts;
  int64_t retry_count = 0;
  uint64_t seq = 0;  // bumped whenever a wait ends: stale callbacks compare and drop
  std::vector<Clock::TimerId> timers;
  std::string task_token;
  std::string resumed_token;  // recovery: the token the Task it runs again had, to keep
  int64_t heartbeat_seconds = 0;
  Clock::TimerId heartbeat_timer = 0;
  std::function<void(Frame&)> on_heartbeat_timeout;
  std::unique_ptr<FanOut> fan;
  // As a child of a Map or Parallel.
  FanOut* owner = nullptr;
  size_t child_index = 0;
  bool finished = false;
  // The transition the driving loop takes next (set by ExitState).
  bool pending = false;
  int pending_index = -1;
  Json pending_input;
  bool in_run = false;
  Json hold;            // a Wait's effective input while it waits
  JsonObject assigned;  // variables the current state assigned (for StateExited's details)
};

struct FanOut {
  bool is_map = false;
  std::vector<std::shared_ptr<Frame>> children;
  std::vector<std::optional<Json>> results;
  JsonArray items;      // Map: the items
  Json selector_input;  // Map: the effective input ItemSelector reads
  size_t next = 0, running = 0, done = 0, failed = 0;
  size_t limit = 0;
  std::optional<double> tolerated_count, tolerated_percentage;
  bool pumping = false;
  bool over = false;
  std::optional<Failure> failure;
};

class Registry;

class ExecutionImpl final : public Execution, public std::enable_shared_from_this<ExecutionImpl> {
 public:
  ExecutionImpl(StateMachine& machine, std::shared_ptr<const Plan> plan, std::string name,
                std::string arn, Json input);
  ~ExecutionImpl() override;

  const std::string& arn() const override { return arn_; }
  const std::string& name() const override { return name_; }
  // The machine's ARN: aws:SourceArn of the service calls its tasks make.
  const std::string& state_machine_arn() const;
  ExecutionDescription Describe() const override;
  std::vector<HistoryEvent> History() const override;
  absl::Status Stop(std::string_view error, std::string_view cause) override;
  bool done() const override;
  ExecutionDescription Await(absl::Duration timeout) override;

  // Starts running (on the executor).
  void Start();
  // The machine is going away: drop pending work and never run again.
  void Detach();
  // Called once, on the strand, when the execution ends.
  void OnDone(std::function<void(const ExecutionDescription&)> fn);

  // Callback pattern entry points (any thread).
  void CompleteTask(std::weak_ptr<Frame> frame, uint64_t seq, absl::StatusOr<Json> result);
  void Heartbeat(std::weak_ptr<Frame> frame, uint64_t seq);

  absl::Time start_time() const { return start_; }
  std::optional<absl::Time> stop_time() const;
  ExecutionStatus status() const override;

  // Recovery (Hub::Recover): the execution as its records left it (states_records.h). Its start,
  // its events in order, then either its end or Resume.
  void RestoreStart(absl::Time start);
  void RestoreEvent(ExecutionEvent event);
  void RestoreTaskToken(std::string token) { restored_token_ = std::move(token); }
  void RestoreEnd(ExecutionStatus status, absl::Time stop, std::optional<Json> output,
                  std::optional<std::string> error, std::optional<std::string> cause);
  // Goes on from the top-level state its events leave it in, with the variables earlier states
  // assigned: that state runs again with its recorded input (a Wait keeps its deadline; a Task,
  // Map or Parallel in progress starts over, so its work is done at least once), or, when the
  // state had exited, the next one starts.
  void Resume();

 private:
  friend class FrameEnv;
  void Post(absl::AnyInvocable<void()> fn);
  void Drain();
  void ScheduleTimeout();  // the execution's time limit, from its start

  // Interpreter (strand only).
  void EnterState(Frame& f, int index, Json input);
  void Execute(Frame& f);
  void Run(Frame& f);  // resumes f after an async step completed
  void ExitState(Frame& f, Json output, int next);
  void FinishFrame(Frame& f, absl::StatusOr<Json> result, std::optional<Failure> failure);
  void HandleError(Frame& f, Failure failure);
  void NoteEvaluationFailure(Frame& f, const Failure& failure);
  void RecordAborted(Frame& f);
  void TaskResult(Frame& f, absl::StatusOr<Json> result);
  void StartTask(Frame& f, Json payload);
  void StartFanOut(Frame& f, Json effective);
  void Pump(Frame& f);
  void ChildDone(Frame& child, absl::StatusOr<Json> result, std::optional<Failure> failure);
  void FanOutDone(Frame& f);
  void ClearWait(Frame& f);
  void CancelFrame(Frame& f);
  void EndExecution(ExecutionStatus status, std::optional<Json> output,
                    std::optional<std::string> error, std::optional<std::string> cause);
  absl::StatusOr<Json> FinishResult(Frame& f, Json raw_input, Json result,
                                    const Json& assign_input);
  absl::Status ApplyAssign(Frame& f, const std::optional<Template>& assign, const Json& input,
                           const Json* result, const Json* error_output);
  std::shared_ptr<Frame> FrameRef(Frame& f);
  Clock::TimerId ScheduleResume(Frame& f, absl::Time when, std::function<void(Frame&)> fn);

  // History: events are kept compact (the state name by pointer into the plan, the input or
  // output as a value) and expanded into AWS's details objects by History().
  enum class Data { kNone, kInput, kOutput };
  struct RawEvent {
    std::string_view type;  // static storage
    int64_t previous = 0;
    absl::Time timestamp;
    const std::string* name = nullptr;
    Data kind = Data::kNone;
    int64_t index = -1;  // MapIteration events
    std::string data;    // the input or output as JSON text (small ones need no allocation)
    Json details;
  };
  int64_t Record(Frame* f, std::string_view type, Json details = nullptr,
                 const std::string* name = nullptr, Data kind = Data::kNone,
                 const Json* data = nullptr, int64_t index = -1);
  // Adds an event to the history; returns its id. Under info_mu_.
  int64_t AppendEventLocked(RawEvent e);
  std::string StateName(const Frame& f) const;

  // Of its machine, copied: an execution handle may outlive the machine and the hub.
  std::string machine_arn_;
  std::string machine_name_;
  std::string role_arn_;
  StateMachineType type_;
  Hub& hub_;  // used only while the execution runs: the hub's Shutdown detaches it first
  std::shared_ptr<const Plan> plan_;
  std::shared_ptr<Clock> clock_;
  // Weak: the last owner of a thread pool must not be one of its own tasks (an execution ending
  // on a worker), which would join itself. Without an executor (the hub and its environment are
  // gone) work is dropped, as a detached execution's is.
  std::weak_ptr<Executor> executor_;
  std::string name_;
  std::string arn_;
  Json input_;
  absl::Time start_;
  bool keep_history_;
  std::shared_ptr<Frame> root_;
  Clock::TimerId execution_timer_ = 0;
  std::vector<std::function<void(const ExecutionDescription&)>> on_done_;
  uint64_t token_counter_ = 0;
  // Where events are recorded (states_records.h); nullptr when nothing keeps them.
  std::shared_ptr<StatesLog> log_;
  // Recovery: the text of restored events (RawEvent points into it), and where Resume goes on.
  std::deque<std::string> restored_text_;
  struct TopState {
    std::string name;
    Json input, output;
    absl::Time entered;
    int64_t event = 0;  // its StateEntered (or StateExited, once exited)
    bool exited = false;
  };
  std::optional<TopState> resume_at_;
  JsonObject restored_vars_;
  std::string restored_token_;  // the token of the top-level Task in progress, if any

  // Strand.
  std::mutex mail_mu_;  // plain std::mutex: small, and free of absl's deadlock detection
  std::vector<absl::AnyInvocable<void()>> mailbox_;  // guarded by mail_mu_
  bool draining_ = false;                            // guarded by mail_mu_
  bool detached_ = false;                            // guarded by mail_mu_

  // Snapshot read by other threads.
  // Guarded by info_mu_.
  mutable std::mutex info_mu_;
  ExecutionStatus status_ = ExecutionStatus::kRunning;
  std::optional<absl::Time> stop_;
  std::optional<Json> output_;
  std::optional<std::string> error_;
  std::optional<std::string> cause_;
  // In segments of at most 8 events: small allocations, so that a growing history never asks
  // malloc for a large block (which would consolidate every freed fastbin chunk).
  std::vector<std::vector<RawEvent>> history_;
  size_t history_size_ = 0;
  WakeSignal done_signal_;
};

// Every task token starts with this; anything else is InvalidToken.
inline constexpr std::string_view kTokenPrefix = "AQCourierTaskToken.";

// Per-hub state of the states component: task tokens, and the record log.
class Registry {
 public:
  // The hub's record log (states_records.h); nullptr when its storage keeps none. Set once,
  // before the hub is shared.
  const std::shared_ptr<StatesLog>& log() const { return log_; }
  void set_log(std::shared_ptr<StatesLog> log) { log_ = std::move(log); }

  struct Waiter {
    std::weak_ptr<ExecutionImpl> execution;
    std::weak_ptr<Frame> frame;
    uint64_t seq = 0;
  };
  // A new token for `waiter`; or `token` again (a recovered execution's), when one is given.
  std::string NewToken(Waiter waiter, std::string token = {});
  std::optional<Waiter> Find(std::string_view token);
  std::optional<Waiter> Take(std::string_view token);
  void Drop(std::string_view token);
  // Remembers (the last 100,000) tokens whose task timed out: they answer TaskTimedOut.
  void MarkTimedOut(std::string_view token);
  bool TimedOut(std::string_view token);

 private:
  std::shared_ptr<StatesLog> log_;
  detail::Mutex mu_;
  absl::flat_hash_map<std::string, Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> timed_out_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> timed_out_order_ ABSL_GUARDED_BY(mu_);
};

// A state machine's or execution's name: 1-80 characters, none of them whitespace, control
// characters or <>{}[]?*"#%\^|~`$&,;:/.
bool ValidName(std::string_view name);
// Whether a scope uses .sync or .waitForTaskToken (Express machines support neither).
bool UsesCallbackPatterns(const Scope& scope);
// The errors for a state machine or execution that does not exist, named by what the caller gave.
absl::Status StateMachineDoesNotExist(std::string_view name_or_arn);
absl::Status ExecutionDoesNotExist(std::string_view name_or_arn);

// Task resources (hub_states.cc): runs the resource and reports through `done`.
struct TaskCall {
  std::string resource;
  Json payload;
  std::string task_token;
  std::shared_ptr<ExecutionImpl> execution;
};
// The history event family of a resource: "LambdaFunction" for a plain function ARN, else "Task".
bool IsLambdaArn(std::string_view resource);
// Runs a resource; `done` gets the result (or, for .waitForTaskToken, only failures to start;
// success then comes through SendTaskSuccess).
void InvokeResource(Hub& hub, const TaskCall& call, std::function<void(absl::StatusOr<Json>)> done);

}  // namespace courier::states_internal

#endif  // COURIER_SRC_STATES_EXECUTION_IMPL_H_
