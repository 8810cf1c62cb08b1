// Hub: creates, names and wires resources, as AWS's control plane does.
//
// Resources get ARNs from the environment's region and account
// (arn:aws:sqs:us-east-1:000000000000:orders), because definitions written for AWS refer to
// resources by ARN (a redrive policy's deadLetterTargetArn, an ASL Task's Resource) and must run
// unchanged. The hub hands out std::shared_ptr handles; a deleted resource stays usable by those
// who hold it but is no longer found by name or ARN.
//
// Example:
//   courier::testing::Simulation sim;
//   courier::Hub hub(sim.environment());
//   auto dlq = hub.CreateQueue("orders-dlq").value();
//   auto orders = hub.CreateQueue("orders", {.visibility_timeout = absl::Seconds(30)}).value();
#ifndef COURIER_HUB_H_
#define COURIER_HUB_H_

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>
#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include "courier/detail/mutex.h"
#include "courier/environment.h"
#include "courier/function.h"
#include "courier/resource.h"

namespace courier {

class Service;

class Queue;
class FifoQueue;
struct QueueAttributes;
class StateMachine;
struct StateMachineOptions;
class Execution;

class Hub {
 public:
  // The default environment: system clock, thread pool, memory storage.
  Hub();
  explicit Hub(Environment environment);
  ~Hub();
  // Resources keep a reference to their hub: neither copyable nor movable.
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  const Environment& environment() const { return environment_; }
  Clock& clock() const { return *environment_.clock; }

  // "arn:aws:<service>:<region>:<account>:<resource>".
  std::string Arn(std::string_view service, std::string_view resource) const;

  // ---- Resources by ARN (any kind). Thread-safe. ----
  std::shared_ptr<Resource> FindResource(std::string_view arn) const;
  std::shared_ptr<MessageSink> FindSink(std::string_view arn) const;
  // Adds a resource under its ARN; AlreadyExists if the ARN is taken.
  absl::Status AddResource(std::shared_ptr<Resource> resource);
  // Removes and returns the resource, or nullptr.
  std::shared_ptr<Resource> RemoveResource(std::string_view arn);
  // Every resource whose ARN starts with `arn_prefix`, in ARN order.
  std::vector<std::shared_ptr<Resource>> ListResources(std::string_view arn_prefix) const;

  // ---- Services' operation tables (courier/service.h). Thread-safe. ----
  // The service registered under `name` ("sqs"), or nullptr.
  Service* FindService(std::string_view name) const;
  // (courier::Invoke, in service.h, calls one by name.)

  // ---- SQS (implemented in src/queue; include queue.h / fifo_queue.h). Thread-safe. ----
  // https://sqs.<region>.amazonaws.com/<account>/<name>
  std::string QueueUrl(std::string_view name) const;
  // A standard queue (spec §1). Idempotent with identical attributes, QueueAlreadyExists
  // otherwise; QueueDeletedRecently within 60 s of a DeleteQueue of that name. A ".fifo" name or
  // FifoQueue=true is refused here (InvalidParameterValue): use CreateFifoQueue.
  absl::StatusOr<std::shared_ptr<Queue>> CreateQueue(std::string_view name,
                                                     const QueueAttributes& attributes);
  absl::StatusOr<std::shared_ptr<Queue>> CreateQueue(
      std::string_view name, const std::map<std::string, std::string, std::less<>>& attributes);
  absl::StatusOr<std::shared_ptr<Queue>> CreateQueue(std::string_view name);
  // A FIFO queue (forwards to FifoQueue::Create with the same idempotency rules).
  absl::StatusOr<std::shared_ptr<FifoQueue>> CreateFifoQueue(
      std::string_view name,
      const std::map<std::string, std::string, std::less<>>& attributes = {});
  // By name, ARN or URL; QueueDoesNotExist if none (GetQueue: none of the standard kind).
  absl::StatusOr<std::shared_ptr<Queue>> GetQueue(std::string_view name_arn_or_url) const;
  absl::StatusOr<std::shared_ptr<FifoQueue>> GetFifoQueue(std::string_view name_arn_or_url) const;
  absl::StatusOr<std::string> GetQueueUrl(std::string_view name) const;
  // URLs of queues of both kinds whose name starts with `prefix`, in name order; at most 1,000,
  // as AWS returns.
  std::vector<std::string> ListQueues(std::string_view prefix = {}) const;
  // The same, at most `max_results` (1-1,000, else InvalidParameterValue).
  absl::StatusOr<std::vector<std::string>> ListQueues(std::string_view prefix,
                                                      int max_results) const;
  // Either kind; the name cannot be reused for 60 s.
  absl::Status DeleteQueue(std::string_view name_arn_or_url);
  // Message move tasks (spec §6) on a dead-letter queue of either kind, by the source's ARN.
  absl::StatusOr<std::string> StartMessageMoveTask(
      std::string_view source_arn, std::optional<std::string> destination_arn = std::nullopt,
      std::optional<int> max_number_of_messages_per_second = std::nullopt);
  // Task descriptions as AWS's ListMessageMoveTasks result entries (TaskHandle only while
  // RUNNING, Status, SourceArn, DestinationArn, ...), newest first.
  absl::StatusOr<std::vector<std::map<std::string, std::string, std::less<>>>> ListMessageMoveTasks(
      std::string_view source_arn, int max_results = 1);
  absl::StatusOr<int64_t> CancelMessageMoveTask(std::string_view task_handle);

  // ---- Functions and Step Functions (implemented in src/states; include state_machine.h) ----
  // Registers `handler` as arn:aws:lambda:<region>:<account>:function:<name>.
  // AlreadyExists (ResourceConflictException) if the name is taken. Thread-safe.
  absl::StatusOr<std::shared_ptr<Function>> RegisterFunction(std::string_view name,
                                                             FunctionHandler handler);
  // As RegisterFunction, for a handler that completes later through its callback.
  absl::StatusOr<std::shared_ptr<Function>> RegisterAsyncFunction(std::string_view name,
                                                                  AsyncFunctionHandler handler);
  // By name or ARN (an ARN of another account or region, or with a version qualifier, resolves
  // by its function name: definitions written for AWS run unchanged). Thread-safe.
  std::shared_ptr<Function> FindFunction(std::string_view name_or_arn) const;
  // Validates the ASL definition (InvalidDefinition with the first problem and its location)
  // and creates arn:aws:states:<region>:<account>:stateMachine:<name>. Thread-safe.
  absl::StatusOr<std::shared_ptr<StateMachine>> CreateStateMachine(
      std::string_view name, std::string_view definition, const StateMachineOptions& options);
  absl::StatusOr<std::shared_ptr<StateMachine>> CreateStateMachine(std::string_view name,
                                                                   std::string_view definition);
  // By name or ARN; nullptr if none. Thread-safe.
  std::shared_ptr<StateMachine> FindStateMachine(std::string_view name_or_arn) const;
  // Every state machine, in ARN order. Thread-safe.
  std::vector<std::shared_ptr<StateMachine>> ListStateMachines() const;
  // An execution by its ARN (arn:aws:states:<region>:<account>:execution:<machine>:<name>),
  // as DescribeExecution/GetExecutionHistory/StopExecution take it; nullptr if unknown.
  // Thread-safe.
  std::shared_ptr<Execution> FindExecution(std::string_view execution_arn) const;
  // Removes the state machine; its running executions are stopped. StateMachineDoesNotExist
  // if there is none. Thread-safe.
  absl::Status DeleteStateMachine(std::string_view name_or_arn);
  // The callback pattern: complete, fail or keep alive the task waiting on `task_token`
  // ($$.Task.Token of a .waitForTaskToken task). InvalidToken for a malformed token,
  // TaskDoesNotExist for an unknown or closed one. Thread-safe; the task resumes on the executor.
  absl::Status SendTaskSuccess(std::string_view task_token, std::string_view output);
  absl::Status SendTaskFailure(std::string_view task_token, std::string_view error = {},
                               std::string_view cause = {});
  absl::Status SendTaskHeartbeat(std::string_view task_token);

  // Per-component state the hub keeps for a component's implementation (deleted-queue times,
  // move tasks, ...), created on first use as T(Hub&). Not API. Thread-safe.
  template <typename T>
  T& Extension() {
    detail::MutexLock lock(&mu_);
    auto& slot = extensions_[std::type_index(typeid(T))];
    if (!slot) slot = std::make_shared<T>(*this);
    return *static_cast<T*>(slot.get());
  }

 private:
  Environment environment_;
  mutable detail::Mutex mu_;
  std::map<std::string, std::shared_ptr<Resource>, std::less<>> resources_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::type_index, std::shared_ptr<void>> extensions_ ABSL_GUARDED_BY(mu_);
  // Created in the constructor from the registered factories; never changed after.
  std::map<std::string, std::unique_ptr<Service>, std::less<>> services_;
};

}  // namespace courier

#endif  // COURIER_HUB_H_
