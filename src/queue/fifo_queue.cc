#include "courier/fifo_queue.h"

#include <absl/container/flat_hash_map.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <span>
#include <utility>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "courier/detail/digest.h"
#include "courier/detail/hex.h"
#include "courier/detail/hub_registry.h"
#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/status.h"
#include "queue/dedup_window.h"
#include "queue/extended_payload.h"
#include "queue/fifo_groups.h"
#include "queue/long_poll.h"
#include "queue/message_checks.h"
#include "queue/message_sealing.h"
#include "queue/move_tasks.h"
#include "queue/purge_limit.h"
#include "queue/queue_config.h"
#include "queue/sqs_records.h"

namespace courier {

using queue_internal::ApplyQueueAttributes;
using queue_internal::CheckAttributeNamesForGet;
using queue_internal::CheckHandleBatch;
using queue_internal::CheckMoveTaskDestination;
using queue_internal::CheckMoveTaskSource;
using queue_internal::CheckSendBatch;
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
using queue_internal::RestoreQueueAttributes;
using queue_internal::SelectAttributes;
using queue_internal::SendBatchEntryError;
using queue_internal::TaskHandle;
using queue_internal::ToAttributeMap;

namespace {

constexpr absl::Duration kDedupWindow = absl::Minutes(5);
constexpr absl::Duration kAttemptWindow = absl::Minutes(5);
constexpr absl::Duration kVisibilityCap = absl::Hours(12);
constexpr int64_t kInFlightLimit = 120000;   // SQS FIFO; receives past it return nothing
constexpr size_t kScannedMessages = 120000;  // SQS FIFO looks for groups among the first ones

// Eight decimal digits of x < 10^8, most significant first in memory, in one word: split into
// 4-digit, then 2-digit, then 1-digit lanes with multiplications (no loop, no division).
uint64_t Decimal8Word(uint32_t x) {
  uint64_t v = x / 10000 | uint64_t{x % 10000} << 32;  // two 4-digit lanes of 32 bits
  const uint64_t hundreds = (v * 5243 >> 19) & 0x0000007F0000007FULL;  // lane / 100, lane < 10^4
  v = hundreds | (v - hundreds * 100) << 16;                      // four 2-digit lanes of 16 bits
  const uint64_t tens = (v * 103 >> 10) & 0x000F000F000F000FULL;  // lane / 10, lane < 100
  v = tens | (v - tens * 10) << 8;                                // eight digits, one a byte
  return v + 0x3030303030303030ULL;
}

// A SequenceNumber of 20 digits: increasing with the group core's sequence, not consecutive.
InlineString<20> SequenceNumber(uint64_t seq) {
  const uint64_t v = 10'000'000'000'000'000'000ULL + seq * 1024 + (seq * 7919) % 1024;
  const uint32_t top = static_cast<uint32_t>(v / 10'000'000'000'000'000ULL);  // 4 digits
  const uint64_t rest = v % 10'000'000'000'000'000ULL;
  InlineString<20> out;
  char* p = out.resize(20);
  const uint64_t top_word = Decimal8Word(top);  // "0000dddd": its last four bytes
  std::memcpy(p, reinterpret_cast<const char*>(&top_word) + 4, 4);
  const uint64_t mid = Decimal8Word(static_cast<uint32_t>(rest / 100'000'000));
  const uint64_t low = Decimal8Word(static_cast<uint32_t>(rest % 100'000'000));
  std::memcpy(p + 4, &mid, 8);
  std::memcpy(p + 12, &low, 8);
  return out;
}

inline __attribute__((always_inline)) void PutHex64(char* out, uint64_t v) {
  detail::PutHex32(out, static_cast<uint32_t>(v >> 32));
  detail::PutHex32(out + 8, static_cast<uint32_t>(v));
}

// Exactly 8 (16) lowercase hex digits at `text`; false on any other character.
inline __attribute__((always_inline)) bool GetHex32(const char* text, uint32_t* out) {
  const std::optional<uint32_t> v = detail::GetHex32(text);
  *out = v.value_or(0);
  return v.has_value();
}
inline __attribute__((always_inline)) bool GetHex64(const char* text, uint64_t* out) {
  const std::optional<uint64_t> v = detail::GetHex64(text);  // 16 at once on SSE2
  *out = v.value_or(0);
  return v.has_value();
}

// MessageIds: the sequence number through a keyed permutation of 128 bits (a three-round Feistel
// network whose round function is splitmix64's finaliser, keys random per queue), shown as a
// version 4 UUID. Distinct sequence numbers give distinct ids (up to the six fixed bits, as
// random UUIDs), and a duplicate send finds its original's id from the sequence number its
// deduplication entry keeps, so the entry needs no 16 bytes for it.
using IdKeys = std::array<uint64_t, 3>;
uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
detail::Uuid MessageIdOf(const IdKeys& keys, uint64_t seq) {
  uint64_t left = 0, right = seq;  // the first round mixes the sequence number
  for (const uint64_t k : keys) {
    left ^= Mix(right ^ k);
    std::swap(left, right);
  }
  detail::Uuid u{left, right};
  u.hi = (u.hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  u.lo = (u.lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return u;
}
IdKeys NewIdKeys() { return {detail::RandomBits(), detail::RandomBits(), detail::RandomBits()}; }

int64_t NanosOf(absl::Time t) { return absl::ToUnixNanos(t); }  // InfinitePast: INT64_MIN
absl::Time TimeOf(int64_t ns) {
  return ns == INT64_MIN ? absl::InfinitePast() : absl::FromUnixNanos(ns);
}

// A deduplication entry's value: the original's sequence number, with this bit set when its
// MessageId is not MessageIdOf(seq) (a dead letter keeps the id it had in its source queue; its
// deduplication id is that id, so a duplicate's request carries it).
constexpr uint64_t kForeignId = uint64_t{1} << 63;

// The queue's receipt handle, 56 hex digits (short enough for ReceiptHandle to keep inline):
// token; slot and visibility deadline (Unix seconds); sequence; shard (4 bits) and receive
// count (28 bits).
constexpr size_t kHandleSize = 56;
using TokenText = ReceiptToken;
// Writes 16 lowercase hex digits of `v`.
inline __attribute__((always_inline)) void PutHex64Fast(char* out, uint64_t v) {
#if defined(__SSE2__)
  __m128i first, second;
  detail::Hex128(_mm_cvtsi64_si128(static_cast<long long>(__builtin_bswap64(v))), first, second);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), first);
#else
  PutHex64(out, v);
#endif
}

// Writes the 32 hex digits of an MD5 digest. Md5() returns it in two registers: taken from them
// as two words (detail::PutHex128 would load the 16 bytes from memory, one load spanning two
// fresh stores of the spilled registers: a store-forwarding stall seen in perf annotate).
inline __attribute__((always_inline)) void PutMd5Hex(const detail::Md5Digest& digest, char* out) {
#if defined(__SSE2__)
  uint64_t first, second;
  std::memcpy(&first, digest.data(), 8);
  std::memcpy(&second, digest.data() + 8, 8);
  // In registers, so that the compiler does not fold the two moves back into one 16-byte load.
  asm("" : "+r"(first), "+r"(second));
  const __m128i v = _mm_unpacklo_epi64(_mm_cvtsi64_si128(static_cast<long long>(first)),
                                       _mm_cvtsi64_si128(static_cast<long long>(second)));
  __m128i low, high;
  detail::Hex128(v, low, high);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), low);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), high);
#else
  detail::PutHex128(digest.data(), out);
#endif
}

// A handle's sequence number field carries the milliseconds of its deadline in its top bits
// (sequence numbers stay far below 2^54); its seconds go beside the slot.
constexpr int kSeqBits = 54;
constexpr uint64_t kSeqMask = (uint64_t{1} << kSeqBits) - 1;

// Writes the handle of receipt `r` into `handle`, in place.
void EncodeHandle(const TokenText& token, const queue_internal::FifoReceipt& r,
                  ReceiptHandle& handle) {
  char* out = handle.Overwrite(kHandleSize);
  std::memcpy(out, token.data(), token.size());
  const auto deadline_s = static_cast<uint32_t>(r.deadline_ms / 1000);
  const auto deadline_ms = static_cast<uint64_t>(r.deadline_ms % 1000);
  PutHex64Fast(out + 16, uint64_t{r.slot} << 32 | deadline_s);
  PutHex64Fast(out + 32, (r.seq & kSeqMask) | deadline_ms << kSeqBits);
  detail::PutHex32(out + 48, r.shard << 28 | (r.receive & ((1u << 28) - 1)));
}

// Writes the deduplication key of a send into `buf` (at least 2 * 128 + 1 bytes): the id, or
// with DeduplicationScope messageGroup the group, a newline and the id. A copy, because the
// record it comes from moves into the queue while the key is still in use.
std::string_view DedupKey(bool group_scope, std::string_view group, std::string_view id,
                          char* buf) {
  size_t n = 0;
  if (group_scope) {
    std::memcpy(buf, group.data(), group.size());
    buf[group.size()] = '\n';
    n = group.size() + 1;
  }
  std::memcpy(buf + n, id.data(), id.size());
  return {buf, n + id.size()};
}
constexpr size_t kMaxDedupKey = 2 * 128 + 1;  // both ids are at most 128 characters

}  // namespace

// One message as stored. Immutable once queued (receive counts live in the group core's node).
struct FifoQueue::Record {
  // What few messages carry, apart, so that every message stored is smaller (176 bytes
  // instead of 328).
  struct Extra {
    MessageAttributes attributes;
    Md5Hex md5_of_attributes;
    std::optional<std::string> trace_header;
    std::string dead_letter_source_arn;
  };
  MessageId message_id;
  Md5Hex md5_of_body;
  std::string body;
  std::string dedup_id;          // the group id is the group's (FifoGroups' node.group->id)
  absl::Time sent;               // SentTimestamp: the original send
  absl::Time enqueued;           // retention counts from here (reset in a FIFO dead-letter queue)
  std::unique_ptr<Extra> extra;  // null for a message with none of them

  const Extra& extras() const {
    static const Extra kNone{};
    return extra != nullptr ? *extra : kNone;
  }
  Extra& mutable_extras() {
    if (extra == nullptr) extra = std::make_unique<Extra>();
    return *extra;
  }

  // Back to a default Record when its slot is freed, without building one. The body's memory
  // goes (it may be large); short fields keep theirs.
  void Release() {
    message_id.clear();
    std::string().swap(body);
    md5_of_body.clear();
    dedup_id.clear();
    // Each from the constant: `a = b = T()` copies b back out whole right after storing its
    // parts, which stalls on store forwarding.
    sent = absl::Time();
    enqueued = absl::Time();
    extra.reset();
  }
};

// The queue's attributes (the shared SQS configuration); immutable once published.
struct FifoQueue::Config : QueueConfig {
  bool group_scope = false;  // DeduplicationScope is messageGroup (set by Publish)
};

struct FifoQueue::Impl {
  using Groups = queue_internal::FifoGroups<Record>;
  Groups groups;
  // What a duplicate send returns: the original's sequence number, from which its MessageId
  // follows (see kForeignId). Kept for every send of the last five minutes: compact.
  queue_internal::DedupWindow<uint64_t> dedup{kDedupWindow};
  IdKeys id_keys = NewIdKeys();  // set once, before the queue is shared
  // The current configuration. Every version published stays alive with the queue (attribute
  // changes are rare), so readers take a plain pointer without reference counting.
  std::atomic<const Config*> config{nullptr};
  std::mutex config_mu;                                // serialises attribute changes
  std::vector<std::unique_ptr<const Config>> configs;  // guarded by config_mu
  std::shared_ptr<WakeSignal> signal = std::make_shared<WakeSignal>();
  TokenText token;  // starts every handle (ReceiptTokenOf); set once by Create
  std::optional<LargePayloadOptions> large_payloads;
  PurgeLimit purges;
  QueueTags tags;

  // ReceiveRequestAttemptId: the receives to replay, and which message belongs to which.
  struct Attempt {
    absl::Time started;
    std::vector<queue_internal::FifoReceipt> receipts;
    std::vector<Message> messages;
    bool spent = false;  // a message was deleted or had its visibility changed
  };
  std::atomic<bool> attempts_used{false};
  std::mutex attempts_mu;
  absl::flat_hash_map<std::string, Attempt> attempts;
  absl::flat_hash_map<uint64_t, std::string> attempt_of_seq;
  std::deque<std::pair<absl::Time, std::string>> attempt_order;  // as stored, for pruning

  // Move tasks with this queue as source, oldest first.
  MoveTasks moves;  // this queue's, as a dead-letter queue

  // Where the queue's changes are recorded (sqs_records.h); nullptr when nothing keeps them.
  std::shared_ptr<queue_internal::SqsLog> log;
  std::string arn;
  // The queue's encryption: its KMS check, and the sealing of the records of its messages
  // (which read the time of the seal from `clock`).
  std::unique_ptr<queue_internal::MessageSealer> sealer;
  std::shared_ptr<Clock> clock;
  // Records the group core's changes; its listener when there is a log.
  struct Recorder final : Groups::Listener {
    const Impl* impl = nullptr;
    void Stored(uint32_t shard, const Groups::Node& n) override;
    void Received(uint32_t shard, const Groups::Node& n) override {
      impl->log->Append(queue_internal::MessageReceived{impl->arn,
                                                        {shard, n.slot, n.seq},
                                                        n.receives,
                                                        NanosOf(n.first_received),
                                                        NanosOf(n.received),
                                                        n.deadline_ns});
    }
    void Removed(uint32_t shard, const Groups::Node& n) override {
      impl->log->Append(queue_internal::MessageRemoved{impl->arn, {shard, n.slot, n.seq}});
    }
  } recorder;
  // Out of line and cold: a send keeps only the test of `log`.
  [[gnu::noinline, gnu::cold]] void RecordAdmitted(std::string_view key, uint64_t value,
                                                   absl::Time at) const {
    log->Append(queue_internal::DedupAdmitted{arn, std::string(key), value, NanosOf(at)});
  }

  const Config* Load() const { return config.load(std::memory_order_acquire); }
  void Publish(Config next) {
    next.group_scope = next.deduplication_scope == "messageGroup";
    configs.push_back(std::make_unique<const Config>(std::move(next)));
    sealer->Configure(*configs.back());
    config.store(configs.back().get(), std::memory_order_release);
  }

  // Forgets attempts past their 5-minute window (a consumer that uses a fresh attempt id for
  // every receive would otherwise keep every message it ever received).
  void PruneAttemptsLocked(absl::Time now) {
    while (!attempt_order.empty() && attempt_order.front().first + kAttemptWindow <= now) {
      auto it = attempts.find(attempt_order.front().second);
      if (it != attempts.end() && it->second.started == attempt_order.front().first) {
        for (const auto& r : it->second.receipts) attempt_of_seq.erase(r.seq);
        attempts.erase(it);
      }
      attempt_order.pop_front();
    }
  }
  void ClearAttempts() {
    std::lock_guard lock(attempts_mu);
    attempts.clear();
    attempt_of_seq.clear();
    attempt_order.clear();
  }

  void SpendAttemptOf(uint64_t seq) {
    if (!attempts_used.load(std::memory_order_acquire)) return;
    std::lock_guard lock(attempts_mu);
    auto it = attempt_of_seq.find(seq);
    if (it == attempt_of_seq.end()) return;
    auto attempt = attempts.find(it->second);
    if (attempt != attempts.end()) attempt->second.spent = true;
    attempt_of_seq.erase(it);
  }
};

void FifoQueue::Impl::Recorder::Stored(uint32_t shard, const Groups::Node& n) {
  const Record& v = n.value;
  queue_internal::MessageStored r{.arn = impl->arn, .place = {shard, n.slot, n.seq}};
  r.message_id = std::string(v.message_id.view());
  r.body = v.body;
  r.md5 = !v.md5_of_body.empty();
  r.attributes = v.extras().attributes;
  r.trace_header = v.extras().trace_header;
  r.group_id = n.group->id;
  r.dedup_id = v.dedup_id;
  r.dead_letter_source_arn = v.extras().dead_letter_source_arn;
  r.sent_ns = NanosOf(v.sent);
  r.enqueued_ns = NanosOf(v.enqueued);
  r.queued_ns = NanosOf(n.enqueued);
  r.receives = n.receives;
  r.first_receive_ns = NanosOf(n.first_received);
  impl->sealer->Seal(r, impl->clock->NowUnixNanos());
  impl->log->Append(r);
}

FifoQueue::FifoQueue(Hub& hub, std::string name, std::string arn, std::string url, Options options)
    : SqsQueue(std::move(name), std::move(arn), std::move(url), /*fifo=*/true),
      hub_(hub),
      impl_(std::make_unique<Impl>()) {
  impl_->groups.set_in_flight_limit(kInFlightLimit);
  if (options.large_payloads) {
    impl_->large_payloads = queue_internal::WithDefaultStore(std::move(*options.large_payloads));
  }
}

FifoQueue::~FifoQueue() = default;

absl::StatusOr<std::shared_ptr<FifoQueue>> FifoQueue::Create(Hub& hub, std::string_view name,
                                                             const AttributeMap& attributes,
                                                             Options options) {
  COURIER_RETURN_IF_ERROR(queue_internal::CheckFifoQueueName(name));
  const std::string arn = hub.Arn("sqs", name);
  Config config;
  config.created = config.last_modified = hub.clock().Now();
  COURIER_RETURN_IF_ERROR(
      ApplyQueueAttributes(hub, arn, attributes, /*creating=*/true, /*fifo=*/true, config));
  if (auto existing = std::dynamic_pointer_cast<FifoQueue>(hub.FindResource(arn))) {
    // Idempotent with identical attributes.
    const AttributeMap now = existing->ConfiguredAttributes();
    const AttributeMap wanted = ToMap(config);
    for (const auto& [key, value] : attributes) {
      if (key == "FifoQueue") continue;
      auto a = wanted.find(key);
      auto b = now.find(key);
      const std::string want = a == wanted.end() ? value : a->second;
      if (b == now.end() || b->second != want) {
        return AwsErrorF("QueueAlreadyExists",
                         "A queue already exists with the same name and a different value for "
                         "attribute {}",
                         key);
      }
    }
    return existing;
  }
  const int64_t created = NanosOf(config.created);
  std::shared_ptr<FifoQueue> queue = Make(hub, name, std::move(config), std::move(options));
  absl::Status added = queue_internal::AddQueue(hub, queue,
                                                {.arn = arn,
                                                 .name = std::string(name),
                                                 .fifo = true,
                                                 .attributes = queue->ConfiguredAttributes(),
                                                 .created_ns = created,
                                                 .id_keys = queue->impl_->id_keys});
  if (!added.ok()) {
    if (auto raced = std::dynamic_pointer_cast<FifoQueue>(hub.FindResource(arn))) return raced;
    return added;
  }
  return queue;
}

std::shared_ptr<FifoQueue> FifoQueue::Make(Hub& hub, std::string_view name, Config config,
                                           Options options) {
  const std::string arn = hub.Arn("sqs", name);
  auto queue = std::shared_ptr<FifoQueue>(
      new FifoQueue(hub, std::string(name), arn, Sqs(hub).QueueUrl(name), std::move(options)));
  Impl& impl = *queue->impl_;
  impl.token = ReceiptTokenOf(arn, config.created);
  impl.log = queue_internal::SqsLogOf(hub);
  impl.arn = arn;
  impl.sealer =
      std::make_unique<queue_internal::MessageSealer>(KeyProviderOf(hub.environment()), arn);
  impl.clock = hub.environment().clock;
  impl.tags.RecordTo(impl.log, arn);
  impl.moves.RecordTo(impl.log, arn);
  if (impl.log != nullptr) {
    impl.recorder.impl = &impl;
    impl.groups.set_listener(&impl.recorder);
  }
  std::lock_guard lock(impl.config_mu);
  impl.Publish(std::move(config));
  return queue;
}

absl::StatusOr<std::shared_ptr<FifoQueue>> FifoQueue::Restore(
    Hub& hub, const queue_internal::QueueCreated& r) {
  Config config;
  config.created = config.last_modified = TimeOf(r.created_ns);
  COURIER_RETURN_IF_ERROR(RestoreQueueAttributes(hub, r.arn, r.attributes, /*fifo=*/true, config));
  std::shared_ptr<FifoQueue> queue = Make(hub, r.name, std::move(config), Options{});
  queue->impl_->id_keys = r.id_keys;
  COURIER_RETURN_IF_ERROR(detail::AddResource(hub, queue));
  return queue;
}

absl::Status FifoQueue::RestoreConfig(const AttributeMap& attributes, absl::Time modified) {
  std::lock_guard lock(impl_->config_mu);
  Config next;
  next.created = impl_->Load()->created;
  COURIER_RETURN_IF_ERROR(RestoreQueueAttributes(hub_, arn(), attributes, /*fifo=*/true, next));
  next.last_modified = modified;
  impl_->Publish(std::move(next));
  return absl::OkStatus();
}

void FifoQueue::RestoreTags(AttributeMap tags) { impl_->tags.Restore(std::move(tags)); }

void FifoQueue::RestorePurge(absl::Time at) { (void)impl_->purges.Begin(name(), at); }

absl::Status FifoQueue::RestoreMessages(queue_internal::RecoveredQueue queue) {
  std::vector<queue_internal::RecoveredSlot>& slots = queue.slots;
  // In sequence order; the slots are large: sort where they are, not the slots themselves.
  std::vector<std::pair<uint64_t, uint32_t>> order;
  order.reserve(slots.size());
  for (uint32_t i = 0; i < slots.size(); ++i) {
    if (slots[i].stored) order.emplace_back(slots[i].place.stamp, i);
  }
  std::sort(order.begin(), order.end());
  for (const auto& [seq, at] : order) {
    queue_internal::RecoveredSlot& slot = slots[at];
    queue_internal::MessageStored& m = *slot.stored;
    Impl::Groups::RestoredNode node{
        .shard = slot.place.shard, .slot = slot.place.slot, .seq = slot.place.stamp};
    Record& v = node.value;
    v.message_id.assign(std::string_view(m.message_id).substr(0, v.message_id.capacity()));
    if (m.md5) v.md5_of_body = m.body_md5 ? detail::ToMd5Hex(*m.body_md5) : detail::Md5Of(m.body);
    if (!m.attributes.empty() || m.trace_header || !m.dead_letter_source_arn.empty()) {
      Record::Extra& e = v.mutable_extras();
      if (!m.attributes.empty()) e.md5_of_attributes = detail::Md5OfMessageAttributes(m.attributes);
      e.attributes = std::move(m.attributes);
      e.trace_header = std::move(m.trace_header);
      e.dead_letter_source_arn = std::move(m.dead_letter_source_arn);
    }
    v.body = std::move(m.body);
    v.dedup_id = std::move(m.dedup_id);
    v.sent = TimeOf(m.sent_ns);
    v.enqueued = TimeOf(m.enqueued_ns);
    node.enqueued = TimeOf(m.queued_ns);
    node.receives = m.receives;
    node.first_received = TimeOf(m.first_receive_ns);
    if (const auto& r = slot.received) {
      node.receives = r->receives;
      node.first_received = TimeOf(r->first_receive_ns);
      node.received = TimeOf(r->received_ns);
      node.deadline = TimeOf(r->until_ns);
      node.in_flight = r->until_ns > r->received_ns;
    }
    if (!m.group_id || !impl_->groups.Restore(*m.group_id, std::move(node))) {
      return absl::DataLossError(fmt::format("An SQS record names no slot of queue {}: {}/{}/{}",
                                             arn(), slot.place.shard, slot.place.slot,
                                             slot.place.stamp));
    }
  }
  impl_->groups.FinishRestore(queue.next_seq);
  // Tasks that were running go on a second from now, as their next step would have.
  for (uint64_t id : impl_->moves.Restore(std::move(queue.move_tasks))) ScheduleMoveStep(id);
  for (const queue_internal::DedupAdmitted& a : queue.admissions) {
    (void)impl_->dedup.Admit(a.key, TimeOf(a.at_ns), [&] { return a.value; });
  }
  return absl::OkStatus();
}

FifoQueue::AttributeMap FifoQueue::ConfiguredAttributes() const { return ToMap(*impl_->Load()); }

FifoQueue::AttributeMap FifoQueue::ToMap(const Config& config) {
  return ToAttributeMap(config, /*fifo=*/true);
}

absl::StatusOr<FifoQueue::AttributeMap> FifoQueue::GetQueueAttributes(
    const std::vector<std::string>& names) const {
  if (deleted()) return QueueDoesNotExist();
  COURIER_RETURN_IF_ERROR(CheckAttributeNamesForGet(names));
  AttributeMap everything = ConfiguredAttributes();
  const Config* c = impl_->Load();
  const absl::Time now = hub_.clock().Now();
  const absl::Duration retention = c->retention;
  impl_->groups.RemoveIf([&](const auto& node) { return node.value.enqueued + retention <= now; });
  const auto counts = impl_->groups.Count(now, c->delay);
  everything["ApproximateNumberOfMessages"] = std::to_string(counts.visible);
  everything["ApproximateNumberOfMessagesNotVisible"] = std::to_string(counts.in_flight);
  everything["ApproximateNumberOfMessagesDelayed"] = std::to_string(counts.delayed);
  everything["CreatedTimestamp"] = std::to_string(absl::ToUnixSeconds(c->created));
  everything["LastModifiedTimestamp"] = std::to_string(absl::ToUnixSeconds(c->last_modified));
  everything["QueueArn"] = arn();
  return SelectAttributes(everything, names);
}

absl::Status FifoQueue::SetQueueAttributes(const AttributeMap& attributes) {
  if (deleted()) return QueueDoesNotExist();
  std::lock_guard lock(impl_->config_mu);
  Config next = *impl_->Load();
  COURIER_RETURN_IF_ERROR(
      ApplyQueueAttributes(hub_, arn(), attributes, /*creating=*/false, /*fifo=*/true, next));
  next.last_modified = hub_.clock().Now();
  const int64_t modified = NanosOf(next.last_modified);
  impl_->Publish(std::move(next));
  if (impl_->log != nullptr) {
    impl_->log->Append(queue_internal::QueueChanged{arn(), ConfiguredAttributes(), modified});
  }
  impl_->signal->Notify();  // a shorter delay may release messages to a long poll
  return detail::Durable(absl::OkStatus());
}

absl::Status FifoQueue::TagQueue(const AttributeMap& tags) {
  if (deleted()) return QueueDoesNotExist();
  return detail::Durable(impl_->tags.Tag(tags, name()));
}
absl::Status FifoQueue::UntagQueue(const std::vector<std::string>& keys) {
  if (deleted()) return QueueDoesNotExist();
  impl_->tags.Untag(keys);
  return detail::Durable(absl::OkStatus());
}
FifoQueue::AttributeMap FifoQueue::ListQueueTags() const { return impl_->tags.List(); }

// ---- Send ----

absl::StatusOr<SendMessageResult> FifoQueue::SendMessage(SendMessageRequest request) {
  if (deleted()) return QueueDoesNotExist();  // before the hub's clock, which may be gone
  absl::StatusOr<SendMessageResult> result =
      Send(std::move(request), hub_.clock().CoarseNowUnixNanos());
  detail::Durable(result);
  return result;
}
absl::StatusOr<SendMessageResult> FifoQueue::SendMessageNoMd5(SendMessageRequest request) {
  if (deleted()) return QueueDoesNotExist();  // before the hub's clock, which may be gone
  absl::StatusOr<SendMessageResult> result =
      Send(std::move(request), hub_.clock().CoarseNowUnixNanos(), /*md5=*/false);
  detail::Durable(result);
  return result;
}

absl::StatusOr<SendMessageResult> FifoQueue::Send(SendMessageRequest&& request, int64_t now_ns,
                                                  bool md5) {
  if (deleted()) return QueueDoesNotExist();
  const absl::Time now = absl::FromUnixNanos(now_ns);
  const Config* config = impl_->Load();
  if (!request.message_group_id.has_value()) {
    return AwsError("MissingParameter", "The request must contain the parameter MessageGroupId.");
  }
  // The window's lookup is a cache (and TLB) miss: start it as soon as the key is known, to
  // overlap the checks and the MD5. The ids are not checked yet: a prefetch for one about to be
  // refused does no harm, and ids too long for the buffer are cut (or skipped) here.
  char key_buf[kMaxDedupKey];
  std::string_view key;
  uint64_t key_hash = 0;
  auto start_lookup = [&](std::string_view id) {
    key = DedupKey(config->group_scope, *request.message_group_id, id.substr(0, kMaxDedupKey / 2),
                   key_buf);
    key_hash = impl_->dedup.Hash(key);
    impl_->dedup.Prefetch(key_hash);
  };
  if (request.message_deduplication_id.has_value() &&
      request.message_group_id->size() <= kMaxDedupKey / 2) {
    start_lookup(*request.message_deduplication_id);
  }
  if (!queue_internal::ValidFifoId(*request.message_group_id)) {
    return queue_internal::CheckFifoId("MessageGroupId", *request.message_group_id);
  }
  if (request.message_deduplication_id.has_value() &&
      !queue_internal::ValidFifoId(*request.message_deduplication_id)) {
    return queue_internal::CheckFifoId("MessageDeduplicationId", *request.message_deduplication_id);
  }
  if (request.delay.has_value() && *request.delay != absl::ZeroDuration()) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter DelaySeconds is invalid. Reason: The request include parameter "
        "that is not valid for this queue type.",
        absl::ToInt64Seconds(*request.delay)));
  }
  COURIER_RETURN_IF_ERROR(queue_internal::CheckBody(request.body));
  if (request.aws_trace_header.has_value() && request.aws_trace_header->empty()) {
    return InvalidParameterValue(
        "Message (system) attribute 'AWSTraceHeader' must contain a non-empty value of type "
        "'String'.");
  }
  // Content-based deduplication hashes the body the user sent (before any offload).
  std::string dedup_id;  // content-based only: an explicit one stays in the request
  if (request.message_deduplication_id.has_value()) {
  } else if (config->content_based_deduplication) {
    dedup_id = detail::Sha256Hex(request.body);
    start_lookup(dedup_id);
  } else {
    return InvalidParameterValue(
        "The queue should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly");
  }
  std::optional<queue_internal::PayloadPointer> offloaded;
  if (impl_->large_payloads) {
    COURIER_RETURN_IF_ERROR(queue_internal::OffloadPayload(*impl_->large_payloads, request));
    offloaded = queue_internal::ParsePointerBody(request.body);
    if (offloaded && !request.attributes.contains(queue_internal::kExtendedPayloadSize))
      offloaded.reset();
  }
  absl::Status valid = queue_internal::CheckAttributes(request.attributes);
  if (valid.ok()) valid = queue_internal::CheckSize(request, config->maximum_message_size);
  if (valid.ok()) valid = impl_->sealer->Prepare(now_ns);  // the queue's KMS key
  if (!valid.ok()) {
    if (offloaded) (void)queue_internal::DeleteBlob(*impl_->large_payloads, *offloaded);
    return valid;
  }

  absl::StatusOr<SendMessageResult> out(absl::in_place);  // filled in place: no copy at return
  SendMessageResult& result = *out;
  if (md5) PutMd5Hex(detail::Md5(request.body), result.md5_of_message_body.resize(32));
  if (!request.attributes.empty()) {
    result.md5_of_message_attributes = detail::Md5OfMessageAttributes(request.attributes);
  }
  if (request.aws_trace_header) {
    result.md5_of_message_system_attributes = detail::Md5OfMessageAttributes(
        {{"AWSTraceHeader", MessageAttribute::String(*request.aws_trace_header)}});
  }
  // Written straight into the queue's slot, before anyone can see it.
  auto fill = [&](Record& r, uint64_t seq) {
    detail::WriteUuid(MessageIdOf(impl_->id_keys, seq), result.message_id.resize(36));
    r.md5_of_body = result.md5_of_message_body;
    r.body = std::move(request.body);
    if (!request.attributes.empty() || request.aws_trace_header) {
      Record::Extra& e = r.mutable_extras();
      e.md5_of_attributes = result.md5_of_message_attributes;
      e.attributes = std::move(request.attributes);
      e.trace_header = std::move(request.aws_trace_header);
    }
    // Moved once, from wherever it is (the key was copied out earlier).
    r.dedup_id =
        std::move(request.message_deduplication_id ? *request.message_deduplication_id : dedup_id);
    r.sent = now;  // both from `now` (one from the other would reload a fresh store)
    r.enqueued = now;
    // Last: copied right after it was written, the id's text would still be in the store
    // buffer, and a load spanning several stores waits for them (a store-forwarding stall).
    r.message_id = result.message_id;
  };
  // Deduplication is decided once the message is in place in its group, before anyone can see
  // it (PushIf): the window's lookup, a cache miss, comes after the push's work, which overlaps
  // it. A duplicate is taken back.
  std::optional<std::pair<uint64_t, bool>> admitted;
  impl_->groups.PushIf(*request.message_group_id, now, fill, [&](Record& r, uint64_t seq) {
    admitted = impl_->dedup.AdmitAt(key, key_hash, now_ns, [seq] { return seq; });
    if (!admitted.has_value()) return false;
    const auto [original, fresh] = *admitted;
    if (fresh && impl_->log != nullptr) [[unlikely]]
      impl_->RecordAdmitted(key, seq, now);
    if (!fresh && (original & kForeignId) != 0) {
      // A dead letter's duplicate: its deduplication id (moved into r) is its MessageId.
      result.message_id.assign(
          std::string_view(r.dedup_id).substr(0, result.message_id.capacity()));
    }
    return fresh;
  });
  if (!admitted.has_value()) {
    if (offloaded) (void)queue_internal::DeleteBlob(*impl_->large_payloads, *offloaded);
    return AwsError("InternalError", "Out of memory for the deduplication window.");
  }
  const auto [original, fresh] = *admitted;
  const uint64_t seq = original & ~kForeignId;
  result.sequence_number = SequenceNumber(seq);
  if (!fresh) {
    if ((original & kForeignId) == 0) {
      detail::WriteUuid(MessageIdOf(impl_->id_keys, seq), result.message_id.resize(36));
    }
    if (offloaded) (void)queue_internal::DeleteBlob(*impl_->large_payloads, *offloaded);
  } else {
    // Published by seq_cst steps (the message's state, the ring of groups), which a long
    // poll's re-check reads with seq_cst loads.
    impl_->signal->NotifyAfterSeqCstChange();
  }
  return out;
}

absl::StatusOr<FifoQueue::SendBatchResult> FifoQueue::SendMessageBatch(
    std::vector<SendBatchEntry> entries) {
  if (deleted()) return QueueDoesNotExist();
  COURIER_RETURN_IF_ERROR(CheckSendBatch(entries, impl_->large_payloads.has_value()));
  // An entry without a group id, or without a deduplication id where the queue does not derive
  // one, fails the whole call (as SQS does), not just the entry.
  const bool content_based = impl_->Load()->content_based_deduplication;
  for (const SendBatchEntry& e : entries) {
    if (!e.request.message_group_id.has_value()) {
      return InvalidParameterValue("The request must contain the parameter MessageGroupId.");
    }
    if (!e.request.message_deduplication_id.has_value() && !content_based) {
      return InvalidParameterValue(
          "The queue should either have ContentBasedDeduplication enabled or "
          "MessageDeduplicationId provided explicitly");
    }
  }
  absl::StatusOr<SendBatchResult> result(absl::in_place);
  SendBatchResult& out = *result;
  const int64_t now_ns = hub_.clock().CoarseNowUnixNanos();
  for (SendBatchEntry& e : entries) {
    absl::StatusOr<SendMessageResult> r = Send(std::move(e.request), now_ns);
    if (r.ok()) {
      out.successful.emplace_back(e.id, *std::move(r));
    } else {
      out.failed.push_back(SendBatchEntryError(e.id, r.status()));
    }
  }
  detail::Durable(result);  // one wait for the batch
  return result;
}

// ---- Receive ----

size_t FifoQueue::TryReceive(const ReceiveRequest& request, const Config& config, absl::Time now,
                             std::vector<Message>& out, bool use_hints) {
  struct DeadLetter {
    Record record;
    std::string group_id;
    uint32_t receives;
    absl::Time first_received;
  };
  using Node = queue_internal::FifoGroups<Record>::Node;
  struct Visitor {
    const FifoQueue& queue;
    const ReceiveRequest& request;
    const Config& config;
    absl::Time now;
    absl::Time expired_by;  // now - retention: a message enqueued at or before it has expired
    std::vector<Message>* out;
    size_t n;  // messages filled in *out so far
    std::array<queue_internal::FifoReceipt, 10>* receipts;
    std::vector<DeadLetter>* dead;
    bool has_dlq;
    // Messages after it are past the first 120,000 (as far as known): passed over.
    uint64_t scan_cutoff;
    bool passed_over = false;

    queue_internal::FifoVerdict Check(Node& n) {
      if (n.value.enqueued <= expired_by) return queue_internal::FifoVerdict::kRemove;
      if (n.seq > scan_cutoff) {
        passed_over = true;
        return queue_internal::FifoVerdict::kSkipGroup;
      }
      if (has_dlq && n.receives >= static_cast<uint32_t>(config.max_receive_count)) {
        dead->push_back({std::move(n.value), n.group->id, n.receives, n.first_received});
        return queue_internal::FifoVerdict::kRemove;
      }
      return queue_internal::FifoVerdict::kTake;
    }
    // Inline: passed to a call, the receipt goes through the stack and is reloaded whole from
    // narrower stores, a store-forwarding stall per message.
    [[gnu::always_inline]] void Taken(const Node& n, queue_internal::FifoReceipt r) {
      (*receipts)[this->n] = r;
      const Record& rec = n.value;
      // A message left in `out` by an earlier receive lends its storage.
      Message& m = this->n < out->size() ? (*out)[this->n] : out->emplace_back();
      ++this->n;
      m.message_id = rec.message_id;
      EncodeHandle(queue.impl_->token, r, m.receipt_handle);
      m.body.assign(rec.body);
      m.md5_of_body = rec.md5_of_body;
      if (m.md5_of_body.empty() && request.md5_of_body) {  // sent with SendMessageNoMd5
        m.md5_of_body = detail::Md5Of(rec.body);
      }
      m.md5_of_message_attributes.clear();
      if (!m.message_attributes.empty()) m.message_attributes.clear();
      if (!m.attributes.empty()) m.attributes.clear();
      const Record::Extra& extra = rec.extras();
      const auto& want = request.message_attribute_names;
      if (!want.empty()) {
        for (const auto& [name, a] : extra.attributes) {
          if (MessageAttributeSelected(want, name)) m.message_attributes.emplace(name, a);
        }
        if (!m.message_attributes.empty()) m.md5_of_message_attributes = extra.md5_of_attributes;
      }
      // An offloaded message keeps its marker for RestorePayload, which removes it.
      if (queue.impl_->large_payloads) {
        if (auto it = extra.attributes.find(queue_internal::kExtendedPayloadSize);
            it != extra.attributes.end()) {
          m.message_attributes.insert(*it);
        }
      }
      const auto& sys = request.message_system_attribute_names;
      if (!sys.empty()) {
        const bool all = std::find(sys.begin(), sys.end(), "All") != sys.end();
        auto add = [&](std::string_view name, std::string value) {
          if (all || std::find(sys.begin(), sys.end(), name) != sys.end()) {
            m.attributes.emplace(std::string(name), std::move(value));
          }
        };
        add("ApproximateReceiveCount", std::to_string(n.receives));
        add("ApproximateFirstReceiveTimestamp",
            std::to_string(absl::ToUnixMillis(n.first_received)));
        add("SentTimestamp", std::to_string(absl::ToUnixMillis(rec.sent)));
        add("SenderId", queue.hub_.environment().account);
        add("MessageGroupId", n.group->id);
        add("MessageDeduplicationId", rec.dedup_id);
        add("SequenceNumber", SequenceNumber(n.seq).str());
        if (std::find(sys.begin(), sys.end(), "SqsManagedSseEnabled") != sys.end()) {
          // By name only: "All" leaves it out, as AWS does.
          m.attributes.emplace("SqsManagedSseEnabled", config.sqs_managed_sse ? "true" : "false");
        }
        if (extra.trace_header) add("AWSTraceHeader", *extra.trace_header);
        if (!extra.dead_letter_source_arn.empty()) {
          add("DeadLetterQueueSourceArn", extra.dead_letter_source_arn);
        }
      }
    }
  };
  std::array<queue_internal::FifoReceipt, 10> receipts;
  std::vector<DeadLetter> dead;
  const std::shared_ptr<FifoQueue> dlq = DeadLetterTarget<FifoQueue>(config, hub_);
  const absl::Duration visibility = request.visibility_timeout.value_or(config.visibility);
  Visitor visitor{*this,
                  request,
                  config,
                  now,
                  now - config.retention,
                  &out,
                  0,
                  &receipts,
                  &dead,
                  dlq != nullptr,
                  impl_->groups.ScanCutoffBound(kScannedMessages)};
  impl_->groups.Receive(now, config.delay, request.max_number_of_messages, visibility, visitor,
                        use_hints);
  // The bound is an old cutoff (the cutoff only moves on): only if it held something back is
  // the exact one worth its cost, and then the receive goes on with it.
  if (visitor.passed_over && static_cast<int>(visitor.n) < request.max_number_of_messages) {
    const uint64_t exact = impl_->groups.ScanCutoff(kScannedMessages);
    if (exact > visitor.scan_cutoff) {
      visitor.scan_cutoff = exact;
      impl_->groups.Receive(now, config.delay,
                            request.max_number_of_messages - static_cast<int>(visitor.n),
                            visibility, visitor, use_hints);
    }
  }
  const size_t n = visitor.n;
  out.resize(n);
  for (DeadLetter& d : dead) {
    d.record.mutable_extras().dead_letter_source_arn = arn();
    (void)dlq->AcceptDeadLetter(std::move(d.record), d.group_id, d.receives, d.first_received);
  }
  if (impl_->large_payloads) {
    for (Message& m : out) (void)queue_internal::RestorePayload(*impl_->large_payloads, m);
  }
  if (request.receive_request_attempt_id.has_value() && n > 0) {
    std::lock_guard lock(impl_->attempts_mu);
    impl_->attempts_used.store(true, std::memory_order_release);
    impl_->PruneAttemptsLocked(now);
    impl_->attempt_order.emplace_back(now, *request.receive_request_attempt_id);
    auto& attempt = impl_->attempts[*request.receive_request_attempt_id];
    for (const auto& r : attempt.receipts) impl_->attempt_of_seq.erase(r.seq);
    attempt = Impl::Attempt{now, {receipts.begin(), receipts.begin() + n}, out, false};
    for (size_t i = 0; i < n; ++i) {
      impl_->attempt_of_seq[receipts[i].seq] = *request.receive_request_attempt_id;
    }
  }
  return n;
}

absl::Status FifoQueue::AcceptDeadLetter(Record record, std::string_view group, uint32_t receives,
                                         absl::Time first_received) {
  // In a FIFO dead-letter queue the dedup id becomes the original MessageId and the retention
  // restarts on entry.
  const absl::Time now = hub_.clock().Now();
  const Config* config = impl_->Load();
  record.dedup_id.assign(record.message_id.data(), record.message_id.size());
  record.enqueued = now;
  char key_buf[kMaxDedupKey];
  const std::string_view key = DedupKey(config->group_scope, group, record.dedup_id, key_buf);
  // Not delayed again: a dead letter is available at once. Deduplication as a send's.
  const uint64_t hash = impl_->dedup.Hash(key);
  impl_->groups.PushIf(
      group, now - config->delay, [&](Record& r) { r = std::move(record); },
      [&](Record&, uint64_t seq) {
        const auto admitted =
            impl_->dedup.Admit(key, hash, now, [seq] { return kForeignId | seq; });
        if (admitted.has_value() && admitted->second && impl_->log != nullptr) {
          impl_->RecordAdmitted(key, kForeignId | seq, now);
        }
        // Without memory to remember its id the message is kept all the same.
        return !admitted.has_value() || admitted->second;
      },
      receives, first_received);
  impl_->signal->NotifyAfterSeqCstChange();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Message>> FifoQueue::ReceiveMessage(const ReceiveRequest& request) {
  std::vector<Message> out;
  COURIER_RETURN_IF_ERROR(ReceiveMessage(request, out));
  return out;
}

static absl::Status CheckReceive(const FifoQueue::ReceiveRequest& request) {
  if (request.max_number_of_messages < 1 || request.max_number_of_messages > 10) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and "
        "10, if provided.",
        request.max_number_of_messages));
  }
  if (request.wait_time.has_value() &&
      (*request.wait_time < absl::ZeroDuration() || *request.wait_time > absl::Seconds(20))) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if "
        "provided.",
        absl::ToInt64Seconds(*request.wait_time)));
  }
  if (request.visibility_timeout.has_value() &&
      (*request.visibility_timeout < absl::ZeroDuration() ||
       *request.visibility_timeout > absl::Seconds(43200))) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= "
        "43200, if provided.",
        absl::ToInt64Seconds(*request.visibility_timeout)));
  }
  if (request.receive_request_attempt_id.has_value()) {
    COURIER_RETURN_IF_ERROR(queue_internal::CheckFifoId("ReceiveRequestAttemptId",
                                                        *request.receive_request_attempt_id));
  }
  return absl::OkStatus();
}

namespace {
// The end of a receive: its handles are given once their receives are kept.
absl::Status Received(std::vector<Message>& out) {
  absl::Status kept = detail::Durable(absl::OkStatus());
  if (!kept.ok()) out.clear();
  return kept;
}
}  // namespace

absl::Status FifoQueue::ReceiveMessage(const ReceiveRequest& request, std::vector<Message>& out) {
  if (deleted()) {
    out.clear();
    return QueueDoesNotExist();
  }
  if (absl::Status valid = CheckReceive(request); !valid.ok()) {
    out.clear();
    return valid;
  }
  Clock& clock = hub_.clock();
  const Config* config = impl_->Load();
  const absl::Time start = clock.Now();

  // A retried attempt inside its window returns the same messages and handles.
  if (request.receive_request_attempt_id.has_value() &&
      impl_->attempts_used.load(std::memory_order_acquire)) {
    std::lock_guard lock(impl_->attempts_mu);
    auto it = impl_->attempts.find(*request.receive_request_attempt_id);
    if (it != impl_->attempts.end()) {
      Impl::Attempt& attempt = it->second;
      if (!attempt.spent && start < attempt.started + kAttemptWindow &&
          impl_->groups.Renew(attempt.receipts, start,
                              request.visibility_timeout.value_or(config->visibility))) {
        out = attempt.messages;
        return Received(out);
      }
      for (const auto& r : attempt.receipts) impl_->attempt_of_seq.erase(r.seq);
      impl_->attempts.erase(it);
    }
  }

  const absl::Duration wait = request.wait_time.value_or(config->receive_wait);
  if (TryReceive(request, *config, start, out) > 0) return Received(out);
  // Nothing to receive: perhaps a drained queue, whose slab's pages can go back.
  impl_->groups.GiveBackIfDrained(absl::ToUnixNanos(start));
  if (wait <= absl::ZeroDuration()) return Received(out);
  // A consumer about to wait lets go of the slots it retired, which would otherwise stay in
  // its own epoch lists until its next delete, and keep their shards from being given back.
  queue_internal::Epochs::Collect();

  // Long poll: woken by sends, and when a delayed message becomes available or a receive lapses.
  LongPoll(
      clock, start + wait, impl_->signal,
      [&] {
        return TryReceive(request, *impl_->Load(), clock.Now(), out, /*use_hints=*/false) > 0;
      },
      [&](absl::Time now) -> std::optional<absl::Time> {
        const absl::Time next = impl_->groups.NextChange(now, impl_->Load()->delay);
        if (next == absl::InfiniteFuture()) return std::nullopt;
        return next;
      });
  return Received(out);
}

// ---- Delete and visibility ----

static bool ParsePlainHandle(const TokenText& token, std::string_view h,
                             queue_internal::FifoReceipt* r) {
  if (h.size() != kHandleSize) return false;
  uint64_t text[2], want[2];  // the token, two words at a time (no call to memcmp)
  std::memcpy(text, h.data(), 16);
  std::memcpy(want, token.data(), 16);
  if (((text[0] ^ want[0]) | (text[1] ^ want[1])) != 0) return false;
  uint64_t slot_deadline = 0, seq_deadline = 0;
  uint32_t shard_receive = 0;
  const bool ok = GetHex64(h.data() + 16, &slot_deadline) & GetHex64(h.data() + 32, &seq_deadline) &
                  GetHex32(h.data() + 48, &shard_receive);
  const uint64_t deadline_ms = seq_deadline >> kSeqBits;
  r->seq = seq_deadline & kSeqMask;
  r->slot = static_cast<uint32_t>(slot_deadline >> 32);
  r->deadline_ms =
      int64_t{static_cast<uint32_t>(slot_deadline)} * 1000 + static_cast<int64_t>(deadline_ms);
  r->shard = shard_receive >> 28;
  r->receive = shard_receive & ((1u << 28) - 1);
  return ok;
}

// Parses one of this queue's handles (plain or in the extended client's form, whose blob
// pointer goes to `pointer`); false if it is not one.
static bool ParseHandle(const TokenText& token, const ReceiptHandle& handle,
                        queue_internal::FifoReceipt* r,
                        std::optional<queue_internal::PayloadPointer>* pointer) {
  const std::string_view h = handle.value();
  if (!h.starts_with("-..")) return ParsePlainHandle(token, h, r);
  std::string inner;  // the extended client's form
  *pointer = queue_internal::SplitReceiptHandle(h, &inner);
  return ParsePlainHandle(token, inner, r);
}

absl::Status FifoQueue::DeleteMessage(const ReceiptHandle& handle) {
  if (deleted()) return QueueDoesNotExist();
  absl::Status status;
  const ReceiptHandle* one = &handle;
  DeleteHandles(&one, 1, &status);
  return detail::Durable(std::move(status));
}

void FifoQueue::DeleteHandles(const ReceiptHandle* const* handles, size_t n, absl::Status* out) {
  constexpr size_t kMax = 10;
  std::array<std::optional<queue_internal::PayloadPointer>, kMax> pointers;
  std::array<queue_internal::FifoReceipt, kMax> receipts;
  std::array<size_t, kMax> index;  // entry of each receipt
  std::array<queue_internal::FifoOutcome, kMax> outcomes;
  for (size_t begin = 0; begin < n; begin += kMax) {
    const size_t end = std::min(n, begin + kMax);
    size_t m = 0;
    for (size_t i = begin; i < end; ++i) {
      pointers[m].reset();
      if (!ParseHandle(impl_->token, *handles[i], &receipts[m], &pointers[m])) {
        out[i] = ReceiptHandleIsInvalid(handles[i]->value());
        continue;
      }
      index[m++] = i;
    }
    if (m == 0) continue;
    const absl::Time now = hub_.clock().Now();
    impl_->groups.DeleteBatch(receipts.data(), m, now, outcomes.data());
    bool deleted = false;
    for (size_t k = 0; k < m; ++k) {
      const size_t i = index[k];
      switch (outcomes[k]) {
        case queue_internal::FifoOutcome::kOk:
          deleted = true;
          impl_->SpendAttemptOf(receipts[k].seq);
          if (pointers[k] && impl_->large_payloads) {
            (void)queue_internal::DeleteBlob(*impl_->large_payloads, *pointers[k]);
          }
          out[i] = absl::OkStatus();
          break;
        case queue_internal::FifoOutcome::kGone:
          // Deleted already, and the handle's visibility has not ended: a repeated delete,
          // which succeeds. Past it the handle has expired, whatever became of the message.
          if (absl::ToUnixMillis(now) < receipts[k].deadline_ms) {
            out[i] = absl::OkStatus();
            break;
          }
          [[fallthrough]];
        default:
          out[i] = InvalidParameterValue(fmt::format(
              "Value {} for parameter ReceiptHandle is invalid. Reason: The receipt handle has "
              "expired.",
              handles[i]->value()));
      }
    }
    if (deleted) impl_->signal->Notify();  // a group may be free again
  }
}

absl::Status FifoQueue::ChangeMessageVisibility(const ReceiptHandle& handle,
                                                absl::Duration timeout) {
  if (deleted()) return QueueDoesNotExist();
  if (timeout < absl::ZeroDuration() || timeout > absl::Seconds(43200)) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, "
        "if provided.",
        absl::ToInt64Seconds(timeout)));
  }
  struct {
    queue_internal::FifoReceipt receipt;
    std::optional<queue_internal::PayloadPointer> pointer;
  } p;
  if (!ParseHandle(impl_->token, handle, &p.receipt, &p.pointer)) {
    return ReceiptHandleIsInvalid(handle.value());
  }
  const absl::Time now = hub_.clock().Now();
  switch (impl_->groups.ChangeVisibility(p.receipt, now, timeout, kVisibilityCap)) {
    case queue_internal::FifoOutcome::kOk:
      impl_->SpendAttemptOf(p.receipt.seq);
      if (timeout == absl::ZeroDuration()) impl_->signal->Notify();
      return detail::Durable(absl::OkStatus());
    case queue_internal::FifoOutcome::kLimitExceeded:
      return InvalidParameterValue(fmt::format(
          "Value {} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout "
          "for the message is beyond the limit [43200 seconds]",
          absl::ToInt64Seconds(timeout)));
    case queue_internal::FifoOutcome::kGone:
      return InvalidParameterValue(fmt::format(
          "Value {} for parameter ReceiptHandle is invalid. Reason: Message does not exist or "
          "is not available for visibility timeout change.",
          handle.value()));
    default:
      return InvalidParameterValue(fmt::format(
          "Value {} for parameter ReceiptHandle is invalid. Reason: The receipt handle has "
          "expired.",
          handle.value()));
  }
}

absl::StatusOr<FifoQueue::BatchResult> FifoQueue::DeleteMessageBatch(
    const std::vector<HandleBatchEntry>& entries) {
  if (deleted()) return QueueDoesNotExist();
  COURIER_RETURN_IF_ERROR(CheckHandleBatch(entries, "DeleteMessageBatchRequestEntry"));
  // One lock per group shard for the whole batch.
  std::array<const ReceiptHandle*, 10> handles;
  std::array<absl::Status, 10> statuses;
  for (size_t i = 0; i < entries.size(); ++i) handles[i] = &entries[i].receipt_handle;
  DeleteHandles(handles.data(), entries.size(), statuses.data());
  absl::StatusOr<BatchResult> result(absl::in_place);
  BatchResult& out = *result;
  out.successful.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const absl::Status& st = statuses[i];
    if (st.ok()) {
      out.successful.push_back(entries[i].id);
    } else {
      out.failed.push_back(
          {entries[i].id, true, std::string(ErrorName(st)), std::string(ErrorMessage(st))});
    }
  }
  detail::Durable(result);
  return result;
}

absl::StatusOr<FifoQueue::BatchResult> FifoQueue::ChangeMessageVisibilityBatch(
    const std::vector<HandleBatchEntry>& entries) {
  if (deleted()) return QueueDoesNotExist();
  COURIER_RETURN_IF_ERROR(CheckHandleBatch(entries, "ChangeMessageVisibilityBatchRequestEntry"));
  BatchResult out;
  detail::DeferredAwaits deferred;  // one wait for every entry's record
  for (const auto& e : entries) {
    absl::Status st = ChangeMessageVisibility(e.receipt_handle, e.visibility_timeout);
    if (st.ok()) {
      out.successful.push_back(e.id);
    } else {
      out.failed.push_back({e.id, true, std::string(ErrorName(st)), std::string(ErrorMessage(st))});
    }
  }
  COURIER_RETURN_IF_ERROR(deferred.Await());
  return out;
}

absl::Status FifoQueue::PurgeQueue() {
  if (deleted()) return QueueDoesNotExist();
  const absl::Time now = hub_.clock().Now();
  COURIER_RETURN_IF_ERROR(impl_->purges.Begin(name(), now));
  impl_->groups.Clear([&] {
    if (impl_->log != nullptr) impl_->log->Append(queue_internal::QueuePurged{arn(), NanosOf(now)});
  });
  // SQS forgets the deduplication ids too: the same id is accepted again after a purge.
  impl_->dedup.Clear();
  impl_->ClearAttempts();
  return detail::Durable(absl::OkStatus());
}

// ---- Message move tasks (move_tasks.h) ----

absl::StatusOr<std::string> FifoQueue::StartMessageMoveTask(std::optional<std::string> destination,
                                                            std::optional<int> max_per_second) {
  if (deleted()) return QueueDoesNotExist();
  COURIER_RETURN_IF_ERROR(CheckMoveTaskSource(hub_, arn(), max_per_second));
  COURIER_RETURN_IF_ERROR(CheckMoveTaskDestination(hub_, destination, /*fifo=*/true));
  const absl::Time now = hub_.clock().Now();
  const auto counts = impl_->groups.Count(now, impl_->Load()->delay);
  COURIER_ASSIGN_OR_RETURN(
      const uint64_t id,
      impl_->moves.Start(arn(), std::move(destination), max_per_second,
                         static_cast<int64_t>(counts.visible + counts.in_flight + counts.delayed),
                         now));
  RunMoveTask(id);
  absl::StatusOr<std::string> handle = TaskHandle(arn(), id);
  detail::Durable(handle);  // the task's record and the first step's moves
  return handle;
}

void FifoQueue::RunMoveTask(uint64_t id) {
  // The oldest available message of a group with nothing in flight moves to a FIFO queue with its
  // group and deduplication ids; one that cannot is put back (at the end of its group: order is
  // lost only for a failed task).
  auto move_one = [this](const std::string& destination_arn) -> MoveTasks::Moved {
    std::optional<Record> record;
    std::string group_id;
    impl_->groups.TakeOldest(hub_.clock().Now(), impl_->Load()->delay, [&](auto&& node) {
      record = std::move(node.value);
      group_id = node.group->id;
    });
    if (!record.has_value()) return {MoveTasks::Moved::kNoneLeft, {}};
    const std::string& to =
        destination_arn.empty() ? record->extras().dead_letter_source_arn : destination_arn;
    auto destination = std::dynamic_pointer_cast<FifoQueue>(hub_.FindResource(to));
    SendMessageRequest request{.body = record->body,
                               .attributes = record->extras().attributes,
                               .aws_trace_header = record->extras().trace_header,
                               .message_group_id = group_id,
                               .message_deduplication_id = record->dedup_id};
    absl::StatusOr<SendMessageResult> sent =
        destination ? destination->SendMessage(std::move(request))
                    : absl::StatusOr<SendMessageResult>(
                          ResourceNotFound(fmt::format("Queue {} does not exist.", to)));
    if (!sent.ok()) {
      impl_->groups.Push(group_id, std::move(*record), hub_.clock().Now());
      return {MoveTasks::Moved::kFailed, std::string(ErrorMessage(sent.status()))};
    }
    return {MoveTasks::Moved::kMoved, {}};
  };
  if (impl_->moves.Step(id, deleted(), move_one)) ScheduleMoveStep(id);
}

void FifoQueue::ScheduleMoveStep(uint64_t id) {
  std::weak_ptr<FifoQueue> self = weak_from_this();
  hub_.clock().ScheduleAfter(absl::Seconds(1), [self, id] {
    if (auto q = self.lock()) q->RunMoveTask(id);
  });
}

absl::StatusOr<std::vector<FifoQueue::MoveTask>> FifoQueue::ListMessageMoveTasks(
    int max_results) const {
  return impl_->moves.List(max_results);
}

absl::StatusOr<int64_t> FifoQueue::CancelMessageMoveTask(Hub& hub, std::string_view handle) {
  auto parsed = ParseTaskHandle(handle);
  auto queue =
      parsed ? std::dynamic_pointer_cast<FifoQueue>(hub.FindResource(parsed->first)) : nullptr;
  if (queue == nullptr) return ResourceNotFound("Task does not exist.");
  absl::StatusOr<int64_t> moved = queue->impl_->moves.Cancel(parsed->second);
  detail::Durable(moved);
  return moved;
}

std::optional<SendMessageRequest> FifoQueue::TakeOldestForMove() {
  const Config* config = impl_->Load();
  std::optional<SendMessageRequest> out;
  impl_->groups.TakeOldest(hub_.clock().Now(), config->delay, [&](auto&& node) {
    Record& r = node.value;
    out = SendMessageRequest{.body = std::move(r.body),
                             .message_group_id = node.group->id,
                             .message_deduplication_id = std::move(r.dedup_id)};
    if (r.extra != nullptr) {
      out->attributes = std::move(r.extra->attributes);
      out->aws_trace_header = std::move(r.extra->trace_header);
    }
  });
  return out;
}

}  // namespace courier
