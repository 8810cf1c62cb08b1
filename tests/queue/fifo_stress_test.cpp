// A FIFO queue under more threads than cores, as queue_stress_test.cpp drives the standard
// queue: 8 producers sending to 32 groups that they all share (each send now and then sent
// twice: the duplicate must return the original's ids), 8 consumers that delete (single and
// batched), make messages visible again and let them expire, 2 threads that race visibility
// changes (to 0 and to a second or two) and deletes against the consumers' deletes, and one
// thread that moves the manual clock on in 1 s steps, so that timeouts run out under them.
// The test itself checks, after the threads are done and the queue is drained, what the
// standard queue's stress test checks (nothing lost, nothing deleted twice or kept after its
// delete, no delivery while a visibility timeout ran, receives numbered 1, 2, 3..., the counts
// exact), and FIFO order: no message is received for the first time in a receive that ended
// before the receive that first delivered an earlier message of its group began, and each
// receive returns a group's messages in sequence order.
// COURIER_STRESS_SCALE (default 1) multiplies the number of messages, for a longer run.
#include <absl/time/time.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
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
constexpr int kGroups = 32;
constexpr int kPerProducer = 1000;  // times COURIER_STRESS_SCALE
constexpr int kIdleReceives = 100;  // a consumer's empty receives in a row before it stops
constexpr int kReceivesPerTick = 64;

struct Received {
  std::string body, group, seq;  // seq: the 20-digit SequenceNumber (ordered as text)
  uint32_t receive = 0;          // ApproximateReceiveCount
  int64_t clock_before = 0, clock_after = 0, timeout = 0;
  // A ticket taken before and after the ReceiveMessage call (relaxed: for ordering only): a
  // receive whose `after` is below another's `before` ended before the other began.
  uint64_t ticket_before = 0, ticket_after = 0;
};
struct Change {
  ReceiveId of;
  int64_t clock_before = 0, timeout = 0;
};
struct Log {
  std::vector<Received> receives;
  std::vector<Change> changes;
  std::vector<ReceiveId> deleted;
  std::vector<std::string> sent;  // duplicates sent past the window: messages of their own
  std::vector<std::string> errors;
  void Error(const std::string& what, const absl::Status& st) {
    errors.push_back(what + ": " + st.ToString());
  }
};

bool InvalidParameterValue(const absl::Status& st) {
  return ErrorName(st) == "InvalidParameterValue";
}

TEST_CASE(
    "FIFO queue stress: 8 producers, 8 consumers on shared groups, racing visibility changes, "
    "deletes and expiries",
    "[fifo][stress]") {
  auto clock = std::make_shared<ManualClock>();
  Hub hub(Environment::Deterministic(clock));
  auto q = FifoQueue::Create(hub, "stress.fifo").value();
  const int per_producer = kPerProducer * testing::StressScale();
  auto now = [&] { return absl::ToUnixNanos(clock->Now()); };
  std::atomic<uint64_t> tickets{0};
  auto ticket = [&] { return tickets.fetch_add(1, std::memory_order_relaxed); };

  std::vector<Log> logs(kProducers + kConsumers + kRacers);
  auto consumer_log = [&](int c) -> Log& { return logs[kProducers + c]; };
  std::atomic<int> producers_done{0};
  Handoff handoff;
  Ticks ticks;

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        const std::string body = std::to_string(p) + ":" + std::to_string(i);
        SendMessageRequest request{.body = body,
                                   .message_group_id = "g" + std::to_string((p * 7 + i) % kGroups),
                                   .message_deduplication_id = body};
        const int64_t before = now();
        absl::StatusOr<SendMessageResult> sent = q->SendMessage(request);
        if (!sent.ok()) {
          logs[p].Error("SendMessage", sent.status());
          continue;
        }
        if (i % 16 != 0) continue;
        // The same deduplication id again, with a body of its own: a duplicate returns the
        // original's ids and is not delivered; past the five minutes (the clock moves on under
        // the producers) it is a message of its own.
        request.body = body + "+";
        absl::StatusOr<SendMessageResult> again = q->SendMessage(std::move(request));
        if (!again.ok()) {
          logs[p].Error("SendMessage (a duplicate)", again.status());
        } else if (again->message_id != sent->message_id) {
          if (now() < before + absl::ToInt64Nanoseconds(absl::Minutes(5))) {
            logs[p].errors.push_back("a duplicate of " + body + " did not return its ids");
          }
          logs[p].sent.push_back(body + "+");
        } else if (again->sequence_number != sent->sequence_number) {
          logs[p].errors.push_back("a duplicate of " + body + " did not return its ids");
        }
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
        absl::StatusOr<FifoQueue::BatchResult> result = q->DeleteMessageBatch(entries);
        if (!result.ok()) {
          log.Error("DeleteMessageBatch", result.status());
        } else {
          for (const std::string& id : result->successful) {
            log.deleted.push_back(batch[std::stoul(id)].second);
          }
          for (const auto& f : result->failed) {  // but handles whose timeout ran out
            if (f.code != "InvalidParameterValue") {
              log.errors.push_back("DeleteMessageBatch entry " + f.id + ": " + f.code);
            }
          }
        }
        batch.clear();
      };
      int idle = 0, receives = 0;
      while (idle < kIdleReceives) {
        if (++receives % kReceivesPerTick == 0) ticks.Ask();
        const int64_t timeout = absl::ToInt64Nanoseconds(absl::Seconds(1 + rng() % 3));
        const int64_t before = now();
        const uint64_t ticket_before = ticket();
        absl::Status st = q->ReceiveMessage(
            {.max_number_of_messages = 10,
             .visibility_timeout = absl::Nanoseconds(timeout),
             .message_system_attribute_names = {"ApproximateReceiveCount", "MessageGroupId",
                                                "SequenceNumber"}},
            got);
        const uint64_t ticket_after = ticket();
        const int64_t after = now();
        if (!st.ok()) {
          log.Error("ReceiveMessage", st);
          return;
        }
        if (got.empty()) {  // perhaps every group is blocked: on with the clock
          ticks.Ask();
          if (producers_done == kProducers) ++idle;
          std::this_thread::yield();
          continue;
        }
        idle = 0;
        for (const Message& m : got) {
          const ReceiveId id{c, log.receives.size()};
          log.receives.push_back(
              {m.body, m.attributes.at("MessageGroupId"), m.attributes.at("SequenceNumber"),
               static_cast<uint32_t>(std::stoul(m.attributes.at("ApproximateReceiveCount"))),
               before, after, timeout, ticket_before, ticket_after});
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
              } else if (!InvalidParameterValue(deleted)) {  // its timeout may have run out
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
        if (pick < 8) {
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
        } else if (!InvalidParameterValue(deleted)) {
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
      clock->Advance(absl::Seconds(1));
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

  // Drain, an hour later; a group's messages come in sequence order.
  clock->Advance(absl::Hours(1));
  auto before_drain = q->GetQueueAttributes().value();
  const int64_t counted = std::stoll(before_drain["ApproximateNumberOfMessages"]) +
                          std::stoll(before_drain["ApproximateNumberOfMessagesNotVisible"]) +
                          std::stoll(before_drain["ApproximateNumberOfMessagesDelayed"]);
  std::vector<std::pair<std::string, uint32_t>> drained;
  std::vector<std::string> violations;
  auto violation = [&](std::string v) {
    if (violations.size() < 20) violations.push_back(std::move(v));
  };
  std::map<std::string, std::string> last_drained;  // group -> seq
  size_t total = static_cast<size_t>(kProducers) * per_producer;
  for (int p = 0; p < kProducers; ++p) total += logs[p].sent.size();
  for (;;) {
    if (drained.size() > total) {
      FAIL_CHECK("the drain does not end");
      break;
    }
    auto got =
        q->ReceiveMessage({.max_number_of_messages = 10,
                           .visibility_timeout = absl::Hours(12),
                           .message_system_attribute_names = {"ApproximateReceiveCount",
                                                              "MessageGroupId", "SequenceNumber"}});
    REQUIRE(got.ok());
    if (got->empty()) break;
    for (const Message& m : *got) {
      drained.emplace_back(m.body, std::stoul(m.attributes.at("ApproximateReceiveCount")));
      std::string& last = last_drained[m.attributes.at("MessageGroupId")];
      if (last > m.attributes.at("SequenceNumber")) violation(m.body + ": drained out of order");
      last = m.attributes.at("SequenceNumber");
      REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
    }
  }
  CHECK(counted == static_cast<int64_t>(drained.size()));
  size_t phase_receives = 0;
  for (int c = 0; c < kConsumers; ++c) phase_receives += consumer_log(c).receives.size();
  size_t extra = 0;
  for (int p = 0; p < kProducers; ++p) extra += logs[p].sent.size();
  INFO("received " << phase_receives << " times while the threads ran, drained " << drained.size()
                   << ", duplicates sent past the window " << extra);
  auto after_drain = q->GetQueueAttributes().value();
  CHECK(after_drain["ApproximateNumberOfMessages"] == "0");
  CHECK(after_drain["ApproximateNumberOfMessagesNotVisible"] == "0");
  CHECK(after_drain["ApproximateNumberOfMessagesDelayed"] == "0");

  std::set<std::string> sent;
  for (int p = 0; p < kProducers; ++p) {
    for (int i = 0; i < per_producer; ++i) sent.insert(std::to_string(p) + ":" + std::to_string(i));
    sent.insert(logs[p].sent.begin(), logs[p].sent.end());
  }
  auto at = [&](ReceiveId id) -> const Received& {
    return consumer_log(id.thread).receives[id.index];
  };
  std::map<std::string, std::map<uint32_t, ReceiveId>> receives;
  for (int c = 0; c < kConsumers; ++c) {
    const std::vector<Received>& mine = consumer_log(c).receives;
    std::map<std::pair<uint64_t, std::string>, std::string> last_in_receive;
    for (size_t i = 0; i < mine.size(); ++i) {
      if (!receives[mine[i].body].emplace(mine[i].receive, ReceiveId{c, i}).second) {
        violation(mine[i].body + ": receive " + std::to_string(mine[i].receive) + " twice");
      }
      // One receive's messages of a group in sequence order.
      std::string& last = last_in_receive[{mine[i].ticket_before, mine[i].group}];
      if (last > mine[i].seq) violation(mine[i].body + ": out of order in its receive");
      last = mine[i].seq;
    }
  }
  // FIFO order of first deliveries: sorted by sequence number within each group, no first
  // receive ends before the first receive of an earlier message began.
  std::map<std::string, std::vector<const Received*>> firsts;  // group -> first receives
  for (const auto& [body, by_number] : receives) {
    if (by_number.begin()->first == 1)
      firsts[at(by_number.begin()->second).group].push_back(&at(by_number.begin()->second));
  }
  for (auto& [group, list] : firsts) {
    std::sort(list.begin(), list.end(),
              [](const Received* a, const Received* b) { return a->seq < b->seq; });
    uint64_t latest_begin = 0;  // the latest `ticket_before` among earlier messages
    for (const Received* r : list) {
      if (r->ticket_after < latest_begin) {
        violation(r->body + ": first received before an earlier message of " + group);
      }
      latest_begin = std::max(latest_begin, r->ticket_before);
    }
  }
  const size_t gone = testing::CheckReceiveHistories(receives, at, logs, drained, sent, violation);
  std::string shown;
  for (const std::string& v : violations) shown += "\n  " + v;
  INFO("violations:" << shown);
  CHECK(violations.empty());
  CHECK(gone == sent.size());
}

}  // namespace
}  // namespace courier
