// FifoGroups: the clock-free, lock-free core of a FIFO queue. Not API.
//
// Each message group is a singly-linked list of its messages in sequence order (appended with
// one CAS on the last one's link) and one atomic pointer to an immutable snapshot of its
// delivery state: the messages taken by receives (in flight until a deadline, lapsed after it,
// or put back) and the anchor, the last message taken or passed over. Every change of a group's
// delivery state (a receive taking a batch, a delete, a visibility change, a removal) builds a
// new snapshot and installs it with one CAS, so a group gives one batch at a time, in order,
// whatever the threads do; old snapshots, and messages once unreachable, are freed through
// Epochs. Groups that may have something to receive wait in an MpmcRing that receivers serve,
// each entry checked against its group's snapshot when popped (lazily, as the standard core's
// ring entries). A lapse needs no action: a message past its deadline is receivable again; a
// timer (kept by whichever receiver holds the timer role, never waited for) puts its group back
// in the ring then.
//
// Time comes in as `now`: a message not yet received is available once `enqueued + delay <= now`
// (the delay is the queue's current DelaySeconds, so changing it applies to queued messages).
//
// Not lock-free, and why (docs/architecture.md, "The lock-free core"): a send links its message
// before its deduplication is decided (its sequence number must follow its group's order, and
// the window records that number), so a sender stopped between the two holds back the later
// messages of its own group (no other group, and no operation waits for it); lapses and
// deliveries after a delay wait for the timer role's holder if it is stopped; ScanCutoff keeps a
// mutex for backlogs past 120,000 messages.
//
// Example:
//   queue_internal::FifoGroups<std::string> groups;
//   groups.Push("g1", "a", now);
//   groups.Push("g1", "b", now);
//   // A receive takes "a" and "b" (as many of one group as it can); g1 is then blocked.
#ifndef COURIER_SRC_QUEUE_FIFO_GROUPS_H_
#define COURIER_SRC_QUEUE_FIFO_GROUPS_H_

#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>
#include <absl/time/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "queue/block_cache.h"
#include "queue/epochs.h"
#include "queue/give_back_pacing.h"
#include "queue/mpmc_ring.h"
#include "queue/pages.h"
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
  // Slots are numbered per shard, the shard of their group's id (receipt handles and records
  // name [shard][slot], as the former sharded core did).
  static constexpr uint32_t kShards = 16;

  struct Group;
  struct Slot;
  // A message as visitors, listeners and predicates see it: its value, where it lives, and the
  // state of its latest receive.
  struct Node {
    T& value;
    uint64_t seq = 0;
    absl::Time enqueued;
    absl::Time first_received = absl::InfinitePast();
    absl::Time received = absl::InfinitePast();  // the latest receive
    absl::Time deadline = absl::InfinitePast();  // in flight until then
    int64_t deadline_ns = 0;
    uint32_t receives = 0;
    uint32_t slot = 0;
    Group* group = nullptr;
  };
  // Whether a message is still held back by the queue's delay (enqueued + delay > now, with
  // `available_by` = now - delay). The delay postpones a message's first delivery only.
  static bool Delayed(uint32_t receives, absl::Time enqueued, absl::Time available_by) {
    return receives == 0 && enqueued > available_by;
  }

  struct Counts {
    size_t visible = 0;
    size_t in_flight = 0;
    size_t delayed = 0;
  };

  // Hears of every change to a stored message, right after the atomic step that makes it (the
  // FIFO queue records them: sqs_records.h); a message's Stored comes before it can be seen.
  // Lapses are not told: they follow from the deadline.
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
  void set_listener(Listener* listener) { core_->listener = listener; }

  FifoGroups() : core_(new Core) {}
  FifoGroups(const FifoGroups&) = delete;
  FifoGroups& operator=(const FifoGroups&) = delete;
  ~FifoGroups() { core_->Unref(); }

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
  // every message pushed before it to any group. Thread-safe.
  // `receives` and `first_received` carry a message's history (a dead-letter queue's messages).
  uint64_t Push(std::string_view group, T value, absl::Time enqueued, uint32_t receives = 0,
                absl::Time first_received = absl::InfinitePast()) {
    return PushWith(
        group, enqueued, [&](T& v) { v = std::move(value); }, receives, first_received);
  }
  // Push, the value written in place by fill(T&) or fill(T&, uint64_t seq) (given a default or
  // Released T, and the message's sequence number) before anyone can see it.
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
  // PushWith, kept only if confirm(T&, uint64_t seq) returns true. confirm runs once the
  // message is filled in and linked in its group, before anyone can see it (receivers stop at
  // it meanwhile); on false the push is taken back (its sequence number stays unused). A FIFO
  // send decides on deduplication there. Returns whether the message was kept. Thread-safe.
  template <typename Fill, typename Confirm>
  bool PushIf(std::string_view group, absl::Time enqueued, Fill&& fill, Confirm&& confirm,
              uint32_t receives = 0, absl::Time first_received = absl::InfinitePast()) {
    Core& c = *core_;
    Epochs::Guard guard;
    const uint32_t shard = ShardOf(group);
    Group* g = c.FindOrAddGroup(shard, group);
    Slot* s = c.Allocate(shard);
    s->group.store(g, std::memory_order_relaxed);
    s->enqueued = enqueued;
    s->receives0 = receives;
    s->first_received0 = first_received;
    s->purge = c.purges.load(std::memory_order_seq_cst);
    s->state.store(kPending, std::memory_order_relaxed);
    const uint64_t seq = c.Link(g, s);
    AtProgressPoint(ProgressPoint::kSend);
    if constexpr (std::is_invocable_v<Fill&, T&, uint64_t>) {
      fill(s->value, seq);
    } else {
      fill(s->value);
    }
    bool kept = confirm(s->value, seq);
    if (kept && c.listener != nullptr) [[unlikely]] {
      c.listener->Stored(shard, View(*s, nullptr));
      // A purge since the message was linked may have missed it, and its record may come after
      // the purge's: it goes with the purge.
      if (c.purges.load(std::memory_order_seq_cst) != s->purge) {
        c.listener->Removed(shard, View(*s, nullptr));
        kept = false;
      }
    }
    uint32_t pending = kPending;
    if (!kept || !s->state.compare_exchange_strong(pending, kQueued, std::memory_order_seq_cst)) {
      if (kept && c.listener != nullptr) [[unlikely]]
        c.listener->Removed(shard, View(*s, nullptr));  // purged before it was published
      s->state.store(kRemoved, std::memory_order_seq_cst);
      c.Gone(s);
      c.MakeEligible(g);  // receivers stopped at it: what follows it may be receivable
      return false;
    }
    c.shards[shard].pushes.fetch_add(1, std::memory_order_relaxed);
    // A group with a message in flight is put in the ring when that one is deleted, changed or
    // lapses (its timer), not by every send behind it.
    const State* st = g->state.load(std::memory_order_seq_cst);
    if (st->count == 0 || st->entries[0].deadline_ns <= absl::ToUnixNanos(enqueued)) {
      c.MakeEligible(g);
    }
    return true;
  }

  // Receives up to `max` messages: as many of one group as it can, then other groups. Each
  // available message (enqueued + delay <= now) is shown to `visitor.Check(Node&)` once this
  // receive holds it; a taken one goes in flight until now + visibility and is passed to
  // `visitor.Taken(const Node&, FifoReceipt)` with its receive count and timestamps updated.
  // Returns the number taken. Thread-safe. `use_hints` is kept for the caller's sake (a long
  // poll's re-check): every receive reads the ring with seq_cst loads.
  template <typename Visitor>
  int Receive(absl::Time now, absl::Duration delay, int max, absl::Duration visibility,
              Visitor&& visitor, bool use_hints = true) {
    (void)use_hints;
    Core& c = *core_;
    Epochs::Guard guard;
    Batch b;
    b.now = now;
    b.now_ns = absl::ToUnixNanos(now);
    b.available_by = now - delay;  // enqueued + delay <= now
    b.deadline = now + visibility;
    b.deadline_ns = absl::ToUnixNanos(b.deadline);
    b.deadline_ms = (b.deadline_ns + 999'999) / 1'000'000;
    c.FireTimers(b.now_ns);
    // SQS FIFO's in-flight limit: past it a receive takes no new message (lapsed ones it may).
    const bool limited = c.in_flight_limit != INT64_MAX;
    b.room = limited ? c.in_flight_limit - in_flight() : INT64_MAX;
    int taken = 0;
    // Each group in the ring at most once per receive: those to serve again go back after.
    // SQS serves the group of the oldest message first: among the groups popped at a time, as
    // many as the receive still wants (up to kWindow), the oldest first. Popping more would
    // order more of them, but the rest went back to the ring's end, behind younger groups, and
    // cost every receive their reads.
    constexpr size_t kWindow = 16;
    std::array<std::pair<uint64_t, Group*>, kWindow> window;
    std::array<Group*, 64> again;
    size_t n_again = 0;
    auto serve_later = [&](Group* g) {
      if (n_again < again.size()) {
        again[n_again++] = g;
      } else {
        c.MakeEligible(g);
      }
    };
    for (uint64_t budget = c.ready.ApproximateSize() + 1; taken < max && budget > 0;) {
      // One CAS for the run of groups at the ring's front.
      std::array<uint64_t, kWindow> popped;
      const size_t want =
          std::min<uint64_t>(std::min<size_t>(kWindow, static_cast<size_t>(max - taken)), budget);
      const size_t n = c.ready.PopRun([](uint64_t, size_t) { return true; }, popped.data(), want);
      if (n == 0) break;
      budget -= n;
      for (size_t i = 0; i < n; ++i) {
        Group* g = reinterpret_cast<Group*>(popped[i]);
        g->in_ring.store(false, std::memory_order_seq_cst);
        window[i] = {OldestOf(*g, b.now_ns), g};
      }
      // The ring holds groups mostly in the order they became eligible: often sorted already.
      if (!std::is_sorted(window.begin(), window.begin() + n)) {
        std::sort(window.begin(), window.begin() + n);
      }
      for (size_t i = 0; i < n; ++i) {
        Group* g = window[i].second;
        if (taken >= max) {
          serve_later(g);
          continue;
        }
        if (c.Take(*g, b, max - taken, visitor, taken)) serve_later(g);
      }
    }
    for (size_t i = 0; i < n_again; ++i) c.MakeEligible(again[i]);
    return taken;
  }

  // The earliest instant after `now` at which a receive could find something new: a delayed
  // group head becoming available or an in-flight message lapsing. InfiniteFuture if none.
  // Thread-safe; visits every group when the queue has a delay.
  absl::Time NextChange(absl::Time now, absl::Duration delay) {
    Core& c = *core_;
    Epochs::Guard guard;
    int64_t next = c.timers_at.load(std::memory_order_seq_cst);
    if (delay > absl::ZeroDuration()) {
      const absl::Time available_by = now - delay;
      c.ForEachGroup([&](Group& g) {
        const State* st = g.state.load(std::memory_order_seq_cst);
        if (st->count > 0 && st->entries[0].deadline_ns > INT64_MIN) return;
        const Slot* head = st->count > 0 ? st->entries[0].slot : FirstQueued(st->last);
        if (head == nullptr) return;
        const uint32_t receives = st->count > 0 ? st->entries[0].receives : head->receives0;
        if (Delayed(receives, head->enqueued, available_by)) {
          next = std::min(next, absl::ToUnixNanos(head->enqueued + delay));
        }
      });
    }
    return next == INT64_MAX ? absl::InfiniteFuture() : absl::FromUnixNanos(next);
  }

  // At most `limit` messages in flight (SQS FIFO: 120,000). Call before use.
  void set_in_flight_limit(int64_t limit) { core_->in_flight_limit = limit; }
  // Messages in flight now (lapsed ones count until a later operation takes them again).
  int64_t in_flight() const {
    int64_t n = 0;
    for (const auto& sh : core_->shards) n += sh.in_flight.load(std::memory_order_relaxed);
    return n;
  }

  // Deletes the message of an unexpired receive. Thread-safe.
  FifoOutcome Delete(const FifoReceipt& r, absl::Time now) {
    Epochs::Guard guard;
    return core_->Delete(r, absl::ToUnixNanos(now));
  }
  // Delete of n receipts: out[i] is the outcome of receipts[i]. Thread-safe.
  void DeleteBatch(const FifoReceipt* receipts, size_t n, absl::Time now, FifoOutcome* out) {
    Epochs::Guard guard;
    const int64_t now_ns = absl::ToUnixNanos(now);
    for (size_t i = 0; i < n; ++i) out[i] = core_->Delete(receipts[i], now_ns);
  }

  // Sets an unexpired receive's deadline to now + timeout, unless that passes received + cap.
  // A zero timeout makes the message first in its group again at once. Thread-safe.
  FifoOutcome ChangeVisibility(const FifoReceipt& r, absl::Time now, absl::Duration timeout,
                               absl::Duration cap) {
    Core& c = *core_;
    Epochs::Guard guard;
    const int64_t now_ns = absl::ToUnixNanos(now);
    const int64_t until = absl::ToUnixNanos(now + timeout);
    const int64_t cap_ns = absl::ToInt64Nanoseconds(cap);
    Group* g = nullptr;
    Slot* s = nullptr;
    for (;;) {
      const State* st = nullptr;
      const Entry* e = nullptr;
      const FifoOutcome found = c.FindReceive(r, now_ns, &g, &s, &st, &e);
      if (found != FifoOutcome::kOk) return found;
      if (until > e->received_ns + cap_ns) return FifoOutcome::kLimitExceeded;
      State* next = c.Copy(st);
      Entry& changed = next->entries[e - st->entries];
      changed.deadline_ns = until;
      if (!c.Install(*g, st, next)) continue;
      AtProgressPoint(ProgressPoint::kChangeVisibility);
      if (c.listener != nullptr) [[unlikely]]
        c.listener->Received(r.shard, View(*s, &changed));
      if (until <= now_ns) {
        c.MakeEligible(g);
      } else {
        c.AddTimer(g, until);
      }
      return FifoOutcome::kOk;
    }
  }

  // For a retried receive (ReceiveRequestAttemptId): if every receipt still names its message's
  // latest receive (not received again since; in flight, or lapsed and not taken by anyone, with
  // only its own receive's messages before it in its group), puts them all in flight again until
  // now + visibility and returns true. A concurrent receive may win a lapsed message, and then
  // this returns false having renewed the others: a retry is best effort. Thread-safe.
  bool Renew(std::vector<FifoReceipt> receipts, absl::Time now, absl::Duration visibility) {
    Core& c = *core_;
    Epochs::Guard guard;
    const int64_t now_ns = absl::ToUnixNanos(now);
    const int64_t until = absl::ToUnixNanos(now + visibility);
    auto mine = [&](uint64_t seq) {
      return std::any_of(receipts.begin(), receipts.end(),
                         [&](const FifoReceipt& o) { return o.seq == seq; });
    };
    // Whether the receipt's entry in `st` is renewable (its latest receive, in flight, or
    // lapsed with only this receive's messages or messages in flight before it); its index.
    auto renewable = [&](const State* st, const FifoReceipt& r, uint32_t* at) {
      for (uint32_t i = 0; i < st->count; ++i) {
        const Entry& e = st->entries[i];
        if (e.seq != r.seq) {
          if (e.deadline_ns <= now_ns && !mine(e.seq)) {  // receivable before it, by anyone
            for (uint32_t j = i + 1; j < st->count; ++j) {
              if (st->entries[j].seq == r.seq && st->entries[j].deadline_ns <= now_ns) {
                return false;
              }
            }
          }
          continue;
        }
        *at = i;
        return e.receives == r.receive && e.deadline_ns != INT64_MIN;
      }
      return false;
    };
    std::vector<Group*> groups;
    for (const FifoReceipt& r : receipts) {
      Slot* s = c.Find(r);
      if (s == nullptr) return false;
      Group* g = s->group.load(std::memory_order_acquire);
      uint32_t at = 0;
      if (g == nullptr || !renewable(g->state.load(std::memory_order_seq_cst), r, &at)) {
        return false;
      }
      groups.push_back(g);
    }
    bool all = true;
    for (size_t k = 0; k < receipts.size(); ++k) {
      const FifoReceipt& r = receipts[k];
      Group* g = groups[k];
      for (;;) {
        const State* st = g->state.load(std::memory_order_seq_cst);
        uint32_t at = 0;
        if (!renewable(st, r, &at)) {
          all = false;
          break;
        }
        State* next = c.Copy(st);
        next->entries[at].deadline_ns = until;
        if (!c.Install(*g, st, next)) continue;
        if (c.listener != nullptr) [[unlikely]]
          c.listener->Received(r.shard, View(*next->entries[at].slot, &next->entries[at]));
        c.AddTimer(g, until);
        break;
      }
    }
    return all;
  }

  // Removes every message (queued or in flight) for which pred(const Node&) is true, e.g. those
  // past retention. Returns how many. Thread-safe; visits every group.
  template <typename Pred>
  size_t RemoveIf(Pred&& pred) {
    Core& c = *core_;
    Epochs::Guard guard;
    size_t removed = 0;
    c.ForEachGroup([&](Group& g) { removed += c.RemoveFrom(g, pred); });
    return removed;
  }

  // Removes and returns (through fn(Node&&)) the oldest queued, available message whose group
  // has nothing in flight, if any. For message move tasks (slow path: visits every group).
  // Thread-safe.
  template <typename Fn>
  bool TakeOldest(absl::Time now, absl::Duration delay, Fn&& fn) {
    Core& c = *core_;
    Epochs::Guard guard;
    const int64_t now_ns = absl::ToUnixNanos(now);
    const absl::Time available_by = now - delay;
    for (;;) {
      Group* best = nullptr;
      uint64_t best_seq = ~uint64_t{0};
      c.ForEachGroup([&](Group& g) {
        const Slot* head = Head(g.state.load(std::memory_order_seq_cst), now_ns, available_by);
        if (head != nullptr && head->seq.load(std::memory_order_relaxed) < best_seq) {
          best_seq = head->seq.load(std::memory_order_relaxed);
          best = &g;
        }
      });
      if (best == nullptr) return false;
      const State* st = best->state.load(std::memory_order_seq_cst);
      Slot* head = Head(st, now_ns, available_by);
      if (head == nullptr || head->seq.load(std::memory_order_relaxed) != best_seq) continue;
      if (st->count > 0) {  // a message put back: out of the snapshot
        if (!c.Install(*best, st, c.Without(st, 0))) continue;
      } else {
        uint32_t queued = kQueued;
        if (!head->state.compare_exchange_strong(queued, kRemoved, std::memory_order_seq_cst)) {
          continue;
        }
      }
      const uint32_t shard = ShardOf(best->id);
      if (c.listener != nullptr) [[unlikely]]
        c.listener->Removed(shard, View(*head, nullptr));
      fn(View(*head, nullptr));
      c.shards[shard].removals.fetch_add(1, std::memory_order_relaxed);
      c.Gone(head);
      return true;
    }
  }

  // Counts at `now`: visible (available, not in flight, whatever its group's state), in flight,
  // delayed. Exact when nothing changes meanwhile. Thread-safe; visits every group.
  Counts Count(absl::Time now, absl::Duration delay) {
    Core& c = *core_;
    Epochs::Guard guard;
    const int64_t now_ns = absl::ToUnixNanos(now);
    const absl::Time available_by = now - delay;
    Counts n;
    auto count = [&](uint32_t receives, absl::Time enqueued) {
      if (Delayed(receives, enqueued, available_by)) {
        ++n.delayed;
      } else {
        ++n.visible;
      }
    };
    c.ForEachGroup([&](Group& g) {
      const State* st = g.state.load(std::memory_order_seq_cst);
      for (uint32_t i = 0; i < st->count; ++i) {
        const Entry& e = st->entries[i];
        if (e.deadline_ns > now_ns) {
          ++n.in_flight;
        } else {
          count(e.receives, e.slot->enqueued);
        }
      }
      for (Slot* s = st->last->next.load(std::memory_order_seq_cst); s != nullptr;
           s = s->next.load(std::memory_order_seq_cst)) {
        const uint32_t state = s->state.load(std::memory_order_seq_cst);
        if (state == kQueued) count(s->receives0, s->enqueued);
        if (state == kTaken) ++n.in_flight;  // taken by a snapshot newer than st
      }
    });
    return n;
  }

  // Removes every message, and calls under_purge() once no push can be recorded before it
  // unless its message is removed here (so that every push is on one side of it). Thread-safe.
  template <typename Fn>
  void Clear(Fn&& under_purge) {
    Core& c = *core_;
    Epochs::Guard guard;
    const uint64_t purge = c.purges.fetch_add(1, std::memory_order_seq_cst) + 1;
    under_purge();
    c.ForEachGroup([&](Group& g) {
      c.RemoveFrom(
          g, [&](const Node&) { return true; }, purge);
    });
  }
  void Clear() {
    Clear([] {});
  }

  size_t size() {
    int64_t n = 0;
    for (const auto& sh : core_->shards) {
      n -= static_cast<int64_t>(sh.removals.load(std::memory_order_relaxed));  // before pushes
      n += static_cast<int64_t>(sh.pushes.load(std::memory_order_relaxed));
    }
    return n > 0 ? static_cast<size_t>(n) : 0;
  }

  // The sequence number of the `scan`-th oldest message stored (queued, delayed or in flight),
  // or ~0 when no more are stored: SQS FIFO looks for available groups only among the first
  // 120,000 messages, so a receive passes over messages after it. With at most `scan` messages
  // stored this reads one counter per shard; past it, the answer is kept until a message is
  // removed and then computed again over every group, under a mutex (only with such a
  // backlog). Thread-safe.
  uint64_t ScanCutoff(size_t scan) {
    if (size() <= scan) return ~uint64_t{0};
    Core& c = *core_;
    std::lock_guard lock(c.cutoff_mu);
    uint64_t removals = 0;
    for (const auto& sh : c.shards) removals += sh.removals.load(std::memory_order_relaxed);
    if (c.cutoff != ~uint64_t{0} && removals == c.cutoff_removals) return c.cutoff;
    Epochs::Guard guard;
    std::vector<uint64_t> seqs;
    c.ForEachGroup([&](Group& g) {
      const State* st = g.state.load(std::memory_order_seq_cst);
      for (uint32_t i = 0; i < st->count; ++i) seqs.push_back(st->entries[i].seq);
      for (Slot* s = st->last->next.load(std::memory_order_seq_cst); s != nullptr;
           s = s->next.load(std::memory_order_seq_cst)) {
        const uint32_t state = s->state.load(std::memory_order_seq_cst);
        if (state == kQueued || state == kTaken) {
          seqs.push_back(s->seq.load(std::memory_order_relaxed));
        }
      }
    });
    if (seqs.size() <= scan) {
      c.cutoff = ~uint64_t{0};
    } else {
      std::nth_element(seqs.begin(), seqs.begin() + static_cast<std::ptrdiff_t>(scan - 1),
                       seqs.end());
      c.cutoff = seqs[scan - 1];
    }
    c.cutoff_removals = removals;
    c.cutoff_view.store(c.cutoff, std::memory_order_relaxed);
    return c.cutoff;
  }
  // A lower bound of ScanCutoff(scan), without its cost: the last cutoff computed (the cutoff
  // never moves back while more than `scan` are stored), 0 if none yet. Thread-safe.
  uint64_t ScanCutoffBound(size_t scan) {
    if (size() <= scan) return ~uint64_t{0};
    const uint64_t last = core_->cutoff_view.load(std::memory_order_relaxed);
    return last == ~uint64_t{0} ? 0 : last;
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
    Core& c = *core_;
    if (m.shard >= kShards || m.shard != ShardOf(group) || m.slot >= (1u << 28)) return false;
    Epochs::Guard guard;
    Slot* s = c.At(m.shard, m.slot, /*grow=*/true);
    c.BuildUpTo(m.shard, m.slot + 1);
    if (s->state.load(std::memory_order_relaxed) != kFree) return false;
    Group* g = c.FindOrAddGroup(m.shard, group);
    s->group.store(g, std::memory_order_relaxed);
    s->value = std::move(m.value);
    s->enqueued = m.enqueued;
    s->receives0 = m.receives;
    s->first_received0 = m.first_received;
    s->state.store(kQueued, std::memory_order_relaxed);
    s->seq.store(m.seq, std::memory_order_relaxed);
    Slot* tail = g->tail.load(std::memory_order_relaxed);
    tail->next.store(s, std::memory_order_relaxed);
    g->tail.store(s, std::memory_order_relaxed);
    c.shards[m.shard].pushes.fetch_add(1, std::memory_order_relaxed);
    c.restored.push_back({s, absl::ToUnixNanos(m.first_received), absl::ToUnixNanos(m.received),
                          m.in_flight ? absl::ToUnixNanos(m.deadline) : INT64_MIN, m.receives});
    return true;
  }
  // The free slots, delivery states and ready groups of what Restore put back; sequence
  // numbers go on from `next_seq`.
  void FinishRestore(uint64_t next_seq) {
    Core& c = *core_;
    Epochs::Guard guard;
    c.FinishRestore(next_seq);
  }

  // Gives the pages of each shard that stores nothing (its groups drained) and has handed out
  // at least `at_least` slots back to the system, and starts the shard again from slot 0.
  // First each of its groups' anchors (their last messages, deleted) moves off the slab onto a
  // relay of its own (Core::Relay). Sequence numbers only grow, so no receipt issued before
  // names a message after. Call it with no Epochs::Guard held. Never waits: a shard in use (a
  // sender filling a slot, a slot still waiting in Epochs), or another thread doing it, leaves
  // it for later: after a look that finds nothing to give back, a second on `now_ns`'s clock;
  // after a walk that finds a shard in use, 1 s, then 2, 4... up to 5 minutes. Returns whether
  // there was such a shard and every one was given back. Thread-safe.
  static constexpr uint32_t kGiveBackAtLeast = 8192;  // slots of a shard: 2.4 MB of FifoQueue's
  bool GiveBackIfDrained(int64_t now_ns, uint32_t at_least = kGiveBackAtLeast) {
    Core& c = *core_;
    if (!c.give_back_pacing.Begin(now_ns)) return false;
    std::array<bool, kShards> due{};  // shards that store nothing and have enough slots
    bool any = false;
    for (uint32_t k = 0; k < kShards; ++k) {
      const auto& sh = c.shards[k];
      const uint64_t removals = sh.removals.load(std::memory_order_relaxed);  // before pushes
      due[k] = sh.pushes.load(std::memory_order_relaxed) == removals &&
               sh.next_index.load(std::memory_order_relaxed) >= at_least;
      any = any || due[k];
    }
    bool all = any;
    if (any) {
      {
        Epochs::Guard guard;
        c.ForEachGroup([&](Group& g) {
          if (due[g.shard]) c.Relay(g);
        });
      }
      Epochs::Collect();  // the anchors just passed go back to their free stacks
      for (uint32_t k = 0; k < kShards; ++k) {
        if (due[k] && !c.GiveBack(k)) all = false;
      }
    }
    using Outcome = GiveBackPacing::Outcome;
    c.give_back_pacing.End(now_ns, !any  ? Outcome::kNothingToGive
                                   : all ? Outcome::kGaveBack
                                         : Outcome::kInUse);
    return all;
  }
  // Where a slot lives (tests check its pages); null past the slab's end.
  const void* SlotAddress(uint32_t shard, uint32_t slot) const {
    return shard < kShards ? core_->At(shard, slot, false) : nullptr;
  }

 private:
  // Slot states (for a message not yet taken by a receive, or passed over).
  static constexpr uint32_t kFree = 0, kPending = 1, kQueued = 2, kTaken = 3, kRemoved = 4,
                            kDoomed = 5;  // pending when a purge came: not to be published
  // Life bits: the message is gone (deleted or removed), and its group's anchor has moved past
  // it. Both set: no snapshot or link will reach it again; the slot is freed through Epochs.
  static constexpr uint32_t kGoneBit = 1, kPassedBit = 2;
  // Slot::index of a relay (Core::Relay): a slot of its own on the heap, not the slab's.
  static constexpr uint32_t kRelay = ~0u;

 public:
  struct Slot {
    T value{};
    std::atomic<uint64_t> seq{0};
    absl::Time enqueued;
    absl::Time first_received0 = absl::InfinitePast();  // the history it was pushed with
    uint32_t receives0 = 0;
    uint32_t index = 0;  // its number in its shard
    uint32_t shard = 0;
    uint64_t purge = 0;  // the purge count when it was linked
    std::atomic<Group*> group{nullptr};
    std::atomic<Slot*> next{nullptr};  // the next message of its group
    std::atomic<uint32_t> state{kFree};
    std::atomic<uint32_t> life{0};
    std::atomic<uint32_t> free_next{0};  // in its shard's free stack: the next index + 1
    void* core = nullptr;
    // Its group's delivery state while it is the anchor and nothing is taken (Core::Empty): the
    // state most operations install, kept here so that installing it allocates nothing.
    alignas(void*) unsigned char empty_state[16];
  };

 private:
  // One message taken by a receive (at or before its group's anchor): in flight until
  // `deadline_ns`, lapsed after it; INT64_MIN when put back without a receive (recovered).
  struct Entry {
    Slot* slot;
    uint64_t seq;
    uint32_t receives;
    int64_t first_received_ns, received_ns, deadline_ns;
  };
  // A group's delivery state, immutable once installed: its entries in sequence order, and the
  // anchor, whose `next` is its first message never taken.
  struct State {
    Slot* last;
    uint32_t count;
    uint32_t capacity;  // entries room (kCachedEntries: a BlockCache block; 0: a slot's own)
    Entry entries[];
  };
  static_assert(sizeof(State) == sizeof(Slot::empty_state));
  // Snapshots of up to this many entries (a receive's batch) come from a per-thread cache.
  static constexpr uint32_t kCachedEntries = 10;
  using StateCache = BlockCache<sizeof(State) + kCachedEntries * sizeof(Entry)>;

 public:
  struct Group {
    std::string id;
    uint32_t shard = 0;
    Group* chain = nullptr;  // the next group in its bucket
    std::atomic<const State*> state{nullptr};
    std::atomic<Slot*> tail{nullptr};  // the last message linked (a hint: its `next` may be set)
    std::atomic<bool> in_ring{false};
    std::atomic<int64_t> timer_at{INT64_MAX};  // its earliest timer not yet fired
    Slot anchor;                               // the first anchor, before any message
  };

 private:
  struct Batch {
    absl::Time now, available_by, deadline;
    int64_t now_ns = 0, deadline_ns = 0, deadline_ms = 0;
    int64_t room = INT64_MAX;
  };
  struct Restored {
    Slot* slot;
    int64_t first_received_ns, received_ns, deadline_ns;
    uint32_t receives;
  };
  struct Timer {
    Group* group;
    int64_t at;
    Timer* next;
  };

  static Node View(Slot& s, const Entry* e) {
    Node n{s.value};
    n.seq = s.seq.load(std::memory_order_relaxed);
    n.enqueued = s.enqueued;
    n.slot = s.index;
    n.group = s.group.load(std::memory_order_relaxed);
    if (e == nullptr) {
      n.receives = s.receives0;
      n.first_received = s.first_received0;
    } else {
      n.receives = e->receives;
      n.first_received = TimeOf(e->first_received_ns);
      n.received = TimeOf(e->received_ns);
      n.deadline = TimeOf(e->deadline_ns);
      n.deadline_ns = e->deadline_ns;
    }
    return n;
  }
  // `before` as this receive's entry `e` shows it (View(s, &e) without its time conversions).
  static Node Received(const Node& before, const Entry& e, const Batch& b) {
    Node n = before;
    n.receives = e.receives;
    if (n.first_received == absl::InfinitePast()) n.first_received = b.now;
    n.received = b.now;
    n.deadline = b.deadline;
    n.deadline_ns = e.deadline_ns;
    return n;
  }
  static absl::Time TimeOf(int64_t ns) {
    return ns == INT64_MIN ? absl::InfinitePast() : absl::FromUnixNanos(ns);
  }

  // The sequence number of the first message a receive could take from `g` now (~0: none).
  static uint64_t OldestOf(const Group& g, int64_t now_ns) {
    const State* st = g.state.load(std::memory_order_seq_cst);
    if (st->count > 0) {
      return st->entries[0].deadline_ns <= now_ns ? st->entries[0].seq : ~uint64_t{0};
    }
    const Slot* s = FirstQueued(st->last);
    return s != nullptr ? s->seq.load(std::memory_order_relaxed) : ~uint64_t{0};
  }
  // The first message after `last` not yet removed, if it is queued (a pending one stops it).
  static Slot* FirstQueued(const Slot* last) {
    for (Slot* s = last->next.load(std::memory_order_seq_cst); s != nullptr;
         s = s->next.load(std::memory_order_seq_cst)) {
      const uint32_t state = s->state.load(std::memory_order_seq_cst);
      if (state == kRemoved) continue;
      return state == kQueued ? s : nullptr;
    }
    return nullptr;
  }
  // A group's first receivable message when nothing of it is in flight, if available.
  static Slot* Head(const State* st, int64_t now_ns, absl::Time available_by) {
    for (uint32_t i = 0; i < st->count; ++i) {
      if (st->entries[i].deadline_ns > now_ns) return nullptr;
    }
    if (st->count > 0) return st->entries[0].slot;
    Slot* s = FirstQueued(st->last);
    if (s == nullptr || Delayed(s->receives0, s->enqueued, available_by)) return nullptr;
    return s;
  }

  struct Core {
    static constexpr uint32_t kSegments = 22;   // 64 << k slots each: 2^28 in all
    static constexpr uint32_t kBuckets = 1024;  // per shard
    struct alignas(64) Shard {
      std::atomic<Slot*> segments[kSegments] = {};
      std::atomic<uint64_t> free_head{0};  // [tag: 32][index + 1: 32]
      std::atomic<uint32_t> next_index{0};
      std::atomic<std::atomic<Group*>*> buckets{nullptr};
      // Counters, here rather than in one array, so that threads on other shards do not share
      // their cache line.
      std::atomic<int64_t> in_flight{0};  // entries taken by a receive
      // Messages stored, and removed, ever: one counter for each step (what is stored is their
      // difference).
      std::atomic<uint64_t> pushes{0};
      std::atomic<uint64_t> removals{0};
      std::atomic<int64_t> retired{0};  // slots waiting in Epochs
    };
    std::array<Shard, kShards> shards;
    std::atomic<uint64_t> next_seq{1};
    std::atomic<uint64_t> purges{0};
    MpmcRing ready;  // groups that may have something to receive (Group*)
    // Timers: pushed to a stack; the role's holder moves them to its heap and fires them.
    std::atomic<Timer*> timer_inbox{nullptr};
    std::atomic<int64_t> timers_at{INT64_MAX};  // the earliest timer, pushed or in the heap
    std::atomic<bool> timer_role{false};
    std::vector<Timer*> timer_heap;  // the role's
    std::atomic<int64_t> refs{1};    // the owner's, and one per shard with slots in Epochs
    int64_t in_flight_limit = INT64_MAX;
    Listener* listener = nullptr;
    std::mutex cutoff_mu;
    uint64_t cutoff = ~uint64_t{0}, cutoff_removals = 0;
    std::atomic<uint64_t> cutoff_view{~uint64_t{0}};
    std::vector<Restored> restored;   // recovery's, until FinishRestore
    GiveBackPacing give_back_pacing;  // GiveBackIfDrained's

    ~Core() {
      for (Shard& sh : shards) {
        if (auto* b = sh.buckets.load(std::memory_order_relaxed)) {
          for (uint32_t i = 0; i < kBuckets; ++i) {
            for (Group* g = b[i].load(std::memory_order_relaxed); g != nullptr;) {
              Group* next = g->chain;
              const State* st = g->state.load(std::memory_order_relaxed);
              Slot* s = st->last;
              Release(st);
              while (s != nullptr) {  // the relays not passed yet (passed ones went to Free)
                Slot* after = s->next.load(std::memory_order_relaxed);
                if (s->index == kRelay) delete s;
                s = after;
              }
              delete g;
              g = next;
            }
          }
          delete[] b;
        }
        const uint32_t shard = static_cast<uint32_t>(&sh - shards.data());
        for (uint32_t i = 0; i < sh.next_index.load(std::memory_order_relaxed); ++i) {
          At(shard, i, false)->value.~T();
        }
        for (uint32_t k = 0; k < kSegments; ++k) std::free(sh.segments[k].load());
      }
      for (Timer* t = timer_inbox.load(); t != nullptr;) {
        Timer* next = t->next;
        delete t;
        t = next;
      }
      for (Timer* t : timer_heap) delete t;
    }
    void Unref() {
      if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // ---- slots
    static uint32_t SegmentOf(uint32_t i, uint32_t* offset) {
      const uint32_t k = 31 - static_cast<uint32_t>(__builtin_clz(i / 64 + 1));
      *offset = i - 64 * ((1u << k) - 1);
      return k;
    }
    Slot* At(uint32_t shard, uint32_t i, bool grow) {
      uint32_t offset = 0;
      const uint32_t k = SegmentOf(i, &offset);
      if (k >= kSegments) return nullptr;
      Shard& sh = shards[shard];
      Slot* seg = sh.segments[k].load(std::memory_order_acquire);
      if (seg == nullptr) {
        if (!grow) return nullptr;
        // Zeros, built slot by slot as they are handed out (Build): a segment's pages are
        // touched only as far as it is used.
        auto* fresh = static_cast<Slot*>(std::calloc(size_t{64} << k, sizeof(Slot)));
        if (fresh == nullptr) throw std::bad_alloc();
        if (sh.segments[k].compare_exchange_strong(seg, fresh, std::memory_order_acq_rel)) {
          seg = fresh;
        } else {
          std::free(fresh);
        }
      }
      return &seg[offset];
    }
    Slot* Allocate(uint32_t shard) {
      Shard& sh = shards[shard];
      uint64_t head = sh.free_head.load(std::memory_order_acquire);
      while (static_cast<uint32_t>(head) != 0) {
        Slot* s = At(shard, static_cast<uint32_t>(head) - 1, false);
        const uint64_t next =
            ((head >> 32) + 1) << 32 | s->free_next.load(std::memory_order_relaxed);
        if (sh.free_head.compare_exchange_weak(head, next, std::memory_order_acq_rel)) {
          s->life.store(0, std::memory_order_relaxed);
          s->next.store(nullptr, std::memory_order_relaxed);
          return s;
        }
      }
      // The slots from next_index on are not built yet: the first to take one builds it.
      // Acquire: after a give-back, its CAS of next_index to 0 follows its slots' destruction.
      const uint32_t i = sh.next_index.fetch_add(1, std::memory_order_acquire);
      Slot* s = At(shard, i, true);
      if (s != nullptr) Build(s, shard, i);
      return s;
    }
    // Slots [0, next_index) of a shard are built; the others are zeros (never used, or given
    // back) or, on a page a give-back kept, what was left of a destroyed slot. Only the atomics
    // of an unbuilt slot are ever read (a stale receipt's look at its seq, which is 0 or a gone
    // message's). Building sets everything as a new slot's.
    void Build(Slot* s, uint32_t shard, uint32_t i) {
      new (&s->value) T();
      s->seq.store(0, std::memory_order_relaxed);
      s->group.store(nullptr, std::memory_order_relaxed);
      s->next.store(nullptr, std::memory_order_relaxed);
      s->state.store(kFree, std::memory_order_relaxed);
      s->life.store(0, std::memory_order_relaxed);
      s->free_next.store(0, std::memory_order_relaxed);
      s->enqueued = absl::Time();
      s->first_received0 = absl::InfinitePast();
      s->receives0 = 0;
      s->purge = 0;
      s->index = i;
      s->shard = shard;
      s->core = this;
      InitEmpty(s);
    }
    // Epochs' deleter of a slot: gives it back to its shard.
    static void Free(void* p) {
      auto* s = static_cast<Slot*>(p);
      auto* c = static_cast<Core*>(s->core);
      if (s->index == kRelay) {
        std::atomic<int64_t>& retired = c->shards[s->shard].retired;
        delete s;
        if (retired.fetch_sub(1, std::memory_order_acq_rel) == 1) c->Unref();
        return;
      }
      if constexpr (requires(T & v) { v.Release(); }) {
        s->value.Release();
      } else {
        s->value = T{};
      }
      s->group.store(nullptr, std::memory_order_relaxed);
      s->seq.store(0, std::memory_order_relaxed);
      s->state.store(kFree, std::memory_order_relaxed);
      Shard& sh = c->shards[s->shard];
      uint64_t head = sh.free_head.load(std::memory_order_relaxed);
      for (;;) {
        s->free_next.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
        const uint64_t next = ((head >> 32) + 1) << 32 | (s->index + 1);
        if (sh.free_head.compare_exchange_weak(head, next, std::memory_order_acq_rel)) break;
      }
      if (sh.retired.fetch_sub(1, std::memory_order_acq_rel) == 1) c->Unref();
    }
    // A shard holds one reference while any of its slots waits in Epochs (counted on its own
    // line, not on the core's: one shared counter per message slowed 2 + 2 threads by 6 %).
    // Only retires within an operation take it, and operations end before the owner lets go.
    void Retire(Slot* s) {
      if (shards[s->shard].retired.fetch_add(1, std::memory_order_acq_rel) == 0) {
        refs.fetch_add(1, std::memory_order_relaxed);
      }
      Epochs::Retire(s, &Free);
    }
    void Gone(Slot* s) {
      if (s->life.fetch_or(kGoneBit, std::memory_order_acq_rel) & kPassedBit) Retire(s);
    }
    void Passed(Slot* s) {
      if (s->life.fetch_or(kPassedBit, std::memory_order_acq_rel) & kGoneBit) Retire(s);
    }
    // Recovery: builds the slots up to `end` (exclusive), free, as handed out in order.
    void BuildUpTo(uint32_t shard, uint32_t end) {
      Shard& sh = shards[shard];
      for (uint32_t i = sh.next_index.load(std::memory_order_relaxed); i < end; ++i) {
        Build(At(shard, i, true), shard, i);
      }
      if (sh.next_index.load(std::memory_order_relaxed) < end) {
        sh.next_index.store(end, std::memory_order_relaxed);
      }
    }
    // Pushes the slots linked first .. last (by free_next) on the shard's free stack, one CAS.
    void PushChain(uint32_t shard, uint32_t first, uint32_t last) {
      Shard& sh = shards[shard];
      Slot* tail = At(shard, last, false);
      uint64_t head = sh.free_head.load(std::memory_order_relaxed);
      for (;;) {
        tail->free_next.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
        const uint64_t next = ((head >> 32) + 1) << 32 | (first + 1);
        if (sh.free_head.compare_exchange_weak(head, next, std::memory_order_acq_rel)) return;
      }
    }

    // ---- giving memory back (GiveBackIfDrained)
    // A drained group keeps its last message's slot as its anchor, and so would keep the slab:
    // the anchor moves onto a relay, a removed message of its own on the heap linked after it,
    // so that the old anchor is passed (and freed) as any other. Only when nothing follows the
    // anchor; a send that links a message first puts the relay behind it, where receives pass
    // over it as over any removed message.
    void Relay(Group& g) {
      const State* st = g.state.load(std::memory_order_seq_cst);
      Slot* x = st->last;
      if (st->count != 0 || x == &g.anchor || x->index == kRelay) return;
      if (x->next.load(std::memory_order_seq_cst) != nullptr) return;
      auto* r = new Slot;
      r->index = kRelay;
      r->shard = g.shard;
      r->core = this;
      InitEmpty(r);
      r->group.store(&g, std::memory_order_relaxed);
      r->state.store(kRemoved, std::memory_order_relaxed);
      r->life.store(kGoneBit, std::memory_order_relaxed);  // freed once passed
      (void)Link(&g, r);
      if (x->next.load(std::memory_order_seq_cst) != r) return;
      // Install's work, by hand: nothing taken on either side, and g++ 12 (with sanitizers)
      // takes Install's Release of a lost `next` for a free of the relay.
      const State* seen = st;
      if (!g.state.compare_exchange_strong(seen, Empty(r), std::memory_order_seq_cst)) return;
      if (st->capacity != 0) Epochs::Retire(const_cast<State*>(st), &FreeState);
      PassFrom(x, r);
    }
    // The shard's free stack is taken whole, with one CAS: from then on its slots are this
    // thread's (a sender finds the stack empty and takes a new slot; a stale receipt reads only
    // a slot's seq, and a free slot's matches none). If the chain holds every slot the shard
    // has handed out, no one else holds any, so their values are destroyed and their pages go.
    // next_index drops to 0 with a CAS, after the pages are gone: a sender that took a new slot
    // meanwhile makes it fail, and the old slots are built again and go back to the stack.
    bool GiveBack(uint32_t shard) {
      Shard& sh = shards[shard];
      if (sh.retired.load(std::memory_order_acquire) != 0) return false;
      uint64_t taken = sh.free_head.load(std::memory_order_relaxed);
      while (!sh.free_head.compare_exchange_weak(
          taken, ((taken >> 32) + 1) << 32, std::memory_order_acquire, std::memory_order_relaxed)) {
      }
      const uint32_t used = sh.next_index.load(std::memory_order_acquire);
      uint32_t count = 0, last = 0;
      for (uint32_t link = static_cast<uint32_t>(taken); link != 0; ++count) {
        last = link - 1;
        link = At(shard, last, false)->free_next.load(std::memory_order_relaxed);
      }
      if (count != used || used == 0) {
        if (count > 0) PushChain(shard, static_cast<uint32_t>(taken) - 1, last);
        return false;
      }
      for (uint32_t i = 0; i < used; ++i) At(shard, i, false)->value.~T();
      DiscardSlabPages(sh.segments, 64, used);
      AtProgressPoint(ProgressPoint::kGiveBack);
      uint32_t expected = used;
      if (sh.next_index.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) {
        return true;
      }
      for (uint32_t i = 0; i < used; ++i) {  // in use again: all back, built, in one chain
        Slot* s = At(shard, i, false);
        Build(s, shard, i);
        s->free_next.store(i + 1 < used ? i + 2 : 0, std::memory_order_relaxed);
      }
      PushChain(shard, 0, used - 1);
      return false;
    }

    // The slot a receipt names while it holds that message, or null.
    Slot* Find(const FifoReceipt& r) {
      if (r.shard >= kShards) return nullptr;
      Slot* s = At(r.shard, r.slot, false);
      if (s == nullptr || s->seq.load(std::memory_order_acquire) != r.seq) return nullptr;
      return s;
    }

    // ---- groups
    Group* FindOrAddGroup(uint32_t shard, std::string_view id) {
      Shard& sh = shards[shard];
      std::atomic<Group*>* b = sh.buckets.load(std::memory_order_acquire);
      if (b == nullptr) {
        auto* fresh = new std::atomic<Group*>[kBuckets];
        for (uint32_t i = 0; i < kBuckets; ++i) fresh[i].store(nullptr, std::memory_order_relaxed);
        if (sh.buckets.compare_exchange_strong(b, fresh, std::memory_order_acq_rel)) {
          b = fresh;
        } else {
          delete[] fresh;
        }
      }
      std::atomic<Group*>& bucket =
          b[absl::Hash<absl::string_view>{}(absl::string_view(id.data(), id.size())) % kBuckets];
      Group* head = bucket.load(std::memory_order_acquire);
      for (Group* g = head; g != nullptr; g = g->chain) {
        if (g->id == id) return g;
      }
      auto* fresh = new Group;
      fresh->id = std::string(id);
      fresh->shard = shard;
      fresh->anchor.life.store(kPassedBit, std::memory_order_relaxed);  // never gone
      fresh->tail.store(&fresh->anchor, std::memory_order_relaxed);
      InitEmpty(&fresh->anchor);
      const State* st = Empty(&fresh->anchor);
      fresh->state.store(st, std::memory_order_relaxed);
      for (;;) {
        fresh->chain = head;
        Group* seen = head;
        if (bucket.compare_exchange_strong(head, fresh, std::memory_order_acq_rel)) return fresh;
        for (Group* g = head; g != seen; g = g->chain) {  // added meanwhile
          if (g->id == id) {
            delete fresh;
            return g;
          }
        }
      }
    }
    template <typename Fn>
    void ForEachGroup(Fn&& fn) {
      for (Shard& sh : shards) {
        std::atomic<Group*>* b = sh.buckets.load(std::memory_order_acquire);
        if (b == nullptr) continue;
        for (uint32_t i = 0; i < kBuckets; ++i) {
          for (Group* g = b[i].load(std::memory_order_acquire); g != nullptr; g = g->chain) fn(*g);
        }
      }
    }
    void MakeEligible(Group* g) {
      if (g->in_ring.load(std::memory_order_seq_cst)) return;
      if (g->in_ring.exchange(true, std::memory_order_seq_cst)) return;
      ready.Push(reinterpret_cast<uint64_t>(g));
    }

    // Links `s` last in `g` (Michael and Scott's queue: a lagging tail is helped on), with a
    // sequence number greater than every one before it in the group. Returns it.
    uint64_t Link(Group* g, Slot* s) {
      uint64_t seq = next_seq.fetch_add(1, std::memory_order_seq_cst);
      s->seq.store(seq, std::memory_order_release);
      for (;;) {
        Slot* t = g->tail.load(std::memory_order_seq_cst);
        Slot* next = t->next.load(std::memory_order_seq_cst);
        if (next != nullptr) {
          g->tail.compare_exchange_strong(t, next, std::memory_order_seq_cst);
          continue;
        }
        if (t->seq.load(std::memory_order_relaxed) > seq) {  // a later number got in first
          seq = next_seq.fetch_add(1, std::memory_order_seq_cst);
          s->seq.store(seq, std::memory_order_release);
          continue;
        }
        if (t->next.compare_exchange_strong(next, s, std::memory_order_seq_cst)) {
          g->tail.compare_exchange_strong(t, s, std::memory_order_seq_cst);
          return seq;
        }
      }
    }

    // ---- snapshots
    static size_t SizeFor(uint32_t count) { return sizeof(State) + count * sizeof(Entry); }
    static State* Make(const Slot* last, uint32_t count) {
      State* st;
      if (count <= kCachedEntries) {
        st = static_cast<State*>(StateCache::Take());
        st->capacity = kCachedEntries;
      } else {
        st = static_cast<State*>(::malloc(SizeFor(count)));
        if (st == nullptr) throw std::bad_alloc();
        st->capacity = count;
      }
      st->last = const_cast<Slot*>(last);
      st->count = count;
      return st;
    }
    static void InitEmpty(Slot* s) {
      auto* st = reinterpret_cast<State*>(s->empty_state);
      st->last = s;
      st->count = 0;
      st->capacity = 0;
    }
    // The state with no entries and `last` as its anchor.
    static const State* Empty(const Slot* last) {
      return reinterpret_cast<const State*>(last->empty_state);
    }
    static void Release(const State* st) {
      if (st->capacity == 0) return;  // a slot's own
      if (st->capacity == kCachedEntries) {
        StateCache::Give(const_cast<State*>(st));
      } else {
        ::free(const_cast<State*>(st));
      }
    }
    State* Copy(const State* st) {
      State* next = Make(st->last, st->count);
      std::memcpy(next->entries, st->entries, st->count * sizeof(Entry));
      return next;
    }
    // `st` with its anchor moved to `last`.
    const State* Moved(const State* st, const Slot* last) {
      if (st->count == 0) return Empty(last);
      State* next = Make(last, st->count);
      std::memcpy(next->entries, st->entries, st->count * sizeof(Entry));
      return next;
    }
    const State* Without(const State* st, uint32_t at) {
      if (st->count == 1) return Empty(st->last);
      State* next = Make(st->last, st->count - 1);
      std::memcpy(next->entries, st->entries, at * sizeof(Entry));
      std::memcpy(next->entries + at, st->entries + at + 1, (st->count - at - 1) * sizeof(Entry));
      return next;
    }
    static int64_t Taken(const State* st) {
      int64_t n = 0;
      for (uint32_t i = 0; i < st->count; ++i) n += st->entries[i].deadline_ns != INT64_MIN;
      return n;
    }
    static void FreeState(void* p) { Release(static_cast<State*>(p)); }
    // Installs `next` in place of `st`; false (and `next` freed) if another change came first.
    bool Install(Group& g, const State* st, const State* next) {
      if (!g.state.compare_exchange_strong(st, next, std::memory_order_seq_cst)) {
        Release(next);
        return false;
      }
      if (const int64_t d = Taken(next) - Taken(st); d != 0) {
        shards[g.shard].in_flight.fetch_add(d, std::memory_order_relaxed);
      }
      if (st->capacity != 0) Epochs::Retire(const_cast<State*>(st), &FreeState);
      return true;
    }
    // Marks the anchor's moves from `from` to `to` (exclusive) passed.
    void PassFrom(Slot* from, const Slot* to) {
      while (from != to) {
        Slot* next = from->next.load(std::memory_order_seq_cst);
        Passed(from);
        from = next;
      }
    }

    // The entry of a receipt's receive, if current at now_ns (kOk), else why not.
    FifoOutcome FindReceive(const FifoReceipt& r, int64_t now_ns, Group** g, Slot** s,
                            const State** st, const Entry** e) {
      *s = Find(r);
      if (*s == nullptr) return FifoOutcome::kGone;
      *g = (*s)->group.load(std::memory_order_acquire);
      if (*g == nullptr) return FifoOutcome::kGone;
      *st = (*g)->state.load(std::memory_order_seq_cst);
      for (uint32_t i = 0; i < (*st)->count; ++i) {
        const Entry& x = (*st)->entries[i];
        if (x.slot != *s || x.seq != r.seq) continue;
        *e = &x;
        return x.receives == r.receive && x.deadline_ns > now_ns ? FifoOutcome::kOk
                                                                 : FifoOutcome::kExpired;
      }
      // Not taken: queued still (its receive is over), or gone.
      const uint32_t state = (*s)->state.load(std::memory_order_seq_cst);
      const bool stored = (*s)->seq.load(std::memory_order_acquire) == r.seq &&
                          (state == kQueued || state == kTaken) &&
                          ((*s)->life.load(std::memory_order_seq_cst) & kGoneBit) == 0;
      return stored ? FifoOutcome::kExpired : FifoOutcome::kGone;
    }

    FifoOutcome Delete(const FifoReceipt& r, int64_t now_ns) {
      for (;;) {
        Group* g = nullptr;
        Slot* s = nullptr;
        const State* st = nullptr;
        const Entry* e = nullptr;
        const FifoOutcome found = FindReceive(r, now_ns, &g, &s, &st, &e);
        if (found != FifoOutcome::kOk) return found;
        const bool first = e == st->entries;
        const State* next = Without(st, static_cast<uint32_t>(e - st->entries));
        if (!Install(*g, st, next)) continue;
        AtProgressPoint(ProgressPoint::kDelete);
        Removed(s);
        // Its group may have something to give now. A send that links a message after the
        // look below sees the new state, and puts the group in the ring itself.
        if (first && Receivable(next, now_ns)) MakeEligible(g);
        return FifoOutcome::kOk;
      }
    }

    // Whether `st` starts with a message a receive could take (a put-back or lapsed entry, or
    // one after the anchor); a message in flight first has its timer.
    static bool Receivable(const State* st, int64_t now_ns) {
      if (st->count > 0) return st->entries[0].deadline_ns <= now_ns;
      return st->last->next.load(std::memory_order_seq_cst) != nullptr;
    }

    // Takes up to `want` messages of `g` for a receive; adds them to `taken`. Returns whether
    // the group should be served again later (it holds something this receive left).
    template <typename Visitor>
    bool Take(Group& g, Batch& b, int want, Visitor& visitor, int& taken) {
      constexpr uint32_t kMax = 16;
      for (;;) {
        const State* st = g.state.load(std::memory_order_seq_cst);
        // The candidates: put-back and lapsed entries up to the first in flight, then the
        // queued messages after the anchor.
        uint32_t n_entries = 0;
        bool again = false;
        while (n_entries < st->count && static_cast<int>(n_entries) < want &&
               st->entries[n_entries].deadline_ns <= b.now_ns) {
          const Entry& e = st->entries[n_entries];
          if (Delayed(e.receives, e.slot->enqueued, b.available_by)) {
            again = true;
            break;
          }
          ++n_entries;
        }
        if (n_entries == 0 && st->count > 0 && st->entries[0].deadline_ns > b.now_ns) {
          AddTimer(&g, st->entries[0].deadline_ns);  // blocked until it resolves or lapses
          return false;
        }
        const bool blocked = n_entries < st->count;
        std::array<Slot*, kMax> fresh;
        uint32_t n_fresh = 0;
        Slot* last = st->last;
        if (!blocked) {
          for (Slot* s = last->next.load(std::memory_order_seq_cst);
               s != nullptr && static_cast<int>(n_entries + n_fresh) < want && n_fresh < kMax;
               s = s->next.load(std::memory_order_seq_cst)) {
            const uint32_t state = s->state.load(std::memory_order_seq_cst);
            if (state == kRemoved) {  // passed over
              last = s;
              continue;
            }
            // Pending (or doomed by a purge): its sender decides, and until then it holds the
            // group's tail, which must not be passed.
            if (state != kQueued) break;
            if (Delayed(s->receives0, s->enqueued, b.available_by) ||
                static_cast<int64_t>(n_fresh) >= b.room) {
              again = true;
              break;
            }
            fresh[n_fresh++] = s;
            last = s;
          }
        }
        if (n_entries == 0 && n_fresh == 0) {
          if (last != st->last) {  // only removed ones: move the anchor past them
            if (Install(g, st, Moved(st, last))) PassFrom(st->last, last);
            continue;
          }
          return again;
        }
        // The new snapshot: the candidates in flight, the rest as they were.
        State* next = Make(last, st->count + n_fresh);
        for (uint32_t i = 0; i < st->count; ++i) {
          Entry e = st->entries[i];
          if (i < n_entries) {
            e.receives = e.receives + 1;
            if (e.first_received_ns == INT64_MIN) e.first_received_ns = b.now_ns;
            e.received_ns = b.now_ns;
            e.deadline_ns = b.deadline_ns;
          }
          next->entries[i] = e;
        }
        for (uint32_t i = 0; i < n_fresh; ++i) {
          Slot* s = fresh[i];
          next->entries[st->count + i] = Entry{s,
                                               s->seq.load(std::memory_order_relaxed),
                                               s->receives0 + 1,
                                               s->first_received0 == absl::InfinitePast()
                                                   ? b.now_ns
                                                   : absl::ToUnixNanos(s->first_received0),
                                               b.now_ns,
                                               b.deadline_ns};
        }
        // The fresh ones follow the old entries in sequence order only if no entry is left
        // between: with a blocked entry there are no fresh ones.
        if (!Install(g, st, next)) continue;
        AtProgressPoint(ProgressPoint::kReceive);
        const State* mine = next;
        // A message removed between the look and the install is given up (not delivered).
        uint32_t lost = 0;
        for (uint32_t i = 0; i < n_fresh; ++i) {
          uint32_t queued = kQueued;
          if (!fresh[i]->state.compare_exchange_strong(queued, kTaken, std::memory_order_seq_cst)) {
            ++lost;
          }
        }
        if (lost > 0) mine = DropRemoved(g);
        PassFrom(st->last, last);
        if (b.deadline_ns > b.now_ns) {
          AddTimer(&g, b.deadline_ns);
        } else {
          again = true;  // a zero visibility timeout: receivable again at once
        }
        // Show each to the visitor, in order; it may remove one or leave the rest.
        const auto taken_before = taken;
        bool skip = false;
        int removed = 0;
        for (uint32_t i = 0; i < n_entries + n_fresh; ++i) {
          Slot* s = i < n_entries ? st->entries[i].slot : fresh[i - n_entries];
          const Entry* e = EntryOf(mine, s);
          if (e == nullptr) continue;  // removed meanwhile
          if (skip) {
            PutBack(g, s, st, i < n_entries ? &st->entries[i] : nullptr);
            continue;
          }
          // Checked as it was before this receive, taken as it is after.
          Node before = View(*s, i < n_entries ? &st->entries[i] : nullptr);
          const FifoVerdict verdict = visitor.Check(before);
          Node view = Received(before, *e, b);
          if (verdict == FifoVerdict::kSkipGroup) {
            skip = true;
            again = true;
            PutBack(g, s, st, i < n_entries ? &st->entries[i] : nullptr);
            continue;
          }
          if (verdict == FifoVerdict::kRemove) {
            if (RemoveEntry(g, s)) {
              ++removed;
              if (listener != nullptr) [[unlikely]]
                listener->Removed(g.shard, View(*s, nullptr));
            }
            continue;
          }
          if (listener != nullptr) [[unlikely]]
            listener->Received(g.shard, view);
          ++taken;
          visitor.Taken(view,
                        FifoReceipt{g.shard, s->index, view.seq, view.receives, b.deadline_ms});
        }
        b.room -= taken - taken_before;
        // After a removal (kRemove) the next messages are looked at, as the removed one's.
        if (removed > 0 && !skip && taken - taken_before < want) {
          want -= taken - taken_before;
          continue;
        }
        return again;
      }
    }
    static const Entry* EntryOf(const State* st, const Slot* s) {
      for (uint32_t i = 0; i < st->count; ++i) {
        if (st->entries[i].slot == s) return &st->entries[i];
      }
      return nullptr;
    }
    // Drops the entries of messages removed after a receive took them; returns the state.
    const State* DropRemoved(Group& g) {
      for (;;) {
        const State* st = g.state.load(std::memory_order_seq_cst);
        State* next = Make(st->last, st->count);
        uint32_t n = 0;
        for (uint32_t i = 0; i < st->count; ++i) {
          const uint32_t state = st->entries[i].slot->state.load(std::memory_order_seq_cst);
          if (state != kRemoved) next->entries[n++] = st->entries[i];
        }
        next->count = n;
        if (n == st->count) {
          Release(next);
          return st;
        }
        const State* installed = n > 0 ? next : Empty(st->last);
        if (n == 0) Release(next);
        if (Install(g, st, installed)) return installed;
      }
    }
    // A receive's Check left `s`: back as it was before this receive took it (`before`: its
    // entry then, or null if it was not taken yet: it is an entry never received now).
    void PutBack(Group& g, Slot* s, const State*, const Entry* before) {
      for (;;) {
        const State* st = g.state.load(std::memory_order_seq_cst);
        const Entry* e = EntryOf(st, s);
        if (e == nullptr) return;
        State* next = Copy(st);
        Entry& x = next->entries[e - st->entries];
        if (before != nullptr) {
          x = *before;
        } else {
          x.receives = s->receives0;
          x.first_received_ns = s->first_received0 == absl::InfinitePast()
                                    ? INT64_MIN
                                    : absl::ToUnixNanos(s->first_received0);
          x.received_ns = INT64_MIN;
          x.deadline_ns = INT64_MIN;
        }
        if (Install(g, st, next)) return;
      }
    }
    // Removes the entry of `s`; false if it had none.
    bool RemoveEntry(Group& g, Slot* s) {
      for (;;) {
        const State* st = g.state.load(std::memory_order_seq_cst);
        const Entry* e = EntryOf(st, s);
        if (e == nullptr) return false;
        if (!Install(g, st, Without(st, static_cast<uint32_t>(e - st->entries)))) continue;
        shards[g.shard].removals.fetch_add(1, std::memory_order_relaxed);
        Gone(s);
        return true;
      }
    }

    // Removes from `g` what pred(Node) selects; with `purge`, also dooms the pending messages
    // linked before it. Returns how many.
    template <typename Pred>
    size_t RemoveFrom(Group& g, Pred&& pred, uint64_t purge = 0) {
      size_t removed = 0;
      for (;;) {
        const State* st = g.state.load(std::memory_order_seq_cst);
        State* next = Make(st->last, st->count);
        uint32_t n = 0;
        std::vector<Slot*> out;
        for (uint32_t i = 0; i < st->count; ++i) {
          const Entry& e = st->entries[i];
          if (pred(static_cast<const Node&>(View(*e.slot, &e)))) {
            out.push_back(e.slot);
          } else {
            next->entries[n++] = e;
          }
        }
        next->count = n;
        if (out.empty()) {
          Release(next);
        } else if (!Install(g, st, next)) {
          continue;
        } else {
          for (Slot* s : out) Removed(s);
          removed += out.size();
        }
        bool retry = false;
        for (Slot* s = st->last->next.load(std::memory_order_seq_cst); s != nullptr;
             s = s->next.load(std::memory_order_seq_cst)) {
          uint32_t state = s->state.load(std::memory_order_seq_cst);
          if (state == kPending && purge != 0 && s->purge < purge) {
            if (s->state.compare_exchange_strong(state, kDoomed, std::memory_order_seq_cst)) {
              continue;
            }
          }
          if (state == kTaken) {  // taken since st: an entry now
            retry = true;
            break;
          }
          if (state != kQueued || !pred(static_cast<const Node&>(View(*s, nullptr)))) continue;
          if (!s->state.compare_exchange_strong(state, kRemoved, std::memory_order_seq_cst)) {
            retry = true;
            break;
          }
          Removed(s);
          ++removed;
        }
        if (!retry) return removed;
      }
    }
    // A message removed from its group: recorded, counted in its slot's shard, its slot freed.
    void Removed(Slot* s) {
      if (listener != nullptr) [[unlikely]]
        listener->Removed(s->shard, View(*s, nullptr));
      shards[s->shard].removals.fetch_add(1, std::memory_order_relaxed);
      Gone(s);
    }

    // ---- timers
    static void Lower(std::atomic<int64_t>& at, int64_t t) {
      int64_t seen = at.load(std::memory_order_seq_cst);
      while (t < seen && !at.compare_exchange_weak(seen, t, std::memory_order_seq_cst)) {
      }
    }
    // A timer for `g` at `at`, unless it has an earlier one (one per group at a time: a group
    // found still blocked when it fires sets the next).
    void AddTimer(Group* g, int64_t at) {
      int64_t seen = g->timer_at.load(std::memory_order_seq_cst);
      do {
        if (seen <= at) return;
      } while (!g->timer_at.compare_exchange_weak(seen, at, std::memory_order_seq_cst));
      auto* t = new Timer{g, at, timer_inbox.load(std::memory_order_relaxed)};
      while (!timer_inbox.compare_exchange_weak(t->next, t, std::memory_order_seq_cst)) {
      }
      Lower(timers_at, at);
    }
    // Puts the groups of the timers due at now_ns in the ring, unless another thread holds the
    // timer role (then it does). Timers are pushed before they lower `timers_at`.
    void FireTimers(int64_t now_ns) {
      static constexpr auto kLater = [](const Timer* a, const Timer* b) { return a->at > b->at; };
      while (timers_at.load(std::memory_order_seq_cst) <= now_ns) {
        if (timer_role.exchange(true, std::memory_order_acquire)) return;
        for (Timer* t = timer_inbox.exchange(nullptr, std::memory_order_seq_cst); t != nullptr;) {
          Timer* next = t->next;
          timer_heap.push_back(t);
          std::push_heap(timer_heap.begin(), timer_heap.end(), kLater);
          t = next;
        }
        while (!timer_heap.empty() && timer_heap.front()->at <= now_ns) {
          std::pop_heap(timer_heap.begin(), timer_heap.end(), kLater);
          Timer* t = timer_heap.back();
          timer_heap.pop_back();
          int64_t at = t->at;
          t->group->timer_at.compare_exchange_strong(at, INT64_MAX, std::memory_order_seq_cst);
          MakeEligible(t->group);
          delete t;
        }
        timers_at.store(timer_heap.empty() ? INT64_MAX : timer_heap.front()->at,
                        std::memory_order_seq_cst);
        // A timer pushed meanwhile may have lowered it before that store: lower it again.
        for (Timer* t = timer_inbox.load(std::memory_order_seq_cst); t != nullptr; t = t->next) {
          Lower(timers_at, t->at);
        }
        timer_role.store(false, std::memory_order_seq_cst);
      }
    }

    void FinishRestore(uint64_t next) {
      // The free slots: every one below each shard's highest that holds nothing.
      for (uint32_t shard = 0; shard < kShards; ++shard) {
        Shard& sh = shards[shard];
        uint32_t end = 0;
        for (const Restored& r : restored) {
          if (r.slot->shard == shard) end = std::max(end, r.slot->index + 1);
        }
        if (sh.next_index.load(std::memory_order_relaxed) < end) {
          sh.next_index.store(end, std::memory_order_relaxed);
        }
        for (uint32_t i = sh.next_index.load(std::memory_order_relaxed); i-- > 0;) {
          Slot* s = At(shard, i, true);
          if (s->state.load(std::memory_order_relaxed) != kFree) continue;
          s->life.store(0, std::memory_order_relaxed);
          const uint64_t head = sh.free_head.load(std::memory_order_relaxed);
          s->free_next.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
          sh.free_head.store(((head >> 32) + 1) << 32 | (i + 1), std::memory_order_relaxed);
        }
      }
      // Each group's entries: every message up to its last in flight (those before it put
      // back, with their history).
      std::vector<const Restored*> order;
      for (const Restored& r : restored) order.push_back(&r);
      std::vector<std::pair<uint64_t, Group*>> ready_order;
      auto group_of = [](const Restored* r) {
        return r->slot->group.load(std::memory_order_relaxed);
      };
      std::sort(order.begin(), order.end(), [&](const Restored* a, const Restored* b) {
        if (group_of(a) != group_of(b)) return std::less<Group*>{}(group_of(a), group_of(b));
        return a->slot->seq.load(std::memory_order_relaxed) <
               b->slot->seq.load(std::memory_order_relaxed);
      });
      ForEachGroup([&](Group& g) {
        std::vector<Entry> entries;
        Slot* last = &g.anchor;
        std::vector<Entry> pending;
        auto begin = std::lower_bound(
            order.begin(), order.end(), &g,
            [&](const Restored* r, Group* x) { return std::less<Group*>{}(group_of(r), x); });
        for (auto it = begin; it != order.end() && group_of(*it) == &g; ++it) {
          const Restored* r = *it;
          pending.push_back(Entry{r->slot, r->slot->seq.load(std::memory_order_relaxed),
                                  r->receives, r->first_received_ns, r->received_ns,
                                  r->deadline_ns});
          if (r->deadline_ns != INT64_MIN) {
            entries.insert(entries.end(), pending.begin(), pending.end());
            pending.clear();
            last = r->slot;
          }
        }
        if (entries.empty()) {
          if (Slot* head = FirstQueued(last)) ready_order.emplace_back(head->seq.load(), &g);
          return;
        }
        const State* st = g.state.load(std::memory_order_relaxed);
        State* next = Make(last, static_cast<uint32_t>(entries.size()));
        std::memcpy(next->entries, entries.data(), entries.size() * sizeof(Entry));
        for (Entry& e : std::span(next->entries, next->count)) {
          e.slot->state.store(kTaken, std::memory_order_relaxed);
          if (e.deadline_ns != INT64_MIN) AddTimer(&g, e.deadline_ns);
        }
        g.state.store(next, std::memory_order_relaxed);
        shards[g.shard].in_flight.fetch_add(Taken(next), std::memory_order_relaxed);
        Release(st);
        PassFrom(&g.anchor, last);
        ready_order.emplace_back(next->entries[0].seq, &g);
      });
      // In the order of their oldest messages, as the groups' first sends would have put them.
      std::sort(ready_order.begin(), ready_order.end());
      for (const auto& [seq, g] : ready_order) MakeEligible(g);
      restored.clear();
      if (next_seq.load(std::memory_order_relaxed) < next) {
        next_seq.store(next, std::memory_order_relaxed);
      }
    }
  };

  Core* core_;
};

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_FIFO_GROUPS_H_
