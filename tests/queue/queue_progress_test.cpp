// Progress of the standard queue's core, the property that tells a lock-free core from a locked
// one: a thread suspended in the middle of an operation does not stop the others' operations.
// (A necessary condition, tested at four points with one suspended thread, not a proof.)
//
// Each test parks one thread in the middle of an operation (SendMessage, ReceiveMessage,
// DeleteMessage, ChangeMessageVisibility), at the hook of src/queue/progress_hook.h, and then
// has other threads complete thousands of operations of every kind on a queue whose messages
// are spread over the whole slab, including those the parked operation touches. A core that
// makes any operation wait for another (a lock held by the parked thread) cannot pass: the
// others never finish. The tests never sleep and assert no timing; a generous real-time
// watchdog only turns such a hang into a failure (the parked thread is then released, so that
// everything finishes and the test ends). After the release every invariant must hold: each
// message sent was deleted exactly once or is still in the queue (drained at the end), none was
// delivered twice while its visibility timeout ran (the manual clock stands still until the
// drain, and visibility changes only lengthen timeouts), and the counts are exact.
//
// The former sharded, locked core failed all four, each after the 60 s watchdog, with every
// worker stuck in ChangeMessageVisibility of a message in the parked thread's shard
// (docs/architecture.md, "The lock-free core").
#include <absl/time/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"
#include "queue/message_accounting.h"
#include "queue/progress_hook.h"
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
constexpr int kShards = 16;             // prefill threads: one per shard of the old core
constexpr int kPrefillPerThread = 128;  // sent by each prefill thread; it receives half of them
constexpr int kWorkers = 3;
constexpr int kIterations = 1000;  // per worker: a send, a receive and what follows them

// The operation a worker is in, for the failure message, and the count of each kind.
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

// What one thread did, merged by the test once the thread is joined (Catch2's assertions are
// for the main thread only).
struct Record {
  std::vector<std::string> sent, received, deleted, errors;
  std::array<int, kSteps> ops{};  // operations done, by kind
  void Error(const std::string& what, const absl::Status& st) {
    errors.push_back(what + ": " + st.ToString());
  }
};

struct Held {
  std::string body;
  ReceiptHandle handle;
};

// Deletes `batch` in one DeleteMessageBatch; every entry must succeed (the handles are current:
// nothing is received twice while the clock stands still).
void FlushBatch(Queue& q, std::vector<Held>& batch, Record& r) {
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

// One worker of the parked phase: `kIterations` rounds of a send, a receive of up to 10, deletes
// (single and batched) and visibility changes (only ever longer) of what it received, and a
// visibility change and a delete of one message of `pool`, received before the phase from every
// shard.
void Work(Queue& q, int w, std::vector<Held> pool, Record& r, std::atomic<Step>& step) {
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
  int seen = 0;  // messages received so far: what is done with each goes round
  for (int i = 0; i < kIterations; ++i) {
    begin(Step::kSend);
    std::string body = "w" + std::to_string(w) + "-" + std::to_string(i);
    if (auto sent = q.SendMessage({.body = body}); sent.ok()) {
      r.sent.push_back(std::move(body));
    } else {
      r.Error("SendMessage", sent.status());
    }
    begin(Step::kReceive);
    auto got = q.ReceiveMessage({.max_number_of_messages = 10});
    if (!got.ok()) {
      r.Error("ReceiveMessage", got.status());
      continue;
    }
    for (Message& m : *got) {
      r.received.push_back(m.body);
      switch (seen++ % 4) {
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
        case 3:  // left in flight, for the drain
          begin(Step::kChangeVisibility);
          if (absl::Status st = q.ChangeMessageVisibility(m.receipt_handle, absl::Seconds(300));
              !st.ok()) {
            r.Error("ChangeMessageVisibility", st);
          }
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

// The parked thread's operation: one of `point`'s kind, on a message of its own home shard when
// it needs one (a receive first: the hook is armed for `point` only, so that passes).
void ParkedOperation(Queue& q, ProgressPoint point, Record& r) {
  if (point == ProgressPoint::kSend) {
    if (auto sent = q.SendMessage({.body = "parked-send"}); sent.ok()) {
      r.sent.push_back("parked-send");
    } else {
      r.Error("parked SendMessage", sent.status());
    }
    return;
  }
  const int max = point == ProgressPoint::kReceive ? 10 : 1;
  auto got = q.ReceiveMessage({.max_number_of_messages = max});
  if (!got.ok() || got->empty()) {
    r.errors.push_back("parked ReceiveMessage: " +
                       (got.ok() ? std::string("nothing") : got.status().ToString()));
    return;
  }
  for (const Message& m : *got) r.received.push_back(m.body);
  const Message& m = got->front();
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
  auto q = Sqs(hub).CreateQueue("progress").value();  // visibility timeout 30 s

  // The threads' records: the prefill threads', the parked thread's, the workers'.
  std::vector<Record> records(kShards + 1 + kWorkers);
  Record& parked_record = records[kShards];

  // Messages in every shard: a thread sends to its home shard, and new threads take the shards
  // in turn. Each prefill thread also receives half of its messages (from its home shard first)
  // for the workers to change and delete later, so that they touch every shard.
  std::vector<Held> held;
  for (int t = 0; t < kShards; ++t) {
    std::thread([&, t] {
      Record& r = records[t];
      for (int i = 0; i < kPrefillPerThread; ++i) {
        std::string body = "p" + std::to_string(t) + "-" + std::to_string(i);
        if (auto sent = q->SendMessage({.body = body}); sent.ok()) {
          r.sent.push_back(std::move(body));
        } else {
          r.Error("prefill SendMessage", sent.status());
        }
      }
      for (int n = 0; n < kPrefillPerThread / 2;) {
        auto got =
            q->ReceiveMessage({.max_number_of_messages = std::min(10, kPrefillPerThread / 2 - n)});
        if (!got.ok() || got->empty()) {
          r.errors.push_back("prefill ReceiveMessage: " +
                             (got.ok() ? std::string("nothing") : got.status().ToString()));
          break;
        }
        for (Message& m : *got) {
          r.received.push_back(m.body);
          held.push_back({m.body, m.receipt_handle});
          ++n;
        }
      }
    }).join();
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
    hook.Release();  // in case it reached it just now
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
      Work(*q, w, std::move(pools[w]), records[kShards + 1 + w], steps[w]);
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
  CHECK(still_parked);  // the parked operation stayed parked through the phase
  hook.Release();
  parked.join();
  for (auto& t : workers) t.join();

  std::vector<std::string> sent, received, deleted, errors;
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

  // The workers did thousands of operations of every kind (while the thread was parked, unless
  // the watchdog failed the test).
  {
    std::string done;
    for (int k = 1; k < kSteps; ++k) {
      done += " " + std::string(NameOf(static_cast<Step>(k))) + " " + std::to_string(ops[k]);
    }
    INFO("operations:" << done);
    for (Step k : {Step::kSend, Step::kReceive, Step::kDelete, Step::kDeleteBatch,
                   Step::kChangeVisibility}) {
      CHECK(ops[static_cast<int>(k)] >= 1000);
    }
  }
  const std::map<std::string, int> sent_counts = Counts(sent);
  REQUIRE(sent_counts.size() == sent.size());
  // None delivered twice: the clock has stood still since the first receive, and visibility
  // timeouts were only ever made longer.
  const std::map<std::string, int> received_counts = Counts(received);
  {
    INFO("received more than once:" << Repeated(received_counts));
    CHECK(received_counts.size() == received.size());
  }
  for (const auto& [body, n] : received_counts) {
    if (!sent_counts.contains(body)) FAIL_CHECK("received but never sent: " << body);
  }
  // Counts exact, now that every thread is done.
  {
    auto counts = q->GetQueueAttributes().value();
    const int64_t in_queue = std::stoll(counts["ApproximateNumberOfMessages"]) +
                             std::stoll(counts["ApproximateNumberOfMessagesNotVisible"]) +
                             std::stoll(counts["ApproximateNumberOfMessagesDelayed"]);
    CHECK(in_queue == static_cast<int64_t>(sent.size() - deleted.size()));
  }

  // Drain: every timeout has run out 13 hours later (12 is the cap).
  clock->Advance(absl::Hours(13));
  std::vector<std::string> drained;
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
      REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
    }
  }
  // Each message sent was deleted exactly once, or still in the queue and drained once.
  testing::CheckAccounted(*q, sent_counts, sent.size(), deleted, drained);
}

TEST_CASE("Standard queue progress: others complete while a thread is parked in SendMessage",
          "[queue][progress]") {
  CheckProgress(ProgressPoint::kSend);
}

TEST_CASE("Standard queue progress: others complete while a thread is parked in ReceiveMessage",
          "[queue][progress]") {
  CheckProgress(ProgressPoint::kReceive);
}

TEST_CASE("Standard queue progress: others complete while a thread is parked in DeleteMessage",
          "[queue][progress]") {
  CheckProgress(ProgressPoint::kDelete);
}

TEST_CASE(
    "Standard queue progress: others complete while a thread is parked in "
    "ChangeMessageVisibility",
    "[queue][progress]") {
  CheckProgress(ProgressPoint::kChangeVisibility);
}

}  // namespace
}  // namespace courier
