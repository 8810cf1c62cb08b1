#include "queue/epochs.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

namespace courier::queue_internal {
namespace {

std::atomic<int> freed{0};
void CountFree(void*) { ++freed; }

TEST_CASE("Epochs: what is retired is freed only once every guard entered before is left",
          "[epochs]") {
  freed = 0;
  std::atomic<int> step{0};  // 1: the reader is inside its guard; 2: it may leave
  std::thread reader([&] {
    Epochs::Guard guard;
    step = 1;
    while (step.load() != 2) std::this_thread::yield();
  });
  while (step.load() != 1) std::this_thread::yield();
  Epochs::Retire(nullptr, &CountFree);
  for (int i = 0; i < 5; ++i) Epochs::Collect();
  CHECK(freed.load() == 0);  // the reader may still be looking at it
  step = 2;
  reader.join();
  for (int i = 0; i < 5 && freed.load() == 0; ++i) Epochs::Collect();
  CHECK(freed.load() == 1);
}

TEST_CASE("Epochs: guards nest; a thread's number is its own and is reused after it exits",
          "[epochs]") {
  freed = 0;
  {
    Epochs::Guard outer;
    { Epochs::Guard inner; }
    Epochs::Retire(nullptr, &CountFree);
    Epochs::Collect();
    CHECK(freed.load() == 0);  // still inside the outer guard
  }
  for (int i = 0; i < 5 && freed.load() == 0; ++i) Epochs::Collect();
  CHECK(freed.load() == 1);

  // Fifty threads one after another: each gets a number no running thread has, and exited
  // threads' numbers come back (were they not, there would be fifty).
  const uint32_t mine = Epochs::ThreadNumber();
  std::set<uint32_t> numbers;
  bool clash = false;
  for (int i = 0; i < 50; ++i) {
    uint32_t n = 0;
    std::thread([&] { n = Epochs::ThreadNumber(); }).join();
    clash |= n == mine;
    numbers.insert(n);
  }
  CHECK(!clash);
  CHECK(numbers.size() <= 4);
}

}  // namespace
}  // namespace courier::queue_internal
