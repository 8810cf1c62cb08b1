#include "courier/sqs_queue.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <thread>
#include <utility>

#include "courier/detail/digest.h"
#include "courier/detail/extended_payload.h"
#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/status.h"
#include "queue/fifo_checks.h"

namespace courier {
namespace {

constexpr absl::Duration kVisibilityCap = absl::Hours(12);
constexpr absl::Duration kPurgeInterval = absl::Seconds(60);
constexpr int64_t kInFlightLimit = 120000;  // SQS standard: short polls then fail with OverLimit
constexpr int kShards = 8;
constexpr uint32_t kChunkBits = 14;  // slots are allocated 16,384 at a time and never move
constexpr uint32_t kChunk = 1u << kChunkBits;

absl::Status InvalidAttributeValue(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidAttributeValue", message);
}
absl::Status InvalidAttributeName(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidAttributeName", message);
}
absl::Status ReceiptHandleIsInvalid(std::string_view handle) {
  return AwsErrorF(absl::StatusCode::kInvalidArgument, "ReceiptHandleIsInvalid",
                   "The input receipt handle \"{}\" is not a valid receipt handle.", handle);
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string Seconds(absl::Duration d) { return std::to_string(absl::ToInt64Seconds(d)); }

void PutHex(char* out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[i] = kHex[v & 0xF];
}

// Lowercase hex only (what PutHex writes); anything else is not one of our handles.
constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(i);
  for (int i = 0; i < 6; ++i) t['a' + i] = static_cast<int8_t>(10 + i);
  return t;
}();

bool ParseHex(std::string_view text, uint64_t* out) {
  uint64_t v = 0;
  int bad = 0;
  for (char c : text) {
    const int d = kHexValue[static_cast<unsigned char>(c)];
    bad |= d;  // negative if any digit was not lowercase hex
    v = (v << 4) | static_cast<uint64_t>(d & 0xF);
  }
  *out = v;
  return bad >= 0 && !text.empty();
}

int64_t Nanos(absl::Time t) { return absl::ToUnixNanos(t); }
absl::Time FromNanos(int64_t n) { return absl::FromUnixNanos(n); }

// A bijection on 62 bits: distinct sequence numbers give distinct MessageIds.
uint64_t Mix62(uint64_t x) {
  constexpr uint64_t kMask = (uint64_t{1} << 62) - 1;
  x = (x * 0x9E3779B97F4A7C15ULL) & kMask;
  x ^= x >> 29;
  x = (x * 0xBF58476D1CE4E5B9ULL) & kMask;
  x ^= x >> 31;
  return x;
}

// A version-4-shaped UUID from the queue's random half and a message's sequence number.
void FormatUuid(uint64_t hi, uint64_t seq, std::string* out) {
  const uint64_t lo = (uint64_t{2} << 62) | Mix62(seq);
  out->resize(36);
  char* p = out->data();
  PutHex(p, hi >> 32, 8);
  p[8] = '-';
  PutHex(p + 9, (hi >> 16) & 0xFFFF, 4);
  p[13] = '-';
  PutHex(p + 14, hi & 0xFFFF, 4);
  p[18] = '-';
  PutHex(p + 19, lo >> 48, 4);
  p[23] = '-';
  PutHex(p + 24, lo & 0xFFFFFFFFFFFFULL, 12);
}

enum class State : uint8_t { kFree, kDelayed, kVisible, kInFlight };

// What a slot carries besides the common fields; absent for plain messages.
struct Extra {
  MessageAttributes attributes;
  std::string md5_of_attributes;
  std::optional<std::string> trace_header;
  std::optional<std::string> group_id;
  std::string dead_letter_source_arn;
  std::string message_id;  // set when the id came from elsewhere (a dead letter)
};

// One message. ~100 bytes plus the body: 10 million queued 100-byte messages fit in ~2 GiB.
struct Slot {
  std::unique_ptr<char[]> body;
  uint32_t body_size = 0;
  uint32_t generation = 0;  // bumped when the slot is freed: handles of old messages go stale
  uint32_t stamp = 0;       // bumped on every state change: queue/heap entries go stale
  uint32_t receives = 0;
  int64_t sent = 0;      // ns; also the enqueue time retention counts from
  int64_t received = 0;  // ns; the last receive (the 12-hour cap counts from it)
  int64_t first_received = 0;
  std::array<unsigned char, 16> md5{};  // raw MD5 of the body (when the queue computes it)
  std::unique_ptr<Extra> extra;
  State state = State::kFree;
};

struct Entry {  // a visible slot, valid while the slot's stamp is unchanged
  uint32_t index;
  uint32_t stamp;
};
struct Timed {  // a delay or visibility deadline, valid while the slot's stamp is unchanged
  int64_t when;
  uint32_t index;
  uint32_t stamp;
  bool operator>(const Timed& o) const { return when > o.when; }
};

}  // namespace

// The queue's attributes; immutable once published.
struct SqsQueue::Config {
  absl::Duration delay = absl::ZeroDuration();
  size_t maximum_message_size = 1048576;
  absl::Duration retention = absl::Seconds(345600);
  absl::Duration receive_wait = absl::ZeroDuration();
  absl::Duration visibility = absl::Seconds(30);
  std::string redrive_policy;  // as given (JSON), empty for none
  std::string dead_letter_target_arn;
  int max_receive_count = 0;
  std::string redrive_allow_policy;
  bool sqs_managed_sse = true;
  AttributeMap other;  // Policy, KmsMasterKeyId, ...: stored and returned as given
  absl::Time created;
  absl::Time last_modified;
};

namespace {

// One lock's worth of messages. Counters are atomics written under the lock so that receives
// can skip empty shards without locking.
struct alignas(64) Shard {
  std::mutex mu;
  std::vector<std::unique_ptr<Slot[]>> chunks;
  uint32_t capacity = 0;
  std::vector<uint32_t> free;
  std::deque<Entry> ready;
  std::priority_queue<Timed, std::vector<Timed>, std::greater<>> timed;
  int64_t oldest_sent = INT64_MAX;  // lower bound of live messages' send times
  // Read without the lock by receives on other threads: a cache line of their own.
  alignas(64) std::atomic<int64_t> visible{0};
  std::atomic<int64_t> in_flight{0}, delayed{0};
  std::atomic<int64_t> next_due{INT64_MAX};  // the heap's top (maybe stale: earlier is safe)

  Slot& at(uint32_t i) { return chunks[i >> kChunkBits][i & (kChunk - 1)]; }

  uint32_t Allocate() {
    if (free.empty()) {
      chunks.push_back(std::make_unique<Slot[]>(kChunk));
      for (uint32_t i = kChunk; i-- > 0;) free.push_back(capacity + i);
      capacity += kChunk;
    }
    uint32_t i = free.back();
    free.pop_back();
    return i;
  }

  std::atomic<int64_t>* Counter(State s) {
    switch (s) {
      case State::kDelayed:
        return &delayed;
      case State::kVisible:
        return &visible;
      case State::kInFlight:
        return &in_flight;
      default:
        return nullptr;
    }
  }

  // Moves slot i to `to`: keeps the counters, invalidates old entries, files the new one.
  void Transition(uint32_t i, State to, int64_t deadline = 0) {
    Slot& s = at(i);
    if (auto* c = Counter(s.state)) c->fetch_sub(1, std::memory_order_relaxed);
    if (auto* c = Counter(to)) c->fetch_add(1, std::memory_order_relaxed);
    s.state = to;
    ++s.stamp;
    if (to == State::kVisible) {
      ready.push_back({i, s.stamp});
    } else if (to == State::kDelayed || to == State::kInFlight) {
      timed.push({deadline, i, s.stamp});
      if (deadline < next_due.load(std::memory_order_relaxed)) {
        next_due.store(deadline, std::memory_order_relaxed);
      }
    }
  }

  void Free(uint32_t i) {
    Transition(i, State::kFree);
    Slot& s = at(i);
    ++s.generation;
    s.body.reset();
    s.extra.reset();
    s.receives = 0;
    free.push_back(i);
  }

  // Due deadlines make their messages visible.
  void Sweep(int64_t now) {
    while (!timed.empty() && timed.top().when <= now) {
      Timed t = timed.top();
      timed.pop();
      Slot& s = at(t.index);
      if (s.stamp == t.stamp) Transition(t.index, State::kVisible);
    }
    next_due.store(timed.empty() ? INT64_MAX : timed.top().when, std::memory_order_relaxed);
  }

  // Frees every message past its retention (only when one may be).
  void Expire(int64_t now, int64_t retention) {
    if (oldest_sent == INT64_MAX || now < oldest_sent + retention) return;
    int64_t oldest = INT64_MAX;
    for (uint32_t i = 0; i < capacity; ++i) {
      Slot& s = at(i);
      if (s.state == State::kFree) continue;
      if (s.sent + retention <= now) {
        Free(i);
      } else {
        oldest = std::min(oldest, s.sent);
      }
    }
    oldest_sent = oldest;
  }

  void Clear() {
    for (uint32_t i = 0; i < capacity; ++i) {
      if (at(i).state != State::kFree) Free(i);
    }
    ready.clear();
    timed = {};
    oldest_sent = INT64_MAX;
    next_due.store(INT64_MAX, std::memory_order_relaxed);
  }
};

// Each thread sends to (and first receives from) its own shard.
int HomeShard() {
  static std::atomic<int> next{0};
  thread_local const int home = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return home;
}

// The handle: token(16) shard(2) index(8) generation(8) receive(8), all hex.
constexpr size_t kHandleSize = 42;

struct HandleParts {
  uint32_t shard, index, generation, receive;
};

}  // namespace

struct SqsQueue::Impl {
  std::array<Shard, kShards> shards;
  // The current configuration: one acquire load on the hot path. Attribute changes are rare, so
  // every published configuration is kept until the queue goes (a reader never sees one freed).
  std::atomic<const Config*> config{nullptr};
  std::vector<std::unique_ptr<const Config>> configs;  // guarded by config_mu
  std::mutex config_mu;                                // serialises attribute changes
  std::shared_ptr<WakeSignal> signal = std::make_shared<WakeSignal>();
  const uint64_t token = detail::RandomBits();
  const uint64_t id_half = (detail::RandomBits() & ~uint64_t{0xF000}) | 0x4000;
  std::optional<LargePayloadOptions> large_payloads;
  bool md5_of_body = true;
  bool replace_invalid_characters = false;
  std::mutex purge_mu;
  absl::Time last_purge = absl::InfinitePast();
  mutable std::mutex tags_mu;
  Tags tags;

  mutable std::mutex tasks_mu;
  std::vector<std::pair<uint64_t, MoveTask>> tasks;
  uint64_t next_task = 1;

  const Config* Load() const { return config.load(std::memory_order_acquire); }
  void Publish(Config next) {  // with config_mu held (or before the queue is shared)
    configs.push_back(std::make_unique<const Config>(std::move(next)));
    config.store(configs.back().get(), std::memory_order_release);
  }

  std::string Handle(uint32_t shard, uint32_t index, const Slot& s) const {
    std::string out(kHandleSize, '0');
    PutHex(out.data(), token, 16);
    PutHex(out.data() + 16, shard, 2);
    PutHex(out.data() + 18, index, 8);
    PutHex(out.data() + 26, s.generation, 8);
    PutHex(out.data() + 34, s.receives, 8);
    return out;
  }

  // A slot incarnation (generation, shard, index: 62 bits) names the message: unique in the
  // queue, so no sequence number is stored.
  void FormatMessageId(uint32_t shard, uint32_t index, uint32_t generation,
                       std::string* out) const {
    const uint64_t seq = (uint64_t{generation & 0x7FFFFFF} << 35) | (uint64_t{shard} << 32) | index;
    FormatUuid(id_half, seq, out);
  }
  std::string MessageId(uint32_t shard, uint32_t index, const Slot& s) const {
    if (s.extra && !s.extra->message_id.empty()) return s.extra->message_id;
    std::string id;
    FormatMessageId(shard, index, s.generation, &id);
    return id;
  }

  struct Counts {
    int64_t visible = 0, in_flight = 0, delayed = 0;
  };
  Counts Count(int64_t now, int64_t retention) {
    Counts c;
    for (Shard& sh : shards) {
      std::lock_guard lock(sh.mu);
      sh.Sweep(now);
      sh.Expire(now, retention);
      c.visible += sh.visible.load(std::memory_order_relaxed);
      c.in_flight += sh.in_flight.load(std::memory_order_relaxed);
      c.delayed += sh.delayed.load(std::memory_order_relaxed);
    }
    return c;
  }

  int64_t InFlight() const {
    int64_t n = 0;
    for (const Shard& sh : shards) n += sh.in_flight.load(std::memory_order_relaxed);
    return n;
  }

  // The earliest instant a delayed or in-flight message may become visible.
  int64_t NextDue() const {
    int64_t n = INT64_MAX;
    for (const Shard& sh : shards) n = std::min(n, sh.next_due.load(std::memory_order_relaxed));
    return n;
  }
};

namespace {

// Parses and checks attributes onto `config`. `creating`: CreateQueue (FifoQueue=false allowed).
absl::Status ApplyAttributes(Hub& hub, std::string_view self_arn,
                             const SqsQueue::AttributeMap& attributes, bool creating,
                             auto& config) {
  auto seconds = [&](std::string_view name, std::string_view value, int64_t lo, int64_t hi,
                     absl::Duration* out) -> absl::Status {
    std::optional<int64_t> v = ParseInt(value);
    if (!v || *v < lo || *v > hi) {
      return InvalidAttributeValue(fmt::format("Invalid value for the parameter {}.", name));
    }
    *out = absl::Seconds(*v);
    return absl::OkStatus();
  };
  for (const auto& [name, value] : attributes) {
    if (name == "DelaySeconds") {
      COURIER_RETURN_IF_ERROR(seconds(name, value, 0, 900, &config.delay));
    } else if (name == "MaximumMessageSize") {
      absl::Duration d;
      COURIER_RETURN_IF_ERROR(seconds(name, value, 1024, 1048576, &d));
      config.maximum_message_size = static_cast<size_t>(absl::ToInt64Seconds(d));
    } else if (name == "MessageRetentionPeriod") {
      COURIER_RETURN_IF_ERROR(seconds(name, value, 60, 1209600, &config.retention));
    } else if (name == "ReceiveMessageWaitTimeSeconds") {
      COURIER_RETURN_IF_ERROR(seconds(name, value, 0, 20, &config.receive_wait));
    } else if (name == "VisibilityTimeout") {
      COURIER_RETURN_IF_ERROR(seconds(name, value, 0, 43200, &config.visibility));
    } else if (name == "FifoQueue") {
      if (!creating) return InvalidAttributeValue("Modifying queue type is not supported.");
      if (value != "false" && value != "False") {
        return InvalidParameterValue(
            "A FIFO queue's name must end with the .fifo suffix (use Hub::CreateFifoQueue).");
      }
    } else if (name == "ContentBasedDeduplication" || name == "DeduplicationScope" ||
               name == "FifoThroughputLimit") {
      return InvalidAttributeName(fmt::format("Unknown Attribute {}.", name));
    } else if (name == "SqsManagedSseEnabled") {
      if (value == "true" || value == "True") {
        config.sqs_managed_sse = true;
      } else if (value == "false" || value == "False") {
        config.sqs_managed_sse = false;
      } else {
        return InvalidAttributeValue("Invalid value for the parameter SqsManagedSseEnabled.");
      }
    } else if (name == "RedrivePolicy") {
      if (value.empty()) {
        config.redrive_policy.clear();
        config.dead_letter_target_arn.clear();
        config.max_receive_count = 0;
        continue;
      }
      auto invalid = [&](std::string_view reason) {
        return InvalidParameterValue(fmt::format(
            "Value {} for parameter RedrivePolicy is invalid. Reason: {}", value, reason));
      };
      absl::StatusOr<Json> doc = ParseJson(value);
      if (!doc.ok() || !doc->is_object()) return invalid("Redrive policy is not a valid JSON map.");
      const JsonObject& o = doc->as_object();
      const auto* target = o.if_contains("deadLetterTargetArn");
      const auto* count = o.if_contains("maxReceiveCount");
      if (target == nullptr || !target->is_string()) {
        return invalid("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.");
      }
      if (count == nullptr) {
        return invalid("Redrive policy does not contain mandatory attribute: maxReceiveCount.");
      }
      std::optional<int64_t> n;
      if (count->is_int64()) n = count->as_int64();
      if (count->is_string()) n = ParseInt(std::string(count->as_string()));
      if (!n || *n < 1 || *n > 1000) {
        return invalid("Invalid value for maxReceiveCount: must be an integer from 1 to 1000.");
      }
      const std::string arn(target->as_string());
      std::shared_ptr<Resource> found = hub.FindResource(arn);
      if (found == nullptr) return invalid("Dead letter target does not exist.");
      auto dlq = std::dynamic_pointer_cast<SqsQueue>(found);
      if (dlq == nullptr) {
        return invalid("Dead-letter queue must be same type of queue as the source.");
      }
      if (arn == self_arn) return invalid("Dead letter target cannot be the queue itself.");
      // The target's RedriveAllowPolicy decides who may use it.
      const SqsQueue::AttributeMap target_attributes = dlq->ConfiguredAttributes();
      if (auto it = target_attributes.find("RedriveAllowPolicy"); it != target_attributes.end()) {
        absl::StatusOr<Json> allow = ParseJson(it->second);
        if (allow.ok() && allow->is_object()) {
          const auto* permission = allow->as_object().if_contains("redrivePermission");
          const std::string p = permission && permission->is_string()
                                    ? std::string(permission->as_string())
                                    : "allowAll";
          bool allowed = p == "allowAll";
          if (p == "byQueue") {
            if (const auto* arns = allow->as_object().if_contains("sourceQueueArns");
                arns && arns->is_array()) {
              for (const auto& a : arns->as_array()) {
                allowed |= a.is_string() && a.as_string() == self_arn;
              }
            }
          }
          if (!allowed) {
            return invalid(fmt::format(
                "Queue {} does not allow this queue to use it as a dead-letter queue.", arn));
          }
        }
      }
      config.redrive_policy = value;
      config.dead_letter_target_arn = arn;
      config.max_receive_count = static_cast<int>(*n);
    } else if (name == "RedriveAllowPolicy") {
      if (value.empty()) {
        config.redrive_allow_policy.clear();
        continue;
      }
      auto invalid = [&](std::string_view reason) {
        return InvalidParameterValue(fmt::format(
            "Value {} for parameter RedriveAllowPolicy is invalid. Reason: {}", value, reason));
      };
      absl::StatusOr<Json> doc = ParseJson(value);
      if (!doc.ok() || !doc->is_object()) return invalid("Invalid JSON.");
      const auto* permission = doc->as_object().if_contains("redrivePermission");
      if (permission == nullptr || !permission->is_string()) {
        return invalid("Amazon SQS can't find a redrivePermission.");
      }
      const std::string p(permission->as_string());
      const auto* arns = doc->as_object().if_contains("sourceQueueArns");
      if (p == "byQueue") {
        if (arns == nullptr || !arns->is_array() || arns->as_array().empty() ||
            arns->as_array().size() > 10) {
          return invalid("byQueue needs sourceQueueArns, 1 to 10 queue ARNs.");
        }
      } else if (p == "allowAll" || p == "denyAll") {
        if (arns != nullptr) return invalid("sourceQueueArns is allowed only with byQueue.");
      } else {
        return invalid("redrivePermission must be allowAll, denyAll or byQueue.");
      }
      config.redrive_allow_policy = value;
    } else if (name == "Policy" || name == "KmsMasterKeyId" ||
               name == "KmsDataKeyReusePeriodSeconds") {
      config.other[name] = value;
    } else {
      return InvalidAttributeName(fmt::format("Unknown Attribute {}.", name));
    }
  }
  return absl::OkStatus();
}

// The body with every character outside SQS's set (and every malformed UTF-8 byte) replaced by
// U+FFFD.
std::string ReplaceInvalidCharacters(std::string_view in) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c, len = 1;
    } else if ((c >> 5) == 6) {
      cp = c & 0x1F, len = 2;
    } else if ((c >> 4) == 14) {
      cp = c & 0x0F, len = 3;
    } else if ((c >> 3) == 30) {
      cp = c & 0x07, len = 4;
    } else {
      out += kReplacement;
      ++i;
      continue;
    }
    bool ok = i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto d = static_cast<unsigned char>(in[i + k]);
      ok = (d >> 6) == 2;
      cp = (cp << 6) | (d & 0x3F);
    }
    ok = ok && cp >= kMin[len] && !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF;
    if (!ok) {
      out += kReplacement;
      ++i;
      continue;
    }
    const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                         (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
    if (allowed) {
      out.append(in.substr(i, len));
    } else {
      out += kReplacement;
    }
    i += len;
  }
  return out;
}

absl::Status CheckStandardName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 80;
  for (char c : name) {
    ok &= (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-';
  }
  if (!ok) {
    return InvalidParameterValue(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
  }
  return absl::OkStatus();
}

}  // namespace

SqsQueue::SqsQueue(Hub& hub, std::string name, std::string arn, std::string url, Options options)
    : MessageSink(std::move(name), std::move(arn)),
      hub_(hub),
      url_(std::move(url)),
      impl_(std::make_unique<Impl>()) {
  if (options.large_payloads) {
    impl_->large_payloads = detail::WithDefaultStore(std::move(*options.large_payloads));
  }
  impl_->md5_of_body = options.md5_of_body;
  impl_->replace_invalid_characters = options.replace_invalid_characters;
  impl_->tags = std::move(options.tags);
}

SqsQueue::~SqsQueue() = default;

namespace {

// Names deleted recently, per hub: a name is refused for 60 s after DeleteQueue.
struct DeletedSqsQueues {
  explicit DeletedSqsQueues(Hub&) {}
  std::mutex mu;
  std::map<std::string, absl::Time, std::less<>> when;
};

std::string ArnOf(Hub& hub, std::string_view name_arn_or_url) {
  if (name_arn_or_url.starts_with("arn:")) return std::string(name_arn_or_url);
  if (name_arn_or_url.starts_with("http")) {
    name_arn_or_url.remove_prefix(name_arn_or_url.rfind('/') + 1);
  }
  return hub.Arn("sqs", name_arn_or_url);
}

absl::Status QueueDoesNotExist() {
  return AwsError(absl::StatusCode::kNotFound, "QueueDoesNotExist",
                  "The specified queue does not exist.");
}

}  // namespace

absl::StatusOr<std::shared_ptr<SqsQueue>> SqsQueue::Get(Hub& hub,
                                                        std::string_view name_arn_or_url) {
  auto q = std::dynamic_pointer_cast<SqsQueue>(hub.FindResource(ArnOf(hub, name_arn_or_url)));
  if (q == nullptr) return QueueDoesNotExist();
  return q;
}

absl::Status SqsQueue::Delete(Hub& hub, std::string_view name_arn_or_url) {
  const std::string arn = ArnOf(hub, name_arn_or_url);
  if (std::dynamic_pointer_cast<SqsQueue>(hub.FindResource(arn)) == nullptr) {
    return QueueDoesNotExist();
  }
  auto removed = hub.RemoveResource(arn);
  if (removed == nullptr) return QueueDoesNotExist();
  auto& deleted = hub.Extension<DeletedSqsQueues>();
  std::lock_guard lock(deleted.mu);
  deleted.when[removed->name()] = hub.clock().Now();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<SqsQueue>> SqsQueue::Create(Hub& hub, std::string_view name,
                                                           const AttributeMap& attributes,
                                                           Options options) {
  if (name.ends_with(".fifo")) {
    return InvalidParameterValue(
        "A FIFO queue (name ending in .fifo) is created with FifoQueue::Create or "
        "Hub::CreateFifoQueue.");
  }
  COURIER_RETURN_IF_ERROR(CheckStandardName(name));
  const std::string arn = hub.Arn("sqs", name);
  Config config;
  config.created = config.last_modified = hub.clock().Now();
  COURIER_RETURN_IF_ERROR(ApplyAttributes(hub, arn, attributes, /*creating=*/true, config));
  if (options.tags.size() > 50) {
    return InvalidParameterValue("Too many tags: a queue can have at most 50.");
  }
  {
    auto& deleted = hub.Extension<DeletedSqsQueues>();
    std::lock_guard lock(deleted.mu);
    auto it = deleted.when.find(name);
    if (it != deleted.when.end() && hub.clock().Now() < it->second + absl::Seconds(60)) {
      return AwsError(absl::StatusCode::kFailedPrecondition, "QueueDeletedRecently",
                      "You must wait 60 seconds after deleting a queue before you can create "
                      "another with the same name.");
    }
  }
  if (auto existing = std::dynamic_pointer_cast<SqsQueue>(hub.FindResource(arn))) {
    // Idempotent with identical attributes.
    const AttributeMap now = existing->ConfiguredAttributes();
    const AttributeMap wanted = ToMap(config);
    for (const auto& [key, value] : attributes) {
      if (key == "FifoQueue") continue;
      auto a = wanted.find(key);
      auto b = now.find(key);
      const std::string want = a == wanted.end() ? value : a->second;
      const std::string have = b == now.end() ? std::string() : b->second;
      if (have != want) {
        return AwsErrorF(absl::StatusCode::kAlreadyExists, "QueueAlreadyExists",
                         "A queue already exists with the same name and a different value for "
                         "attribute {}",
                         key);
      }
    }
    return existing;
  }
  auto queue = std::shared_ptr<SqsQueue>(
      new SqsQueue(hub, std::string(name), arn, hub.QueueUrl(name), std::move(options)));
  queue->impl_->Publish(std::move(config));
  absl::Status added = hub.AddResource(queue);
  if (!added.ok()) {
    if (auto raced = std::dynamic_pointer_cast<SqsQueue>(hub.FindResource(arn))) return raced;
    return added;
  }
  return queue;
}

SqsQueue::AttributeMap SqsQueue::ConfiguredAttributes() const { return ToMap(*impl_->Load()); }

SqsQueue::AttributeMap SqsQueue::ToMap(const Config& c) {
  AttributeMap m = c.other;
  m["DelaySeconds"] = Seconds(c.delay);
  m["MaximumMessageSize"] = std::to_string(c.maximum_message_size);
  m["MessageRetentionPeriod"] = Seconds(c.retention);
  m["ReceiveMessageWaitTimeSeconds"] = Seconds(c.receive_wait);
  m["VisibilityTimeout"] = Seconds(c.visibility);
  m["SqsManagedSseEnabled"] = c.sqs_managed_sse ? "true" : "false";
  if (!c.redrive_policy.empty()) m["RedrivePolicy"] = c.redrive_policy;
  if (!c.redrive_allow_policy.empty()) m["RedriveAllowPolicy"] = c.redrive_allow_policy;
  return m;
}

absl::StatusOr<SqsQueue::AttributeMap> SqsQueue::GetQueueAttributes(
    const std::vector<std::string>& names) const {
  static const std::set<std::string, std::less<>> kKnown = {"ApproximateNumberOfMessages",
                                                            "ApproximateNumberOfMessagesNotVisible",
                                                            "ApproximateNumberOfMessagesDelayed",
                                                            "CreatedTimestamp",
                                                            "LastModifiedTimestamp",
                                                            "QueueArn",
                                                            "DelaySeconds",
                                                            "MaximumMessageSize",
                                                            "MessageRetentionPeriod",
                                                            "ReceiveMessageWaitTimeSeconds",
                                                            "VisibilityTimeout",
                                                            "SqsManagedSseEnabled",
                                                            "RedrivePolicy",
                                                            "RedriveAllowPolicy",
                                                            "Policy",
                                                            "KmsMasterKeyId",
                                                            "KmsDataKeyReusePeriodSeconds"};
  const bool all = std::find(names.begin(), names.end(), "All") != names.end();
  for (const std::string& n : names) {
    if (n != "All" && !kKnown.contains(n)) {
      return InvalidAttributeName(fmt::format("Unknown Attribute {}.", n));
    }
  }
  const Config* c = impl_->Load();
  AttributeMap everything = ToMap(*c);
  const Impl::Counts counts =
      impl_->Count(Nanos(hub_.clock().Now()), absl::ToInt64Nanoseconds(c->retention));
  everything["ApproximateNumberOfMessages"] = std::to_string(counts.visible);
  everything["ApproximateNumberOfMessagesNotVisible"] = std::to_string(counts.in_flight);
  everything["ApproximateNumberOfMessagesDelayed"] = std::to_string(counts.delayed);
  everything["CreatedTimestamp"] = std::to_string(absl::ToUnixSeconds(c->created));
  everything["LastModifiedTimestamp"] = std::to_string(absl::ToUnixSeconds(c->last_modified));
  everything["QueueArn"] = arn();
  if (all) return everything;
  AttributeMap out;
  for (const std::string& n : names) {
    if (auto it = everything.find(n); it != everything.end()) out.insert(*it);
  }
  return out;
}

absl::Status SqsQueue::SetQueueAttributes(const AttributeMap& attributes) {
  static const std::set<std::string, std::less<>> kReadOnly = {
      "ApproximateNumberOfMessages",
      "ApproximateNumberOfMessagesNotVisible",
      "ApproximateNumberOfMessagesDelayed",
      "CreatedTimestamp",
      "LastModifiedTimestamp",
      "QueueArn"};
  for (const auto& [name, value] : attributes) {
    if (kReadOnly.contains(name)) {
      return InvalidAttributeName(fmt::format("Unknown Attribute {}.", name));
    }
  }
  std::lock_guard lock(impl_->config_mu);
  Config next = *impl_->Load();
  COURIER_RETURN_IF_ERROR(ApplyAttributes(hub_, arn(), attributes, /*creating=*/false, next));
  next.last_modified = hub_.clock().Now();
  impl_->Publish(std::move(next));
  return absl::OkStatus();
}

// ---- Tags ----

absl::Status SqsQueue::TagQueue(const Tags& tags) {
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > 128 || v.size() > 256) {
      return InvalidParameterValue(
          "Tag keys must be 1 to 128 characters and values at most 256 characters.");
    }
  }
  std::lock_guard lock(impl_->tags_mu);
  Tags next = impl_->tags;
  for (const auto& [k, v] : tags) next[k] = v;
  if (next.size() > 50) {
    return InvalidParameterValue("Too many tags: a queue can have at most 50.");
  }
  impl_->tags = std::move(next);
  return absl::OkStatus();
}

absl::Status SqsQueue::UntagQueue(const std::vector<std::string>& keys) {
  std::lock_guard lock(impl_->tags_mu);
  for (const std::string& k : keys) impl_->tags.erase(k);
  return absl::OkStatus();
}

SqsQueue::Tags SqsQueue::ListQueueTags() const {
  std::lock_guard lock(impl_->tags_mu);
  return impl_->tags;
}

// ---- Send ----

absl::StatusOr<SendMessageResult> SqsQueue::SendMessage(SendMessageRequest request) {
  return Send(std::move(request), hub_.clock().Now());
}

absl::StatusOr<SendMessageResult> SqsQueue::Send(SendMessageRequest request, absl::Time now) {
  const Config* config = impl_->Load();
  if (request.delay.has_value() &&
      (*request.delay < absl::ZeroDuration() || *request.delay > absl::Seconds(900))) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter DelaySeconds is invalid. Reason: Must be >= 0 and <= 900, if "
        "provided.",
        absl::ToInt64Seconds(*request.delay)));
  }
  if (request.message_group_id.has_value()) {
    COURIER_RETURN_IF_ERROR(fifo_checks::CheckFifoId("MessageGroupId", *request.message_group_id));
  }
  if (request.message_deduplication_id.has_value()) {
    return InvalidParameterValue(
        "Value for parameter MessageDeduplicationId is invalid. Reason: The request include "
        "parameter that is not valid for this queue type.");
  }
  if (request.aws_trace_header.has_value() && request.aws_trace_header->empty()) {
    return InvalidParameterValue("Message system attribute 'AWSTraceHeader' must not be empty.");
  }
  std::optional<detail::PayloadPointer> offloaded;
  if (impl_->large_payloads) {
    COURIER_RETURN_IF_ERROR(detail::OffloadPayload(*impl_->large_payloads, request));
    offloaded = detail::ParsePointerBody(request.body);
    if (offloaded && !request.attributes.contains(detail::kExtendedPayloadSize)) offloaded.reset();
  }
  // Printable ASCII (the common case) needs no UTF-8 decoding.
  // (Branch-free so that it vectorises; tabs and newlines take the full check.)
  unsigned outside = request.body.empty() ? 1u : 0u;
  for (unsigned char c : request.body) outside |= static_cast<unsigned>(c - 0x20u) > 0x5Eu;
  const bool plain = outside == 0;
  absl::Status valid = plain ? absl::OkStatus() : fifo_checks::CheckBody(request.body);
  if (!valid.ok() && impl_->replace_invalid_characters &&
      ErrorName(valid) == "InvalidMessageContents") {
    request.body = ReplaceInvalidCharacters(request.body);
    valid = fifo_checks::CheckBody(request.body);
  }
  if (valid.ok()) valid = fifo_checks::CheckAttributes(request.attributes);
  if (valid.ok()) valid = fifo_checks::CheckSize(request, config->maximum_message_size);
  if (!valid.ok()) {
    if (offloaded) (void)detail::DeleteBlob(*impl_->large_payloads, *offloaded);
    return valid;
  }

  SendMessageResult result;
  std::array<unsigned char, 16> md5{};
  if (impl_->md5_of_body) {
    result.md5_of_message_body = detail::Md5Hex(request.body);
    for (size_t i = 0; i < 16; ++i) {
      auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
      md5[i] = static_cast<unsigned char>(nibble(result.md5_of_message_body[2 * i]) * 16 +
                                          nibble(result.md5_of_message_body[2 * i + 1]));
    }
  }
  std::unique_ptr<Extra> extra;
  if (!request.attributes.empty() || request.aws_trace_header || request.message_group_id) {
    extra = std::make_unique<Extra>();
    if (!request.attributes.empty()) {
      result.md5_of_message_attributes = detail::Md5OfMessageAttributes(request.attributes);
      extra->md5_of_attributes = result.md5_of_message_attributes;
      extra->attributes = std::move(request.attributes);
    }
    if (request.aws_trace_header) {
      result.md5_of_message_system_attributes = detail::Md5OfMessageAttributes(
          {{"AWSTraceHeader", MessageAttribute::String(*request.aws_trace_header)}});
      extra->trace_header = std::move(request.aws_trace_header);
    }
    extra->group_id = std::move(request.message_group_id);
  }
  std::unique_ptr<char[]> body(new char[request.body.size()]);
  std::memcpy(body.get(), request.body.data(), request.body.size());
  const absl::Duration delay = request.delay.value_or(config->delay);
  const int64_t now_ns = Nanos(now);

  const int home = HomeShard();
  Shard& sh = impl_->shards[home];
  uint32_t index, generation;
  {
    std::lock_guard lock(sh.mu);
    const uint32_t i = sh.Allocate();
    Slot& s = sh.at(i);
    index = i;
    generation = s.generation;
    s.body = std::move(body);
    s.body_size = static_cast<uint32_t>(request.body.size());
    s.sent = now_ns;
    s.md5 = md5;
    s.extra = std::move(extra);
    sh.oldest_sent = std::min(sh.oldest_sent, now_ns);
    if (delay > absl::ZeroDuration()) {
      sh.Transition(i, State::kDelayed, now_ns + absl::ToInt64Nanoseconds(delay));
    } else {
      sh.Transition(i, State::kVisible);
    }
  }
  impl_->signal->Notify();  // a long poll wakes (and re-arms its timer for a delayed message)
  impl_->FormatMessageId(static_cast<uint32_t>(home), index, generation, &result.message_id);
  return result;
}

absl::StatusOr<SqsQueue::SendBatchResult> SqsQueue::SendMessageBatch(
    std::vector<SendBatchEntry> entries) {
  if (entries.empty()) {
    return AwsError(absl::StatusCode::kInvalidArgument, "EmptyBatchRequest",
                    "There should be at least one SendMessageBatchRequestEntry in the request.");
  }
  if (entries.size() > 10) {
    return AwsErrorF(absl::StatusCode::kInvalidArgument, "TooManyEntriesInBatchRequest",
                     "Maximum number of entries per request are 10. You have sent {}.",
                     entries.size());
  }
  std::array<std::string_view, 10> ids;  // at most 10 entries: a linear check, no allocation
  size_t n_ids = 0;
  size_t total = 0;
  for (const SendBatchEntry& e : entries) {
    if (!fifo_checks::ValidBatchEntryId(e.id)) {
      return AwsError(absl::StatusCode::kInvalidArgument, "InvalidBatchEntryId",
                      "A batch entry id can only contain alphanumeric characters, hyphens and "
                      "underscores. It can be at most 80 letters long.");
    }
    if (std::find(ids.begin(), ids.begin() + n_ids, e.id) != ids.begin() + n_ids) {
      return AwsErrorF(absl::StatusCode::kInvalidArgument, "BatchEntryIdsNotDistinct",
                       "Id {} repeated.", e.id);
    }
    ids[n_ids++] = e.id;
    total += detail::MessageSize(e.request);
  }
  if (total > 1048576 && !impl_->large_payloads) {
    return AwsErrorF(absl::StatusCode::kInvalidArgument, "BatchRequestTooLong",
                     "Batch requests cannot be longer than 1048576 bytes. You have sent {} bytes.",
                     total);
  }
  SendBatchResult out;
  const absl::Time now = hub_.clock().Now();
  for (SendBatchEntry& e : entries) {
    absl::StatusOr<SendMessageResult> r = Send(std::move(e.request), now);
    if (r.ok()) {
      out.successful.emplace_back(e.id, *std::move(r));
    } else {
      std::string message(ErrorMessage(r.status()));
      // AWS words an oversized entry as "...cannot be validated. Reason: ...".
      if (auto pos = message.find("are invalid. Reason:"); pos != std::string::npos) {
        message.replace(pos, 11, "cannot be validated.");
      }
      out.failed.push_back({e.id, true, std::string(ErrorName(r.status())), std::move(message)});
    }
  }
  return out;
}

// ---- Receive ----

absl::StatusOr<std::vector<Message>> SqsQueue::TryReceive(const ReceiveRequest& request,
                                                          const Config& config, absl::Time now,
                                                          bool long_poll) {
  const int64_t now_ns = Nanos(now);
  const int64_t retention = absl::ToInt64Nanoseconds(config.retention);
  const absl::Duration visibility = request.visibility_timeout.value_or(config.visibility);
  const int64_t visible_until = now_ns + absl::ToInt64Nanoseconds(visibility);
  const size_t want = static_cast<size_t>(request.max_number_of_messages);
  std::vector<Message> out;
  out.reserve(want);
  std::vector<DeadLetter> dead;
  std::shared_ptr<SqsQueue> dlq;
  if (config.max_receive_count > 0) {
    dlq = std::dynamic_pointer_cast<SqsQueue>(hub_.FindResource(config.dead_letter_target_arn));
  }
  if (impl_->InFlight() >= kInFlightLimit) {
    if (long_poll) return out;
    return AwsError(absl::StatusCode::kResourceExhausted, "OverLimit",
                    "Too many messages in flight (the limit is 120000).");
  }
  const auto& sys = request.message_system_attribute_names;
  const bool all_sys = std::find(sys.begin(), sys.end(), "All") != sys.end();
  const int home = HomeShard();
  for (int k = 0; k < kShards && out.size() < want; ++k) {
    const uint32_t shard_index = static_cast<uint32_t>((home + k) % kShards);
    Shard& sh = impl_->shards[shard_index];
    if (sh.visible.load(std::memory_order_relaxed) == 0 &&
        sh.next_due.load(std::memory_order_relaxed) > now_ns) {
      continue;  // nothing here now: skip without locking
    }
    std::lock_guard lock(sh.mu);
    sh.Sweep(now_ns);
    // Visibility 0 puts a message straight back: look at each entry at most once.
    for (size_t budget = sh.ready.size(); budget > 0 && out.size() < want; --budget) {
      const Entry e = sh.ready.front();
      sh.ready.pop_front();
      Slot& s = sh.at(e.index);
      if (s.stamp != e.stamp || s.state != State::kVisible) continue;
      if (s.sent + retention <= now_ns) {
        sh.Free(e.index);
        continue;
      }
      if (dlq != nullptr && s.receives >= static_cast<uint32_t>(config.max_receive_count)) {
        DeadLetter d;
        d.message_id = impl_->MessageId(shard_index, e.index, s);
        d.body.assign(s.body.get(), s.body_size);
        if (s.extra) {
          d.attributes = std::move(s.extra->attributes);
          d.trace_header = std::move(s.extra->trace_header);
          d.message_group_id = std::move(s.extra->group_id);
        }
        d.sent = FromNanos(s.sent);
        d.receives = s.receives;
        d.first_received = FromNanos(s.first_received);
        d.source_arn = arn();
        dead.push_back(std::move(d));
        sh.Free(e.index);
        continue;
      }
      ++s.receives;
      if (s.receives == 1) s.first_received = now_ns;
      s.received = now_ns;
      if (visible_until > now_ns) {
        sh.Transition(e.index, State::kInFlight, visible_until);
      } else {
        sh.Transition(e.index, State::kVisible);
      }
      Message m;
      m.message_id = impl_->MessageId(shard_index, e.index, s);
      m.receipt_handle = ReceiptHandle(impl_->Handle(shard_index, e.index, s));
      m.body.assign(s.body.get(), s.body_size);
      if (impl_->md5_of_body) {
        m.md5_of_body.resize(32);
        for (size_t i = 0; i < 16; ++i) PutHex(m.md5_of_body.data() + 2 * i, s.md5[i], 2);
      }
      if (s.extra) {
        const Extra& x = *s.extra;
        const auto& names = request.message_attribute_names;
        if (!names.empty()) {
          for (const auto& [name, a] : x.attributes) {
            if (fifo_checks::Selected(names, name)) m.message_attributes.emplace(name, a);
          }
          if (!m.message_attributes.empty()) m.md5_of_message_attributes = x.md5_of_attributes;
        }
        // An offloaded message keeps its marker for RestorePayload, which removes it.
        if (impl_->large_payloads) {
          if (auto it = x.attributes.find(detail::kExtendedPayloadSize); it != x.attributes.end()) {
            m.message_attributes.insert(*it);
          }
        }
      }
      if (!sys.empty()) {
        auto add = [&](std::string_view name, auto&& value) {
          if (all_sys || std::find(sys.begin(), sys.end(), name) != sys.end()) {
            m.attributes.emplace(std::string(name), std::string(value));
          }
        };
        add("ApproximateReceiveCount", std::to_string(s.receives));
        add("ApproximateFirstReceiveTimestamp",
            std::to_string(absl::ToUnixMillis(FromNanos(s.first_received))));
        add("SentTimestamp", std::to_string(absl::ToUnixMillis(FromNanos(s.sent))));
        add("SenderId", hub_.environment().account);
        add("SqsManagedSseEnabled", config.sqs_managed_sse ? "true" : "false");
        if (s.extra) {
          if (s.extra->trace_header) add("AWSTraceHeader", *s.extra->trace_header);
          if (s.extra->group_id) add("MessageGroupId", *s.extra->group_id);
          if (!s.extra->dead_letter_source_arn.empty()) {
            add("DeadLetterQueueSourceArn", s.extra->dead_letter_source_arn);
          }
        }
      }
      out.push_back(std::move(m));
    }
  }
  for (DeadLetter& d : dead) dlq->AcceptDeadLetter(std::move(d));
  if (impl_->large_payloads) {
    for (Message& m : out) (void)detail::RestorePayload(*impl_->large_payloads, m);
  }
  return out;
}

void SqsQueue::AcceptDeadLetter(DeadLetter letter) {
  const int64_t now_ns = Nanos(hub_.clock().Now());
  const int64_t sent = Nanos(letter.sent);
  const Config* config = impl_->Load();
  // A standard dead-letter queue counts retention from the original enqueue.
  if (sent + absl::ToInt64Nanoseconds(config->retention) <= now_ns) return;
  auto extra = std::make_unique<Extra>();
  if (!letter.attributes.empty()) {
    extra->md5_of_attributes = detail::Md5OfMessageAttributes(letter.attributes);
  }
  extra->attributes = std::move(letter.attributes);
  extra->trace_header = std::move(letter.trace_header);
  extra->group_id = std::move(letter.message_group_id);
  extra->dead_letter_source_arn = std::move(letter.source_arn);
  extra->message_id = std::move(letter.message_id);
  std::array<unsigned char, 16> md5{};
  if (impl_->md5_of_body) {
    const std::string hex = detail::Md5Hex(letter.body);
    for (size_t i = 0; i < 16; ++i) {
      md5[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    }
  }
  std::unique_ptr<char[]> body(new char[letter.body.size()]);
  std::memcpy(body.get(), letter.body.data(), letter.body.size());
  Shard& sh = impl_->shards[HomeShard()];
  {
    std::lock_guard lock(sh.mu);
    const uint32_t i = sh.Allocate();
    Slot& s = sh.at(i);
    s.body = std::move(body);
    s.body_size = static_cast<uint32_t>(letter.body.size());
    s.sent = sent;
    s.md5 = md5;
    s.extra = std::move(extra);
    s.receives = letter.receives;
    s.first_received = Nanos(letter.first_received);
    sh.oldest_sent = std::min(sh.oldest_sent, sent);
    sh.Transition(i, State::kVisible);
  }
  impl_->signal->Notify();
}

absl::StatusOr<std::vector<Message>> SqsQueue::ReceiveMessage(const ReceiveRequest& request) {
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
  Clock& clock = hub_.clock();
  const Config* config = impl_->Load();
  const absl::Time start = clock.Now();
  const absl::Duration wait = request.wait_time.value_or(config->receive_wait);
  const bool long_poll = wait > absl::ZeroDuration();
  COURIER_ASSIGN_OR_RETURN(std::vector<Message> got,
                           TryReceive(request, *config, start, long_poll));
  if (!got.empty() || !long_poll) return got;

  // Long poll: wake on a send, at the instant a delayed or in-flight message becomes visible,
  // or at the end of the wait, whichever is first.
  const absl::Time deadline = start + wait;
  for (;;) {
    const absl::Time now = clock.Now();
    if (now >= deadline) return got;
    const int64_t due = impl_->NextDue();
    const absl::Time next =
        due == INT64_MAX ? deadline : std::min(FromNanos(std::max(due, Nanos(now))), deadline);
    std::shared_ptr<WakeSignal> signal = impl_->signal;
    const Clock::TimerId timer = clock.ScheduleAt(next, [signal] { signal->Notify(); });
    absl::Status error;
    clock.WaitUntil(next, *signal, [&] {
      absl::StatusOr<std::vector<Message>> r =
          TryReceive(request, *impl_->Load(), clock.Now(), true);
      if (!r.ok()) {
        error = r.status();
        return true;
      }
      got = *std::move(r);
      // A send with an earlier delay than `next` re-arms the timer.
      return !got.empty() || impl_->NextDue() < Nanos(next);
    });
    clock.Cancel(timer);
    COURIER_RETURN_IF_ERROR(error);
    if (!got.empty()) return got;
  }
}

// ---- Delete and visibility ----

namespace {

struct ParsedHandle {
  std::string inner;
  std::optional<detail::PayloadPointer> pointer;
  HandleParts parts;
};

absl::StatusOr<ParsedHandle> ParseHandle(uint64_t token, const ReceiptHandle& handle) {
  ParsedHandle p;
  std::string_view h = handle.value();
  if (h.starts_with("-..")) {  // the extended client's form
    p.pointer = detail::SplitReceiptHandle(handle.value(), &p.inner);
    h = p.inner;
  }
  uint64_t t = 0, shard = 0, index = 0, generation = 0, receive = 0;
  if (h.size() != kHandleSize || !ParseHex(h.substr(0, 16), &t) ||
      !ParseHex(h.substr(16, 2), &shard) || !ParseHex(h.substr(18, 8), &index) ||
      !ParseHex(h.substr(26, 8), &generation) || !ParseHex(h.substr(34, 8), &receive) ||
      t != token || shard >= kShards) {
    return ReceiptHandleIsInvalid(handle.value());
  }
  p.parts = {static_cast<uint32_t>(shard), static_cast<uint32_t>(index),
             static_cast<uint32_t>(generation), static_cast<uint32_t>(receive)};
  return p;
}

}  // namespace

absl::Status SqsQueue::DeleteMessage(const ReceiptHandle& handle) {
  COURIER_ASSIGN_OR_RETURN(ParsedHandle p, ParseHandle(impl_->token, handle));
  Shard& sh = impl_->shards[p.parts.shard];
  bool deleted = false;
  {
    std::lock_guard lock(sh.mu);
    if (p.parts.index >= sh.capacity) return ReceiptHandleIsInvalid(handle.value());
    Slot& s = sh.at(p.parts.index);
    // Gone already (deleted, expired, moved): success. Received again since: success, kept.
    if (s.state != State::kFree && s.generation == p.parts.generation &&
        s.receives == p.parts.receive) {
      sh.Free(p.parts.index);
      deleted = true;
    }
  }
  if (deleted && p.pointer && impl_->large_payloads) {
    (void)detail::DeleteBlob(*impl_->large_payloads, *p.pointer);
  }
  return absl::OkStatus();
}

absl::Status SqsQueue::ChangeMessageVisibility(const ReceiptHandle& handle,
                                               absl::Duration timeout) {
  if (timeout < absl::ZeroDuration() || timeout > absl::Seconds(43200)) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, "
        "if provided.",
        absl::ToInt64Seconds(timeout)));
  }
  COURIER_ASSIGN_OR_RETURN(ParsedHandle p, ParseHandle(impl_->token, handle));
  const int64_t now_ns = Nanos(hub_.clock().Now());
  Shard& sh = impl_->shards[p.parts.shard];
  {
    std::lock_guard lock(sh.mu);
    if (p.parts.index >= sh.capacity) return ReceiptHandleIsInvalid(handle.value());
    sh.Sweep(now_ns);
    Slot& s = sh.at(p.parts.index);
    if (s.state == State::kFree || s.generation != p.parts.generation ||
        s.receives != p.parts.receive ||
        s.sent + absl::ToInt64Nanoseconds(impl_->Load()->retention) <= now_ns) {
      return InvalidParameterValue(fmt::format(
          "Value {} for parameter ReceiptHandle is invalid. Reason: Message does not exist or "
          "is not available for visibility timeout change.",
          handle.value()));
    }
    const int64_t until = now_ns + absl::ToInt64Nanoseconds(timeout);
    if (until > s.received + absl::ToInt64Nanoseconds(kVisibilityCap)) {
      return InvalidParameterValue(fmt::format(
          "Value {} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout "
          "for the message is beyond the limit [43200 seconds]",
          absl::ToInt64Seconds(timeout)));
    }
    if (timeout == absl::ZeroDuration()) {
      sh.Transition(p.parts.index, State::kVisible);
    } else {
      sh.Transition(p.parts.index, State::kInFlight, until);
    }
  }
  impl_->signal->Notify();
  return absl::OkStatus();
}

namespace {

absl::Status CheckHandleBatch(const std::vector<SqsQueue::HandleBatchEntry>& entries,
                              std::string_view what) {
  if (entries.empty()) {
    return AwsErrorF(absl::StatusCode::kInvalidArgument, "EmptyBatchRequest",
                     "There should be at least one {} in the request.", what);
  }
  if (entries.size() > 10) {
    return AwsErrorF(absl::StatusCode::kInvalidArgument, "TooManyEntriesInBatchRequest",
                     "Maximum number of entries per request are 10. You have sent {}.",
                     entries.size());
  }
  std::array<std::string_view, 10> ids;  // at most 10 entries: a linear check, no allocation
  size_t n_ids = 0;
  for (const auto& e : entries) {
    if (!fifo_checks::ValidBatchEntryId(e.id)) {
      return AwsError(absl::StatusCode::kInvalidArgument, "InvalidBatchEntryId",
                      "A batch entry id can only contain alphanumeric characters, hyphens and "
                      "underscores. It can be at most 80 letters long.");
    }
    if (std::find(ids.begin(), ids.begin() + n_ids, e.id) != ids.begin() + n_ids) {
      return AwsErrorF(absl::StatusCode::kInvalidArgument, "BatchEntryIdsNotDistinct",
                       "Id {} repeated.", e.id);
    }
    ids[n_ids++] = e.id;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SqsQueue::BatchResult> SqsQueue::DeleteMessageBatch(
    const std::vector<HandleBatchEntry>& entries) {
  COURIER_RETURN_IF_ERROR(CheckHandleBatch(entries, "DeleteMessageBatchRequestEntry"));
  BatchResult out;
  out.successful.reserve(entries.size());
  // Entries on one shard share one lock hold; blobs are deleted after.
  std::vector<detail::PayloadPointer> blobs;
  Shard* locked = nullptr;
  for (const auto& e : entries) {
    absl::StatusOr<ParsedHandle> p = ParseHandle(impl_->token, e.receipt_handle);
    absl::Status st = p.status();
    if (p.ok()) {
      Shard* sh = &impl_->shards[p->parts.shard];
      if (sh != locked) {
        if (locked != nullptr) locked->mu.unlock();
        sh->mu.lock();
        locked = sh;
      }
      if (p->parts.index >= sh->capacity) {
        st = ReceiptHandleIsInvalid(e.receipt_handle.value());
      } else {
        Slot& s = sh->at(p->parts.index);
        if (s.state != State::kFree && s.generation == p->parts.generation &&
            s.receives == p->parts.receive) {
          sh->Free(p->parts.index);
          if (p->pointer && impl_->large_payloads) blobs.push_back(*p->pointer);
        }
      }
    }
    if (st.ok()) {
      out.successful.push_back(e.id);
    } else {
      out.failed.push_back({e.id, true, std::string(ErrorName(st)), std::string(ErrorMessage(st))});
    }
  }
  if (locked != nullptr) locked->mu.unlock();
  for (const auto& b : blobs) (void)detail::DeleteBlob(*impl_->large_payloads, b);
  return out;
}

absl::StatusOr<SqsQueue::BatchResult> SqsQueue::ChangeMessageVisibilityBatch(
    const std::vector<HandleBatchEntry>& entries) {
  COURIER_RETURN_IF_ERROR(CheckHandleBatch(entries, "ChangeMessageVisibilityBatchRequestEntry"));
  BatchResult out;
  for (const auto& e : entries) {
    absl::Status st = ChangeMessageVisibility(e.receipt_handle, e.visibility_timeout);
    if (st.ok()) {
      out.successful.push_back(e.id);
    } else {
      out.failed.push_back({e.id, true, std::string(ErrorName(st)), std::string(ErrorMessage(st))});
    }
  }
  return out;
}

absl::Status SqsQueue::PurgeQueue() {
  const absl::Time now = hub_.clock().Now();
  {
    std::lock_guard lock(impl_->purge_mu);
    if (now < impl_->last_purge + kPurgeInterval) {
      return AwsErrorF(absl::StatusCode::kFailedPrecondition, "PurgeQueueInProgress",
                       "Only one PurgeQueue operation on {} is allowed every 60 seconds.", name());
    }
    impl_->last_purge = now;
  }
  for (Shard& sh : impl_->shards) {
    std::lock_guard lock(sh.mu);
    sh.Clear();
  }
  return absl::OkStatus();
}

// ---- Message move tasks ----

namespace {

constexpr int kDefaultMoveRate = 500;

std::string TaskHandle(std::string_view source_arn, uint64_t id) {
  return fmt::format("{}#{}", source_arn, id);
}

bool IsDeadLetterQueueOf(Hub& hub, const std::string& arn) {
  for (const auto& r : hub.ListResources(hub.Arn("sqs", ""))) {
    auto q = std::dynamic_pointer_cast<SqsQueue>(r);
    if (q == nullptr) continue;
    const auto attrs = q->ConfiguredAttributes();
    auto it = attrs.find("RedrivePolicy");
    if (it == attrs.end()) continue;
    absl::StatusOr<Json> doc = ParseJson(it->second);
    if (!doc.ok() || !doc->is_object()) continue;
    const auto* target = doc->as_object().if_contains("deadLetterTargetArn");
    if (target && target->is_string() && target->as_string() == arn) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> SqsQueue::StartMessageMoveTask(std::optional<std::string> destination,
                                                           std::optional<int> max_per_second) {
  if (max_per_second.has_value() && (*max_per_second < 1 || *max_per_second > 500)) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between "
        "1 and 500.",
        *max_per_second));
  }
  if (!IsDeadLetterQueueOf(hub_, arn())) {
    return InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.");
  }
  if (destination.has_value()) {
    auto target = hub_.FindResource(*destination);
    if (target == nullptr) {
      return ResourceNotFound(
          "The resource that you specified for the DestinationArn parameter doesn't exist.");
    }
    if (std::dynamic_pointer_cast<SqsQueue>(target) == nullptr) {
      return InvalidParameterValue(
          "The destination of a move task from a standard queue must be a standard queue.");
    }
  }
  const absl::Time now = hub_.clock().Now();
  const Config* config = impl_->Load();
  const Impl::Counts counts = impl_->Count(Nanos(now), absl::ToInt64Nanoseconds(config->retention));
  uint64_t id;
  {
    std::lock_guard lock(impl_->tasks_mu);
    for (const auto& [task_id, task] : impl_->tasks) {
      if (task.status == "RUNNING" || task.status == "CANCELLING") {
        return InvalidParameterValue(
            "There is already a task running. Only one active task is allowed for a source queue "
            "arn at a given time.");
      }
    }
    id = impl_->next_task++;
    MoveTask task;
    task.task_handle = TaskHandle(arn(), id);
    task.status = "RUNNING";
    task.source_arn = arn();
    task.destination_arn = destination.value_or("");
    task.max_number_of_messages_per_second = max_per_second.value_or(0);
    task.approximate_number_of_messages_to_move =
        counts.visible + counts.in_flight + counts.delayed;
    task.started_timestamp = now;
    impl_->tasks.emplace_back(id, std::move(task));
  }
  RunMoveTask(id);
  return TaskHandle(arn(), id);
}

// Moves one second's worth of messages, then schedules itself a second later until done.
void SqsQueue::RunMoveTask(uint64_t id) {
  MoveTask task;
  {
    std::lock_guard lock(impl_->tasks_mu);
    auto it = std::find_if(impl_->tasks.begin(), impl_->tasks.end(),
                           [&](const auto& t) { return t.first == id; });
    if (it == impl_->tasks.end() || it->second.status != "RUNNING") return;
    task = it->second;
  }
  const int rate = task.max_number_of_messages_per_second > 0
                       ? task.max_number_of_messages_per_second
                       : kDefaultMoveRate;
  int64_t moved = 0;
  std::string failure;
  bool done = false;
  const int64_t retention = absl::ToInt64Nanoseconds(impl_->Load()->retention);
  for (int i = 0; i < rate; ++i) {
    if (task.approximate_number_of_messages_moved + moved >=
        task.approximate_number_of_messages_to_move) {
      done = true;
      break;
    }
    const int64_t now_ns = Nanos(hub_.clock().Now());
    // The oldest visible message among the shards' fronts.
    int best = -1;
    int64_t best_sent = INT64_MAX;
    for (int k = 0; k < kShards; ++k) {
      Shard& sh = impl_->shards[k];
      std::lock_guard lock(sh.mu);
      sh.Sweep(now_ns);
      sh.Expire(now_ns, retention);
      while (!sh.ready.empty()) {
        const Entry e = sh.ready.front();
        const Slot& s = sh.at(e.index);
        if (s.stamp == e.stamp && s.state == State::kVisible) {
          if (s.sent < best_sent) best_sent = s.sent, best = k;
          break;
        }
        sh.ready.pop_front();
      }
    }
    if (best < 0) {
      done = true;
      break;
    }
    SendMessageRequest request;
    std::string source;
    Shard& sh = impl_->shards[best];
    Entry taken;
    {
      std::lock_guard lock(sh.mu);
      if (sh.ready.empty()) continue;  // taken meanwhile: look again
      taken = sh.ready.front();
      Slot& s = sh.at(taken.index);
      if (s.stamp != taken.stamp || s.state != State::kVisible) continue;
      sh.ready.pop_front();
      request.body.assign(s.body.get(), s.body_size);
      if (s.extra) {
        request.attributes = s.extra->attributes;
        request.aws_trace_header = s.extra->trace_header;
        request.message_group_id = s.extra->group_id;
        source = s.extra->dead_letter_source_arn;
      }
      // Hidden while it moves (no lock is held across the send, which may be to any queue).
      sh.Transition(taken.index, State::kInFlight, INT64_MAX);
      taken.stamp = s.stamp;
    }
    const std::string target_arn = task.destination_arn.empty() ? source : task.destination_arn;
    auto target = std::dynamic_pointer_cast<SqsQueue>(hub_.FindResource(target_arn));
    absl::StatusOr<SendMessageResult> sent =
        target ? target->SendMessage(std::move(request))
               : absl::StatusOr<SendMessageResult>(ResourceNotFound(fmt::format(
                     "Queue {} does not exist.", target_arn.empty() ? "(none)" : target_arn)));
    {
      std::lock_guard lock(sh.mu);
      Slot& s = sh.at(taken.index);
      const bool still_ours = s.stamp == taken.stamp;  // not purged or expired meanwhile
      if (!sent.ok()) {
        if (still_ours) sh.Transition(taken.index, State::kVisible);
      } else if (still_ours) {
        sh.Free(taken.index);
      }
    }
    if (!sent.ok()) {
      failure = std::string(ErrorMessage(sent.status()));
      break;
    }
    ++moved;
  }
  bool again = false;
  {
    std::lock_guard lock(impl_->tasks_mu);
    auto it = std::find_if(impl_->tasks.begin(), impl_->tasks.end(),
                           [&](const auto& t) { return t.first == id; });
    if (it == impl_->tasks.end()) return;
    MoveTask& t = it->second;
    t.approximate_number_of_messages_moved += moved;
    if (!failure.empty()) {
      t.status = "FAILED";
      t.failure_reason = failure;
      t.task_handle.clear();
    } else if (t.status == "CANCELLING") {
      t.status = "CANCELLED";
      t.task_handle.clear();
    } else if (t.status != "RUNNING") {
      // Cancelled meanwhile.
    } else if (done) {
      t.status = "COMPLETED";
      t.task_handle.clear();
    } else {
      again = true;
    }
  }
  if (again) {
    std::weak_ptr<SqsQueue> self = weak_from_this();
    hub_.clock().ScheduleAfter(absl::Seconds(1), [self, id] {
      if (auto q = self.lock()) q->RunMoveTask(id);
    });
  }
}

absl::StatusOr<std::vector<SqsQueue::MoveTask>> SqsQueue::ListMessageMoveTasks(
    int max_results) const {
  if (max_results < 1 || max_results > 10) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter MaxResults is invalid. Reason: Must be between 1 and 10.",
        max_results));
  }
  std::lock_guard lock(impl_->tasks_mu);
  std::vector<MoveTask> out;
  for (auto it = impl_->tasks.rbegin();
       it != impl_->tasks.rend() && out.size() < static_cast<size_t>(max_results); ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<int64_t> SqsQueue::CancelMessageMoveTask(Hub& hub, std::string_view handle) {
  const size_t hash = handle.rfind('#');
  std::optional<int64_t> id;
  if (hash != std::string_view::npos) id = ParseInt(handle.substr(hash + 1));
  auto queue = hash == std::string_view::npos
                   ? nullptr
                   : std::dynamic_pointer_cast<SqsQueue>(hub.FindResource(handle.substr(0, hash)));
  if (queue == nullptr || !id.has_value()) return ResourceNotFound("Task does not exist.");
  std::lock_guard lock(queue->impl_->tasks_mu);
  for (auto& [task_id, task] : queue->impl_->tasks) {
    if (task_id != static_cast<uint64_t>(*id)) continue;
    if (task.status != "RUNNING") {
      return InvalidParameterValue(
          fmt::format("Only a RUNNING task can be cancelled; this one is {}.", task.status));
    }
    // The task stops at its next step; nothing is in the middle of moving between steps.
    task.status = "CANCELLED";
    task.task_handle.clear();
    return task.approximate_number_of_messages_moved;
  }
  return ResourceNotFound("Task does not exist.");
}

}  // namespace courier
