// Sqs: the SQS control plane of a hub — create, find, list and delete queues of both kinds, and
// run message move tasks — as AWS's SQS API names these operations.
//
// Each Hub has one SqsService (the SQS module registers it; see service.h); `courier::Sqs(hub)`
// reaches it. Messages go through the Queue and FifoQueue handles it returns.
//
// Example:
//   courier::testing::Simulation sim;
//   courier::Hub hub(sim.environment());
//   auto dlq = courier::Sqs(hub).CreateQueue("orders-dlq").value();
//   courier::SqsService& sqs = courier::Sqs(hub);
//   auto orders = sqs.CreateQueue("orders", {.visibility_timeout = absl::Seconds(30)}).value();
#ifndef COURIER_SQS_H_
#define COURIER_SQS_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <concepts>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/queue_attributes.h"

namespace courier {

class Hub;
class Queue;
class FifoQueue;
class SqsQueue;
class SqsOperations;

// A message move task as ListMessageMoveTasks describes it (AWS's result entry names).
using MoveTaskDescription = std::map<std::string, std::string, std::less<>>;

class SqsService {
 public:
  ~SqsService();
  SqsService(const SqsService&) = delete;
  SqsService& operator=(const SqsService&) = delete;

  // https://sqs.<region>.amazonaws.com/<account>/<name>
  std::string QueueUrl(std::string_view name) const;

  // A standard queue (spec §1). Idempotent with identical attributes, QueueAlreadyExists
  // otherwise; QueueDeletedRecently within 60 s of a DeleteQueue of that name. A ".fifo" name or
  // FifoQueue=true is refused here (InvalidParameterValue): use CreateFifoQueue. Thread-safe.
  absl::StatusOr<std::shared_ptr<Queue>> CreateQueue(std::string_view name,
                                                     const QueueAttributes& attributes = {});
  // The same with AWS's attribute names and string values. (A template only so that
  // `CreateQueue(name, {})` picks the typed overload above.)
  template <std::same_as<QueueAttributeMap> Map = QueueAttributeMap>
  absl::StatusOr<std::shared_ptr<Queue>> CreateQueue(std::string_view name, const Map& attributes) {
    return CreateQueueFromMap(name, attributes);
  }
  // A FIFO queue: the name ends in ".fifo"; FifoQueue may be given as true. The same idempotency
  // rules. Thread-safe.
  absl::StatusOr<std::shared_ptr<FifoQueue>> CreateFifoQueue(
      std::string_view name, const QueueAttributes& attributes = {});
  template <std::same_as<QueueAttributeMap> Map = QueueAttributeMap>
  absl::StatusOr<std::shared_ptr<FifoQueue>> CreateFifoQueue(std::string_view name,
                                                             const Map& attributes) {
    return CreateFifoQueueFromMap(name, attributes);
  }

  // By name, ARN or URL; QueueDoesNotExist if none (GetQueue: none of the standard kind).
  absl::StatusOr<std::shared_ptr<Queue>> GetQueue(std::string_view name_arn_or_url) const;
  absl::StatusOr<std::shared_ptr<FifoQueue>> GetFifoQueue(std::string_view name_arn_or_url) const;
  // Either kind, by name, ARN or URL; QueueDoesNotExist if none.
  absl::StatusOr<std::shared_ptr<SqsQueue>> GetAnyQueue(std::string_view name_arn_or_url) const;
  absl::StatusOr<std::string> GetQueueUrl(std::string_view name) const;
  // URLs of queues of both kinds whose name starts with `prefix`, in name order; at most 1,000,
  // as AWS returns.
  std::vector<std::string> ListQueues(std::string_view prefix = {}) const;
  // The same, at most `max_results` (1-1,000, else InvalidParameterValue).
  absl::StatusOr<std::vector<std::string>> ListQueues(std::string_view prefix,
                                                      int max_results) const;
  // Either kind, by name, ARN or URL; the name cannot be reused for 60 s.
  absl::Status DeleteQueue(std::string_view name_arn_or_url);

  // Message move tasks (spec §6) on a dead-letter queue of either kind, by the source's ARN.
  absl::StatusOr<std::string> StartMessageMoveTask(
      std::string_view source_arn, std::optional<std::string> destination_arn = std::nullopt,
      std::optional<int> max_number_of_messages_per_second = std::nullopt);
  // Task descriptions as AWS's ListMessageMoveTasks result entries (TaskHandle only while
  // RUNNING, Status, SourceArn, DestinationArn, ...), newest first.
  absl::StatusOr<std::vector<MoveTaskDescription>> ListMessageMoveTasks(std::string_view source_arn,
                                                                        int max_results = 1);
  absl::StatusOr<int64_t> CancelMessageMoveTask(std::string_view task_handle);

  struct State;  // defined and used inside the SQS module only

 private:
  friend class SqsOperations;  // creates the hub's instance

  explicit SqsService(Hub& hub);
  absl::StatusOr<std::shared_ptr<Queue>> CreateQueueFromMap(std::string_view name,
                                                            const QueueAttributeMap& attributes);
  absl::StatusOr<std::shared_ptr<FifoQueue>> CreateFifoQueueFromMap(
      std::string_view name, const QueueAttributeMap& attributes);

  Hub& hub_;
  std::unique_ptr<State> state_;
};

// The hub's SQS control plane.
SqsService& Sqs(Hub& hub);

}  // namespace courier

#endif  // COURIER_SQS_H_
