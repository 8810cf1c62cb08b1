#include "courier/queue.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstring>
#include <deque>
#include <mutex>
#include <queue>
#include <set>
#include <thread>

#include "courier/detail/digest.h"
#include "courier/detail/extended_payload.h"
#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "courier/status.h"
#include "queue/fifo_checks.h"
#include "queue/queue_config.h"

namespace courier {
namespace {

constexpr absl::Duration kVisibilityCap = absl::Hours(12);
constexpr absl::Duration kPurgeInterval = absl::Seconds(60);
constexpr int64_t kInFlightLimit = 120000;
constexpr uint32_t kShards = 16;

absl::Status ReceiptHandleIsInvalid(std::string_view handle) {
  return AwsErrorF(absl::StatusCode::kInvalidArgument, "ReceiptHandleIsInvalid",
                   "The input receipt handle \"{}\" is not a valid receipt handle.", handle);
}

void PutHex(char* out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[i] = kHex[v & 0xF];
}
// Lowercase hex only, as EncodeHandle writes it.
bool ParseHex(std::string_view text, uint64_t* out) {
  uint64_t v = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      v = v << 4 | static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v = v << 4 | static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
  }
  *out = v;
  return true;
}

// A receipt handle: queue token, shard, slot, slot generation, receive number (52 hex digits).
struct HandleParts {
  uint64_t token, shard, slot, gen, receive;
};
std::string EncodeHandle(const HandleParts& h) {
  std::string out(52, '0');
  PutHex(out.data(), h.token, 16);
  PutHex(out.data() + 16, h.shard, 4);
  PutHex(out.data() + 20, h.slot, 16);
  PutHex(out.data() + 36, h.gen, 8);
  PutHex(out.data() + 44, h.receive, 8);
  return out;
}
std::optional<HandleParts> DecodeHandle(std::string_view s) {
  HandleParts h{};
  if (s.size() != 52 || !ParseHex(s.substr(0, 16), &h.token) ||
      !ParseHex(s.substr(16, 4), &h.shard) || !ParseHex(s.substr(20, 16), &h.slot) ||
      !ParseHex(s.substr(36, 8), &h.gen) || !ParseHex(s.substr(44, 8), &h.receive)) {
    return std::nullopt;
  }
  return h;
}

int64_t Nanos(absl::Time t) { return absl::ToUnixNanos(t); }
absl::Time FromNanos(int64_t n) { return absl::FromUnixNanos(n); }
std::string Millis(int64_t nanos) { return std::to_string(nanos / 1000000); }

// The uncommon parts of a message, allocated only when present.
struct Extra {
  MessageAttributes attributes;
  std::string md5_of_attributes;
  std::optional<std::string> trace_header;
  std::optional<std::string> group_id;
  std::string dead_letter_source_arn;
};

enum class State : uint8_t { kFree, kVisible, kInFlight, kDelayed };

// One message slot; reused after a delete with its generation bumped.
struct Slot {
  uint32_t gen = 0;
  uint32_t version = 0;   // bumped on every state change: invalidates ready/timer entries
  uint32_t receives = 0;  // ApproximateReceiveCount; a handle carries the receive it came from
  State state = State::kFree;
  bool has_md5 = false;
  std::array<uint8_t, 16> id{};  // MessageId as 16 bytes
  std::array<char, 32> md5{};
  int64_t enqueued = 0;  // ns; also SentTimestamp (kept from the original send in a DLQ)
  int64_t visible_at = 0;
  int64_t received_at = 0;
  int64_t first_receive = 0;
  std::string body;
  std::unique_ptr<Extra> extra;
};

std::string FormatId(const std::array<uint8_t, 16>& id) {
  std::string out(36, '-');
  int pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++pos;
    PutHex(out.data() + pos, id[i], 2);
    pos += 2;
  }
  return out;
}
std::array<uint8_t, 16> NewId() {
  std::array<uint8_t, 16> id;
  uint64_t a = detail::RandomBits(), b = detail::RandomBits();
  std::memcpy(id.data(), &a, 8);
  std::memcpy(id.data() + 8, &b, 8);
  id[6] = (id[6] & 0x0F) | 0x40;
  id[8] = (id[8] & 0x3F) | 0x80;
  return id;
}
std::optional<std::array<uint8_t, 16>> ParseId(std::string_view s) {
  if (s.size() != 36) return std::nullopt;
  std::array<uint8_t, 16> id;
  size_t pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      if (s[pos] != '-') return std::nullopt;
      ++pos;
    }
    uint64_t v = 0;
    if (!ParseHex(s.substr(pos, 2), &v)) return std::nullopt;
    id[i] = static_cast<uint8_t>(v);
    pos += 2;
  }
  return id;
}

struct Timed {
  int64_t at;
  uint32_t slot, version;
  bool operator>(const Timed& o) const { return at > o.at; }
};
struct Expiry {
  int64_t enqueued;
  uint32_t slot, gen;
  bool operator>(const Expiry& o) const { return enqueued > o.enqueued; }
};

}  // namespace

// Messages are spread over shards (a thread sends to and receives first from its own); each
// shard's lock is held for a few slot updates only.
struct Queue::Impl {
  struct alignas(64) Shard {
    std::mutex mu;
    std::deque<Slot> slots;  // a deque: slots never move
    std::vector<uint32_t> free;
    std::deque<std::pair<uint32_t, uint32_t>> ready;  // visible (slot, version), oldest first
    std::priority_queue<Timed, std::vector<Timed>, std::greater<>> timers;  // delayed/in flight
    std::deque<Expiry> expiries;  // retention, in enqueue order
    std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> late_expiries;
    int64_t visible = 0, delayed = 0;
    std::atomic<int64_t> in_flight{0};
  };
  std::array<Shard, kShards> shards;
  // Configurations are immutable and kept until the queue dies, so a reader needs only an
  // atomic pointer load (attribute changes are rare and small).
  std::atomic<const QueueConfig*> config{nullptr};
  std::mutex config_mu;
  std::vector<std::unique_ptr<const QueueConfig>> configs;  // guarded by config_mu
  std::shared_ptr<WakeSignal> signal = std::make_shared<WakeSignal>();
  const uint64_t token = detail::RandomBits();
  std::optional<LargePayloadOptions> large_payloads;
  std::mutex purge_mu;
  absl::Time last_purge = absl::InfinitePast();
  mutable std::mutex tags_mu;
  AttributeMap tags;

  const QueueConfig* Load() const { return config.load(std::memory_order_acquire); }
  void Publish(QueueConfig next) {
    configs.push_back(std::make_unique<const QueueConfig>(std::move(next)));
    config.store(configs.back().get(), std::memory_order_release);
  }

  static uint32_t HomeShard() {
    thread_local const uint32_t home =
        static_cast<uint32_t>(std::hash<std::thread::id>()(std::this_thread::get_id()) % kShards);
    return home;
  }

  static void Free(Shard& s, uint32_t i) {
    Slot& slot = s.slots[i];
    if (slot.state == State::kVisible) --s.visible;
    if (slot.state == State::kDelayed) --s.delayed;
    if (slot.state == State::kInFlight) s.in_flight.fetch_sub(1, std::memory_order_relaxed);
    slot.state = State::kFree;
    ++slot.gen;
    ++slot.version;
    slot.body = std::string();
    slot.extra.reset();
    s.free.push_back(i);
  }

  static void MakeVisible(Shard& s, uint32_t i) {
    Slot& slot = s.slots[i];
    if (slot.state == State::kDelayed) --s.delayed;
    if (slot.state == State::kInFlight) s.in_flight.fetch_sub(1, std::memory_order_relaxed);
    slot.state = State::kVisible;
    ++slot.version;
    ++s.visible;
    s.ready.emplace_back(i, slot.version);
  }

  // Applies everything due at `now`: retention expiries, then delays and visibility timeouts.
  static void Advance(Shard& s, int64_t now, int64_t retention) {
    auto expire = [&](const Expiry& e) {
      Slot& slot = s.slots[e.slot];
      if (slot.gen == e.gen && slot.state != State::kFree) Free(s, e.slot);
    };
    while (!s.expiries.empty() && s.expiries.front().enqueued + retention <= now) {
      expire(s.expiries.front());
      s.expiries.pop_front();
    }
    while (!s.late_expiries.empty() && s.late_expiries.top().enqueued + retention <= now) {
      expire(s.late_expiries.top());
      s.late_expiries.pop();
    }
    while (!s.timers.empty() && s.timers.top().at <= now) {
      Timed t = s.timers.top();
      s.timers.pop();
      Slot& slot = s.slots[t.slot];
      if (slot.version == t.version &&
          (slot.state == State::kInFlight || slot.state == State::kDelayed)) {
        MakeVisible(s, t.slot);
      }
    }
  }

  static uint32_t Allocate(Shard& s) {
    if (!s.free.empty()) {
      uint32_t i = s.free.back();
      s.free.pop_back();
      return i;
    }
    s.slots.emplace_back();
    return static_cast<uint32_t>(s.slots.size() - 1);
  }

  static void AddExpiry(Shard& s, int64_t enqueued, uint32_t i, uint32_t gen) {
    if (s.expiries.empty() || s.expiries.back().enqueued <= enqueued) {
      s.expiries.push_back({enqueued, i, gen});
    } else {
      s.late_expiries.push({enqueued, i, gen});
    }
  }

  // Places a filled slot as visible, or delayed until `visible_at`.
  static void Place(Shard& s, uint32_t i, int64_t now, int64_t visible_at) {
    Slot& slot = s.slots[i];
    ++slot.version;
    if (visible_at > now) {
      slot.state = State::kDelayed;
      slot.visible_at = visible_at;
      ++s.delayed;
      s.timers.push({visible_at, i, slot.version});
    } else {
      slot.state = State::kVisible;
      ++s.visible;
      s.ready.emplace_back(i, slot.version);
    }
    AddExpiry(s, slot.enqueued, i, slot.gen);
  }

  // The earliest pending delay or visibility end (possibly stale: only used to wake a poll).
  std::optional<int64_t> NextEvent() {
    std::optional<int64_t> next;
    for (Shard& s : shards) {
      std::lock_guard lock(s.mu);
      if (!s.timers.empty() && (!next || s.timers.top().at < *next)) next = s.timers.top().at;
    }
    return next;
  }
};

// ---- creation and attributes ----------------------------------------------------------------

Queue::Queue(Hub& hub, std::string name, std::string arn, std::string url)
    : MessageSink(std::move(name), std::move(arn)),
      hub_(hub),
      url_(std::move(url)),
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
      return AwsError(absl::StatusCode::kAlreadyExists, "QueueAlreadyExists",
                      "A queue already exists with the same name and a different type");
    }
    COURIER_RETURN_IF_ERROR(CheckSameAttributes(attributes, ToAttributeMap(config, /*fifo=*/false),
                                                existing->ConfiguredAttributes()));
    return existing;
  }
  auto queue = std::shared_ptr<Queue>(new Queue(hub, std::string(name), arn, hub.QueueUrl(name)));
  if (options.large_payloads) {
    queue->impl_->large_payloads = detail::WithDefaultStore(std::move(*options.large_payloads));
  }
  {
    std::lock_guard lock(queue->impl_->config_mu);
    queue->impl_->Publish(std::move(config));
  }
  absl::Status added = hub.AddResource(queue);
  if (!added.ok()) {
    if (auto raced = std::dynamic_pointer_cast<Queue>(hub.FindResource(arn))) return raced;
    return added;
  }
  return queue;
}

Queue::AttributeMap Queue::ConfiguredAttributes() const {
  return ToAttributeMap(*impl_->Load(), /*fifo=*/false);
}

absl::StatusOr<Queue::AttributeMap> Queue::GetQueueAttributes(
    const std::vector<std::string>& names) const {
  auto config = impl_->Load();
  COURIER_RETURN_IF_ERROR(CheckAttributeNamesForGet(names, /*fifo=*/false));
  const int64_t now = Nanos(hub_.clock().Now());
  const int64_t retention = absl::ToInt64Nanoseconds(config->retention);
  int64_t visible = 0, in_flight = 0, delayed = 0;
  for (auto& s : impl_->shards) {
    std::lock_guard lock(s.mu);
    Impl::Advance(s, now, retention);
    visible += s.visible;
    delayed += s.delayed;
    in_flight += s.in_flight.load(std::memory_order_relaxed);
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
  std::lock_guard lock(impl_->config_mu);
  QueueConfig next = *impl_->Load();
  COURIER_RETURN_IF_ERROR(
      ApplyQueueAttributes(hub_, arn(), attributes, /*creating=*/false, /*fifo=*/false, next));
  next.last_modified = hub_.clock().Now();
  impl_->Publish(std::move(next));
  return absl::OkStatus();
}

absl::Status Queue::TagQueue(const AttributeMap& tags) {
  std::lock_guard lock(impl_->tags_mu);
  AttributeMap next = impl_->tags;
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > 128 || v.size() > 256) {
      return InvalidParameterValue("Tag keys must be 1-128 and values 0-256 characters long.");
    }
    next[k] = v;
  }
  if (next.size() > 50) {
    return InvalidParameterValue("Too many tags added for queue " + name() + ".");
  }
  impl_->tags = std::move(next);
  return absl::OkStatus();
}
absl::Status Queue::UntagQueue(const std::vector<std::string>& keys) {
  std::lock_guard lock(impl_->tags_mu);
  for (const auto& k : keys) impl_->tags.erase(k);
  return absl::OkStatus();
}
Queue::AttributeMap Queue::ListQueueTags() const {
  std::lock_guard lock(impl_->tags_mu);
  return impl_->tags;
}

// ---- send ------------------------------------------------------------------------------------

absl::StatusOr<SendMessageResult> Queue::SendMessage(SendMessageRequest request) {
  return Send(std::move(request), /*md5=*/true);
}
absl::StatusOr<SendMessageResult> Queue::SendMessageNoMd5(SendMessageRequest request) {
  return Send(std::move(request), /*md5=*/false);
}

absl::StatusOr<SendMessageResult> Queue::Send(SendMessageRequest request, bool md5) {
  auto config = impl_->Load();
  std::optional<detail::PayloadPointer> offloaded;
  if (impl_->large_payloads) {
    COURIER_RETURN_IF_ERROR(detail::OffloadPayload(*impl_->large_payloads, request));
    offloaded = detail::ParsePointerBody(request.body);
  }
  if (absl::Status valid = CheckSendRequest(request, *config, /*fifo=*/false); !valid.ok()) {
    if (offloaded) (void)detail::DeleteBlob(*impl_->large_payloads, *offloaded);
    return valid;
  }
  SendMessageResult result;
  std::array<uint8_t, 16> id = NewId();
  result.message_id = FormatId(id);
  std::unique_ptr<Extra> extra;
  if (!request.attributes.empty() || request.aws_trace_header || request.message_group_id) {
    extra = std::make_unique<Extra>();
    if (!request.attributes.empty()) {
      extra->md5_of_attributes = detail::Md5OfMessageAttributes(request.attributes);
      result.md5_of_message_attributes = extra->md5_of_attributes;
      extra->attributes = std::move(request.attributes);
    }
    if (request.aws_trace_header) {
      result.md5_of_message_system_attributes = detail::Md5OfMessageAttributes(
          {{"AWSTraceHeader", MessageAttribute::String(*request.aws_trace_header)}});
    }
    extra->trace_header = std::move(request.aws_trace_header);
    extra->group_id = std::move(request.message_group_id);
  }
  std::array<char, 32> digest{};
  if (md5) {
    result.md5_of_message_body = detail::Md5Hex(request.body);
    std::memcpy(digest.data(), result.md5_of_message_body.data(), 32);
  }
  const int64_t now = Nanos(hub_.clock().Now());
  const int64_t visible_at = now + absl::ToInt64Nanoseconds(request.delay.value_or(config->delay));
  Impl::Shard& s = impl_->shards[Impl::HomeShard()];
  {
    std::lock_guard lock(s.mu);
    Impl::Advance(s, now, absl::ToInt64Nanoseconds(config->retention));
    uint32_t i = Impl::Allocate(s);
    Slot& slot = s.slots[i];
    slot.receives = 0;
    slot.id = id;
    slot.has_md5 = md5;
    slot.md5 = digest;
    slot.enqueued = now;
    slot.first_receive = 0;
    slot.body = std::move(request.body);
    slot.extra = std::move(extra);
    Impl::Place(s, i, now, visible_at);
  }
  impl_->signal->Notify();
  return result;
}

void Queue::AcceptDeadLetter(DeadLetter letter) {
  auto config = impl_->Load();
  const int64_t now = Nanos(hub_.clock().Now());
  auto extra = std::make_unique<Extra>();
  if (!letter.request.attributes.empty()) {
    extra->md5_of_attributes = detail::Md5OfMessageAttributes(letter.request.attributes);
    extra->attributes = std::move(letter.request.attributes);
  }
  extra->trace_header = std::move(letter.request.aws_trace_header);
  extra->group_id = std::move(letter.request.message_group_id);
  extra->dead_letter_source_arn = std::move(letter.source_arn);
  Impl::Shard& s = impl_->shards[Impl::HomeShard()];
  {
    std::lock_guard lock(s.mu);
    Impl::Advance(s, now, absl::ToInt64Nanoseconds(config->retention));
    uint32_t i = Impl::Allocate(s);
    Slot& slot = s.slots[i];
    slot.receives = letter.receive_count;
    slot.id = ParseId(letter.message_id).value_or(NewId());
    slot.has_md5 = false;
    slot.enqueued = Nanos(letter.enqueued);
    slot.first_receive = letter.receive_count > 0 ? Nanos(letter.first_receive) : 0;
    slot.body = std::move(letter.request.body);
    slot.extra = std::move(extra);
    Impl::Place(s, i, now, now);
  }
  impl_->signal->Notify();
}

namespace {
// Takes a slot's message out as a dead letter (the slot is then freed by the caller).
Queue::DeadLetter TakeLetter(Slot& slot) {
  Queue::DeadLetter d;
  d.message_id = FormatId(slot.id);
  d.request.body = std::move(slot.body);
  if (slot.extra) {
    d.request.attributes = std::move(slot.extra->attributes);
    d.request.aws_trace_header = std::move(slot.extra->trace_header);
    d.request.message_group_id = std::move(slot.extra->group_id);
    d.source_arn = slot.extra->dead_letter_source_arn;
  }
  d.receive_count = slot.receives;
  d.first_receive = FromNanos(slot.first_receive);
  d.enqueued = d.sent = FromNanos(slot.enqueued);
  return d;
}
}  // namespace

std::optional<Queue::DeadLetter> Queue::TakeOldestForMove() {
  auto config = impl_->Load();
  const int64_t now = Nanos(hub_.clock().Now());
  const int64_t retention = absl::ToInt64Nanoseconds(config->retention);
  for (;;) {
    // The shard whose oldest visible message is the oldest.
    int best = -1;
    int64_t best_time = 0;
    for (uint32_t k = 0; k < kShards; ++k) {
      Impl::Shard& s = impl_->shards[k];
      std::lock_guard lock(s.mu);
      Impl::Advance(s, now, retention);
      while (!s.ready.empty()) {
        auto [i, version] = s.ready.front();
        if (s.slots[i].version == version && s.slots[i].state == State::kVisible) break;
        s.ready.pop_front();
      }
      if (s.ready.empty()) continue;
      const int64_t t = s.slots[s.ready.front().first].enqueued;
      if (best < 0 || t < best_time) best = static_cast<int>(k), best_time = t;
    }
    if (best < 0) return std::nullopt;
    Impl::Shard& s = impl_->shards[best];
    std::lock_guard lock(s.mu);
    if (s.ready.empty()) continue;
    auto [i, version] = s.ready.front();
    Slot& slot = s.slots[i];
    if (slot.version != version || slot.state != State::kVisible) continue;
    s.ready.pop_front();
    DeadLetter out = TakeLetter(slot);
    Impl::Free(s, i);
    return out;
  }
}

// ---- receive ---------------------------------------------------------------------------------

absl::StatusOr<std::vector<Message>> Queue::ReceiveMessage(const ReceiveRequest& request) {
  auto config = impl_->Load();
  COURIER_RETURN_IF_ERROR(CheckReceiveRequest(request.max_number_of_messages, request.wait_time,
                                              request.visibility_timeout));
  bool all_system = false;
  std::set<std::string, std::less<>> system_names;
  for (const auto& n : request.message_system_attribute_names) {
    if (n == "All") all_system = true;
    system_names.insert(n);
  }
  const bool want_attributes = !request.message_attribute_names.empty();
  const absl::Duration visibility = request.visibility_timeout.value_or(config->visibility);
  const int max = request.max_number_of_messages;
  std::shared_ptr<Queue> dlq;
  if (config->max_receive_count > 0) {
    dlq = std::dynamic_pointer_cast<Queue>(hub_.FindResource(config->dead_letter_target_arn));
  }

  auto try_receive = [&](std::vector<Message>& out) {
    const int64_t now = Nanos(hub_.clock().Now());
    const int64_t retention = absl::ToInt64Nanoseconds(config->retention);
    const int64_t until = now + absl::ToInt64Nanoseconds(visibility);
    std::vector<DeadLetter> dead;
    const uint32_t home = Impl::HomeShard();
    for (uint32_t k = 0; k < kShards && static_cast<int>(out.size()) < max; ++k) {
      const uint32_t shard = (home + k) % kShards;
      Impl::Shard& s = impl_->shards[shard];
      std::vector<uint32_t> again;  // visibility 0: visible again after this receive
      std::lock_guard lock(s.mu);
      Impl::Advance(s, now, retention);
      while (static_cast<int>(out.size()) < max && !s.ready.empty()) {
        auto [i, version] = s.ready.front();
        s.ready.pop_front();
        Slot& slot = s.slots[i];
        if (slot.version != version || slot.state != State::kVisible) continue;
        if (dlq != nullptr && slot.receives >= static_cast<uint32_t>(config->max_receive_count)) {
          // The receive that would exceed maxReceiveCount moves the message instead.
          dead.push_back(TakeLetter(slot));
          dead.back().source_arn = arn();
          Impl::Free(s, i);
          continue;
        }
        ++slot.receives;
        if (slot.receives == 1) slot.first_receive = now;
        slot.received_at = now;
        --s.visible;
        ++slot.version;
        slot.state = State::kInFlight;
        s.in_flight.fetch_add(1, std::memory_order_relaxed);
        if (until > now) {
          slot.visible_at = until;
          s.timers.push({until, i, slot.version});
        } else {
          again.push_back(i);
        }
        Message& m = out.emplace_back();
        m.message_id = FormatId(slot.id);
        m.receipt_handle =
            ReceiptHandle(EncodeHandle({impl_->token, shard, i, slot.gen, slot.receives}));
        m.body = slot.body;
        if (request.md5_of_body && !slot.has_md5) {  // hashed once, on first need
          std::string hex = detail::Md5Hex(slot.body);
          std::memcpy(slot.md5.data(), hex.data(), 32);
          slot.has_md5 = true;
        }
        if (slot.has_md5) m.md5_of_body.assign(slot.md5.data(), 32);
        const Extra* extra = slot.extra.get();
        if (extra != nullptr && want_attributes && !extra->attributes.empty()) {
          for (const auto& [name, a] : extra->attributes) {
            if (fifo_checks::Selected(request.message_attribute_names, name)) {
              m.message_attributes.emplace(name, a);
            }
          }
          if (!m.message_attributes.empty()) {
            m.md5_of_message_attributes = detail::Md5OfMessageAttributes(m.message_attributes);
          }
        }
        if (extra != nullptr && impl_->large_payloads) {  // RestorePayload reads the marker
          if (auto it = extra->attributes.find(detail::kExtendedPayloadSize);
              it != extra->attributes.end()) {
            m.message_attributes.insert(*it);
          }
        }
        if (!system_names.empty()) {
          auto add = [&](const char* name, std::string value) {
            if (all_system || system_names.contains(name)) m.attributes.emplace(name, value);
          };
          add("ApproximateReceiveCount", std::to_string(slot.receives));
          add("ApproximateFirstReceiveTimestamp", Millis(slot.first_receive));
          add("SentTimestamp", Millis(slot.enqueued));
          add("SenderId", hub_.environment().account);
          add("SqsManagedSseEnabled", config->sqs_managed_sse ? "true" : "false");
          if (extra != nullptr && extra->trace_header) add("AWSTraceHeader", *extra->trace_header);
          if (extra != nullptr && extra->group_id) add("MessageGroupId", *extra->group_id);
          if (extra != nullptr && !extra->dead_letter_source_arn.empty()) {
            add("DeadLetterQueueSourceArn", extra->dead_letter_source_arn);
          }
        }
      }
      for (uint32_t i : again) Impl::MakeVisible(s, i);
    }
    for (auto& d : dead) dlq->AcceptDeadLetter(std::move(d));
    if (impl_->large_payloads) {
      for (Message& m : out) (void)detail::RestorePayload(*impl_->large_payloads, m);
    }
    return !out.empty();
  };

  std::vector<Message> out;
  out.reserve(max);
  const absl::Duration wait = request.wait_time.value_or(config->receive_wait);
  // Past the in-flight limit short polls fail and long polls return nothing.
  int64_t in_flight = 0;
  for (auto& s : impl_->shards) in_flight += s.in_flight.load(std::memory_order_relaxed);
  if (in_flight >= kInFlightLimit) {
    if (wait <= absl::ZeroDuration()) {
      return AwsError(absl::StatusCode::kResourceExhausted, "OverLimit",
                      "Too many messages in flight: the limit is 120000.");
    }
    return out;
  }
  if (try_receive(out) || wait <= absl::ZeroDuration()) return out;

  // Long poll: woken by sends, and by a clock timer at the next delay or visibility end.
  Clock& clock = hub_.clock();
  const absl::Time deadline = clock.Now() + wait;
  std::shared_ptr<WakeSignal> signal = impl_->signal;
  std::optional<Clock::TimerId> timer;
  int64_t timer_at = 0;
  clock.WaitUntil(deadline, *signal, [&] {
    if (try_receive(out)) return true;
    std::optional<int64_t> next = impl_->NextEvent();
    if (next && FromNanos(*next) < deadline && (!timer || *next < timer_at)) {
      if (timer) clock.Cancel(*timer);
      timer_at = *next;
      timer = clock.ScheduleAt(FromNanos(*next), [signal] { signal->Notify(); });
    }
    return false;
  });
  if (timer) clock.Cancel(*timer);
  return out;
}

// ---- delete and visibility -------------------------------------------------------------------

absl::Status Queue::DeleteMessage(const ReceiptHandle& handle) {
  std::string inner;
  std::optional<detail::PayloadPointer> pointer;
  if (handle.value().starts_with("-..")) {  // the extended client's form
    pointer = detail::SplitReceiptHandle(handle.value(), &inner);
  }
  auto h = DecodeHandle(pointer ? std::string_view(inner) : std::string_view(handle.value()));
  if (!h || h->token != impl_->token || h->shard >= kShards || h->receive == 0) {
    return ReceiptHandleIsInvalid(handle.value());
  }
  // No need to apply due timers first: whether the message is visible or in flight, a handle
  // of its latest receive deletes it.
  Impl::Shard& s = impl_->shards[h->shard];
  std::lock_guard lock(s.mu);
  if (h->slot >= s.slots.size()) return ReceiptHandleIsInvalid(handle.value());
  Slot& slot = s.slots[h->slot];
  // Gone already, or received again since (a stale handle): success, nothing deleted.
  if (slot.gen != h->gen || slot.state == State::kFree || slot.receives != h->receive) {
    return absl::OkStatus();
  }
  Impl::Free(s, static_cast<uint32_t>(h->slot));
  if (pointer && impl_->large_payloads) (void)detail::DeleteBlob(*impl_->large_payloads, *pointer);
  return absl::OkStatus();
}

absl::Status Queue::ChangeMessageVisibility(const ReceiptHandle& handle, absl::Duration timeout) {
  std::string inner;
  const bool extended = handle.value().starts_with("-..");
  if (extended) detail::SplitReceiptHandle(handle.value(), &inner);
  auto h = DecodeHandle(extended ? std::string_view(inner) : std::string_view(handle.value()));
  if (!h || h->token != impl_->token || h->shard >= kShards || h->receive == 0) {
    return ReceiptHandleIsInvalid(handle.value());
  }
  if (timeout < absl::ZeroDuration() || timeout > kVisibilityCap ||
      timeout != absl::Trunc(timeout, absl::Seconds(1))) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and "
        "43200.",
        absl::ToInt64Seconds(timeout)));
  }
  auto config = impl_->Load();
  const int64_t now = Nanos(hub_.clock().Now());
  Impl::Shard& s = impl_->shards[h->shard];
  std::lock_guard lock(s.mu);
  if (h->slot >= s.slots.size()) return ReceiptHandleIsInvalid(handle.value());
  Impl::Advance(s, now, absl::ToInt64Nanoseconds(config->retention));
  Slot& slot = s.slots[h->slot];
  if (slot.gen != h->gen || slot.state == State::kFree || slot.receives != h->receive) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is "
        "not available for visibility timeout change.",
        handle.value()));
  }
  const int64_t until = now + absl::ToInt64Nanoseconds(timeout);
  if (until - slot.received_at > absl::ToInt64Nanoseconds(kVisibilityCap)) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for "
        "the message is beyond the limit [43200 seconds]",
        absl::ToInt64Seconds(timeout)));
  }
  const uint32_t i = static_cast<uint32_t>(h->slot);
  if (until <= now) {
    if (slot.state != State::kVisible) Impl::MakeVisible(s, i);
    return absl::OkStatus();
  }
  if (slot.state == State::kVisible) {
    --s.visible;
    s.in_flight.fetch_add(1, std::memory_order_relaxed);
  }
  slot.state = State::kInFlight;
  ++slot.version;
  slot.visible_at = until;
  s.timers.push({until, i, slot.version});
  return absl::OkStatus();
}

// ---- batches ---------------------------------------------------------------------------------

absl::StatusOr<Queue::SendBatchResult> Queue::SendMessageBatch(
    std::vector<SendBatchEntry> entries) {
  std::vector<std::pair<std::string, const SendMessageRequest*>> view;
  for (const auto& e : entries) view.emplace_back(e.id, &e.request);
  COURIER_RETURN_IF_ERROR(CheckSendBatch(view));
  SendBatchResult result;
  for (auto& e : entries) {
    absl::StatusOr<SendMessageResult> r = SendMessage(std::move(e.request));
    if (r.ok()) {
      result.successful.emplace_back(e.id, *std::move(r));
    } else {
      result.failed.push_back(
          {e.id, true, std::string(ErrorName(r.status())), std::string(ErrorMessage(r.status()))});
    }
  }
  return result;
}

namespace {
template <typename Fn>
absl::StatusOr<Queue::BatchResult> RunHandleBatch(
    const std::vector<Queue::HandleBatchEntry>& entries, std::string_view what, Fn fn) {
  std::vector<std::string> ids;
  for (const auto& e : entries) ids.push_back(e.id);
  COURIER_RETURN_IF_ERROR(CheckBatchIds(ids, what));
  Queue::BatchResult result;
  for (const auto& e : entries) {
    absl::Status st = fn(e);
    if (st.ok()) {
      result.successful.push_back(e.id);
    } else {
      result.failed.push_back(
          {e.id, true, std::string(ErrorName(st)), std::string(ErrorMessage(st))});
    }
  }
  return result;
}
}  // namespace

absl::StatusOr<Queue::BatchResult> Queue::DeleteMessageBatch(
    const std::vector<HandleBatchEntry>& entries) {
  return RunHandleBatch(entries, "DeleteMessageBatchRequestEntry",
                        [&](const HandleBatchEntry& e) { return DeleteMessage(e.receipt_handle); });
}

absl::StatusOr<Queue::BatchResult> Queue::ChangeMessageVisibilityBatch(
    const std::vector<HandleBatchEntry>& entries) {
  return RunHandleBatch(entries, "ChangeMessageVisibilityBatchRequestEntry",
                        [&](const HandleBatchEntry& e) {
                          return ChangeMessageVisibility(e.receipt_handle, e.visibility_timeout);
                        });
}

// ---- purge -----------------------------------------------------------------------------------

absl::Status Queue::PurgeQueue() {
  const absl::Time now = hub_.clock().Now();
  {
    std::lock_guard lock(impl_->purge_mu);
    if (now < impl_->last_purge + kPurgeInterval) {
      return AwsErrorF(absl::StatusCode::kPermissionDenied, "PurgeQueueInProgress",
                       "Only one PurgeQueue operation on {} is allowed every 60 seconds.", name());
    }
    impl_->last_purge = now;
  }
  for (auto& s : impl_->shards) {
    std::lock_guard lock(s.mu);
    for (uint32_t i = 0; i < s.slots.size(); ++i) {
      if (s.slots[i].state != State::kFree) Impl::Free(s, i);
    }
    s.ready.clear();
    s.timers = {};
    s.expiries.clear();
    s.late_expiries = {};
  }
  return absl::OkStatus();
}

}  // namespace courier
