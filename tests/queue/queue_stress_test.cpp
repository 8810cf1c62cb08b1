// A standard queue under more threads than cores: 8 producers, 8 consumers that delete (single
// and batched), make messages visible again and let them expire, and 2 threads that race
// visibility changes (to 0 and to a second or two) and deletes against the consumers' deletes,
// while one thread moves the manual clock on in 1 s steps, so that timeouts run out under them.
// The test itself checks, after the threads are done and the queue is drained:
//   - nothing lost: every body sent was deleted (an OK delete with one of its handles) or drained;
//   - nothing deleted twice or kept after its delete: each body is drained at most once, and
//     none that a delete with the handle of its latest receive removed is still there (an OK
//     delete with an older, stale handle removes nothing, as in SQS);
//   - no delivery while a visibility timeout ran: receive n+1 of a body comes no earlier on the
//     clock than receive n's timeout, or than a visibility change made with receive n's handle
//     allowed (each receive is known by its ApproximateReceiveCount, and receive numbers run
//     1, 2, 3... with none twice);
//   - the counts exact before and after the drain.
// COURIER_STRESS_SCALE (default 1) multiplies the number of messages, for a longer run.
#include <absl/time/time.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
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
#include "queue/receive_histories.h"
#include "queue/stress_threads.h"

namespace courier {
namespace {

using testing::Handoff;
using testing::ReceiveId;
using testing::Ticks;

constexpr int kProducers = 8, kConsumers = 8, kRacers = 2;
constexpr int kPerProducer = 2000;  // times COURIER_STRESS_SCALE
// A consumer stops after this many empty receives in a row once the producers are done.
constexpr int kIdleReceives = 20;
constexpr int kReceivesPerTick = 64;  // each consumer asks for a clock step this often

struct Received {
  std::string body;
  uint32_t receive = 0;                       // ApproximateReceiveCount: 1 for the first receive
  int64_t clock_before = 0, clock_after = 0;  // the manual clock around the ReceiveMessage
  int64_t timeout = 0;                        // its visibility timeout
};
// A visibility change with a receive's handle, recorded before the call (it may fail or not be
// the change that counts: recording it only makes the timeout check more lenient).
struct Change {
  ReceiveId of;
  int64_t clock_before = 0, timeout = 0;
};
// What one thread did; read by the test once the thread is joined.
struct Log {
  std::vector<Received> receives;  // consumers only
  std::vector<Change> changes;
  std::vector<ReceiveId> deleted;  // a DeleteMessage(Batch) with this receive's handle was OK
  std::vector<std::string> errors;
  void Error(const std::string& what, const absl::Status& st) {
    errors.push_back(what + ": " + st.ToString());
  }
};

bool InvalidParameterValue(const absl::Status& st) {
  return ErrorName(st) == "InvalidParameterValue";
}

TEST_CASE(
    "Standard queue stress: 8 producers, 8 consumers, racing visibility changes, deletes "
    "and expiries",
    "[queue][stress]") {
  auto clock = std::make_shared<ManualClock>();
  Hub hub(Environment::Deterministic(clock));
  auto q = Sqs(hub).CreateQueue("stress").value();
  const int per_producer = kPerProducer * testing::StressScale();
  auto now = [&] { return absl::ToUnixNanos(clock->Now()); };

  std::vector<Log> logs(kProducers + kConsumers + kRacers);
  auto consumer_log = [&](int c) -> Log& { return logs[kProducers + c]; };
  std::atomic<int> producers_done{0};
  Handoff handoff;
  Ticks ticks;

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        absl::StatusOr<SendMessageResult> sent =
            q->SendMessage({.body = std::to_string(p) + ":" + std::to_string(i)});
        if (!sent.ok()) logs[p].Error("SendMessage", sent.status());
      }
      ++producers_done;
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      Log& log = consumer_log(c);
      std::mt19937 rng(c + 1);
      std::vector<Message> got;
      std::vector<std::pair<ReceiptHandle, ReceiveId>> batch;
      auto flush = [&] {
        if (batch.empty()) return;
        std::vector<HandleBatchEntry> entries;
        for (size_t i = 0; i < batch.size(); ++i) {
          entries.push_back({.id = std::to_string(i), .receipt_handle = batch[i].first});
        }
        absl::StatusOr<Queue::BatchResult> result = q->DeleteMessageBatch(entries);
        if (!result.ok()) {
          log.Error("DeleteMessageBatch", result.status());
        } else {
          for (const std::string& id : result->successful) {
            log.deleted.push_back(batch[std::stoul(id)].second);
          }
          for (const auto& f : result->failed) {
            log.errors.push_back("DeleteMessageBatch entry " + f.id + ": " + f.code);
          }
        }
        batch.clear();
      };
      int idle = 0, receives = 0;
      while (idle < kIdleReceives) {
        if (++receives % kReceivesPerTick == 0) ticks.Ask();
        const int64_t timeout = absl::ToInt64Nanoseconds(absl::Seconds(1 + rng() % 3));
        const int64_t before = now();
        absl::Status st =
            q->ReceiveMessage({.max_number_of_messages = 10,
                               .visibility_timeout = absl::Nanoseconds(timeout),
                               .message_system_attribute_names = {"ApproximateReceiveCount"}},
                              got);
        const int64_t after = now();
        if (!st.ok()) {
          log.Error("ReceiveMessage", st);
          return;
        }
        if (got.empty()) {
          if (producers_done == kProducers) ++idle;
          std::this_thread::yield();
          continue;
        }
        idle = 0;
        for (const Message& m : got) {
          const ReceiveId id{c, log.receives.size()};
          auto count = m.attributes.find("ApproximateReceiveCount");
          log.receives.push_back(
              {m.body,
               count == m.attributes.end() ? 0u : static_cast<uint32_t>(std::stoul(count->second)),
               before, after, timeout});
          switch (rng() % 20) {
            case 10:
            case 11:
              batch.emplace_back(m.receipt_handle, id);
              break;
            case 12:
            case 13: {  // visible again at once
              log.changes.push_back({id, now(), 0});
              absl::Status changed =
                  q->ChangeMessageVisibility(m.receipt_handle, absl::ZeroDuration());
              if (!changed.ok() && !InvalidParameterValue(changed)) {
                log.Error("ChangeMessageVisibility", changed);
              }
              break;
            }
            case 14:
            case 15:  // to a racer, and deleted here too
              handoff.Push({m.receipt_handle, id});
              [[fallthrough]];
            default:
              if (absl::Status deleted = q->DeleteMessage(m.receipt_handle); deleted.ok()) {
                log.deleted.push_back(id);
              } else {
                log.Error("DeleteMessage", deleted);
              }
              break;
            case 16:
            case 17:  // to a racer only
              handoff.Push({m.receipt_handle, id});
              break;
            case 18:
            case 19:  // left to expire
              break;
          }
        }
        if (batch.size() >= 5) flush();
      }
      flush();
    });
  }
  for (int r = 0; r < kRacers; ++r) {
    threads.emplace_back([&, r] {
      Log& log = logs[kProducers + kConsumers + r];
      std::mt19937 rng(100 + r);
      Handoff::Item item;
      while (handoff.Pop(item)) {
        const uint32_t pick = rng() % 10;
        if (pick < 8) {  // visible at once, or in a second or two
          const int64_t timeout =
              pick < 4 ? 0 : absl::ToInt64Nanoseconds(absl::Seconds(1 + pick % 2));
          log.changes.push_back({item.of, now(), timeout});
          absl::Status changed =
              q->ChangeMessageVisibility(item.handle, absl::Nanoseconds(timeout));
          if (!changed.ok() && !InvalidParameterValue(changed)) {
            log.Error("ChangeMessageVisibility", changed);
          }
        } else if (absl::Status deleted = q->DeleteMessage(item.handle); deleted.ok()) {
          log.deleted.push_back(item.of);
        } else {
          log.Error("DeleteMessage", deleted);
        }
      }
    });
  }
  std::thread ticker([&] {
    int64_t done = 0;
    std::unique_lock lock(ticks.mu);
    for (;;) {
      ticks.cv.wait(lock, [&] { return ticks.stop || ticks.asked > done; });
      if (ticks.stop) return;
      done = ticks.asked;
      lock.unlock();
      clock->Advance(absl::Seconds(1));  // timeouts run out under the other threads
      lock.lock();
    }
  });
  for (int t = 0; t < kProducers + kConsumers; ++t) threads[t].join();
  handoff.Close();
  for (size_t t = kProducers + kConsumers; t < threads.size(); ++t) threads[t].join();
  ticks.Stop();
  ticker.join();

  std::vector<std::string> errors;
  for (const Log& log : logs) errors.insert(errors.end(), log.errors.begin(), log.errors.end());
  {
    std::string first;
    for (size_t i = 0; i < errors.size() && i < 10; ++i) first += "\n  " + errors[i];
    INFO(errors.size() << " operations failed:" << first);
    REQUIRE(errors.empty());
  }

  // Drain: every timeout has run out an hour later. The counts first, exact now.
  clock->Advance(absl::Hours(1));
  auto before_drain = q->GetQueueAttributes().value();
  const int64_t counted = std::stoll(before_drain["ApproximateNumberOfMessages"]) +
                          std::stoll(before_drain["ApproximateNumberOfMessagesNotVisible"]) +
                          std::stoll(before_drain["ApproximateNumberOfMessagesDelayed"]);
  std::vector<std::pair<std::string, uint32_t>> drained;  // body, receive number
  const size_t total = static_cast<size_t>(kProducers) * per_producer;
  for (;;) {
    if (drained.size() > total) {
      FAIL_CHECK("the drain does not end");
      break;
    }
    auto got = q->ReceiveMessage({.max_number_of_messages = 10,
                                  .visibility_timeout = absl::Hours(12),
                                  .message_system_attribute_names = {"ApproximateReceiveCount"}});
    REQUIRE(got.ok());
    if (got->empty()) break;
    for (const Message& m : *got) {
      drained.emplace_back(m.body, std::stoul(m.attributes.at("ApproximateReceiveCount")));
      REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
    }
  }
  CHECK(counted == static_cast<int64_t>(drained.size()));
  auto after_drain = q->GetQueueAttributes().value();
  CHECK(after_drain["ApproximateNumberOfMessages"] == "0");
  CHECK(after_drain["ApproximateNumberOfMessagesNotVisible"] == "0");
  CHECK(after_drain["ApproximateNumberOfMessagesDelayed"] == "0");

  // Each body's receives by number, checked with what the threads recorded of them.
  std::set<std::string> sent;
  for (int p = 0; p < kProducers; ++p) {
    for (int i = 0; i < per_producer; ++i) sent.insert(std::to_string(p) + ":" + std::to_string(i));
  }
  std::map<std::string, std::map<uint32_t, ReceiveId>> receives;
  std::vector<std::string> violations;
  auto violation = [&](std::string v) {
    if (violations.size() < 20) violations.push_back(std::move(v));
  };
  for (int c = 0; c < kConsumers; ++c) {
    const std::vector<Received>& mine = consumer_log(c).receives;
    for (size_t i = 0; i < mine.size(); ++i) {
      if (!receives[mine[i].body].emplace(mine[i].receive, ReceiveId{c, i}).second) {
        violation(mine[i].body + ": receive " + std::to_string(mine[i].receive) + " twice");
      }
    }
  }
  auto at = [&](ReceiveId id) -> const Received& {
    return consumer_log(id.thread).receives[id.index];
  };
  const size_t gone = testing::CheckReceiveHistories(receives, at, logs, drained, sent, violation);
  std::string shown;
  for (const std::string& v : violations) shown += "\n  " + v;
  INFO("violations:" << shown);
  CHECK(violations.empty());
  CHECK(gone == sent.size());
}

}  // namespace
}  // namespace courier
