// The SQS service: the hub's queue registry (both kinds, by ARN in the hub) and recently deleted
// names. Move tasks live with their queues (move_tasks.h).
#include <fmt/format.h>

#include <mutex>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/service.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "queue/queue_config.h"
#include "queue/sqs_operations.h"

namespace courier {
namespace {

constexpr absl::Duration kDeletedRecently = absl::Seconds(60);
constexpr int kMaxListedQueues = 1000;  // ListQueues returns at most 1,000 URLs

// Names deleted in the last 60 s.
struct DeletedQueues {
  std::mutex mu;
  std::map<std::string, absl::Time, std::less<>> deleted;
  absl::Status Check(std::string_view name, absl::Time now) {
    std::lock_guard lock(mu);
    auto it = deleted.find(name);
    if (it == deleted.end()) return absl::OkStatus();
    if (now >= it->second + kDeletedRecently) {
      deleted.erase(it);
      return absl::OkStatus();
    }
    return AwsErrorF("QueueDeletedRecently",
                     "You must wait 60 seconds after deleting a queue before you can create "
                     "another with the same name. Queue: {}",
                     name);
  }
};

}  // namespace

struct SqsService::State {
  DeletedQueues deleted;
};

namespace {

absl::Status NoSource() {
  return ResourceNotFound(
      "The resource that you specified for the SourceArn parameter doesn't exist.");
}

MoveTaskDescription Describe(const MoveTask& t) {
  MoveTaskDescription m;
  if (!t.task_handle.empty()) m["TaskHandle"] = t.task_handle;
  m["Status"] = std::string(MoveTaskStatusName(t.status));
  m["SourceArn"] = t.source_arn;
  if (!t.destination_arn.empty()) m["DestinationArn"] = t.destination_arn;
  if (t.max_number_of_messages_per_second > 0) {
    m["MaxNumberOfMessagesPerSecond"] = std::to_string(t.max_number_of_messages_per_second);
  }
  m["ApproximateNumberOfMessagesMoved"] = std::to_string(t.approximate_number_of_messages_moved);
  m["ApproximateNumberOfMessagesToMove"] = std::to_string(t.approximate_number_of_messages_to_move);
  if (!t.failure_reason.empty()) m["FailureReason"] = t.failure_reason;
  m["StartedTimestamp"] = std::to_string(absl::ToUnixMillis(t.started_timestamp));
  return m;
}

}  // namespace

// ---- SqsService and its registration ----------------------------------------------------------

// The hub's "sqs" service: owns the typed control plane and answers AWS's operation table.
class SqsOperations final : public Service {
 public:
  explicit SqsOperations(Hub& hub) : hub_(hub), sqs_(hub) {}
  std::string_view name() const override { return "sqs"; }
  absl::StatusOr<Json> Invoke(std::string_view operation, const Json& request,
                              const Caller& caller) override {
    return InvokeSqs(hub_, operation, request, caller);
  }
  SqsService& typed() { return sqs_; }

 private:
  Hub& hub_;
  SqsService sqs_;
};

namespace {
const ServiceRegistrar kRegistrar("sqs", [](Hub& hub) -> std::unique_ptr<Service> {
  return std::make_unique<SqsOperations>(hub);
});
}  // namespace
COURIER_SERVICE_ANCHOR(sqs);

SqsService& Sqs(Hub& hub) {
  // Registered above, so every hub of a program that links this file has it.
  return static_cast<SqsOperations*>(hub.FindService("sqs"))->typed();
}

SqsService::SqsService(Hub& hub) : hub_(hub), state_(std::make_unique<State>()) {}
SqsService::~SqsService() = default;

std::string SqsService::QueueUrl(std::string_view name) const {
  return fmt::format("https://sqs.{}.amazonaws.com/{}/{}", hub_.environment().region,
                     hub_.environment().account, name);
}

// ---- SqsService
// ----------------------------------------------------------------------------------

absl::StatusOr<std::shared_ptr<Queue>> SqsService::CreateQueue(std::string_view name,
                                                               const QueueAttributes& attributes) {
  return CreateQueueFromMap(name, attributes.ToMap());
}

absl::StatusOr<std::shared_ptr<FifoQueue>> SqsService::CreateFifoQueue(
    std::string_view name, const QueueAttributes& attributes) {
  return CreateFifoQueueFromMap(name, attributes.ToMap());
}

absl::StatusOr<std::shared_ptr<Queue>> SqsService::CreateQueueFromMap(
    std::string_view name, const QueueAttributeMap& attributes) {
  auto fifo = attributes.find("FifoQueue");
  if (name.ends_with(".fifo") ||
      (fifo != attributes.end() && (fifo->second == "true" || fifo->second == "True"))) {
    return InvalidParameterValue(
        "A FIFO queue is created with SqsService::CreateFifoQueue (its name ends with .fifo and "
        "FifoQueue is true).");
  }
  if (!hub_.FindResource(hub_.Arn("sqs", name))) {
    COURIER_RETURN_IF_ERROR(state_->deleted.Check(name, hub_.clock().Now()));
  }
  return Queue::Create(hub_, name, attributes);
}

absl::StatusOr<std::shared_ptr<FifoQueue>> SqsService::CreateFifoQueueFromMap(
    std::string_view name, const QueueAttributeMap& attributes) {
  if (!hub_.FindResource(hub_.Arn("sqs", name))) {
    COURIER_RETURN_IF_ERROR(state_->deleted.Check(name, hub_.clock().Now()));
  }
  return FifoQueue::Create(hub_, name, attributes);
}

std::string QueueArnOf(const Hub& hub, std::string_view id) {
  if (id.starts_with("arn:")) return std::string(id);
  if (id.starts_with("http://") || id.starts_with("https://")) {
    // <scheme>://<host>/<account>/<name>. The host is AWS's current or legacy endpoint of this
    // region (sqs.R.amazonaws.com, R.queue.amazonaws.com, queue.amazonaws.com for us-east-1),
    // or any other (an endpoint override, as SDKs allow).
    std::string_view rest = id.substr(id.find("//") + 2);
    const size_t host_end = rest.find('/');
    if (host_end == std::string_view::npos) return {};
    const std::string_view host = rest.substr(0, host_end);
    rest.remove_prefix(host_end + 1);
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return {};
    const std::string_view account = rest.substr(0, slash), name = rest.substr(slash + 1);
    const std::string& region = hub.environment().region;
    if (account != hub.environment().account || name.empty() ||
        name.find('/') != std::string_view::npos) {
      return {};
    }
    if (host.ends_with("amazonaws.com") && host != fmt::format("sqs.{}.amazonaws.com", region) &&
        host != fmt::format("{}.queue.amazonaws.com", region) &&
        !(region == "us-east-1" && host == "queue.amazonaws.com")) {
      return {};
    }
    return hub.Arn("sqs", name);
  }
  return hub.Arn("sqs", id);
}

absl::StatusOr<std::shared_ptr<Queue>> SqsService::GetQueue(std::string_view id) const {
  auto q = std::dynamic_pointer_cast<Queue>(hub_.FindResource(QueueArnOf(hub_, id)));
  if (q == nullptr) return QueueDoesNotExist();
  return q;
}

absl::StatusOr<std::shared_ptr<FifoQueue>> SqsService::GetFifoQueue(std::string_view id) const {
  auto q = std::dynamic_pointer_cast<FifoQueue>(hub_.FindResource(QueueArnOf(hub_, id)));
  if (q == nullptr) return QueueDoesNotExist();
  return q;
}

absl::StatusOr<std::shared_ptr<SqsQueue>> SqsService::GetAnyQueue(std::string_view id) const {
  auto q = std::dynamic_pointer_cast<SqsQueue>(hub_.FindResource(QueueArnOf(hub_, id)));
  if (q == nullptr) return QueueDoesNotExist();
  return q;
}

absl::StatusOr<std::string> SqsService::GetQueueUrl(std::string_view name) const {
  COURIER_ASSIGN_OR_RETURN(auto q, GetAnyQueue(hub_.Arn("sqs", name)));
  return q->url();
}

std::vector<std::string> SqsService::ListQueues(std::string_view prefix) const {
  return *ListQueues(prefix, kMaxListedQueues);
}

absl::StatusOr<std::vector<std::string>> SqsService::ListQueues(std::string_view prefix,
                                                                int max_results) const {
  if (max_results < 1 || max_results > kMaxListedQueues) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter MaxResults is invalid. Reason: MaxResults must be an integer "
        "between 1 and 1000.",
        max_results));
  }
  std::vector<std::string> out;
  for (const auto& r : hub_.ListResources(hub_.Arn("sqs", prefix))) {
    if (static_cast<int>(out.size()) == max_results) break;
    if (auto q = std::dynamic_pointer_cast<SqsQueue>(r)) out.push_back(q->url());
  }
  return out;
}

absl::Status SqsService::DeleteQueue(std::string_view id) {
  COURIER_ASSIGN_OR_RETURN(auto r, GetAnyQueue(id));
  hub_.RemoveResource(r->arn());
  r->MarkDeleted();
  DeletedQueues& deleted = state_->deleted;
  std::lock_guard lock(deleted.mu);
  deleted.deleted[r->name()] = hub_.clock().Now();
  return absl::OkStatus();
}

absl::StatusOr<std::string> SqsService::StartMessageMoveTask(
    std::string_view source_arn, std::optional<std::string> destination_arn,
    std::optional<int> max_per_second) {
  auto q = std::dynamic_pointer_cast<SqsQueue>(hub_.FindResource(source_arn));
  if (q == nullptr) return NoSource();
  return q->StartMessageMoveTask(std::move(destination_arn), max_per_second);
}

absl::StatusOr<std::vector<MoveTaskDescription>> SqsService::ListMessageMoveTasks(
    std::string_view source_arn, int max_results) {
  auto q = std::dynamic_pointer_cast<SqsQueue>(hub_.FindResource(source_arn));
  if (q == nullptr) return NoSource();
  COURIER_ASSIGN_OR_RETURN(auto tasks, q->ListMessageMoveTasks(max_results));
  std::vector<MoveTaskDescription> out;
  for (const auto& t : tasks) out.push_back(Describe(t));
  return out;
}

absl::StatusOr<int64_t> SqsService::CancelMessageMoveTask(std::string_view task_handle) {
  // A handle is "<source ARN>#<task number>": anything else is not a handle [V]; a handle of
  // a queue that does not exist names no source [V].
  const size_t hash = task_handle.rfind('#');
  if (hash == std::string_view::npos || !task_handle.starts_with("arn:") ||
      !ParseInt(task_handle.substr(hash + 1)).has_value()) {
    return InvalidParameterValue("Value for parameter TaskHandle is invalid.");
  }
  auto source = std::dynamic_pointer_cast<SqsQueue>(hub_.FindResource(task_handle.substr(0, hash)));
  if (source == nullptr) return NoSource();
  return source->is_fifo() ? FifoQueue::CancelMessageMoveTask(hub_, task_handle)
                           : Queue::CancelMessageMoveTask(hub_, task_handle);
}

}  // namespace courier
