#include "queue/ring.h"

#include <catch2/catch.hpp>
#include <deque>
#include <random>

namespace courier::queue_internal {
namespace {

TEST_CASE("Ring keeps FIFO order across growth, wrap-around, erasure and shrinking", "[ring]") {
  Ring<uint64_t> ring;
  std::deque<uint64_t> model;
  std::mt19937_64 random(7);
  uint64_t next = 0;
  auto same = [&] {
    REQUIRE(ring.size() == model.size());
    REQUIRE(ring.empty() == model.empty());
    if (!model.empty()) {
      REQUIRE(ring.front() == model.front());
      REQUIRE(ring.back() == model.back());
    }
  };
  for (int step = 0; step < 200000; ++step) {
    const auto op = random() % 100;
    if (op < 55) {  // pushes outnumber pops, so the ring grows through many sizes
      ring.push_back(next);
      model.push_back(next++);
    } else if (op < 98) {
      if (!model.empty()) {
        ring.pop_front();
        model.pop_front();
      }
    } else if (op < 99) {
      const uint64_t divisor = 2 + random() % 5;
      ring.EraseIf([&](uint64_t v) { return v % divisor == 0; });
      std::erase_if(model, [&](uint64_t v) { return v % divisor == 0; });
    } else {
      while (model.size() > 10) {  // drain most of it, then let it shrink
        ring.pop_front();
        model.pop_front();
      }
      ring.ShrinkToFit();
    }
    same();
  }
  // Every entry left comes out in order.
  while (!model.empty()) {
    REQUIRE(ring.front() == model.front());
    ring.pop_front();
    model.pop_front();
  }
  REQUIRE(ring.empty());
}

TEST_CASE("Ring gives its memory back when drained", "[ring]") {
  Ring<uint64_t> ring;
  for (uint64_t i = 0; i < 100000; ++i) ring.push_back(i);
  REQUIRE(ring.capacity() >= 100000);
  for (uint64_t i = 0; i < 99990; ++i) ring.pop_front();
  ring.ShrinkToFit();
  REQUIRE(ring.capacity() == 1024);
  REQUIRE(ring.front() == 99990);
  REQUIRE(ring.back() == 99999);
  ring.clear();
  REQUIRE(ring.empty());
  REQUIRE(ring.capacity() == 0);
  ring.push_back(5);
  REQUIRE(ring.front() == 5);
}

}  // namespace
}  // namespace courier::queue_internal
