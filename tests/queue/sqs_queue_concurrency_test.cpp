// SqsQueue under concurrent producers and consumers with visibility changes, releases and
// visibility expiries on a clock advanced by another thread: every message is deleted exactly
// once and none is lost. Catch assertions only on the main thread.
#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "courier/hub.h"
#include "courier/sqs_queue.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

TEST_CASE("SqsQueue stress: each message deleted exactly once", "[sqs][stress]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto q = SqsQueue::Create(hub, "stress", {{"VisibilityTimeout", "43200"}}).value();
  constexpr int kProducers = 3, kConsumers = 3, kPerProducer = 1500;
  constexpr int kTotal = kProducers * kPerProducer;

  std::atomic<int> deleted{0};
  std::atomic<int> errors{0};
  std::vector<std::atomic<int>> times_deleted(kTotal);
  std::atomic<bool> producing{true};

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; i += 5) {
        std::vector<SqsQueue::SendBatchEntry> batch;
        for (int k = 0; k < 5; ++k) {
          batch.push_back({std::to_string(k), {.body = std::to_string(p * kPerProducer + i + k)}});
        }
        auto r = q->SendMessageBatch(std::move(batch));
        if (!r.ok() || r->successful.size() != 5) errors.fetch_add(1);
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(static_cast<unsigned>(c) + 1);
      while (deleted.load() < kTotal) {
        auto got = q->ReceiveMessage({.max_number_of_messages = 10});
        if (!got.ok()) {
          errors.fetch_add(1);
          return;
        }
        std::vector<SqsQueue::HandleBatchEntry> to_delete, to_release;
        for (size_t i = 0; i < got->size(); ++i) {
          const Message& m = (*got)[i];
          const int roll = static_cast<int>(rng() % 10);
          if (roll < 6) {
            to_delete.push_back({std::to_string(i), m.receipt_handle, {}});
          } else if (roll < 8) {
            // Back at once, or after a short visibility the clock thread runs out.
            to_release.push_back({std::to_string(i), m.receipt_handle,
                                  roll == 6 ? absl::ZeroDuration() : absl::Milliseconds(3)});
          } else if (!q->ChangeMessageVisibility(m.receipt_handle, absl::Milliseconds(1)).ok()) {
            // A single change: visible again after 1 virtual ms.
            errors.fetch_add(1);
          }
        }
        if (!to_release.empty()) {
          auto r = q->ChangeMessageVisibilityBatch(to_release);
          if (!r.ok() || !r->failed.empty()) errors.fetch_add(1);
        }
        if (!to_delete.empty()) {
          // Handles are fresh (12-hour visibility): each delete removes its message.
          for (const auto& e : to_delete) {
            for (const Message& m : *got) {
              if (m.receipt_handle == e.receipt_handle) {
                times_deleted[static_cast<size_t>(std::stoi(m.body))].fetch_add(1);
              }
            }
          }
          auto r = q->DeleteMessageBatch(to_delete);
          if (!r.ok() || !r->failed.empty()) errors.fetch_add(1);
          deleted.fetch_add(static_cast<int>(to_delete.size()));
        }
        if (got->empty()) std::this_thread::yield();
      }
    });
  }
  // The clock thread: virtual milliseconds pass while others work; counts are read meanwhile.
  threads.emplace_back([&] {
    int n = 0;
    while (deleted.load() < kTotal) {
      sim.clock().Advance(absl::Milliseconds(1));
      if (++n % 64 == 0 && !q->GetQueueAttributes().ok()) errors.fetch_add(1);
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();

  CHECK(errors.load() == 0);
  CHECK(deleted.load() == kTotal);
  int wrong = 0;
  for (auto& d : times_deleted) wrong += d.load() != 1;
  CHECK(wrong == 0);
  auto attrs = q->GetQueueAttributes().value();
  CHECK(attrs.at("ApproximateNumberOfMessages") == "0");
  CHECK(attrs.at("ApproximateNumberOfMessagesNotVisible") == "0");
  CHECK(attrs.at("ApproximateNumberOfMessagesDelayed") == "0");
  sim.clock().Advance(absl::Hours(13));
  CHECK(q->ReceiveMessage({.max_number_of_messages = 10}).value().empty());
}

}  // namespace
}  // namespace courier
