#include "courier/detail/uuid.h"

#include <cstdint>
#include <cstring>
#include <random>

#include "courier/detail/hex.h"

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

Uuid NewRandomUuid() {
  Uuid u{Generator().Next(), Generator().Next()};
  u.hi = (u.hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  u.lo = (u.lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return u;
}

InlineString<36> FormatUuid(Uuid uuid) {
  InlineString<36> out;
  WriteUuid(uuid, out.resize(36));
  return out;
}

std::optional<Uuid> ParseUuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  uint64_t words[2] = {0, 0};
  int nibble = 0;
  for (size_t pos = 0; pos < 36; ++pos) {
    const char c = text[pos];
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    uint64_t v;
    if (c >= '0' && c <= '9') {
      v = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    uint64_t& w = words[nibble / 16];
    w = w << 4 | v;
    ++nibble;
  }
  return Uuid{words[0], words[1]};
}

std::string NewUuid() { return FormatUuid(NewRandomUuid()).str(); }

}  // namespace courier::detail
