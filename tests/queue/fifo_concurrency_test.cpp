// FIFO under concurrency: producers and consumers on many groups; within each group every message
// is processed strictly in order and exactly once, none lost. Runs under ThreadSanitizer.
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "queue/fifo_groups.h"

namespace courier {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);

struct Item {
  int group = 0;
  int index = 0;
};

TEST_CASE("FifoGroups: concurrent producers and consumers keep per-group order", "[stress]") {
  constexpr int kProducers = 2;
  constexpr int kConsumers = 3;
  constexpr int kGroups = 200;
  constexpr int kPerGroup = 60;
  queue_internal::FifoGroups<Item> groups;
  // Each group belongs to one producer, so its send order is known: 0, 1, 2, ...
  std::vector<std::atomic<int>> expected(kGroups);
  std::atomic<int> processed{0};
  std::atomic<int> violations{0};
  std::atomic<bool> producing{true};

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerGroup; ++i) {
        for (int g = p; g < kGroups; g += kProducers) {
          groups.Push("group-" + std::to_string(g), Item{g, i}, kT0);
        }
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(c);
      struct Got {
        Item item;
        queue_internal::FifoReceipt receipt;
      };
      struct Collect {
        std::vector<Got>* out;
        queue_internal::FifoVerdict Check(const queue_internal::FifoGroups<Item>::Node&) {
          return queue_internal::FifoVerdict::kTake;
        }
        void Taken(const queue_internal::FifoGroups<Item>::Node& n, queue_internal::FifoReceipt r) {
          out->push_back({n.value, r});
        }
      };
      std::vector<Got> batch;
      while (processed.load() < kGroups * kPerGroup) {
        batch.clear();
        groups.Receive(kT0, absl::ZeroDuration(), 10, absl::Seconds(30), Collect{&batch});
        bool give_up = false;
        for (const Got& got : batch) {
          // Now and then a consumer gives up on the rest of its batch: those messages must
          // come back first in their group.
          if (!give_up && rng() % 16 == 0) give_up = true;
          if (give_up) {
            if (groups.ChangeVisibility(got.receipt, kT0, absl::ZeroDuration(), absl::Hours(12)) !=
                queue_internal::FifoOutcome::kOk) {
              violations.fetch_add(1);
            }
            continue;
          }
          // Processing: the next message of its group, exactly.
          if (expected[got.item.group].load() != got.item.index) violations.fetch_add(1);
          expected[got.item.group].store(got.item.index + 1);
          if (groups.Delete(got.receipt, kT0) != queue_internal::FifoOutcome::kOk) {
            violations.fetch_add(1);
          }
          processed.fetch_add(1);
        }
        if (batch.empty()) std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads) t.join();
  producing = false;
  CHECK(violations.load() == 0);
  CHECK(processed.load() == kGroups * kPerGroup);
  for (int g = 0; g < kGroups; ++g) CHECK(expected[g].load() == kPerGroup);
  CHECK(groups.size() == 0);
}

TEST_CASE("FifoQueue: producers and consumers on many groups, in order and exactly once",
          "[stress]") {
  constexpr int kProducers = 2;
  constexpr int kConsumers = 3;
  constexpr int kGroups = 150;
  constexpr int kPerGroup = 60;
  Hub hub(Environment::Deterministic());
  auto q = FifoQueue::Create(hub, "stress.fifo").value();
  std::vector<std::atomic<int>> expected(kGroups);
  std::atomic<int> processed{0};
  std::atomic<int> violations{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerGroup; ++i) {
        for (int g = p; g < kGroups; g += kProducers) {
          const std::string id = std::to_string(g) + ":" + std::to_string(i);
          auto r = q->SendMessage({.body = id,
                                   .message_group_id = "g" + std::to_string(g),
                                   .message_deduplication_id = id});
          if (!r.ok()) violations.fetch_add(1);
          // Every tenth message is sent twice: the duplicate must not be delivered.
          if (i % 10 == 0) {
            auto dup = q->SendMessage({.body = id,
                                       .message_group_id = "g" + std::to_string(g),
                                       .message_deduplication_id = id});
            if (!dup.ok() || dup->message_id != r->message_id) violations.fetch_add(1);
          }
        }
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(c + 100);
      while (processed.load() < kGroups * kPerGroup) {
        auto got = q->ReceiveMessage({.max_number_of_messages = 10});
        if (!got.ok()) {
          violations.fetch_add(1);
          continue;
        }
        std::vector<FifoQueue::HandleBatchEntry> done;
        bool give_up = false;
        for (const Message& m : *got) {
          const size_t colon = m.body.find(':');
          const int g = std::stoi(m.body.substr(0, colon));
          const int i = std::stoi(m.body.substr(colon + 1));
          if (!give_up && rng() % 16 == 0) give_up = true;
          if (give_up) {
            if (!q->ChangeMessageVisibility(m.receipt_handle, absl::ZeroDuration()).ok()) {
              violations.fetch_add(1);
            }
            continue;
          }
          if (expected[g].load() != i) violations.fetch_add(1);
          expected[g].store(i + 1);
          done.push_back({"e" + std::to_string(done.size()), m.receipt_handle, {}});
        }
        if (!done.empty()) {
          auto del = q->DeleteMessageBatch(done);
          if (!del.ok() || !del->failed.empty()) violations.fetch_add(1);
          processed.fetch_add(static_cast<int>(done.size()));
        }
        if (got->empty()) std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(violations.load() == 0);
  CHECK(processed.load() == kGroups * kPerGroup);
  for (int g = 0; g < kGroups; ++g) CHECK(expected[g].load() == kPerGroup);
  auto attrs = q->GetQueueAttributes().value();
  CHECK(attrs.at("ApproximateNumberOfMessages") == "0");
  CHECK(attrs.at("ApproximateNumberOfMessagesNotVisible") == "0");
}

TEST_CASE("FifoQueue: racing sends of the same deduplication ids deliver each once", "[stress]") {
  // Four producers send the same ids at the same time, each to a different group (queue-scoped
  // deduplication ignores the group), while consumers drain the queue: each id is delivered
  // exactly once, every send of it returns the same MessageId and SequenceNumber, and no taken-
  // back duplicate is ever seen or leaves its group blocked.
  constexpr int kProducers = 4;
  constexpr int kIds = 3000;
  constexpr int kGroups = 7;
  Hub hub(Environment::Deterministic());
  auto q = FifoQueue::Create(hub, "race.fifo").value();
  std::vector<std::array<std::string, kProducers>> ids(kIds), sequences(kIds);
  std::vector<std::atomic<int>> delivered(kIds);
  std::atomic<int> consumed{0};
  std::atomic<bool> sending{true};
  std::atomic<int> violations{0};
  std::vector<std::thread> producers, consumers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kIds; ++i) {
        auto r = q->SendMessage({.body = std::to_string(i),
                                 .message_group_id = "g" + std::to_string((i + p) % kGroups),
                                 .message_deduplication_id = "id-" + std::to_string(i)});
        if (!r.ok()) {
          violations.fetch_add(1);
          continue;
        }
        ids[i][p] = std::string(r->message_id);
        sequences[i][p] = std::string(r->sequence_number);
      }
    });
  }
  for (int c = 0; c < 2; ++c) {
    consumers.emplace_back([&] {
      std::vector<Message> got;
      int idle = 0;  // empty receives since the producers stopped: a lost message ends the wait
      while (sending.load() || (consumed.load() < kIds && idle < 100000)) {
        if (!q->ReceiveMessage({.max_number_of_messages = 10}, got).ok()) violations.fetch_add(1);
        for (const Message& m : got) {
          delivered[std::stoi(m.body)].fetch_add(1);
          if (!q->DeleteMessage(m.receipt_handle).ok()) violations.fetch_add(1);
          consumed.fetch_add(1);
        }
        if (!got.empty()) {
          idle = 0;
        } else {
          if (!sending.load()) ++idle;
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  sending.store(false);
  for (auto& t : consumers) t.join();
  CHECK(violations.load() == 0);
  CHECK(consumed.load() == kIds);
  int wrong = 0;
  for (int i = 0; i < kIds; ++i) {
    if (delivered[i].load() != 1) ++wrong;
    for (int p = 1; p < kProducers; ++p) {
      if (ids[i][p] != ids[i][0] || sequences[i][p] != sequences[i][0]) ++wrong;
    }
  }
  CHECK(wrong == 0);
  CHECK(q->GetQueueAttributes().value().at("ApproximateNumberOfMessages") == "0");
}
}  // namespace
}  // namespace courier
