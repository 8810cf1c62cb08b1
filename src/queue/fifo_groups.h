// FifoGroups: the clock-free core of a FIFO queue. Not API.
//
// Messages live in per-group sub-queues. A group is eligible while its first queued message
// comes before all of its messages in flight (none in flight, or the first put back when its
// visibility lapsed); eligible groups wait in a ready ring that receivers serve.
// Groups are sharded by the hash of their id, each shard with its own lock, so operations on
// different groups rarely meet; a receive visits shards in the order of their oldest ready
// message and skips shards with nothing ready by reading an atomic count. No operation takes a
// queue-wide lock.
//
// Time comes in as `now`: a message not yet received is available once `enqueued + delay <= now`
// (the delay is the queue's current DelaySeconds, so changing it applies to queued messages);
// an in-flight
// message whose deadline has come is put back first in its group by whichever operation next
// visits its shard (lazily, like a timing wheel's entries).
//
// Example:
//   queue_internal::FifoGroups<std::string> groups;
//   groups.Push("g1", "a", now);
//   groups.Push("g1", "b", now);
//   // A receive takes "a" and "b" (as many of one group as it can); g1 is then blocked.
#ifndef COURIER_SRC_QUEUE_FIFO_GROUPS_H_
#define COURIER_SRC_QUEUE_FIFO_GROUPS_H_

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>
#include <absl/strings/string_view.h>
#include <absl/time/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "queue/adaptive_mutex.h"
#include "queue/progress_hook.h"

namespace courier::queue_internal {

// What a receipt handle carries to find one receive of one message again.
struct FifoReceipt {
  uint32_t shard = 0;
  uint32_t slot = 0;  // where the message lives in its shard (checked against seq)
  uint64_t seq = 0;
  uint32_t receive = 0;  // the message's receive count at that receive: its generation
  // The receive's visibility deadline as issued, in Unix milliseconds rounded up: once the
  // message is gone, a handle past it has expired (it is not a repeated delete).
  int64_t deadline_ms = 0;
  friend bool operator==(const FifoReceipt&, const FifoReceipt&) = default;
};

enum class FifoOutcome {
  kOk,
  kExpired,        // the handle's receive is over (visibility lapsed or received again)
  kGone,           // no such message any more (deleted, expired, purged)
  kLimitExceeded,  // a visibility change past the 12-hour cap
};

// What a receive's visitor decides for the next available message of a group.
enum class FifoVerdict {
  kTake,       // return it (it goes in flight)
  kRemove,     // drop it (retention expired, moved to a dead-letter queue) and look at the next
  kSkipGroup,  // leave this group alone for this receive
};

template <typename T>
class FifoGroups {
 public:
  static constexpr uint32_t kShards = 16;
  static constexpr size_t kIdleSweep = 4096;

  struct Group;
  struct Node {
    T value;
    uint64_t seq = 0;
    absl::Time enqueued;
    absl::Time first_received = absl::InfinitePast();
    absl::Time received = absl::InfinitePast();  // the latest receive
    absl::Time deadline = absl::InfinitePast();  // in flight until then
    int64_t deadline_ns = 0;                     // the same in Unix ns, for PublishLocked
    uint32_t receives = 0;
    uint32_t slot = 0;  // index in its shard's slab
    bool used = false;  // holds a message (a free slot waits for reuse)
    bool in_flight = false;
    Group* group = nullptr;  // valid while the node is used
    size_t heap_index = 0;   // position in its shard's deadline heap while in flight
  };
  struct Group {
    std::string id;
    std::deque<Node*> queued;  // in sequence order
    // The sequence numbers of its messages in flight, ascending. SQS returns a group's messages
    // only up to the first one in flight: a message put back (its visibility lapsed) comes
    // again while later ones are still in flight, and nothing after those does. A receive takes
    // at most ten, so this stays short.
    absl::InlinedVector<uint64_t, 4> in_flight;
    bool ready = false;  // in its shard's ready ring (then Eligible)
  };
  // Whether a message is still held back by the queue's delay (enqueued + delay > now, with
  // `available_by` = now - delay). The delay postpones a message's first delivery only: one put
  // back after a receive is not delayed again when the queue's DelaySeconds is raised.
  static bool Delayed(const Node& n, absl::Time available_by) {
    return n.receives == 0 && n.enqueued > available_by;
  }
  // Messages before this sequence number may be received.
  static uint64_t Limit(const Group* g) {
    return g->in_flight.empty() ? ~uint64_t{0} : g->in_flight.front();
  }
  static bool Eligible(const Group* g) {
    return !g->queued.empty() && g->queued.front()->seq < Limit(g);
  }
  // Receives take a group's messages in order and deletes mostly follow: the ends first.
  static void AddInFlight(Group* g, uint64_t seq) {
    if (g->in_flight.empty() || g->in_flight.back() < seq) {
      g->in_flight.push_back(seq);
    } else {
      g->in_flight.insert(std::upper_bound(g->in_flight.begin(), g->in_flight.end(), seq), seq);
    }
  }
  static void RemoveInFlight(Group* g, uint64_t seq) {
    if (g->in_flight.size() == 1 && g->in_flight.front() == seq) {
      g->in_flight.clear();
      return;
    }
    auto it = std::lower_bound(g->in_flight.begin(), g->in_flight.end(), seq);
    if (it != g->in_flight.end() && *it == seq) g->in_flight.erase(it);
  }

  struct Counts {
    size_t visible = 0;
    size_t in_flight = 0;
    size_t delayed = 0;
  };

  FifoGroups() = default;
  FifoGroups(const FifoGroups&) = delete;
  FifoGroups& operator=(const FifoGroups&) = delete;
  ~FifoGroups() { ClearLocked(); }

  // Hears of every change to a stored message, under its shard's lock, so that the changes to
  // one message reach it in the order they happen (the FIFO queue records them:
  // sqs_records.h). Lapses are not told: they follow from the deadline.
  class Listener {
   public:
    virtual void Stored(uint32_t shard, const Node& node) = 0;
    // Taken by a receive, renewed, or its visibility changed.
    virtual void Received(uint32_t shard, const Node& node) = 0;
    virtual void Removed(uint32_t shard, const Node& node) = 0;

   protected:
    ~Listener() = default;
  };
  // Set before the groups are used; nullptr (the default) for none.
  void set_listener(Listener* listener) { listener_ = listener; }

  // A group's shard, the same in every process and build (receipt handles name shards, and a
  // recovered queue must find its groups where the handles say).
  static uint32_t ShardOf(std::string_view group) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ group.size();
    size_t i = 0;
    for (; i + 8 <= group.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, group.data() + i, 8);
      h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
      h ^= h >> 31;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, group.data() + i, group.size() - i);
    h = (h ^ tail) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    return static_cast<uint32_t>(h % kShards);
  }

  // Appends a message to `group`; returns its sequence number, which is greater than that of
  // every message pushed before it to any group. `enqueued` must not precede the group's last
  // push. Thread-safe; locks one shard.
  // `receives` and `first_received` carry a message's history (a dead-letter queue's messages).
  uint64_t Push(std::string_view group, T value, absl::Time enqueued, uint32_t receives = 0,
                absl::Time first_received = absl::InfinitePast()) {
    return PushWith(
        group, enqueued, [&](T& v) { v = std::move(value); }, receives, first_received);
  }
  // Push, the value written in place by fill(T&) or fill(T&, uint64_t seq) (given a default or
  // Released T, and the message's sequence number) under the shard's lock: keep it short.
  template <typename Fill>
  uint64_t PushWith(std::string_view group, absl::Time enqueued, Fill&& fill, uint32_t receives = 0,
                    absl::Time first_received = absl::InfinitePast()) {
    uint64_t seq = 0;
    PushIf(
        group, enqueued, std::forward<Fill>(fill),
        [&](T&, uint64_t s) {
          seq = s;
          return true;
        },
        receives, first_received);
    return seq;
  }
  // PushWith, kept only if confirm(T&, uint64_t seq) returns true. confirm runs under the
  // shard's lock once the message is filled in, before anyone can see it; on false the push is
  // taken back (its sequence number stays unused). A FIFO send decides on deduplication there:
  // the window's lookup, a cache miss, then comes after this push's work, which overlaps the
  // miss. Returns whether the message was kept.
  template <typename Fill, typename Confirm>
  bool PushIf(std::string_view group, absl::Time enqueued, Fill&& fill, Confirm&& confirm,
              uint32_t receives = 0, absl::Time first_received = absl::InfinitePast()) {
    const uint32_t shard = ShardOf(group);
    Shard& s = shards_[shard];
    std::lock_guard lock(s.mu);
    Node* node = AllocateLocked(s);
    // Taken under the shard lock, so sequence order is the group's order.
    node->seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
    AtProgressPoint(ProgressPoint::kSend);
    if constexpr (std::is_invocable_v<Fill&, T&, uint64_t>) {
      fill(node->value, node->seq);
    } else {
      fill(node->value);
    }
    node->enqueued = enqueued;
    node->receives = receives;
    node->first_received = first_received;
    Group* g = GroupLocked(s, group);
    if (!confirm(node->value, node->seq)) {
      FreeLocked(s, node);
      if (g->queued.empty() && g->in_flight.empty()) RetireLocked(s);
      return false;
    }
    node->group = g;
    g->queued.push_back(node);
    if (listener_ != nullptr) [[unlikely]]
      listener_->Stored(shard, *node);
    MakeReadyIfEligible(s, g);
    PublishLocked(s);
    return true;
  }

  // Receives up to `max` messages: as many of one group as it can, then other groups. Each
  // available message (enqueued + delay <= now) is shown to `visitor.Check(Node&)`; a taken one
  // goes in flight until now + visibility and is passed to `visitor.Taken(const Node&,
  // FifoReceipt)` with its receive count and timestamps already updated. Both run under the
  // shard's lock: keep them short and do not call back into this object. Returns the number
  // taken. Thread-safe; locks the shards it visits one at a time. Without `use_hints` it visits
  // (and locks) every shard, not only those whose lock-free counters show something: a long
  // poll's re-check does so, which orders it with the pushes that wake it.
  template <typename Visitor>
  int Receive(absl::Time now, absl::Duration delay, int max, absl::Duration visibility,
              Visitor&& visitor, bool use_hints = true) {
    int taken = 0;
    const int64_t now_ns = absl::ToUnixNanos(now);
    // Time arithmetic once per receive, not per message (absl's is out of line).
    const absl::Time available_by = now - delay;  // enqueued + delay <= now
    const absl::Time deadline = now + visibility;
    const int64_t deadline_ns = absl::ToUnixNanos(deadline);
    const int64_t deadline_ms = (deadline_ns + 999'999) / 1'000'000;
    const uint32_t start = cursor_.fetch_add(1, std::memory_order_relaxed);
    // SQS FIFO's in-flight limit: past it a receive finds nothing (and no error). Approximate
    // under concurrency by at most the receivers' batch sizes.
    const bool limited = in_flight_limit_ != INT64_MAX;
    int64_t room = limited ? in_flight_limit_ - in_flight() : INT64_MAX;
    // SQS serves the group of the oldest message first: visit the shards in the order of their
    // first ready group's head, those with a lapse due first (a lapsed message may be older
    // still), skipping idle ones without their locks. Ties keep the rotating start.
    std::array<std::pair<uint64_t, uint32_t>, kShards> order;
    size_t candidates = 0;
    for (uint32_t i = 0; i < kShards; ++i) {
      const uint32_t shard = (start + i) % kShards;
      const Shard& s = shards_[shard];
      const bool due = s.next_deadline.load(std::memory_order_acquire) <= now_ns;
      if (use_hints && s.ready_count.load(std::memory_order_acquire) == 0 && !due) continue;
      const uint64_t head = due ? 0 : s.head_seq.load(std::memory_order_relaxed);
      size_t k = candidates++;
      for (; k > 0 && order[k - 1].first > head; --k) order[k] = order[k - 1];
      order[k] = {head, shard};
    }
    for (size_t c = 0; c < candidates && taken < max; ++c) {
      const uint32_t shard = order[c].second;
      Shard& s = shards_[shard];
      std::lock_guard lock(s.mu);
      const int64_t lapsed = SweepLocked(s, now);
      if (limited) room += lapsed;  // lapses free room
      // Visit each group ready now at most once: a delayed or skipped group goes to the back.
      for (size_t n = s.ready.size(); n > 0 && taken < max; --n) {
        Group* g = s.ready.front();
        s.ready.pop_front();
        g->ready = false;
        const uint64_t limit = Limit(g);
        while (taken < max && !g->queued.empty()) {
          Node* node = g->queued.front();
          if (node->seq >= limit) break;  // after a message still in flight
          // A delayed head leaves its group waiting, not blocked.
          if (Delayed(*node, available_by)) break;
          if (taken >= room) break;  // the in-flight limit
          const FifoVerdict verdict = visitor.Check(*node);
          if (verdict == FifoVerdict::kSkipGroup) break;
          g->queued.pop_front();
          if (verdict == FifoVerdict::kRemove) {
            if (listener_ != nullptr) [[unlikely]]
              listener_->Removed(shard, *node);
            FreeLocked(s, node);
            continue;
          }
          ++node->receives;
          if (node->first_received == absl::InfinitePast()) node->first_received = now;
          node->received = now;
          node->deadline = deadline;
          node->deadline_ns = deadline_ns;
          node->in_flight = true;
          AddInFlight(g, node->seq);
          AddInFlightLocked(s, 1);
          HeapPush(s, node);
          if (listener_ != nullptr) [[unlikely]]
            listener_->Received(shard, *node);
          if (++taken == 1) AtProgressPoint(ProgressPoint::kReceive);
          visitor.Taken(*node,
                        FifoReceipt{shard, node->slot, node->seq, node->receives, deadline_ms});
        }
        if (g->queued.empty()) {
          if (g->in_flight.empty()) RetireLocked(s);
          continue;
        }
        if (!Eligible(g)) continue;  // blocked until its earlier in-flight messages resolve
        g->ready = true;
        s.ready.push_back(g);
      }
      PublishLocked(s);
    }
    return taken;
  }

  // The earliest instant after `now` at which a receive could find something new: a delayed
  // group head becoming available or an in-flight message lapsing. InfiniteFuture if none.
  // Thread-safe; locks each shard in turn.
  absl::Time NextChange(absl::Time now, absl::Duration delay) {
    absl::Time next = absl::InfiniteFuture();
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      if (!s.deadlines.empty()) next = std::min(next, s.deadlines.front()->deadline);
      for (Group* g : s.ready) {
        const Node& head = *g->queued.front();
        if (Delayed(head, now - delay)) next = std::min(next, head.enqueued + delay);
      }
    }
    return next;
  }

  // At most `limit` messages in flight (SQS FIFO: 120,000). Call before use.
  void set_in_flight_limit(int64_t limit) { in_flight_limit_ = limit; }
  // Messages in flight now (lapsed ones count until a later operation puts them back).
  int64_t in_flight() const {
    int64_t n = 0;
    for (const Shard& s : shards_) n += s.in_flight.load(std::memory_order_relaxed);
    return n;
  }

  // Deletes the message of an unexpired receive. Thread-safe; locks one shard.
  FifoOutcome Delete(const FifoReceipt& r, absl::Time now) {
    if (r.shard >= kShards) return FifoOutcome::kGone;
    Shard& s = shards_[r.shard];
    std::lock_guard lock(s.mu);
    const FifoOutcome outcome = DeleteLocked(s, r, now);
    PublishLocked(s);
    return outcome;
  }

  // Delete of n receipts, locking each shard they name once: out[i] is the outcome of
  // receipts[i], as n Deletes in order would give. Thread-safe.
  void DeleteBatch(const FifoReceipt* receipts, size_t n, absl::Time now, FifoOutcome* out) {
    static_assert(kShards <= 32, "shards are tracked in a 32-bit mask");
    uint32_t done = 0;
    for (size_t i = 0; i < n; ++i) {
      const uint32_t shard = receipts[i].shard;
      if (shard >= kShards) {
        out[i] = FifoOutcome::kGone;
        continue;
      }
      if (done & (1u << shard)) continue;
      done |= 1u << shard;
      Shard& s = shards_[shard];
      std::lock_guard lock(s.mu);
      for (size_t j = i; j < n; ++j) {
        if (receipts[j].shard == shard) out[j] = DeleteLocked(s, receipts[j], now);
      }
      PublishLocked(s);
    }
  }

  // Sets an unexpired receive's deadline to now + timeout, unless that passes received + cap.
  // A zero timeout makes the message first in its group again at once. Thread-safe.
  FifoOutcome ChangeVisibility(const FifoReceipt& r, absl::Time now, absl::Duration timeout,
                               absl::Duration cap) {
    if (r.shard >= kShards) return FifoOutcome::kGone;
    Shard& s = shards_[r.shard];
    std::lock_guard lock(s.mu);
    Node* node = FindLocked(s, r);
    if (node == nullptr) return FifoOutcome::kGone;
    if (!Current(*node, r, now)) return FifoOutcome::kExpired;
    if (now + timeout > node->received + cap) return FifoOutcome::kLimitExceeded;
    AtProgressPoint(ProgressPoint::kChangeVisibility);
    node->deadline = now + timeout;
    node->deadline_ns = absl::ToUnixNanos(node->deadline);
    HeapFix(s, node);
    if (listener_ != nullptr) [[unlikely]]
      listener_->Received(r.shard, *node);
    SweepLocked(s, now);
    PublishLocked(s);
    return FifoOutcome::kOk;
  }

  // For a retried receive (ReceiveRequestAttemptId): if every receipt still names its message's
  // latest receive (not received again since; in flight, or put back first in its group and not
  // taken by anyone), puts them all in flight again until now + visibility and returns true.
  // Thread-safe; locks the shards one at a time (a concurrent receive may win a put-back
  // message, and then this returns false having renewed the others: a retry is best effort).
  bool Renew(std::vector<FifoReceipt> receipts, absl::Time now, absl::Duration visibility) {
    std::sort(receipts.begin(), receipts.end(),
              [](const FifoReceipt& a, const FifoReceipt& b) { return a.seq < b.seq; });
    for (const FifoReceipt& r : receipts) {
      if (r.shard >= kShards) return false;
      Shard& s = shards_[r.shard];
      std::lock_guard lock(s.mu);
      SweepLocked(s, now);
      PublishLocked(s);
      Node* node = FindLocked(s, r);
      if (node == nullptr || node->receives != r.receive) return false;
      if (!node->in_flight) {
        // Put back: only its own receive's messages may precede it in its group.
        for (Node* before : node->group->queued) {
          if (before == node) break;
          if (std::none_of(receipts.begin(), receipts.end(),
                           [&](const FifoReceipt& o) { return o.seq == before->seq; })) {
            return false;
          }
        }
      }
    }
    bool all = true;
    for (const FifoReceipt& r : receipts) {
      Shard& s = shards_[r.shard];
      std::lock_guard lock(s.mu);
      Node* node = FindLocked(s, r);
      if (node == nullptr || node->receives != r.receive) {
        all = false;
        continue;
      }
      Group* g = node->group;
      if (!node->in_flight) {
        if (g->queued.empty() || g->queued.front() != node) {
          all = false;
          continue;
        }
        g->queued.pop_front();
        node->in_flight = true;
        AddInFlightLocked(s, 1);
        AddInFlight(g, node->seq);
        if (g->ready && !Eligible(g)) {
          g->ready = false;
          s.ready.erase(std::find(s.ready.begin(), s.ready.end(), g));
        }
        node->deadline = now + visibility;
        node->deadline_ns = absl::ToUnixNanos(node->deadline);
        HeapPush(s, node);
      } else {
        node->deadline = now + visibility;
        node->deadline_ns = absl::ToUnixNanos(node->deadline);
        HeapFix(s, node);
      }
      if (listener_ != nullptr) [[unlikely]]
        listener_->Received(r.shard, *node);
      PublishLocked(s);
    }
    return all;
  }

  // Calls fn(const Node&) for the message a receipt names if that receive is current.
  template <typename Fn>
  bool Inspect(const FifoReceipt& r, absl::Time now, Fn&& fn) {
    if (r.shard >= kShards) return false;
    Shard& s = shards_[r.shard];
    std::lock_guard lock(s.mu);
    Node* node = FindLocked(s, r);
    if (node == nullptr || !Current(*node, r, now)) return false;
    fn(static_cast<const Node&>(*node));
    return true;
  }

  // Removes every message (queued or in flight) for which pred(const Node&) is true, e.g. those
  // past retention. Returns how many. Thread-safe; locks each shard in turn.
  template <typename Pred>
  size_t RemoveIf(Pred&& pred) {
    size_t removed = 0;
    for (uint32_t shard = 0; shard < kShards; ++shard) {
      Shard& s = shards_[shard];
      std::lock_guard lock(s.mu);
      std::vector<Node*> doomed;
      for (Node& node : s.slab) {
        if (node.used && pred(static_cast<const Node&>(node))) doomed.push_back(&node);
      }
      for (Node* node : doomed) {
        if (listener_ != nullptr) [[unlikely]]
          listener_->Removed(shard, *node);
        Group* g = node->group;
        if (node->in_flight) {
          RemoveInFlightLocked(s, node);
        } else {
          g->queued.erase(std::find(g->queued.begin(), g->queued.end(), node));
          FreeLocked(s, node);
          if (g->queued.empty() && g->in_flight.empty()) {
            DropGroupLocked(s, g);
          } else if (g->ready && !Eligible(g)) {  // its new head is after one in flight
            s.ready.erase(std::find(s.ready.begin(), s.ready.end(), g));
            g->ready = false;
          }
        }
        ++removed;
      }
      PublishLocked(s);
    }
    return removed;
  }

  // Removes and returns (through fn(Node&&)) the oldest queued, available message that is not
  // in flight and whose group has nothing in flight, if any. fn runs under the shard's lock
  // (node.group is valid there); keep it short. For message move tasks (slow path: scans every
  // ready group). Thread-safe.
  template <typename Fn>
  bool TakeOldest(absl::Time now, absl::Duration delay, Fn&& fn) {
    for (;;) {
      uint32_t best_shard = kShards;
      uint64_t best_seq = ~uint64_t{0};
      uint32_t best_slot = 0;
      for (uint32_t i = 0; i < kShards; ++i) {
        Shard& s = shards_[i];
        std::lock_guard lock(s.mu);
        SweepLocked(s, now);
        PublishLocked(s);
        for (Group* g : s.ready) {
          Node* head = g->queued.front();
          if (g->in_flight.empty() && !Delayed(*head, now - delay) && head->seq < best_seq) {
            best_seq = head->seq;
            best_slot = head->slot;
            best_shard = i;
          }
        }
      }
      if (best_shard == kShards) return false;
      Shard& s = shards_[best_shard];
      std::lock_guard lock(s.mu);
      Node* node = FindLocked(s, FifoReceipt{best_shard, best_slot, best_seq, 0});
      if (node == nullptr) continue;  // raced with a receive: look again
      Group* g = node->group;
      if (node->in_flight || !g->in_flight.empty() || g->queued.front() != node) continue;
      g->queued.pop_front();
      if (listener_ != nullptr) [[unlikely]]
        listener_->Removed(best_shard, *node);
      fn(std::move(*node));
      FreeLocked(s, node);
      if (g->queued.empty()) DropGroupLocked(s, g);
      PublishLocked(s);
      return true;
    }
  }

  // Exact counts at `now`: visible (available, not in flight, whatever its group's state),
  // in flight, delayed. Thread-safe; locks each shard in turn.
  Counts Count(absl::Time now, absl::Duration delay) {
    Counts c;
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      SweepLocked(s, now);
      PublishLocked(s);
      for (const Node& node : s.slab) {
        if (!node.used) continue;
        if (node.in_flight) {
          ++c.in_flight;
        } else if (Delayed(node, now - delay)) {
          ++c.delayed;
        } else {
          ++c.visible;
        }
      }
    }
    return c;
  }

  // Removes every message, with every shard locked at once, and calls under_locks() there
  // first (so that every push is on one side of it). Thread-safe.
  template <typename Fn>
  void Clear(Fn&& under_locks) {
    for (Shard& s : shards_) s.mu.lock();
    under_locks();
    ClearLocked();
    for (Shard& s : shards_) s.mu.unlock();
  }
  void Clear() {
    Clear([] {});
  }

  // Recovery, on groups no one uses yet: a message recorded earlier, back at the shard and slot
  // its receipt handles name (false if that is not its group's shard, or the slot is taken).
  // Restore a group's messages in sequence order; then FinishRestore.
  struct RestoredNode {
    uint32_t shard = 0, slot = 0;
    uint64_t seq = 0;
    T value;
    absl::Time enqueued, first_received = absl::InfinitePast(), received = absl::InfinitePast(),
                         deadline = absl::InfinitePast();
    uint32_t receives = 0;
    bool in_flight = false;
  };
  bool Restore(std::string_view group, RestoredNode&& m) {
    if (m.shard >= kShards || m.shard != ShardOf(group) || m.slot >= (1u << 28)) return false;
    Shard& s = shards_[m.shard];
    std::lock_guard lock(s.mu);
    while (s.slab.size() <= m.slot) {
      const auto index = static_cast<uint32_t>(s.slab.size());
      s.slab.emplace_back().slot = index;
    }
    Node* node = &s.slab[m.slot];
    if (node->used) return false;
    node->used = true;
    s.live_view.store(++s.live, std::memory_order_relaxed);
    node->seq = m.seq;
    node->value = std::move(m.value);
    node->enqueued = m.enqueued;
    node->first_received = m.first_received;
    node->received = m.received;
    node->deadline = m.deadline;
    node->deadline_ns = absl::ToUnixNanos(m.deadline);
    node->receives = m.receives;
    Group* g = GroupLocked(s, group);
    node->group = g;
    if (m.in_flight) {
      node->in_flight = true;
      AddInFlight(g, node->seq);
      AddInFlightLocked(s, 1);
      HeapPush(s, node);  // a deadline already past lapses at the next sweep
    } else {
      g->queued.push_back(node);
    }
    return true;
  }
  // The free slots and ready groups of what Restore put back (groups ready by their oldest
  // message); sequence numbers go on from `next_seq`.
  void FinishRestore(uint64_t next_seq) {
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      s.free_slots.clear();
      for (size_t i = s.slab.size(); i-- > 0;) {
        if (!s.slab[i].used) s.free_slots.push_back(static_cast<uint32_t>(i));
      }
      std::vector<Group*> ready;
      for (auto& [id, g] : s.groups) {
        if (Eligible(g.get())) ready.push_back(g.get());
      }
      std::sort(ready.begin(), ready.end(), [](const Group* a, const Group* b) {
        return a->queued.front()->seq < b->queued.front()->seq;
      });
      for (Group* g : ready) MakeReadyIfEligible(s, g);
      PublishLocked(s);
    }
    if (next_seq_.load(std::memory_order_relaxed) < next_seq) {
      next_seq_.store(next_seq, std::memory_order_relaxed);
    }
  }

 private:
  // Clear's work, under every shard's lock (or in the destructor).
  void ClearLocked() {
    for (Shard& s : shards_) {
      for (Node& node : s.slab) {
        if (node.used && node.in_flight) AddInFlightLocked(s, -1);
      }
      s.slab.clear();
      s.free_slots.clear();
      s.live = 0;
      s.live_view.store(0, std::memory_order_relaxed);
      s.removals_view.store(s.removals_view.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
      s.groups.clear();
      s.ready.clear();
      s.deadlines.clear();
      PublishLocked(s);
    }
  }

 public:
  size_t size() {
    size_t n = 0;
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      n += s.live;
    }
    return n;
  }

  // The sequence number of the `scan`-th oldest message stored (queued, delayed or in flight),
  // or ~0 when no more are stored: SQS FIFO looks for available groups only among the first
  // 120,000 messages, so a receive passes over messages after it. With at most `scan` messages
  // stored this reads one counter per shard. Past it, the answer is kept until a message is
  // removed (a send only adds after it) and then moved on by counting, per group, what is left
  // at or before it: a queue-wide lock, taken only with such a backlog. Thread-safe.
  uint64_t ScanCutoff(size_t scan) {
    size_t stored = 0;
    uint64_t removals = 0;
    for (const Shard& s : shards_) {
      stored += s.live_view.load(std::memory_order_relaxed);
      removals += s.removals_view.load(std::memory_order_relaxed);
    }
    if (stored <= scan) return ~uint64_t{0};
    return ScanCutoffSlow(scan, removals);
  }
  // A lower bound of ScanCutoff(scan), without its cost: the last cutoff computed (the cutoff
  // never moves back while more than `scan` are stored), 0 if none yet. Thread-safe.
  uint64_t ScanCutoffBound(size_t scan) {
    size_t stored = 0;
    for (const Shard& s : shards_) stored += s.live_view.load(std::memory_order_relaxed);
    if (stored <= scan) return ~uint64_t{0};
    const uint64_t last = cutoff_view_.load(std::memory_order_relaxed);
    return last == ~uint64_t{0} ? 0 : last;
  }

 private:
  uint64_t ScanCutoffSlow(size_t scan, uint64_t removals) {
    std::lock_guard lock(cutoff_mu_);
    if (cutoff_ != ~uint64_t{0} && removals == cutoff_removals_) return cutoff_;
    // Messages at or before the cutoff only ever leave (later sends come after it): count those
    // left, then take the next oldest until there are `scan` again.
    const uint64_t old = cutoff_ == ~uint64_t{0} ? 0 : cutoff_;
    size_t before = 0;
    std::vector<uint64_t> after;  // the oldest `scan - before` after it, from each shard
    for (int pass = 0; pass < 2; ++pass) {
      const size_t want = scan - std::min(before, scan);
      for (Shard& s : shards_) {
        std::lock_guard shard_lock(s.mu);
        const size_t first = after.size();
        for (const auto& [id, g] : s.groups) {
          if (pass == 0) {
            before += CountAtOrBefore(g->queued, old) + CountAtOrBefore(g->in_flight, old);
            continue;
          }
          TakeAfter(g->queued, old, want, after);
          TakeAfter(g->in_flight, old, want, after);
        }
        if (pass == 1 && after.size() - first > want) {  // keep this shard's oldest `want`
          std::nth_element(after.begin() + first, after.begin() + first + want, after.end());
          after.resize(first + want);
        }
      }
    }
    const size_t want = scan - std::min(before, scan);
    if (want == 0) {  // the removals were all after it
      cutoff_ = old;
    } else if (after.size() < want) {  // no more than `scan` stored after all
      cutoff_ = ~uint64_t{0};
    } else {
      std::nth_element(after.begin(), after.begin() + (want - 1), after.end());
      cutoff_ = after[want - 1];
    }
    cutoff_removals_ = removals;
    cutoff_view_.store(cutoff_, std::memory_order_relaxed);
    return cutoff_;
  }

  struct alignas(64) Shard {
    AdaptiveMutex mu;  // held for a few dozen instructions; visible to ThreadSanitizer
    absl::flat_hash_map<std::string, std::unique_ptr<Group>> groups;
    // Every node, at a stable address; a receipt names its slot. Free slots are reused.
    std::deque<Node> slab;
    std::vector<uint32_t> free_slots;
    size_t live = 0;  // used slots
    std::deque<Group*> ready;
    // In-flight messages, a binary min-heap on deadline (each node knows its index), so that a
    // delete or visibility change updates it in O(log n) and it never holds stale entries.
    std::vector<Node*> deadlines;
    // Read without the lock so that a receive can skip an idle shard.
    size_t retired = 0;  // groups emptied since the last sweep of idle groups
    std::atomic<size_t> ready_count{0};
    std::atomic<int64_t> next_deadline{INT64_MAX};
    std::atomic<uint64_t> head_seq{~uint64_t{0}};  // of the first ready group's first message
    std::atomic<int64_t> in_flight{0};  // written under mu (AddInFlightLocked), read anywhere
    // Mirrors of live and of the number of removals ever, written under mu, for ScanCutoff.
    std::atomic<size_t> live_view{0};
    std::atomic<uint64_t> removals_view{0};
  };

  static bool Current(const Node& node, const FifoReceipt& r, absl::Time now) {
    return node.in_flight && node.receives == r.receive && node.deadline > now;
  }

  // The message a receipt names (by slot, checked against its sequence number), or null.
  static Node* FindLocked(Shard& s, const FifoReceipt& r) {
    if (r.slot >= s.slab.size()) return nullptr;
    Node& node = s.slab[r.slot];
    return node.used && node.seq == r.seq ? &node : nullptr;
  }

  // How many of a group's ascending sequence numbers (Node* or uint64_t) are at most `seq`; the
  // oldest up to `n` of those after it, appended to `out`.
  static uint64_t SeqOf(const Node* n) { return n->seq; }
  static uint64_t SeqOf(uint64_t seq) { return seq; }
  template <typename Seqs>
  static size_t CountAtOrBefore(const Seqs& seqs, uint64_t seq) {
    return static_cast<size_t>(
        std::partition_point(seqs.begin(), seqs.end(),
                             [&](const auto& x) { return SeqOf(x) <= seq; }) -
        seqs.begin());
  }
  template <typename Seqs>
  static void TakeAfter(const Seqs& seqs, uint64_t seq, size_t n, std::vector<uint64_t>& out) {
    auto it = seqs.begin() + static_cast<std::ptrdiff_t>(CountAtOrBefore(seqs, seq));
    for (; it != seqs.end() && n > 0; ++it, --n) out.push_back(SeqOf(*it));
  }

  static Node* AllocateLocked(Shard& s) {
    Node* node;
    if (!s.free_slots.empty()) {
      node = &s.slab[s.free_slots.back()];
      s.free_slots.pop_back();
    } else {
      node = &s.slab.emplace_back();
      node->slot = static_cast<uint32_t>(s.slab.size() - 1);
    }
    node->used = true;
    s.live_view.store(++s.live, std::memory_order_relaxed);
    return node;
  }

  // Releases a node's slot (and its value's memory) for reuse. A T with Release() resets itself
  // (cheaper than assigning a new T).
  static void FreeLocked(Shard& s, Node* node) {
    if constexpr (requires(T & v) { v.Release(); }) {
      node->value.Release();
    } else {
      node->value = T{};
    }
    node->seq = 0;
    // Each from the constant, not chained: a chain copies a just-stored absl::Time out whole,
    // which stalls on store forwarding.
    node->first_received = absl::InfinitePast();
    node->received = absl::InfinitePast();
    node->deadline = absl::InfinitePast();
    node->receives = 0;
    node->used = node->in_flight = false;
    node->group = nullptr;
    s.free_slots.push_back(node->slot);
    s.live_view.store(--s.live, std::memory_order_relaxed);
    s.removals_view.store(s.removals_view.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
  }

  FifoOutcome DeleteLocked(Shard& s, const FifoReceipt& r, absl::Time now) {
    Node* node = FindLocked(s, r);
    if (node == nullptr) return FifoOutcome::kGone;
    if (!Current(*node, r, now)) return FifoOutcome::kExpired;
    AtProgressPoint(ProgressPoint::kDelete);
    if (listener_ != nullptr) [[unlikely]]
      listener_->Removed(r.shard, *node);
    RemoveInFlightLocked(s, node);
    return FifoOutcome::kOk;
  }

  static void MakeReadyIfEligible(Shard& s, Group* g) {
    if (!g->ready && Eligible(g)) {
      g->ready = true;
      s.ready.push_back(g);
    }
  }

  static void DropGroupLocked(Shard& s, Group* g) {
    if (g->ready) {
      s.ready.erase(std::find(s.ready.begin(), s.ready.end(), g));
      g->ready = false;
    }
    RetireLocked(s);
  }

  // A group just became empty. Empty groups stay in the map for reuse (a busy group empties and
  // refills constantly; freeing it each time costs several allocations); every kIdleSweep
  // retirements the shard frees the groups that are still empty.
  // The group `id` of shard `s`, made when it has none yet; under the shard's lock.
  static Group* GroupLocked(Shard& s, std::string_view id) {
    auto [it, inserted] = s.groups.try_emplace(absl::string_view(id.data(), id.size()), nullptr);
    if (inserted) {
      it->second = std::make_unique<Group>();
      it->second->id = std::string(id);
    }
    return it->second.get();
  }

  static void RetireLocked(Shard& s) {
    if (++s.retired < kIdleSweep) return;
    s.retired = 0;
    absl::erase_if(s.groups, [](const auto& entry) {
      const Group& g = *entry.second;
      return g.queued.empty() && g.in_flight.empty() && !g.ready;
    });
  }

  void RemoveInFlightLocked(Shard& s, Node* node) {
    Group* g = node->group;
    HeapRemove(s, node);
    RemoveInFlight(g, node->seq);  // before FreeLocked clears it
    FreeLocked(s, node);
    AddInFlightLocked(s, -1);
    if (g->queued.empty() && g->in_flight.empty()) {
      RetireLocked(s);
    } else {
      MakeReadyIfEligible(s, g);
    }
  }

  // Puts every in-flight message whose deadline has come back at its place in its group.
  // Returns how many lapsed.
  int64_t SweepLocked(Shard& s, absl::Time now) {
    int64_t lapsed = 0;
    while (!s.deadlines.empty() && s.deadlines.front()->deadline <= now) {
      Node* node = s.deadlines.front();
      HeapRemove(s, node);
      node->in_flight = false;
      Group* g = node->group;
      // Lapsed messages are older than every queued one of their group except other lapsed
      // ones: insert in sequence order (almost always at the front).
      auto pos = std::find_if(g->queued.begin(), g->queued.end(),
                              [&](const Node* n) { return n->seq > node->seq; });
      g->queued.insert(pos, node);
      AddInFlightLocked(s, -1);
      ++lapsed;
      RemoveInFlight(g, node->seq);
      MakeReadyIfEligible(s, g);
    }
    return lapsed;
  }

  // In-flight counts are kept per shard, written under its lock (a plain store, not a locked
  // read-modify-write: a queue-wide atomic counter cost two of those per message) and summed
  // by readers.
  static void AddInFlightLocked(Shard& s, int64_t d) {
    s.in_flight.store(s.in_flight.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }

  static void PublishLocked(Shard& s) {
    s.ready_count.store(s.ready.size(), std::memory_order_release);
    s.next_deadline.store(s.deadlines.empty() ? INT64_MAX : s.deadlines.front()->deadline_ns,
                          std::memory_order_release);
    s.head_seq.store(s.ready.empty() || s.ready.front()->queued.empty()
                         ? ~uint64_t{0}
                         : s.ready.front()->queued.front()->seq,
                     std::memory_order_relaxed);
  }

  // ---- The deadline heap ----
  static void HeapSet(Shard& s, size_t i, Node* node) {
    s.deadlines[i] = node;
    node->heap_index = i;
  }
  static void SiftUp(Shard& s, size_t i) {
    Node* node = s.deadlines[i];
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (s.deadlines[parent]->deadline <= node->deadline) break;
      HeapSet(s, i, s.deadlines[parent]);
      i = parent;
    }
    HeapSet(s, i, node);
  }
  static void SiftDown(Shard& s, size_t i) {
    Node* node = s.deadlines[i];
    const size_t n = s.deadlines.size();
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && s.deadlines[child + 1]->deadline < s.deadlines[child]->deadline) {
        ++child;
      }
      if (node->deadline <= s.deadlines[child]->deadline) break;
      HeapSet(s, i, s.deadlines[child]);
      i = child;
    }
    HeapSet(s, i, node);
  }
  static void HeapPush(Shard& s, Node* node) {
    s.deadlines.push_back(node);
    SiftUp(s, s.deadlines.size() - 1);
  }
  static void HeapFix(Shard& s, Node* node) {
    SiftUp(s, node->heap_index);
    SiftDown(s, node->heap_index);
  }
  static void HeapRemove(Shard& s, Node* node) {
    const size_t i = node->heap_index;
    Node* last = s.deadlines.back();
    s.deadlines.pop_back();
    if (last == node) return;
    HeapSet(s, i, last);
    HeapFix(s, last);
  }

  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> next_seq_{1};
  // ScanCutoff's last answer (~0: none) and the removals it has seen.
  std::mutex cutoff_mu_;
  uint64_t cutoff_ = ~uint64_t{0};
  uint64_t cutoff_removals_ = 0;
  std::atomic<uint64_t> cutoff_view_{~uint64_t{0}};  // cutoff_, for ScanCutoffBound
  std::atomic<uint32_t> cursor_{0};
  int64_t in_flight_limit_ = INT64_MAX;
  Listener* listener_ = nullptr;
};

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_FIFO_GROUPS_H_
