// Several producers and consumers with random visibility changes, deletes and expiries: every
// message sent is deleted exactly once or still in the queue; none lost, none deleted twice.
#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

TEST_CASE("Standard queue: concurrent producers and consumers lose nothing", "[queue][stress]") {
  auto clock = std::make_shared<ManualClock>();
  Hub hub(Environment::Deterministic(clock));
  auto q = Sqs(hub).CreateQueue("stress").value();
  constexpr int kProducers = 2, kConsumers = 2, kPerProducer = 1500;
  std::atomic<int> producers_done{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::multiset<std::string> deleted;  // bodies whose delete removed the message

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        if (!q->SendMessage({.body = std::to_string(p) + ":" + std::to_string(i)}).ok()) {
          failed = true;
        }
      }
      ++producers_done;
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(c);
      int idle = 0;
      while (idle < 200) {
        auto got = q->ReceiveMessage(
            {.max_number_of_messages = 10, .visibility_timeout = absl::Seconds(rng() % 3)});
        if (!got.ok()) {
          failed = true;
          return;
        }
        if (got->empty()) {
          if (producers_done == kProducers) ++idle;
          if (c == 0) clock->Advance(absl::Seconds(1));  // expire visibility timeouts
          std::this_thread::yield();
          continue;
        }
        idle = 0;
        for (const auto& m : *got) {
          switch (rng() % 4) {
            case 0:  // let it expire and come back
              break;
            case 1: {
              // May fail only because the message was received again since (stale handle).
              absl::Status st =
                  q->ChangeMessageVisibility(m.receipt_handle, absl::Seconds(rng() % 2));
              if (!st.ok() && ErrorName(st) != "InvalidParameterValue") failed = true;
              break;
            }
            default:
              if (q->DeleteMessage(m.receipt_handle).ok()) {
                std::lock_guard lock(mu);
                deleted.insert(m.body);
              } else {
                failed = true;
              }
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(!failed);
  // Drain what is left (all visible after enough time), delete each once.
  clock->Advance(absl::Seconds(10));
  std::multiset<std::string> left;
  for (;;) {
    auto got =
        q->ReceiveMessage({.max_number_of_messages = 10, .visibility_timeout = absl::Hours(1)})
            .value();
    if (got.empty()) break;
    for (const auto& m : got) left.insert(m.body);
  }
  // Every body appears: deleted or left. A stale-handle delete does not remove the message,
  // so a body may be "deleted" and left only if its delete was stale.
  auto counts = q->GetQueueAttributes().value();
  CHECK(counts["ApproximateNumberOfMessagesNotVisible"] == std::to_string(left.size()));
  CHECK(counts["ApproximateNumberOfMessages"] == "0");
  std::set<std::string> all(deleted.begin(), deleted.end());
  all.insert(left.begin(), left.end());
  CHECK(all.size() == static_cast<size_t>(kProducers * kPerProducer));
  for (const auto& b : left) CHECK(left.count(b) == 1);
}

}  // namespace
}  // namespace courier
