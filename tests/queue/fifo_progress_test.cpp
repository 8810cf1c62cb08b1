// Progress of the FIFO queue's core, as queue_progress_test.cpp checks the standard queue's: a
// thread parked in the middle of SendMessage (in its group, or in the deduplication window),
// ReceiveMessage, DeleteMessage or ChangeMessageVisibility (at the hook of
// src/queue/progress_hook.h) must not stop three other
// threads from completing thousands of operations of every kind, on messages of groups spread
// over every shard of the former core, some shared by all the workers. A core where one
// operation waits for another (a lock the parked thread holds) cannot pass: the watchdog (real
// time, generous, asserting nothing about speed) ends the wait and fails the test.
//
// After the release every invariant must hold: each message sent was deleted once or is still
// in the queue (drained at the end); none was delivered twice while its visibility timeout ran
// (the manual clock stands still until the drain, and visibility changes only lengthen
// timeouts); a duplicate send returned its original's MessageId and was not delivered; FIFO
// order within a group (each receive's messages of a group are the group's next ones in
// sequence order: what the workers received of a shared group is a prefix of its messages in
// sequence order, each receive's part of it one run, and the drain gives the rest in order);
// and the counts are exact.
#include <absl/time/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"
#include "queue/message_accounting.h"
#include "queue/progress_parking.h"

namespace courier {
namespace {

using queue_internal::ProgressPoint;
using testing::Counts;
using testing::DoneLatch;
using testing::NameOf;
using testing::ParkingHook;
using testing::Repeated;

constexpr auto kWatchdog = std::chrono::seconds(60);
constexpr int kPrefillGroups = 1024;  // two messages each, spread over every shard
constexpr int kSharedGroups = 64;     // the workers' sends, all workers' alike
constexpr int kWorkers = 3;
constexpr int kIterations = 1000;  // per worker: a send, a receive and what follows them

enum class Step { kIdle, kSend, kReceive, kDelete, kDeleteBatch, kChangeVisibility, kAttributes };
constexpr int kSteps = 7;
const char* NameOf(Step s) {
  switch (s) {
    case Step::kIdle:
      return "nothing (done)";
    case Step::kSend:
      return "SendMessage";
    case Step::kReceive:
      return "ReceiveMessage";
    case Step::kDelete:
      return "DeleteMessage";
    case Step::kDeleteBatch:
      return "DeleteMessageBatch";
    case Step::kChangeVisibility:
      return "ChangeMessageVisibility";
    case Step::kAttributes:
      return "GetQueueAttributes";
  }
  return "?";
}

struct Sent {
  std::string body, group, seq, id;  // seq: the 20-digit SequenceNumber (ordered as text)
};
// One message of one receive: receives are numbered (thread, index) by their receiver.
struct Got {
  std::string body;
  int thread = 0;
  int receive = 0;
};
// What one thread did, merged by the test once the thread is joined (Catch2's assertions are
// for the main thread only).
struct Record {
  std::vector<Sent> sent;
  std::vector<Got> received;
  std::vector<std::string> deleted, errors;
  std::array<int, kSteps> ops{};
  void Error(const std::string& what, const absl::Status& st) {
    errors.push_back(what + ": " + st.ToString());
  }
};

struct Held {
  std::string body;
  ReceiptHandle handle;
};

void Send(FifoQueue& q, std::string body, std::string group, Record& r) {
  auto sent =
      q.SendMessage({.body = body, .message_group_id = group, .message_deduplication_id = body});
  if (!sent.ok()) return r.Error("SendMessage", sent.status());
  r.sent.push_back({std::move(body), std::move(group), std::string(sent->sequence_number.view()),
                    std::string(sent->message_id.view())});
}

// Receives up to `max`, numbering the receive for the order check.
std::vector<Message> Receive(FifoQueue& q, int max, int thread, int& receives, Record& r) {
  auto got = q.ReceiveMessage({.max_number_of_messages = max});
  if (!got.ok()) {
    r.Error("ReceiveMessage", got.status());
    return {};
  }
  const int n = receives++;
  for (const Message& m : *got) r.received.push_back({m.body, thread, n});
  return *std::move(got);
}

void FlushBatch(FifoQueue& q, std::vector<Held>& batch, Record& r) {
  if (batch.empty()) return;
  std::vector<HandleBatchEntry> entries;
  for (size_t i = 0; i < batch.size(); ++i) {
    entries.push_back({.id = std::to_string(i), .receipt_handle = batch[i].handle});
  }
  auto result = q.DeleteMessageBatch(entries);
  if (!result.ok()) {
    r.Error("DeleteMessageBatch", result.status());
  } else if (!result->failed.empty() || result->successful.size() != batch.size()) {
    r.errors.push_back("DeleteMessageBatch: " + std::to_string(result->failed.size()) +
                       " entries failed");
  } else {
    for (const Held& h : batch) r.deleted.push_back(h.body);
  }
  batch.clear();
}

// One worker of the parked phase: rounds of a send to a shared group (now and then sent twice:
// the duplicate must return the original's MessageId), a receive of up to 10, deletes (single
// and batched, some after a longer visibility) of what it received, and a visibility change
// and a delete of one message of `pool`, received before the phase from every shard.
void Work(FifoQueue& q, int w, std::vector<Held> pool, Record& r, std::atomic<Step>& step) {
  auto begin = [&](Step s) {
    step = s;
    ++r.ops[static_cast<int>(s)];
  };
  std::vector<Held> batch;
  auto flush = [&] {
    if (batch.empty()) return;
    begin(Step::kDeleteBatch);
    FlushBatch(q, batch, r);
  };
  size_t next_pool = 0;
  int seen = 0, receives = 0;
  for (int i = 0; i < kIterations; ++i) {
    begin(Step::kSend);
    std::string body = "w" + std::to_string(w) + "-" + std::to_string(i);
    const std::string group = "s" + std::to_string((i * 3 + w) % kSharedGroups);
    Send(q, body, group, r);
    if (i % 8 == 0 && !r.sent.empty() && r.sent.back().body == body) {
      begin(Step::kSend);
      auto again = q.SendMessage(
          {.body = body, .message_group_id = group, .message_deduplication_id = body});
      if (!again.ok()) {
        r.Error("SendMessage (a duplicate)", again.status());
      } else if (again->message_id.view() != r.sent.back().id ||
                 again->sequence_number.view() != r.sent.back().seq) {
        r.errors.push_back("a duplicate of " + body + " did not return its original's ids");
      }
    }
    begin(Step::kReceive);
    for (Message& m : Receive(q, 10, w, receives, r)) {
      switch (seen++ % 3) {
        case 0:
          begin(Step::kDelete);
          if (absl::Status st = q.DeleteMessage(m.receipt_handle); st.ok()) {
            r.deleted.push_back(m.body);
          } else {
            r.Error("DeleteMessage", st);
          }
          break;
        case 1:
          batch.push_back({m.body, m.receipt_handle});
          break;
        case 2:
          begin(Step::kChangeVisibility);
          if (absl::Status st = q.ChangeMessageVisibility(m.receipt_handle, absl::Seconds(120));
              !st.ok()) {
            r.Error("ChangeMessageVisibility", st);
          }
          batch.push_back({m.body, m.receipt_handle});
          break;
      }
      if (batch.size() == 10) flush();
    }
    if (next_pool < pool.size()) {
      Held& h = pool[next_pool++];
      begin(Step::kChangeVisibility);
      if (absl::Status st = q.ChangeMessageVisibility(h.handle, absl::Seconds(600)); !st.ok()) {
        r.Error("ChangeMessageVisibility (of a message received before)", st);
      }
      if (i % 2 == 0) {
        begin(Step::kDelete);
        if (absl::Status st = q.DeleteMessage(h.handle); st.ok()) {
          r.deleted.push_back(h.body);
        } else {
          r.Error("DeleteMessage (of a message received before)", st);
        }
      } else {
        batch.push_back(std::move(h));
      }
    }
    flush();
    if (i % 10 == 0) {
      begin(Step::kAttributes);
      if (auto a = q.GetQueueAttributes({"ApproximateNumberOfMessages"}); !a.ok()) {
        r.Error("GetQueueAttributes", a.status());
      }
    }
  }
  step = Step::kIdle;
}

// The parked thread's operation: one of `point`'s kind (a receive first where it needs a
// message: the hook is armed for `point` only, so that passes).
void ParkedOperation(FifoQueue& q, ProgressPoint point, Record& r) {
  if (point == ProgressPoint::kSend || point == ProgressPoint::kDeduplicate) {
    return Send(q, "parked-send", "parked", r);
  }
  int receives = 0;
  const std::vector<Message> got =
      Receive(q, point == ProgressPoint::kReceive ? 10 : 1, /*thread=*/-1, receives, r);
  if (got.empty()) {
    r.errors.push_back("the parked thread's ReceiveMessage got nothing");
    return;
  }
  const Message& m = got.front();
  if (point == ProgressPoint::kDelete) {
    if (absl::Status st = q.DeleteMessage(m.receipt_handle); st.ok()) {
      r.deleted.push_back(m.body);
    } else {
      r.Error("parked DeleteMessage", st);
    }
  } else if (point == ProgressPoint::kChangeVisibility) {
    if (absl::Status st = q.ChangeMessageVisibility(m.receipt_handle, absl::Seconds(120));
        !st.ok()) {
      r.Error("parked ChangeMessageVisibility", st);
    }
  }
}

void CheckProgress(ProgressPoint point) {
  using std::chrono::steady_clock;
  const std::string op = NameOf(point);
  auto clock = std::make_shared<ManualClock>();
  Hub hub(Environment::Deterministic(clock));
  auto q = FifoQueue::Create(hub, "progress.fifo").value();  // visibility timeout 30 s

  // The records: the prefill's, the parked thread's, the workers'.
  std::vector<Record> records(2 + kWorkers);
  Record& prefill = records[0];
  Record& parked_record = records[1];

  // Two messages in each of many groups (over every shard); half of the groups received, for
  // the workers to change and delete later.
  std::vector<Held> held;
  for (int g = 0; g < kPrefillGroups; ++g) {
    for (int k = 0; k < 2; ++k) {
      Send(*q, "p" + std::to_string(g) + "-" + std::to_string(k), "p" + std::to_string(g), prefill);
    }
  }
  for (int receives = 0; held.size() < kPrefillGroups;) {
    std::vector<Message> got = Receive(*q, 10, /*thread=*/-2, receives, prefill);
    if (got.empty()) {
      FAIL_CHECK("the prefill's receive got nothing");
      break;
    }
    for (Message& m : got) held.push_back({m.body, m.receipt_handle});
  }
  std::vector<std::vector<Held>> pools(kWorkers);
  for (size_t k = 0; k < held.size(); ++k) pools[k % kWorkers].push_back(std::move(held[k]));

  ParkingHook hook;
  hook.Arm(point);
  std::atomic<bool> parked_returned{false};
  std::thread parked([&] {
    ParkedOperation(*q, point, parked_record);
    parked_returned = true;
  });
  if (!hook.WaitParked(steady_clock::now() + kWatchdog)) {
    FAIL_CHECK("no thread reached the progress point in " << op);
    hook.Release();
    parked.join();
    return;
  }

  // While it is parked, the workers' operations must all complete.
  const auto start = steady_clock::now();
  DoneLatch done(kWorkers);
  std::vector<std::atomic<Step>> steps(kWorkers);
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      Work(*q, w, std::move(pools[w]), records[2 + w], steps[w]);
      done.CountDown();
    });
  }
  const bool finished = done.WaitUntil(start + kWatchdog);
  const bool still_parked = !parked_returned;
  if (!finished) {
    std::string stuck;
    for (int w = 0; w < kWorkers; ++w) {
      stuck += " worker " + std::to_string(w) + " in " + NameOf(steps[w].load()) + ";";
    }
    const auto waited =
        std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - start);
    FAIL_CHECK("operations did not complete while a thread was parked in "
               << op << " (waited " << waited.count() << " s):" << stuck);
  }
  CHECK(still_parked);
  hook.Release();
  parked.join();
  for (auto& t : workers) t.join();

  std::vector<Sent> sent;
  std::vector<Got> received;  // in the parked phase (the prefill's too)
  std::vector<std::string> deleted, errors;
  std::array<int, kSteps> ops{};
  for (const Record& r : records) {
    for (int k = 0; k < kSteps; ++k) ops[k] += r.ops[k];
    sent.insert(sent.end(), r.sent.begin(), r.sent.end());
    received.insert(received.end(), r.received.begin(), r.received.end());
    deleted.insert(deleted.end(), r.deleted.begin(), r.deleted.end());
    errors.insert(errors.end(), r.errors.begin(), r.errors.end());
  }
  {
    std::string first;
    for (size_t i = 0; i < errors.size() && i < 10; ++i) first += "\n  " + errors[i];
    INFO(errors.size() << " operations failed:" << first);
    CHECK(errors.empty());
  }
  {
    std::string counted;
    for (int k = 1; k < kSteps; ++k) {
      counted += " " + std::string(NameOf(static_cast<Step>(k))) + " " + std::to_string(ops[k]);
    }
    INFO("operations:" << counted);
    for (Step k : {Step::kSend, Step::kReceive, Step::kDelete, Step::kDeleteBatch,
                   Step::kChangeVisibility}) {
      CHECK(ops[static_cast<int>(k)] >= 1000);
    }
  }
  std::map<std::string, const Sent*> by_body;
  for (const Sent& s : sent) by_body[s.body] = &s;
  REQUIRE(by_body.size() == sent.size());
  std::vector<std::string> received_bodies;
  for (const Got& g : received) received_bodies.push_back(g.body);
  const auto received_counts = Counts(received_bodies);
  {
    INFO("received more than once:" << Repeated(received_counts));
    CHECK(received_counts.size() == received.size());
  }
  for (const auto& [body, n] : received_counts) {
    if (!by_body.contains(body)) FAIL_CHECK("received but never sent: " << body);
  }
  {
    auto counts = q->GetQueueAttributes().value();
    const int64_t in_queue = std::stoll(counts["ApproximateNumberOfMessages"]) +
                             std::stoll(counts["ApproximateNumberOfMessagesNotVisible"]) +
                             std::stoll(counts["ApproximateNumberOfMessagesDelayed"]);
    CHECK(in_queue == static_cast<int64_t>(sent.size() - deleted.size()));
  }

  // FIFO order in the shared groups: what the workers received of each is a prefix of its
  // messages in sequence order, and each receive's part of it one run, in order.
  std::map<std::string, std::vector<std::string>> group_seqs;  // group -> its seqs, sorted
  for (const Sent& s : sent) group_seqs[s.group].push_back(s.seq);
  for (auto& [g, seqs] : group_seqs) std::sort(seqs.begin(), seqs.end());
  std::map<std::string, std::vector<const Got*>> group_got;  // in receive order per receiver
  for (const Got& g : received) group_got[by_body.at(g.body)->group].push_back(&g);
  int order_errors = 0;
  std::string first_order_error;
  auto order_error = [&](const std::string& what) {
    if (order_errors++ == 0) first_order_error = what;
  };
  for (auto& [group, gots] : group_got) {
    const std::vector<std::string>& seqs = group_seqs.at(group);
    std::map<std::string, const Got*> by_seq;
    for (const Got* g : gots) by_seq[by_body.at(g->body)->seq] = g;
    // A prefix of the group's messages.
    for (size_t k = 0; k < by_seq.size(); ++k) {
      if (!by_seq.contains(seqs[k])) {
        order_error(group + ": a message received before an earlier one of its group");
        break;
      }
    }
    // Each receive's messages of the group: one run in sequence order, returned in it.
    std::set<std::pair<int, int>> done_receives;
    std::pair<int, int> current{-9, -9};
    std::string last_in_receive;
    for (const auto& [seq, g] : by_seq) {
      const std::pair<int, int> id{g->thread, g->receive};
      if (id != current) {
        if (!done_receives.insert(id).second) {
          order_error(group + ": one receive's messages are not consecutive in the group");
        }
        current = id;
      }
    }
    std::map<std::pair<int, int>, std::string> last;
    for (const Got* g : gots) {
      const std::string& seq = by_body.at(g->body)->seq;
      std::string& prev = last[{g->thread, g->receive}];
      if (!prev.empty() && prev > seq)
        order_error(group + ": a receive returned them out of order");
      prev = seq;
    }
  }
  {
    INFO(order_errors << " order violations, the first: " << first_order_error);
    CHECK(order_errors == 0);
  }

  // Drain: every timeout has run out 13 hours later (12 is the cap); a group's messages come
  // in sequence order.
  clock->Advance(absl::Hours(13));
  std::vector<std::string> drained;
  std::map<std::string, std::string> last_drained;  // group -> seq
  for (size_t receives = 0;; ++receives) {
    if (receives > sent.size()) {
      FAIL_CHECK("the drain does not end");
      break;
    }
    auto got =
        q->ReceiveMessage({.max_number_of_messages = 10, .visibility_timeout = absl::Hours(1)});
    REQUIRE(got.ok());
    if (got->empty()) break;
    for (const Message& m : *got) {
      drained.push_back(m.body);
      const Sent* s = by_body.contains(m.body) ? by_body.at(m.body) : nullptr;
      if (s != nullptr) {
        std::string& last = last_drained[s->group];
        if (!last.empty() && last > s->seq) FAIL_CHECK("the drain broke the order of " << s->group);
        last = s->seq;
      }
      REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
    }
  }
  testing::CheckAccounted(*q, by_body, sent.size(), deleted, drained);
}

// The former sharded, locked core failed all four, each after the 60 s watchdog, with every
// worker stuck on the parked thread's shard lock (docs/architecture.md, "The lock-free core").
TEST_CASE("FIFO queue progress: others complete while a thread is parked in SendMessage",
          "[fifo][progress]") {
  CheckProgress(ProgressPoint::kSend);
}

TEST_CASE("FIFO queue progress: others complete while a thread is parked in ReceiveMessage",
          "[fifo][progress]") {
  CheckProgress(ProgressPoint::kReceive);
}

TEST_CASE("FIFO queue progress: others complete while a thread is parked in DeleteMessage",
          "[fifo][progress]") {
  CheckProgress(ProgressPoint::kDelete);
}

TEST_CASE(
    "FIFO queue progress: others complete while a thread is parked in ChangeMessageVisibility",
    "[fifo][progress]") {
  CheckProgress(ProgressPoint::kChangeVisibility);
}

// The send parked inside the deduplication window, with its record's room claimed and not yet
// linked. The former window, a lock per shard around the whole admission, failed it when the
// hook sat inside its lock: every worker's send of that shard waited for the parked one.
TEST_CASE("FIFO queue progress: others complete while a thread is parked in a send's deduplication",
          "[fifo][progress]") {
  CheckProgress(ProgressPoint::kDeduplicate);
}

}  // namespace
}  // namespace courier
