#include "courier/queue.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <set>

#include "courier/detail/digest.h"
#include "courier/detail/hex.h"
#include "courier/detail/hub_registry.h"
#include "courier/detail/record_log.h"
#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "courier/status.h"
#include "queue/extended_payload.h"
#include "queue/long_poll.h"
#include "queue/message_checks.h"
#include "queue/message_sealing.h"
#include "queue/message_store.h"
#include "queue/move_tasks.h"
#include "queue/progress_hook.h"
#include "queue/purge_limit.h"
#include "queue/queue_config.h"
#include "queue/sqs_records.h"

namespace courier {

using queue_internal::ApplyQueueAttributes;
using queue_internal::CheckAttributeNamesForGet;
using queue_internal::CheckHandleBatch;
using queue_internal::CheckMoveTaskDestination;
using queue_internal::CheckMoveTaskSource;
using queue_internal::CheckReceiveRequest;
using queue_internal::CheckSameAttributes;
using queue_internal::CheckSendBatch;
using queue_internal::CheckSendRequest;
using queue_internal::CheckStandardQueueName;
using queue_internal::DeadLetterTarget;
using queue_internal::LongPoll;
using queue_internal::MessageAttributeSelected;
using queue_internal::MoveTasks;
using queue_internal::ParseTaskHandle;
using queue_internal::PurgeLimit;
using queue_internal::QueueConfig;
using queue_internal::QueueDoesNotExist;
using queue_internal::QueueTags;
using queue_internal::ReceiptHandleIsInvalid;
using queue_internal::ReceiptToken;
using queue_internal::ReceiptTokenOf;
using queue_internal::ReplaceInvalidCharacters;
using queue_internal::RestoreQueueAttributes;
using queue_internal::SelectAttributes;
using queue_internal::SendBatchEntryError;
using queue_internal::TaskHandle;
using queue_internal::ToAttributeMap;

namespace {

constexpr absl::Duration kVisibilityCap = absl::Hours(12);
constexpr int64_t kInFlightLimit = 120000;

// A receipt handle: queue token, slot, slot generation and receive number, as five runs of
// eight lowercase hex digits (40 characters: it stays in ReceiptHandle's inline buffer).
struct HandleParts {
  uint32_t slot, gen, receive;
};
constexpr size_t kHandleSize = 40;

// The queue's token (ReceiptTokenOf): handles are encoded and checked against it.
using TokenText = ReceiptToken;

void EncodeHandle(const TokenText& token, const HandleParts& h, ReceiptHandle& handle) {
  char* out = handle.Overwrite(kHandleSize);
  std::memcpy(out, token.data(), token.size());
  detail::PutHex32(out + 16, h.slot);
  detail::PutHex32(out + 24, h.gen);
  detail::PutHex32(out + 32, h.receive);
}
// False for anything but a handle of the queue whose token this is. (An out-parameter, not an
// optional: a returned optional is assembled on the stack from narrow stores and then loaded
// whole, which stalls.)
bool DecodeHandle(const TokenText& token, std::string_view s, HandleParts& out) {
  if (s.size() != kHandleSize || std::memcmp(s.data(), token.data(), token.size()) != 0) {
    return false;
  }
  // Digits 16-31 are the slot word and the generation, 24-39 the generation and the receive.
  const std::optional<uint64_t> slot_gen = detail::GetHex64(s.data() + 16);
  const std::optional<uint64_t> gen_receive = detail::GetHex64(s.data() + 24);
  if (!slot_gen || !gen_receive) return false;
  out.slot = static_cast<uint32_t>(*slot_gen >> 32);
  out.gen = static_cast<uint32_t>(*slot_gen);
  out.receive = static_cast<uint32_t>(*gen_receive);
  return true;
}

int64_t Nanos(absl::Time t) { return absl::ToUnixNanos(t); }
absl::Time FromNanos(int64_t n) { return absl::FromUnixNanos(n); }
std::string Millis(int64_t nanos) { return std::to_string(nanos / 1000000); }

using queue_internal::Epochs;
using queue_internal::MessageStore;
using queue_internal::ProgressPoint;
using queue_internal::Slot;
using queue_internal::SlotExtra;
using queue_internal::SlotState;
using queue_internal::SlotWord;

// Where a slot's records say it is: its lane (the shard of the former core) and index there.
queue_internal::MessagePlace PlaceOf(uint32_t i, uint32_t gen) {
  return {MessageStore::LaneOf(i), i & ((1u << MessageStore::kLaneBits) - 1), gen};
}

// The records of one message's changes (sqs_records.h), when the queue has a log. Each is
// appended before the change it records can be seen by another thread (a send's before it is
// published) or right after the CAS that made it (the others): a message's records are then in
// the order of its changes, but for two receives that raced with a timeout, which recovery
// orders by their receive counts. Out of line and cold, so that the hot paths keep only the
// test of the log.
[[gnu::noinline, gnu::cold]] void RecordStored(queue_internal::SqsLog& log, const std::string& arn,
                                               uint32_t i, const Slot& slot, uint32_t receives,
                                               int64_t visible_at,
                                               queue_internal::MessageSealer& sealer, int64_t now) {
  queue_internal::MessageStored r{.arn = arn, .place = PlaceOf(i, slot.gen())};
  r.message_id = detail::FormatUuid(slot.id).str();
  r.body = slot.body();
  r.md5 = slot.has_md5();
  if (r.md5) r.body_md5 = slot.Md5();  // kept in the slot: a copy, not a computation
  if (const SlotExtra* extra = slot.extra) {
    r.attributes = extra->attributes;
    r.trace_header = extra->trace_header;
    r.group_id = extra->group_id;
    r.dead_letter_source_arn = extra->dead_letter_source_arn;
  }
  r.sent_ns = r.enqueued_ns = slot.enqueued();
  r.visible_at_ns = visible_at;
  r.receives = receives;
  r.first_receive_ns = receives > 0 ? slot.first_receive() : 0;
  sealer.Seal(r, now);
  log.Append(r);
}
[[gnu::noinline, gnu::cold]] void RecordReceived(queue_internal::SqsLog& log,
                                                 const std::string& arn, uint32_t i,
                                                 const Slot& slot, uint32_t receives,
                                                 int64_t until) {
  log.Append(queue_internal::MessageReceived{arn, PlaceOf(i, slot.gen()), receives,
                                             slot.first_receive(), slot.received_at(), until});
}
[[gnu::noinline, gnu::cold]] void RecordRemoved(queue_internal::SqsLog& log, const std::string& arn,
                                                uint32_t i, uint32_t gen) {
  log.Append(queue_internal::MessageRemoved{arn, PlaceOf(i, gen)});
}

}  // namespace

// The messages are in lanes of MessageStore (message_store.h): no lock on send, receive,
// delete or a change of visibility. A thread sends to its own lane and receives from its own
// first.
struct Queue::Impl {
  static constexpr uint32_t kLanes = MessageStore::kLanes;
  std::array<std::shared_ptr<MessageStore>, kLanes> lanes = [] {
    std::array<std::shared_ptr<MessageStore>, kLanes> all;
    for (uint32_t k = 0; k < kLanes; ++k) all[k] = MessageStore::Create(k);
    return all;
  }();
  std::atomic<int64_t> timers_at{INT64_MAX};  // MessageStore::FireDueTimers
  Impl() {
    std::array<MessageStore*, kLanes> raw;
    for (uint32_t k = 0; k < kLanes; ++k) raw[k] = lanes[k].get();
    for (auto& lane : lanes) lane->SetLanes(raw, &timers_at);
  }
  static uint32_t HomeLane() { return Epochs::ThreadNumber() % kLanes; }
  MessageStore& Home() { return *lanes[HomeLane()]; }
  MessageStore& LaneOf(uint32_t slot) { return *lanes[MessageStore::LaneOf(slot)]; }
  // After a receive that got nothing: the lanes it found empty (a mask) may give their memory
  // back. Out of line, as only such a receive comes here.
  [[gnu::noinline, gnu::cold]] void GiveBackEmptyLanes(uint32_t mask, int64_t now) {
    for (uint32_t k = 0; k < kLanes; ++k) {
      if ((mask >> k & 1) != 0) lanes[k]->GiveBackIfDrained(now);
    }
  }
  // Configurations are immutable and kept until the queue dies, so a reader needs only an
  // atomic pointer load (attribute changes are rare and small).
  // The attributes, with the durations the hot paths need already in nanoseconds.
  struct Config : QueueConfig {
    int64_t delay_ns = 0, retention_ns = 0, visibility_ns = 0;
    bool kms = false;  // KmsMasterKeyId is set: a send checks the key (MessageSealer::Prepare)
  };
  std::atomic<const Config*> config{nullptr};
  std::mutex config_mu;
  std::vector<std::unique_ptr<const Config>> configs;  // guarded by config_mu
  std::shared_ptr<WakeSignal> signal = std::make_shared<WakeSignal>();
  MoveTasks moves;  // this queue's, as a dead-letter queue
  TokenText token;  // set once by Create, before the queue is shared
  std::optional<LargePayloadOptions> large_payloads;
  bool replace_invalid_characters = false;
  bool shuffle = false;
  uint64_t duplicate_threshold = 0;  // duplicate when Random() < this; 0: never
  std::atomic<uint64_t> random_state{0};
  // SplitMix64 over an atomic counter: repeatable for one thread, safe for many.
  uint64_t Random() {
    uint64_t z = random_state.fetch_add(0x9E3779B97F4A7C15ULL, std::memory_order_relaxed);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  PurgeLimit purges;
  QueueTags tags;
  // Where the queue's changes are recorded (sqs_records.h); nullptr when nothing keeps them.
  std::shared_ptr<queue_internal::SqsLog> log;
  std::string arn;
  // The queue's encryption: its KMS check, and the sealing of the records of its messages.
  std::unique_ptr<queue_internal::MessageSealer> sealer;

  const Config* Load() const { return config.load(std::memory_order_acquire); }
  void Publish(QueueConfig attributes) {
    Config next{std::move(attributes)};
    next.delay_ns = absl::ToInt64Nanoseconds(next.delay);
    next.retention_ns = absl::ToInt64Nanoseconds(next.retention);
    next.visibility_ns = absl::ToInt64Nanoseconds(next.visibility);
    next.kms = next.other.contains("KmsMasterKeyId");
    configs.push_back(std::make_unique<const Config>(std::move(next)));
    sealer->Configure(*configs.back());
    config.store(configs.back().get(), std::memory_order_release);
  }

  // The earliest pending delay or visibility end (possibly stale: only used to wake a poll).
  std::optional<int64_t> NextEvent() {
    Epochs::Guard guard;
    std::optional<int64_t> next;
    for (auto& lane : lanes) {
      std::optional<int64_t> t = lane->NextTimer();
      if (t && (!next || *t < *next)) next = t;
    }
    return next;
  }
  // Whether the in-flight limit is reached: exact when the estimates say it may be.
  bool InFlightAtLeast(int64_t limit) const {
    int64_t estimate = 0;
    for (const auto& lane : lanes) estimate += lane->InFlightEstimate();
    if (estimate + kLanes * MessageStore::kInFlightSlack < limit) return false;
    int64_t sum = 0;
    for (const auto& lane : lanes) sum += lane->in_flight();
    return sum >= limit;
  }
};

// ---- creation and attributes ----------------------------------------------------------------

Queue::Queue(Hub& hub, std::string name, std::string arn, std::string url)
    : SqsQueue(std::move(name), std::move(arn), std::move(url), /*fifo=*/false),
      hub_(hub),
      impl_(std::make_unique<Impl>()) {}

Queue::~Queue() = default;

absl::StatusOr<std::shared_ptr<Queue>> Queue::Create(Hub& hub, std::string_view name,
                                                     const AttributeMap& attributes,
                                                     Options options) {
  COURIER_RETURN_IF_ERROR(CheckStandardQueueName(name));
  const std::string arn = hub.Arn("sqs", name);
  QueueConfig config;
  config.created = config.last_modified = hub.clock().Now();
  COURIER_RETURN_IF_ERROR(
      ApplyQueueAttributes(hub, arn, attributes, /*creating=*/true, /*fifo=*/false, config));
  if (auto found = hub.FindResource(arn)) {
    auto existing = std::dynamic_pointer_cast<Queue>(found);
    if (existing == nullptr) {
      return AwsError("QueueAlreadyExists",
                      "A queue already exists with the same name and a different type");
    }
    COURIER_RETURN_IF_ERROR(CheckSameAttributes(attributes, ToAttributeMap(config, /*fifo=*/false),
                                                existing->ConfiguredAttributes()));
    return existing;
  }
  const int64_t created = Nanos(config.created);
  std::shared_ptr<Queue> queue = Make(hub, name, std::move(config), std::move(options));
  absl::Status added = queue_internal::AddQueue(hub, queue,
                                                {.arn = arn,
                                                 .name = std::string(name),
                                                 .attributes = queue->ConfiguredAttributes(),
                                                 .created_ns = created});
  if (!added.ok()) {
    if (auto raced = std::dynamic_pointer_cast<Queue>(hub.FindResource(arn))) return raced;
    return added;
  }
  return queue;
}

std::shared_ptr<Queue> Queue::Make(Hub& hub, std::string_view name, QueueConfig config,
                                   Options options) {
  const std::string arn = hub.Arn("sqs", name);
  auto queue =
      std::shared_ptr<Queue>(new Queue(hub, std::string(name), arn, Sqs(hub).QueueUrl(name)));
  Impl& impl = *queue->impl_;
  if (options.large_payloads) {
    impl.large_payloads = queue_internal::WithDefaultStore(std::move(*options.large_payloads));
  }
  impl.token = ReceiptTokenOf(arn, config.created);
  impl.replace_invalid_characters = options.replace_invalid_characters;
  impl.shuffle = options.shuffle;
  const double p = std::clamp(options.duplicate_probability, 0.0, 1.0);
  impl.duplicate_threshold =
      p >= 1 ? UINT64_MAX : static_cast<uint64_t>(p * 18446744073709551616.0);
  impl.random_state = options.seed != 0 ? options.seed : detail::RandomBits();
  impl.log = queue_internal::SqsLogOf(hub);
  impl.arn = arn;
  impl.sealer =
      std::make_unique<queue_internal::MessageSealer>(KeyProviderOf(hub.environment()), arn);
  impl.tags.RecordTo(impl.log, arn);
  impl.moves.RecordTo(impl.log, arn);
  std::lock_guard lock(impl.config_mu);
  impl.Publish(std::move(config));
  return queue;
}

absl::StatusOr<std::shared_ptr<Queue>> Queue::Restore(Hub& hub,
                                                      const queue_internal::QueueCreated& r) {
  QueueConfig config;
  config.created = config.last_modified = FromNanos(r.created_ns);
  COURIER_RETURN_IF_ERROR(RestoreQueueAttributes(hub, r.arn, r.attributes, /*fifo=*/false, config));
  std::shared_ptr<Queue> queue = Make(hub, r.name, std::move(config), Options{});
  COURIER_RETURN_IF_ERROR(detail::AddResource(hub, queue));
  return queue;
}

absl::StatusOr<std::shared_ptr<Queue>> Queue::Create(Hub& hub, std::string_view name,
                                                     const AttributeMap& attributes) {
  return Create(hub, name, attributes, Options{});
}

Queue::AttributeMap Queue::ConfiguredAttributes() const {
  return ToAttributeMap(*impl_->Load(), /*fifo=*/false);
}

absl::StatusOr<Queue::AttributeMap> Queue::GetQueueAttributes(
    const std::vector<std::string>& names) const {
  if (deleted()) return QueueDoesNotExist();
  auto config = impl_->Load();
  COURIER_RETURN_IF_ERROR(CheckAttributeNamesForGet(names));
  const int64_t now = hub_.clock().NowUnixNanos();
  const int64_t retention = absl::ToInt64Nanoseconds(config->retention);
  int64_t visible = 0, in_flight = 0, delayed = 0;
  {
    Epochs::Guard guard;
    // Every lane swept before any is counted: a lane's timers may be another's messages'.
    for (auto& lane : impl_->lanes) lane->Sweep(now, retention);
    for (auto& lane : impl_->lanes) {
      visible += lane->visible();
      delayed += lane->delayed();
      in_flight += lane->in_flight();
    }
  }
  AttributeMap all = ToAttributeMap(*config, /*fifo=*/false);
  all["ApproximateNumberOfMessages"] = std::to_string(visible);
  all["ApproximateNumberOfMessagesNotVisible"] = std::to_string(in_flight);
  all["ApproximateNumberOfMessagesDelayed"] = std::to_string(delayed);
  all["CreatedTimestamp"] = std::to_string(absl::ToUnixSeconds(config->created));
  all["LastModifiedTimestamp"] = std::to_string(absl::ToUnixSeconds(config->last_modified));
  all["QueueArn"] = arn();
  return SelectAttributes(all, names);
}

absl::Status Queue::SetQueueAttributes(const AttributeMap& attributes) {
  if (deleted()) return QueueDoesNotExist();
  std::lock_guard lock(impl_->config_mu);
  QueueConfig next = *impl_->Load();
  COURIER_RETURN_IF_ERROR(
      ApplyQueueAttributes(hub_, arn(), attributes, /*creating=*/false, /*fifo=*/false, next));
  next.last_modified = hub_.clock().Now();
  const int64_t modified = Nanos(next.last_modified);
  const bool shorter = next.retention < impl_->Load()->retention;
  impl_->Publish(std::move(next));
  if (shorter) {  // messages already older than the new period expire now
    Epochs::Guard guard;
    for (auto& lane : impl_->lanes)
      lane->Shorten(hub_.clock().NowUnixNanos(), impl_->Load()->retention_ns);
  }
  if (impl_->log != nullptr) {
    impl_->log->Append(queue_internal::QueueChanged{arn(), ConfiguredAttributes(), modified});
  }
  return detail::Durable(absl::OkStatus());
}

absl::Status Queue::TagQueue(const AttributeMap& tags) {
  if (deleted()) return QueueDoesNotExist();
  return detail::Durable(impl_->tags.Tag(tags, name()));
}
absl::Status Queue::UntagQueue(const std::vector<std::string>& keys) {
  if (deleted()) return QueueDoesNotExist();
  impl_->tags.Untag(keys);
  return detail::Durable(absl::OkStatus());
}
Queue::AttributeMap Queue::ListQueueTags() const { return impl_->tags.List(); }

// ---- send ------------------------------------------------------------------------------------

absl::StatusOr<SendMessageResult> Queue::SendMessage(SendMessageRequest request) {
  absl::StatusOr<SendMessageResult> result = Send(request, /*md5=*/true);
  detail::Durable(result);
  return result;
}
absl::StatusOr<SendMessageResult> Queue::SendMessageNoMd5(SendMessageRequest request) {
  absl::StatusOr<SendMessageResult> result = Send(request, /*md5=*/false);
  detail::Durable(result);
  return result;
}

namespace {
// Moves what a SendMessageRequest has beyond its body into a slot's extra part (nullptr when
// there is nothing).
std::unique_ptr<SlotExtra> TakeExtra(SendMessageRequest& request) {
  if (request.attributes.empty() && !request.aws_trace_header && !request.message_group_id) {
    return nullptr;
  }
  auto extra = std::make_unique<SlotExtra>();
  if (!request.attributes.empty()) {
    extra->md5_of_attributes = detail::Md5OfMessageAttributes(request.attributes);
    extra->attributes = std::move(request.attributes);
  }
  extra->trace_header = std::move(request.aws_trace_header);
  extra->group_id = std::move(request.message_group_id);
  return extra;
}
}  // namespace

absl::StatusOr<SendMessageResult> Queue::Send(SendMessageRequest& request, bool md5) {
  if (deleted()) return QueueDoesNotExist();
  auto config = impl_->Load();
  std::optional<queue_internal::PayloadPointer> offloaded;
  if (impl_->large_payloads) {
    COURIER_RETURN_IF_ERROR(queue_internal::OffloadPayload(*impl_->large_payloads, request));
    offloaded = queue_internal::ParsePointerBody(request.body);
  }
  if (absl::Status valid = CheckSendRequest(request, *config); !valid.ok()) {
    if (impl_->replace_invalid_characters && ErrorName(valid) == "InvalidMessageContents") {
      request.body = ReplaceInvalidCharacters(request.body);
      valid = CheckSendRequest(request, *config);  // attributes may still fail
    }
    if (!valid.ok()) {
      if (offloaded) (void)queue_internal::DeleteBlob(*impl_->large_payloads, *offloaded);
      return valid;
    }
  }
  const int64_t now = hub_.clock().CoarseNowUnixNanos();
  if (config->kms) [[unlikely]] {
    if (absl::Status key = impl_->sealer->Prepare(now); !key.ok()) {
      if (offloaded) (void)queue_internal::DeleteBlob(*impl_->large_payloads, *offloaded);
      return key;
    }
  }
  absl::StatusOr<SendMessageResult> out(absl::in_place);  // filled in place: no copy at return
  SendMessageResult& result = *out;
  const detail::Uuid id = detail::NewRandomUuid();
  detail::WriteUuid(id, result.message_id.resize(36));
  if (request.aws_trace_header) {
    result.md5_of_message_system_attributes = detail::Md5OfMessageAttributes(
        {{"AWSTraceHeader", MessageAttribute::String(*request.aws_trace_header)}});
  }
  std::unique_ptr<SlotExtra> extra = TakeExtra(request);
  if (extra != nullptr) result.md5_of_message_attributes = extra->md5_of_attributes;
  detail::Md5Digest digest;
  if (md5) {
    digest = detail::Md5(request.body);
    detail::PutHex128(digest.data(), result.md5_of_message_body.resize(32));
  }
  const int64_t visible_at =
      now + (request.delay ? absl::ToInt64Nanoseconds(*request.delay) : config->delay_ns);
  {
    MessageStore& store = impl_->Home();
    // The lane's own thread pushes a visible message into a ring no other thread pushes to,
    // so it needs no guard; a delayed one may also need a shared ring (an expiry entry).
    std::optional<Epochs::Guard> guard;
    if (!store.Owner() || visible_at > now) guard.emplace();
    store.SweepSometimes(now, config->retention_ns);
    const uint32_t i = store.Allocate();
    queue_internal::AtProgressPoint(ProgressPoint::kSend);
    Slot& slot = store.at(i);
    slot.id = id;
    slot.set_enqueued(now);
    slot.received_ms.store(0, std::memory_order_relaxed);
    slot.first_receive_ms.store(0, std::memory_order_relaxed);
    MessageStore::SetBody(slot, request.body, md5 ? &digest : nullptr);
    slot.extra = extra.release();
    if (impl_->log != nullptr) [[unlikely]]
      RecordStored(*impl_->log, impl_->arn, i, slot, 0, visible_at, *impl_->sealer, now);
    store.Publish(i, slot, 0, now, visible_at, config->retention_ns, /*in_order=*/true);
  }
  // A long poll's check reads the ready order with seq_cst loads (MpmcRing).
  impl_->signal->NotifyAfterSeqCstChange();
  return out;
}

void Queue::AcceptDeadLetter(DeadLetter letter) {
  auto config = impl_->Load();
  const int64_t now = hub_.clock().NowUnixNanos();
  std::unique_ptr<SlotExtra> extra = TakeExtra(letter.request);
  if (extra == nullptr) extra = std::make_unique<SlotExtra>();
  extra->dead_letter_source_arn = std::move(letter.source_arn);
  {
    Epochs::Guard guard;
    MessageStore& store = impl_->Home();
    store.Sweep(now, config->retention_ns);
    const uint32_t i = store.Allocate();
    Slot& slot = store.at(i);
    const uint32_t receives = static_cast<uint32_t>(letter.receive_count);
    slot.id = detail::ParseUuid(letter.message_id).value_or(detail::NewRandomUuid());
    slot.set_enqueued(Nanos(letter.enqueued));
    slot.received_ms.store(0, std::memory_order_relaxed);
    slot.first_receive_ms.store(0, std::memory_order_relaxed);
    if (receives > 0) slot.SetReceived(Nanos(letter.first_receive), /*first=*/true);
    MessageStore::SetBody(slot, letter.request.body, nullptr);
    slot.extra = extra.release();
    if (impl_->log != nullptr) [[unlikely]]
      RecordStored(*impl_->log, impl_->arn, i, slot, receives, now, *impl_->sealer, now);
    store.Publish(i, receives, now, now, config->retention_ns, /*in_order=*/false);
  }
  impl_->signal->NotifyAfterSeqCstChange();
}

namespace {
// A taken slot's message as a dead letter (MessageStore::Take: nothing else touches it until
// the caller releases it).
Queue::DeadLetter TakeLetter(Slot& slot, uint32_t receives) {
  Queue::DeadLetter d;
  d.message_id = detail::FormatUuid(slot.id).str();
  d.request.body = slot.body();
  if (slot.extra != nullptr) {
    d.request.attributes = std::move(slot.extra->attributes);
    d.request.aws_trace_header = std::move(slot.extra->trace_header);
    d.request.message_group_id = std::move(slot.extra->group_id);
    d.source_arn = slot.extra->dead_letter_source_arn;
  }
  d.receive_count = static_cast<int>(receives);
  d.first_receive = FromNanos(slot.first_receive());
  d.enqueued = d.sent = FromNanos(slot.enqueued());
  return d;
}
}  // namespace

std::optional<Queue::DeadLetter> Queue::TakeOldestForMove() {
  auto config = impl_->Load();
  const int64_t now = hub_.clock().NowUnixNanos();
  Epochs::Guard guard;
  for (auto& lane : impl_->lanes) lane->Sweep(now, config->retention_ns);
  for (;;) {
    // The lane whose oldest visible message is the oldest.
    MessageStore* best = nullptr;
    int64_t best_time = 0;
    for (auto& lane : impl_->lanes) {
      std::optional<int64_t> t = lane->OldestVisible();
      if (t && (best == nullptr || *t < best_time)) best = lane.get(), best_time = *t;
    }
    if (best == nullptr) return std::nullopt;
    std::optional<std::pair<uint32_t, uint64_t>> v = best->PopVisible();
    if (!v) continue;  // taken meanwhile
    auto [i, word] = *v;
    Slot& slot = best->at(i);
    const uint32_t gen = slot.gen();
    if (!best->Take(i, word)) continue;  // changed meanwhile
    if (impl_->log != nullptr) [[unlikely]]
      RecordRemoved(*impl_->log, impl_->arn, i, gen);
    DeadLetter letter = TakeLetter(slot, SlotWord::receives(word));
    best->Release(i);
    return letter;
  }
}

// ---- recovery (Hub::Recover) -------------------------------------------------------------------

absl::Status Queue::RestoreConfig(const AttributeMap& attributes, absl::Time modified) {
  std::lock_guard lock(impl_->config_mu);
  QueueConfig next;
  next.created = impl_->Load()->created;
  COURIER_RETURN_IF_ERROR(RestoreQueueAttributes(hub_, arn(), attributes, /*fifo=*/false, next));
  next.last_modified = modified;
  impl_->Publish(std::move(next));
  return absl::OkStatus();
}

void Queue::RestoreTags(AttributeMap tags) { impl_->tags.Restore(std::move(tags)); }

void Queue::RestorePurge(absl::Time at) { (void)impl_->purges.Begin(name(), at); }

absl::Status Queue::RestoreMessages(queue_internal::RecoveredQueue queue) {
  std::vector<queue_internal::RecoveredSlot>& slots = queue.slots;
  const int64_t now = hub_.clock().NowUnixNanos();
  const int64_t retention = impl_->Load()->retention_ns;
  // Visible messages go back in the order they became visible.
  auto since = [](const queue_internal::RecoveredSlot& r) {
    if (r.received) return std::max(r.received->received_ns, r.received->until_ns);
    return r.stored ? r.stored->visible_at_ns : 0;
  };
  // The slots are large: sort where they are, not the slots themselves.
  std::vector<std::pair<int64_t, uint32_t>> order;
  order.reserve(slots.size());
  for (uint32_t i = 0; i < slots.size(); ++i) order.emplace_back(since(slots[i]), i);
  std::sort(order.begin(), order.end());  // ties in the order the slots came
  Epochs::Guard guard;
  for (const auto& [visible, at] : order) {
    queue_internal::RecoveredSlot& r = slots[at];
    const queue_internal::MessagePlace& p = r.place;
    if (p.shard >= MessageStore::kLanes || p.slot >= (1u << MessageStore::kLaneBits) - 2 ||
        p.stamp > UINT32_MAX) {
      return absl::DataLossError(fmt::format("An SQS record names no slot of queue {}: {}/{}/{}",
                                             arn(), p.shard, p.slot, p.stamp));
    }
    const uint32_t i = p.shard << MessageStore::kLaneBits | p.slot;
    MessageStore& store = impl_->LaneOf(i);
    store.RestoreSlot(i, static_cast<uint32_t>(p.stamp), r.stored != nullptr);
    if (!r.stored) continue;
    queue_internal::MessageStored& m = *r.stored;
    Slot& slot = store.at(i);
    slot.id = detail::ParseUuid(m.message_id).value_or(detail::Uuid{});
    slot.set_enqueued(m.enqueued_ns);
    if (m.body.size() > Slot::kMaxBodySize) {
      return absl::DataLossError(fmt::format("An SQS record's body is too large: {}", arn()));
    }
    detail::Md5Digest digest{};
    if (m.md5) digest = m.body_md5 ? *m.body_md5 : detail::Md5(m.body);
    MessageStore::SetBody(slot, m.body, m.md5 ? &digest : nullptr);
    SendMessageRequest extra_of{.attributes = std::move(m.attributes),
                                .aws_trace_header = std::move(m.trace_header),
                                .message_group_id = std::move(m.group_id)};
    std::unique_ptr<SlotExtra> extra = TakeExtra(extra_of);
    if (!m.dead_letter_source_arn.empty()) {
      if (extra == nullptr) extra = std::make_unique<SlotExtra>();
      extra->dead_letter_source_arn = std::move(m.dead_letter_source_arn);
    }
    slot.extra = extra.release();
    uint32_t receives = m.receives;
    int64_t first_receive = m.first_receive_ns, received_at = 0;
    if (r.received) {
      receives = r.received->receives;
      first_receive = r.received->first_receive_ns;
      received_at = r.received->received_ns;
    }
    slot.received_ms.store(0, std::memory_order_relaxed);
    slot.first_receive_ms.store(0, std::memory_order_relaxed);
    if (receives > 0) slot.SetReceived(first_receive, /*first=*/true);
    if (received_at != 0) slot.SetReceived(received_at, /*first=*/false);
    store.Publish(i, receives, now, m.visible_at_ns, retention, /*in_order=*/false);
    // Still in flight, or due back (the next sweep makes it visible).
    if (r.received && r.received->until_ns > r.received->received_ns)
      store.RestoreInFlight(i, receives, r.received->until_ns);
    r.stored.reset();  // now, so that the next message's copy reuses its memory
  }
  for (auto& lane : impl_->lanes) lane->FinishRestore();
  // Tasks that were running go on a second from now, as their next step would have.
  for (uint64_t id : impl_->moves.Restore(std::move(queue.move_tasks))) ScheduleMoveStep(id);
  return absl::OkStatus();
}

// ---- receive ---------------------------------------------------------------------------------

absl::StatusOr<std::vector<Message>> Queue::ReceiveMessage(const ReceiveRequest& request) {
  std::vector<Message> out;
  COURIER_RETURN_IF_ERROR(ReceiveMessage(request, out));
  return out;
}

absl::Status Queue::ReceiveMessage(const ReceiveRequest& request, std::vector<Message>& out) {
  if (deleted()) {
    out.clear();
    return QueueDoesNotExist();
  }
  auto config = impl_->Load();
  if (absl::Status valid = CheckReceiveRequest(request.max_number_of_messages, request.wait_time,
                                               request.visibility_timeout);
      !valid.ok()) {
    out.clear();
    return valid;
  }
  bool all_system = false;
  std::set<std::string, std::less<>> system_names;
  for (const auto& n : request.message_system_attribute_names) {
    if (n == "All") all_system = true;
    system_names.insert(n);
  }
  const bool want_attributes = !request.message_attribute_names.empty();
  const int64_t visibility_ns = request.visibility_timeout
                                    ? absl::ToInt64Nanoseconds(*request.visibility_timeout)
                                    : config->visibility_ns;
  const int max = request.max_number_of_messages;
  const std::shared_ptr<Queue> dlq = DeadLetterTarget<Queue>(*config, hub_);

  // Fills `m` (perhaps a message of an earlier receive, whose storage is reused) from a slot
  // just received.
  auto describe = [&](const Slot& slot, uint32_t receives, Message& m) {
    detail::WriteUuid(slot.id, m.message_id.resize(36));
    m.body.assign(slot.body());
    m.md5_of_body.clear();
    m.md5_of_message_attributes.clear();
    if (!m.message_attributes.empty()) m.message_attributes.clear();
    if (!m.attributes.empty()) m.attributes.clear();
    if (request.md5_of_body || slot.has_md5()) {
      detail::PutHex128(slot.Md5().data(), m.md5_of_body.resize(32));
    }
    const SlotExtra* extra = slot.extra;
    if (extra != nullptr && want_attributes && !extra->attributes.empty()) {
      for (const auto& [name, a] : extra->attributes) {
        if (MessageAttributeSelected(request.message_attribute_names, name)) {
          m.message_attributes.emplace(name, a);
        }
      }
      if (!m.message_attributes.empty()) {
        m.md5_of_message_attributes = detail::Md5OfMessageAttributes(m.message_attributes);
      }
    }
    if (extra != nullptr && impl_->large_payloads) {  // RestorePayload reads the marker
      if (auto it = extra->attributes.find(queue_internal::kExtendedPayloadSize);
          it != extra->attributes.end()) {
        m.message_attributes.insert(*it);
      }
    }
    if (!system_names.empty()) {
      auto add = [&](const char* name, std::string value) {
        if (all_system || system_names.contains(name)) m.attributes.emplace(name, value);
      };
      add("ApproximateReceiveCount", std::to_string(receives));
      add("ApproximateFirstReceiveTimestamp", Millis(slot.first_receive()));
      add("SentTimestamp", Millis(slot.enqueued()));
      add("SenderId", hub_.environment().account);
      if (system_names.contains("SqsManagedSseEnabled")) {  // by name only: All omits it [V]
        m.attributes.emplace("SqsManagedSseEnabled", config->sqs_managed_sse ? "true" : "false");
      }
      if (extra != nullptr && extra->trace_header) add("AWSTraceHeader", *extra->trace_header);
      if (extra != nullptr && extra->group_id) add("MessageGroupId", *extra->group_id);
      if (extra != nullptr && !extra->dead_letter_source_arn.empty()) {
        add("DeadLetterQueueSourceArn", extra->dead_letter_source_arn);
      }
    }
  };

  size_t n = 0;  // messages filled in `out` so far
  // The lanes a try found empty: a receive that got nothing lets them give their memory back
  // (GiveBackIfDrained), once its guard is let go.
  uint32_t found_empty = 0;
  // The precise time, not the coarse one a send reads: the timers that wake a long poll are set
  // for precise times. `use_hints`: pass by lanes whose WakeAt is later than now. A long poll's
  // re-checks do not: a lane being settled by another thread looks empty for a moment, and the
  // send that filled it may have notified before the poll began to wait.
  auto try_receive = [&](bool use_hints) {
    queue_internal::SqsLog* const log = impl_->log.get();  // loaded once, not per message
    const int64_t now = hub_.clock().NowUnixNanos();
    const int64_t retention = config->retention_ns;
    const int64_t until = now + visibility_ns;
    std::vector<DeadLetter> dead;
    Epochs::Guard guard;
    const size_t first = n;
    // Takes one run of the lane's oldest visible messages and receives them: false when it had
    // none. Out of line, so that the walk over empty lanes keeps its registers.
    auto receive_run = [&](MessageStore & store) __attribute__((noinline)) {
      std::array<MessageStore::SlotRef, MessageStore::kMaxPop> popped;
      const size_t taken = store.PopVisible(popped.data(), static_cast<size_t>(max) - n);
      if (taken == 0) return false;
      // The run's messages are claimed, then given their timers with one call, then copied,
      // then let go (Read).
      std::array<MessageStore::SlotRef, MessageStore::kMaxPop> claimed;
      std::array<uint32_t, MessageStore::kMaxPop> gens;
      size_t claims = 0;
      for (size_t k = 0; k < taken; ++k) {
        auto [i, found, word] = popped[k];
        queue_internal::AtProgressPoint(ProgressPoint::kReceive);
        Slot& slot = *found;
        const uint32_t receives = SlotWord::receives(word);
        const uint32_t gen = slot.gen();
        if (slot.enqueued() + retention <= now) {  // expired, its expiry not yet swept
          (void)store.Remove(i, slot, word);
          continue;
        }
        if (dlq != nullptr && receives >= static_cast<uint32_t>(config->max_receive_count)) {
          // The receive that would exceed maxReceiveCount moves the message instead.
          if (!store.Take(i, word)) continue;
          if (log != nullptr) [[unlikely]]
            RecordRemoved(*log, impl_->arn, i, gen);
          dead.push_back(TakeLetter(slot, receives));
          dead.back().source_arn = arn();
          store.Release(i);
          continue;
        }
        if (!store.Claim(slot, word, receives + 1)) continue;  // changed meanwhile
        claimed[claims] = {i, &slot, word};
        gens[claims++] = gen;
      }
      // With visibility 0 the messages are visible again once this receive is done.
      if (until > now) store.AddTimers({claimed.data(), claims}, now, until, retention);
      for (size_t k = 0; k < claims; ++k) {
        const auto [i, slot_of, word] = claimed[k];
        const uint32_t receives = SlotWord::receives(word);
        Slot& slot = *slot_of;
        slot.SetReceived(now, receives == 1);
        if (log != nullptr) [[unlikely]]
          RecordReceived(*log, impl_->arn, i, slot, receives, until);
        Message& m = n < out.size() ? out[n] : out.emplace_back();
        ++n;
        EncodeHandle(impl_->token, {i, gens[k], receives}, m.receipt_handle);
        describe(slot, receives, m);
      }
      for (size_t k = 0; k < claims; ++k) MessageStore::Read(*claimed[k].slot);
      return true;
    };
    // The lanes from the one that last gave this thread messages of this queue (at first its
    // own), skipping those that hold nothing: a consumer stays with a producer's lane while it
    // has messages.
    thread_local const Impl* hint_queue = nullptr;  // compared, never followed
    thread_local uint32_t hint_lane = 0;
    const uint32_t home = hint_queue == impl_.get() ? hint_lane : Impl::HomeLane();
    uint32_t lanes_left = Impl::kLanes;
    uint32_t lane_number = home;
    MessageStore* lane = nullptr;
    // Timers are in the lanes of the threads that set them (this thread's own, for its
    // receives): each lane's that are due fire now, whichever lanes this receive then takes
    // messages from.
    impl_->Home().FireDueTimers(now, retention);
    while (static_cast<int>(n) < max) {
      if (lane != nullptr) {
        if (receive_run(*lane)) {
          hint_queue = impl_.get();
          hint_lane = lane_number;
          continue;
        }
        lane->Settle(retention);  // nothing here now: passed by until
        found_empty |= 1u << lane_number;
      }
      if (lanes_left == 0) break;
      lane_number = (home + Impl::kLanes - lanes_left--) % Impl::kLanes;
      lane = impl_->lanes[lane_number].get();
      if (use_hints && lane->WakeAt() > now) {
        lane = nullptr;
        continue;
      }
      // The home lane's timers were swept just now (FireDueTimers).
      lane->Sweep(now, retention, /*timers=*/lane != &impl_->Home());
    }
    // Messages received with visibility 0, or duplicated (Options::duplicate_probability), are
    // put back by their handles, unless something changed them since.
    const bool all_back = until <= now;
    if (all_back || impl_->duplicate_threshold != 0) {
      for (size_t k = first; k < n; ++k) {
        HandleParts h;
        if (!all_back && impl_->Random() >= impl_->duplicate_threshold) continue;
        if (!DecodeHandle(impl_->token, out[k].receipt_handle.value(), h)) continue;
        MessageStore& store = impl_->LaneOf(h.slot);
        uint64_t word = store.at(h.slot).word.load(std::memory_order_acquire);
        if (SlotWord::receives(word) != h.receive || store.at(h.slot).gen() != h.gen) continue;
        const bool back = store.Reschedule(h.slot, word, now, now, retention);
        if (back && !all_back && log != nullptr) [[unlikely]]
          RecordReceived(*log, impl_->arn, h.slot, store.at(h.slot), h.receive, now);
      }
    }
    for (auto& d : dead) dlq->AcceptDeadLetter(std::move(d));
    if (impl_->shuffle) {  // Options::shuffle: Fisher-Yates over this receive's messages
      for (size_t k = n; k > 1; --k) std::swap(out[k - 1], out[impl_->Random() % k]);
    }
    if (impl_->large_payloads) {
      for (size_t k = 0; k < n; ++k)
        (void)queue_internal::RestorePayload(*impl_->large_payloads, out[k]);
    }
    return n > 0;
  };

  const absl::Duration wait = request.wait_time.value_or(config->receive_wait);
  // Past the in-flight limit short polls fail and long polls return nothing.
  if (impl_->InFlightAtLeast(kInFlightLimit)) {
    out.clear();
    if (wait <= absl::ZeroDuration()) {
      return AwsError("OverLimit", "Too many messages in flight: the limit is 120000.");
    }
    return absl::OkStatus();
  }
  // The handles are given once their receives are kept.
  auto received = [&] {
    out.resize(n);
    absl::Status kept = detail::Durable(absl::OkStatus());
    if (!kept.ok()) out.clear();
    return kept;
  };
  if (out.capacity() < static_cast<size_t>(max)) out.reserve(max);
  if (try_receive(/*use_hints=*/true)) return received();
  if (found_empty != 0) impl_->GiveBackEmptyLanes(found_empty, hub_.clock().NowUnixNanos());
  if (wait <= absl::ZeroDuration()) return received();

  // Long poll: woken by sends, and at the next delay or visibility end.
  Clock& clock = hub_.clock();
  LongPoll(
      clock, clock.Now() + wait, impl_->signal, [&] { return try_receive(/*use_hints=*/false); },
      [&](absl::Time) -> std::optional<absl::Time> {
        std::optional<int64_t> next = impl_->NextEvent();
        if (!next) return std::nullopt;
        return FromNanos(*next);
      });
  return received();
}

// ---- delete and visibility -------------------------------------------------------------------

namespace {
// The queue's own part of a receipt handle (unwrapped from the extended client's form when it
// is one); false for anything that is not a handle of this queue.
bool ParseHandle(std::string_view handle, const TokenText& token, HandleParts& h) {
  bool ok;
  if (handle.starts_with("-..")) {
    std::string inner;
    (void)queue_internal::SplitReceiptHandle(handle, &inner);
    ok = DecodeHandle(token, inner, h);
  } else {
    ok = DecodeHandle(token, handle, h);
  }
  return ok && h.receive != 0;
}
// The blob an extended client's handle points at, if it is one.
std::optional<queue_internal::PayloadPointer> BlobOf(std::string_view handle) {
  if (!handle.starts_with("-..")) return std::nullopt;
  std::string inner;
  return queue_internal::SplitReceiptHandle(handle, &inner);
}
}  // namespace

namespace {
// Whether `word` (and the slot's generation) still describe the receive a handle names. Not
// while that receive is still being read: its handles are not given out yet.
bool Matches(const Slot& slot, uint64_t word, const HandleParts& h) {
  return SlotWord::state(word) != SlotState::kFree && (word & SlotWord::kReading) == 0 &&
         SlotWord::receives(word) == h.receive && slot.gen() == h.gen;
}

// Deletes the message a parsed handle names. True when it deleted; false for a message gone
// already or received again since (a stale handle: success, nothing deleted). nullopt when the
// slot never existed (ReceiptHandleIsInvalid). `log`, when there is one, records the delete.
// Whether the message is visible or in flight, a handle of its latest receive deletes it.
// No guard: a removal touches the slot's word, the slot itself and this thread's pools, and
// pops from no ring.
std::optional<bool> DeleteMessageAt(MessageStore& store, const HandleParts& h,
                                    queue_internal::SqsLog* log, const std::string& arn) {
  Slot* const found = store.Lookup(h.slot);
  if (found == nullptr) return std::nullopt;
  Slot& slot = *found;
  uint64_t word = slot.word.load(std::memory_order_acquire);
  while (Matches(slot, word, h)) {
    if (store.Remove(h.slot, slot, word)) {
      queue_internal::AtProgressPoint(ProgressPoint::kDelete);
      if (log != nullptr) [[unlikely]]
        RecordRemoved(*log, arn, h.slot, h.gen);
      return true;
    }
  }
  return false;
}
}  // namespace

absl::Status Queue::DeleteMessage(const ReceiptHandle& handle) {
  if (deleted()) return QueueDoesNotExist();
  HandleParts h;
  if (!ParseHandle(handle.value(), impl_->token, h)) return ReceiptHandleIsInvalid(handle.value());
  const std::optional<bool> deleted =
      DeleteMessageAt(impl_->LaneOf(h.slot), h, impl_->log.get(), impl_->arn);
  if (!deleted) return ReceiptHandleIsInvalid(handle.value());
  if (*deleted && impl_->large_payloads) {
    if (auto blob = BlobOf(handle.value()))
      (void)queue_internal::DeleteBlob(*impl_->large_payloads, *blob);
  }
  return detail::Durable(absl::OkStatus());
}

absl::Status Queue::ChangeMessageVisibility(const ReceiptHandle& handle, absl::Duration timeout) {
  if (deleted()) return QueueDoesNotExist();
  HandleParts h;
  if (!ParseHandle(handle.value(), impl_->token, h)) return ReceiptHandleIsInvalid(handle.value());
  if (timeout < absl::ZeroDuration() || timeout > kVisibilityCap ||
      timeout != absl::Trunc(timeout, absl::Seconds(1))) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and "
        "43200.",
        absl::ToInt64Seconds(timeout)));
  }
  auto config = impl_->Load();
  const int64_t now = hub_.clock().NowUnixNanos();
  const int64_t until = now + absl::ToInt64Nanoseconds(timeout);
  Epochs::Guard guard;
  MessageStore& store = impl_->LaneOf(h.slot);
  if (!store.contains(h.slot)) return ReceiptHandleIsInvalid(handle.value());
  Slot& slot = store.at(h.slot);
  uint64_t word = slot.word.load(std::memory_order_acquire);
  for (;;) {
    if (!Matches(slot, word, h)) {
      return InvalidParameterValue(fmt::format(
          "Value {} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is "
          "not available for visibility timeout change.",
          handle.value()));
    }
    if (until - slot.received_at() > absl::ToInt64Nanoseconds(kVisibilityCap)) {
      return InvalidParameterValue(fmt::format(
          "Value {} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout "
          "for the message is beyond the limit [43200 seconds]",
          absl::ToInt64Seconds(timeout)));
    }
    if (store.Reschedule(h.slot, word, now, until, config->retention_ns)) break;
  }
  queue_internal::AtProgressPoint(ProgressPoint::kChangeVisibility);
  if (impl_->log != nullptr) [[unlikely]]
    RecordReceived(*impl_->log, impl_->arn, h.slot, slot, h.receive, until);
  if (until <= now) impl_->signal->NotifyAfterSeqCstChange();  // a long poll may take it now
  return detail::Durable(absl::OkStatus());
}

// ---- batches ---------------------------------------------------------------------------------

absl::StatusOr<Queue::SendBatchResult> Queue::SendMessageBatch(
    std::vector<SendBatchEntry> entries) {
  if (deleted()) return QueueDoesNotExist();
  COURIER_RETURN_IF_ERROR(CheckSendBatch(entries, impl_->large_payloads.has_value()));
  absl::StatusOr<SendBatchResult> out(absl::in_place);
  for (auto& e : entries) {
    absl::StatusOr<SendMessageResult> r = Send(e.request, /*md5=*/true);
    if (r.ok()) {
      out->successful.emplace_back(e.id, *std::move(r));
    } else {
      out->failed.push_back(SendBatchEntryError(e.id, r.status()));
    }
  }
  detail::Durable(out);  // one wait for the batch
  return out;
}

namespace {
void AddOutcome(Queue::BatchResult& result, const std::string& id, const absl::Status& st) {
  if (st.ok()) {
    result.successful.push_back(id);
  } else {
    result.failed.push_back({id, true, std::string(ErrorName(st)), std::string(ErrorMessage(st))});
  }
}
}  // namespace

absl::StatusOr<Queue::BatchResult> Queue::DeleteMessageBatch(
    const std::vector<HandleBatchEntry>& entries) {
  if (deleted()) return QueueDoesNotExist();
  COURIER_RETURN_IF_ERROR(CheckHandleBatch(entries, "DeleteMessageBatchRequestEntry"));
  absl::StatusOr<BatchResult> out(absl::in_place);
  BatchResult& result = *out;
  result.successful.reserve(entries.size());
  queue_internal::SqsLog* const log = impl_->log.get();
  for (const HandleBatchEntry& e : entries) {
    const std::string_view handle = e.receipt_handle.value();
    HandleParts h;
    std::optional<bool> deleted;
    if (ParseHandle(handle, impl_->token, h))
      deleted = DeleteMessageAt(impl_->LaneOf(h.slot), h, log, impl_->arn);
    if (!deleted) {
      AddOutcome(result, e.id, ReceiptHandleIsInvalid(handle));
      continue;
    }
    if (*deleted && impl_->large_payloads) {
      if (auto blob = BlobOf(handle))
        (void)queue_internal::DeleteBlob(*impl_->large_payloads, *blob);
    }
    result.successful.push_back(e.id);
  }
  detail::Durable(out);
  return out;
}

absl::StatusOr<Queue::BatchResult> Queue::ChangeMessageVisibilityBatch(
    const std::vector<HandleBatchEntry>& entries) {
  if (deleted()) return QueueDoesNotExist();
  COURIER_RETURN_IF_ERROR(CheckHandleBatch(entries, "ChangeMessageVisibilityBatchRequestEntry"));
  BatchResult result;
  detail::DeferredAwaits deferred;  // one wait for every entry's record
  for (const auto& e : entries) {
    AddOutcome(result, e.id, ChangeMessageVisibility(e.receipt_handle, e.visibility_timeout));
  }
  COURIER_RETURN_IF_ERROR(deferred.Await());
  return result;
}

// ---- purge -----------------------------------------------------------------------------------

absl::Status Queue::PurgeQueue() {
  if (deleted()) return QueueDoesNotExist();
  const absl::Time now = hub_.clock().Now();
  COURIER_RETURN_IF_ERROR(impl_->purges.Begin(name(), now));
  // Messages sent while the purge runs may go or stay, as in SQS. Each one it removes is
  // recorded, after the purge itself, so that none sent before the purge's record comes back
  // at recovery and none sent after it is lost.
  queue_internal::SqsLog* const log = impl_->log.get();
  if (log != nullptr) log->Append(queue_internal::QueuePurged{arn(), Nanos(now)});
  {
    Epochs::Guard guard;
    for (auto& lane : impl_->lanes) {
      lane->Clear([&](uint32_t i, uint32_t gen) {
        if (log != nullptr) RecordRemoved(*log, impl_->arn, i, gen);
      });
    }
  }
  return detail::Durable(absl::OkStatus());
}

// ---- message move tasks (move_tasks.h) ----------------------------------------------------------

absl::StatusOr<std::string> Queue::StartMessageMoveTask(std::optional<std::string> destination,
                                                        std::optional<int> max_per_second) {
  if (deleted()) return QueueDoesNotExist();
  COURIER_RETURN_IF_ERROR(CheckMoveTaskSource(hub_, arn(), max_per_second));
  COURIER_RETURN_IF_ERROR(CheckMoveTaskDestination(hub_, destination, /*fifo=*/false));
  auto counts =
      GetQueueAttributes({"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                          "ApproximateNumberOfMessagesDelayed"});
  int64_t to_move = 0;
  for (const auto& [k, v] : *counts) to_move += std::stoll(v);
  COURIER_ASSIGN_OR_RETURN(
      const uint64_t id, impl_->moves.Start(arn(), std::move(destination), max_per_second, to_move,
                                            hub_.clock().Now()));
  RunMoveTask(id);
  absl::StatusOr<std::string> handle = TaskHandle(arn(), id);
  detail::Durable(handle);  // the task's record and the first step's moves
  return handle;
}

void Queue::RunMoveTask(uint64_t id) {
  // A message moves as a new one (new MessageId, enqueue time and receive count) to a standard
  // queue; one that cannot is put back unchanged and fails the task, with the reason AWS gives.
  auto move_one = [this](const std::string& destination_arn) -> MoveTasks::Moved {
    std::optional<DeadLetter> letter = TakeOldestForMove();
    if (!letter) return {MoveTasks::Moved::kNoneLeft, {}};
    const std::string& to = destination_arn.empty() ? letter->source_arn : destination_arn;
    auto destination = std::dynamic_pointer_cast<Queue>(hub_.FindResource(to));
    if (destination == nullptr) {
      AcceptDeadLetter(std::move(*letter));
      return {MoveTasks::Moved::kFailed, "AWS.SimpleQueueService.NonExistentQueue"};
    }
    if (!destination->SendMessage(std::move(letter->request)).ok()) {
      return {MoveTasks::Moved::kFailed, "A message could not be sent to the destination queue."};
    }
    return {MoveTasks::Moved::kMoved, {}};
  };
  if (impl_->moves.Step(id, deleted(), move_one)) ScheduleMoveStep(id);
}

void Queue::ScheduleMoveStep(uint64_t id) {
  std::weak_ptr<Queue> self = weak_from_this();
  hub_.clock().ScheduleAfter(absl::Seconds(1), [self, id] {
    if (auto q = self.lock()) q->RunMoveTask(id);
  });
}

absl::StatusOr<std::vector<Queue::MoveTask>> Queue::ListMessageMoveTasks(int max_results) const {
  return impl_->moves.List(max_results);  // also of a deleted queue: a failed task says why
}

absl::StatusOr<int64_t> Queue::CancelMessageMoveTask(Hub& hub, std::string_view handle) {
  if (handle.find('#') == std::string_view::npos) {
    return InvalidParameterValue("Value for parameter TaskHandle is invalid.");
  }
  auto parsed = ParseTaskHandle(handle);
  auto queue = parsed ? std::dynamic_pointer_cast<Queue>(hub.FindResource(parsed->first)) : nullptr;
  if (queue == nullptr) return ResourceNotFound("Task does not exist.");
  absl::StatusOr<int64_t> moved = queue->impl_->moves.Cancel(parsed->second);
  detail::Durable(moved);
  return moved;
}

}  // namespace courier
