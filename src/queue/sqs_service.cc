// The SQS service: the hub's queue registry (both kinds, by ARN in the hub) and recently deleted
// names. Move tasks live with their queues (move_tasks.h).
#include <absl/container/flat_hash_map.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <variant>

#include "courier/detail/hub_registry.h"
#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/service.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "queue/message_sealing.h"
#include "queue/queue_config.h"
#include "queue/sqs_operations.h"
#include "queue/sqs_records.h"

namespace courier {

using queue_internal::InvokeSqs;
using queue_internal::ParseInt;
using queue_internal::QueueArnOf;
using queue_internal::QueueDoesNotExist;

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
  std::shared_ptr<queue_internal::SqsLog> log;  // nullptr when the storage keeps no records
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
  const std::shared_ptr<queue_internal::SqsLog>& log() const { return sqs_.state_->log; }
  absl::Status Recover() override;

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

SqsService::SqsService(Hub& hub) : hub_(hub), state_(std::make_unique<State>()) {
  if (auto log =
          detail::RecordLog::For(hub.environment().storage, std::string(queue_internal::kSqsLog))) {
    state_->log = std::make_shared<queue_internal::SqsLog>(std::move(log));
  }
}

namespace queue_internal {

std::shared_ptr<SqsLog> SqsLogOf(Hub& hub) {
  return static_cast<SqsOperations*>(hub.FindService("sqs"))->log();
}

absl::Status AddQueue(Hub& hub, std::shared_ptr<SqsQueue> queue, const QueueCreated& record) {
  const std::shared_ptr<SqsLog> log = SqsLogOf(hub);
  if (log == nullptr) return detail::AddResource(hub, std::move(queue));
  std::lock_guard lock(log->catalog_mu());
  if (hub.FindResource(record.arn) != nullptr) {
    return absl::AlreadyExistsError(fmt::format("{} exists", record.arn));
  }
  log->Append(record);
  return detail::AddResource(hub, std::move(queue));
}

}  // namespace queue_internal
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
  absl::StatusOr<std::shared_ptr<Queue>> queue = Queue::Create(hub_, name, attributes);
  detail::Durable(queue);
  return queue;
}

absl::StatusOr<std::shared_ptr<FifoQueue>> SqsService::CreateFifoQueueFromMap(
    std::string_view name, const QueueAttributeMap& attributes) {
  if (!hub_.FindResource(hub_.Arn("sqs", name))) {
    COURIER_RETURN_IF_ERROR(state_->deleted.Check(name, hub_.clock().Now()));
  }
  absl::StatusOr<std::shared_ptr<FifoQueue>> queue = FifoQueue::Create(hub_, name, attributes);
  detail::Durable(queue);
  return queue;
}

namespace queue_internal {
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
}  // namespace queue_internal

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
  {
    std::unique_lock<std::mutex> catalog;
    if (state_->log != nullptr) {
      catalog = std::unique_lock(state_->log->catalog_mu());
      if (hub_.FindResource(r->arn()) != r) return QueueDoesNotExist();  // deleted meanwhile
      state_->log->Append(
          queue_internal::QueueDeleted{r->arn(), absl::ToUnixNanos(hub_.clock().Now())});
    }
    detail::RemoveResource(hub_, r->arn());
    r->MarkDeleted();
    DeletedQueues& deleted = state_->deleted;
    std::lock_guard lock(deleted.mu);
    deleted.deleted[r->name()] = hub_.clock().Now();
  }
  return detail::Durable(absl::OkStatus());
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

// ---- Recovery (Hub::Recover) -------------------------------------------------------------------

namespace {

// Where each recovered slot is in its queue's list, by the shard and slot number its records
// name. Queues hand out slot numbers densely from the bottom of each shard, so those are looked
// up in one array per shard (a million messages' records, read in about the order the slots
// were taken, stay in the cache); numbers far beyond what a shard has shown so far (a record
// from a strange writer) go to a hash map, so that they cost no huge array.
class SlotIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // The entry of `p`: kNone when it has none.
  uint32_t& operator[](const queue_internal::MessagePlace& p) {
    if (p.shard < kDirectShards) {
      std::vector<uint32_t>& shard = direct_[p.shard];
      if (p.slot < shard.size()) return shard[p.slot];
      if (p.slot < 2 * shard.size() + kDirectSlack) {
        shard.resize(std::max<size_t>(p.slot + 1, 2 * shard.size()), kNone);
        return shard[p.slot];
      }
    }
    return sparse_.try_emplace(uint64_t{p.shard} << 32 | p.slot, kNone).first->second;
  }
  uint32_t Find(const queue_internal::MessagePlace& p) const {
    if (p.shard < kDirectShards && p.slot < direct_[p.shard].size()) {
      return direct_[p.shard][p.slot];
    }
    auto it = sparse_.find(uint64_t{p.shard} << 32 | p.slot);
    return it == sparse_.end() ? kNone : it->second;
  }
  void clear() {
    for (auto& shard : direct_) shard.clear();
    sparse_.clear();
  }

 private:
  static constexpr uint32_t kDirectShards = 16;  // as many as a queue has
  static constexpr size_t kDirectSlack = 4096;
  std::array<std::vector<uint32_t>, kDirectShards> direct_;
  absl::flat_hash_map<uint64_t, uint32_t> sparse_;
};

}  // namespace

// What the records say of the hub's live queues, gathered before anything is installed: the
// last record of each message wins (sqs_records.h).
class SqsRecovery {
 public:
  explicit SqsRecovery(Hub& hub, DeletedQueues& deleted) : hub_(hub), deleted_(deleted) {}

  // Takes what it keeps from `record`, leaving it for the next record to be decoded into.
  absl::Status Apply(queue_internal::SqsRecord& record) {
    return std::visit([this](auto& r) { return On(r); }, record);
  }

  // Hands each live queue its messages. Encrypted ones are opened first, all of them, so that
  // a key the provider lacks fails Recover before any queue has its messages.
  absl::Status Finish() {
    queue_internal::MessageUnsealer unsealer(KeyProviderOf(hub_.environment()));
    for (auto& [arn, q] : queues_) {
      for (queue_internal::RecoveredSlot& slot : q.slots) {
        if (slot.stored) COURIER_RETURN_IF_ERROR(unsealer.Open(*slot.stored, arn));
      }
    }
    for (auto& [arn, q] : queues_) {
      queue_internal::RecoveredQueue out;
      // In the order first seen, moved whole. A FIFO queue's include the emptied slots of
      // removed messages (no longer in the index), which it skips as it skips any empty slot.
      out.slots = std::move(q.slots);
      out.admissions = std::move(q.admissions);
      out.next_seq = q.max_seq + 1;
      for (auto& [id, task] : q.move_tasks) out.move_tasks.emplace_back(id, std::move(task));
      COURIER_RETURN_IF_ERROR(q.queue->RestoreMessages(std::move(out)));
    }
    return absl::OkStatus();
  }

 private:
  struct Live {
    std::shared_ptr<SqsQueue> queue;
    // The slots in the order first seen, and where each is (the slots themselves are large:
    // a growing map would move them at every rehash).
    std::vector<queue_internal::RecoveredSlot> slots;
    SlotIndex index;
    queue_internal::RecoveredSlot* Find(const queue_internal::MessagePlace& p) {
      const uint32_t at = index.Find(p);
      return at == SlotIndex::kNone ? nullptr : &slots[at];
    }
    queue_internal::RecoveredSlot& At(const queue_internal::MessagePlace& p) {
      uint32_t& at = index[p];
      if (at == SlotIndex::kNone) {
        at = static_cast<uint32_t>(slots.size());
        slots.emplace_back();
      }
      return slots[at];
    }
    std::vector<queue_internal::DedupAdmitted> admissions;
    uint64_t max_seq = 0;
    std::map<uint64_t, MoveTask> move_tasks;  // each task's last record
  };
  // The queue a record names; nullptr (the record is skipped) for one deleted before it was
  // written (a send racing with DeleteQueue).
  Live* Find(const std::string& arn) {
    auto it = queues_.find(arn);
    return it == queues_.end() ? nullptr : &it->second;
  }

  absl::Status On(queue_internal::QueueCreated& r) {
    if (queues_.contains(r.arn)) {
      return absl::DataLossError(fmt::format("An SQS record creates {} twice", r.arn));
    }
    absl::StatusOr<std::shared_ptr<SqsQueue>> q;
    if (r.fifo) {
      q = FifoQueue::Restore(hub_, r);
    } else {
      q = Queue::Restore(hub_, r);
    }
    if (!q.ok()) {
      return absl::DataLossError(fmt::format("An SQS record cannot create {}: {}", r.arn,
                                             std::string(q.status().message())));
    }
    queues_[r.arn].queue = *std::move(q);
    return absl::OkStatus();
  }
  absl::Status On(queue_internal::QueueChanged& r) {
    Live* q = Find(r.arn);
    if (q == nullptr) return absl::OkStatus();
    absl::Status st = q->queue->RestoreConfig(r.attributes, absl::FromUnixNanos(r.modified_ns));
    if (!st.ok()) {
      return absl::DataLossError(
          fmt::format("An SQS record cannot configure {}: {}", r.arn, std::string(st.message())));
    }
    return absl::OkStatus();
  }
  absl::Status On(queue_internal::MoveTaskSaved& r) {
    if (Live* q = Find(r.arn)) q->move_tasks[r.id] = std::move(r.task);
    return absl::OkStatus();
  }
  absl::Status On(queue_internal::QueueTagged& r) {
    if (Live* q = Find(r.arn)) q->queue->RestoreTags(std::move(r.tags));
    return absl::OkStatus();
  }
  absl::Status On(queue_internal::QueuePurged& r) {
    Live* q = Find(r.arn);
    if (q == nullptr) return absl::OkStatus();
    q->queue->RestorePurge(absl::FromUnixNanos(r.at_ns));
    for (auto& slot : q->slots) Forget(*q, slot);
    if (q->queue->is_fifo()) {
      q->slots.clear();
      q->index.clear();
    }
    q->admissions.clear();  // a purge forgets deduplication ids too
    return absl::OkStatus();
  }
  absl::Status On(queue_internal::QueueDeleted& r) {
    auto it = queues_.find(r.arn);
    if (it == queues_.end()) return absl::OkStatus();
    std::shared_ptr<SqsQueue> queue = it->second.queue;
    queues_.erase(it);
    detail::RemoveResource(hub_, queue->arn());
    queue->MarkDeleted();
    std::lock_guard lock(deleted_.mu);
    deleted_.deleted[queue->name()] = absl::FromUnixNanos(r.at_ns);
    return absl::OkStatus();
  }
  absl::Status On(queue_internal::MessageStored& r) {
    Live* q = Find(r.arn);
    if (q == nullptr) return absl::OkStatus();
    if (q->queue->is_fifo()) q->max_seq = std::max(q->max_seq, r.place.stamp);
    queue_internal::RecoveredSlot& slot = q->At(r.place);
    slot.place = r.place;
    slot.received.reset();
    std::string arn = std::move(r.arn);  // the queue's: the slot needs no copy
    slot.stored = std::make_unique<queue_internal::MessageStored>(std::move(r));
    r.arn = std::move(arn);
    return absl::OkStatus();
  }
  absl::Status On(queue_internal::MessageReceived& r) {
    Live* q = Find(r.arn);
    if (q == nullptr) return absl::OkStatus();
    queue_internal::RecoveredSlot* slot = q->Find(r.place);
    // Two receives that raced with a visibility timeout may be recorded out of order: the
    // later receive (the higher count) wins.
    if (slot != nullptr && slot->stored && slot->place == r.place &&
        (!slot->received || slot->received->receives <= r.receives)) {
      std::string arn = std::move(r.arn);
      slot->received = std::move(r);
      r.arn = std::move(arn);
    }
    return absl::OkStatus();
  }
  absl::Status On(queue_internal::MessageRemoved& r) {
    Live* q = Find(r.arn);
    if (q == nullptr) return absl::OkStatus();
    queue_internal::RecoveredSlot* slot = q->Find(r.place);
    if (slot == nullptr || !slot->stored || !(slot->place == r.place)) return absl::OkStatus();
    Forget(*q, *slot);
    if (q->queue->is_fifo()) q->index[r.place] = SlotIndex::kNone;  // its entry is left behind
    return absl::OkStatus();
  }
  absl::Status On(queue_internal::DedupAdmitted& r) {
    if (Live* q = Find(r.arn)) q->admissions.push_back(std::move(r));
    return absl::OkStatus();
  }
  // A standard queue's slot outlives its message with its generation moved on, so that no
  // handle of the message matches whatever comes there next.
  static void Forget(Live& q, queue_internal::RecoveredSlot& slot) {
    if (!slot.stored) return;
    slot.stored.reset();
    slot.received.reset();
    if (!q.queue->is_fifo()) ++slot.place.stamp;
  }

  Hub& hub_;
  DeletedQueues& deleted_;
  std::map<std::string, Live, std::less<>> queues_;
};

absl::Status SqsOperations::Recover() {
  const std::shared_ptr<queue_internal::SqsLog>& log = this->log();
  if (log == nullptr) return absl::OkStatus();
  SqsRecovery rebuild(hub_, sqs_.state_->deleted);
  queue_internal::SqsRecord record;  // every record in turn
  COURIER_RETURN_IF_ERROR(log->log().Replay([&](std::string_view bytes) -> absl::Status {
    COURIER_RETURN_IF_ERROR(queue_internal::DecodeSqsRecord(bytes, record));
    return rebuild.Apply(record);
  }));
  return rebuild.Finish();
}

}  // namespace courier
