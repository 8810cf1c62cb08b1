// Random (version 4) UUIDs from a per-thread xoshiro256** generator seeded once from the OS:
// message ids need uniqueness, not cryptographic strength, and /dev/urandom per id is too slow.
#ifndef COURIER_DETAIL_UUID_H_
#define COURIER_DETAIL_UUID_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "courier/detail/hex.h"
#include "courier/inline_string.h"

namespace courier::detail {

// A UUID's 128 bits (hi holds the first 8 bytes of the text form).
struct Uuid {
  uint64_t hi = 0, lo = 0;
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// A random version 4 UUID. Thread-safe. Lock-free.
Uuid NewRandomUuid();
// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lowercase.
InlineString<36> FormatUuid(Uuid uuid);
// The inverse of FormatUuid (any version); nullopt for anything else.
std::optional<Uuid> ParseUuid(std::string_view text);
// FormatUuid(NewRandomUuid()) as a std::string.
std::string NewUuid();

// 64 random bits from the same per-thread generator.
unsigned long long RandomBits();

// FormatUuid's 36 characters written to `p` (into a field in place, say). Every send and every
// receive writes one, so it is inline.
inline void WriteUuid(Uuid uuid, char* p) {
  // 8-4-4-4-12, each group stored from a register (assembling the text in a buffer and copying
  // pieces of it out stalls on store forwarding). Overlapping stores are fine: nothing is read
  // back.
#if defined(__SSE2__)
  __m128i first, second;  // digits 0-15 and 16-31
  Hex128(_mm_set_epi64x(static_cast<int64_t>(__builtin_bswap64(uuid.lo)),
                        static_cast<int64_t>(__builtin_bswap64(uuid.hi))),
         first, second);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), first);
  const uint64_t middle =
      static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(first, first)));
  const uint32_t group4 = static_cast<uint32_t>(_mm_cvtsi128_si32(second));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 20), second);  // digits 20-31 land at 24-35
  const uint32_t group2 = static_cast<uint32_t>(middle),
                 group3 = static_cast<uint32_t>(middle >> 32);
  std::memcpy(p + 9, &group2, 4);
  std::memcpy(p + 14, &group3, 4);
  std::memcpy(p + 19, &group4, 4);
#else
  const uint64_t a = Hex32Word(static_cast<uint32_t>(uuid.hi >> 32));
  const uint64_t b = Hex32Word(static_cast<uint32_t>(uuid.hi));
  const uint64_t c = Hex32Word(static_cast<uint32_t>(uuid.lo >> 32));
  const uint64_t d = Hex32Word(static_cast<uint32_t>(uuid.lo));
  const uint32_t group2 = static_cast<uint32_t>(b), group3 = static_cast<uint32_t>(b >> 32);
  const uint32_t group4 = static_cast<uint32_t>(c), group5 = static_cast<uint32_t>(c >> 32);
  std::memcpy(p, &a, 8);
  std::memcpy(p + 9, &group2, 4);
  std::memcpy(p + 14, &group3, 4);
  std::memcpy(p + 19, &group4, 4);
  std::memcpy(p + 24, &group5, 4);
  std::memcpy(p + 28, &d, 8);
#endif
  p[8] = p[13] = p[18] = p[23] = '-';
}

}  // namespace courier::detail

#endif  // COURIER_DETAIL_UUID_H_
