#include "courier/detail/uuid.h"

#include <cstdint>
#include <random>

namespace courier::detail {
namespace {

// xoshiro256** (Blackman and Vigna, public domain algorithm).
class Xoshiro256 {
 public:
  Xoshiro256() {
    std::random_device device;
    for (auto& word : s_) word = (uint64_t{device()} << 32) ^ device();
  }
  uint64_t Next() {
    uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

Xoshiro256& Generator() {
  thread_local Xoshiro256 generator;
  return generator;
}

}  // namespace

unsigned long long RandomBits() { return Generator().Next(); }

std::string NewUuid() {
  uint64_t hi = Generator().Next();
  uint64_t lo = Generator().Next();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  auto put = [&](uint64_t word, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      out[pos++] = kHex[(word >> (4 * i)) & 15];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

}  // namespace courier::detail
