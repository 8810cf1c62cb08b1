// Lowercase hex for ids, digests and receipt handles, eight digits at a time: every send and
// receive formats some, and every delete parses a handle.
#ifndef COURIER_DETAIL_HEX_H_
#define COURIER_DETAIL_HEX_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace courier::detail {

// `v` as 8 lowercase hex digits packed in a word, first digit in the lowest byte: storing the
// word (little-endian) writes the text.
inline __attribute__((always_inline)) uint64_t Hex32Word(uint32_t v) {
  // Spread the nibbles one per byte, most significant first in memory, then map 0-9 to '0'-'9'
  // and 10-15 to 'a'-'f' with one add per byte.
  uint64_t x = v;
  x = (x | x << 16) & 0x0000FFFF0000FFFFULL;
  x = (x | x << 8) & 0x00FF00FF00FF00FFULL;
  x = (x | x << 4) & 0x0F0F0F0F0F0F0F0FULL;
  const uint64_t letters = ((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
  x += 0x3030303030303030ULL + letters * ('a' - '0' - 10);
  return __builtin_bswap64(x);
}

// Writes `v` as exactly 8 lowercase hex digits.
inline __attribute__((always_inline)) void PutHex32(char* out, uint32_t v) {
  const uint64_t x = Hex32Word(v);
  std::memcpy(out, &x, 8);
}

// Reads exactly 8 lowercase hex digits; nullopt if any character is something else.
inline __attribute__((always_inline)) std::optional<uint32_t> GetHex32(const char* in) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  uint64_t x;
  std::memcpy(&x, in, 8);
  // For bytes below 0x80, x + (0x80 - lo) has its top bit set iff x >= lo (no carry between
  // bytes), so a range test is two adds.
  auto in_range = [&](uint64_t lo, uint64_t hi) {
    return (x + (0x80 - lo) * kOnes) & ~(x + (0x7F - hi) * kOnes) & kHigh;
  };
  const uint64_t digits = in_range('0', '9');
  const uint64_t letters = in_range('a', 'f');
  if ((x & kHigh) != 0 || (digits | letters) != kHigh) return std::nullopt;
  x = (x & 0x0F0F0F0F0F0F0F0FULL) + (letters >> 7) * 9;  // nibble values, first digit lowest
  x = __builtin_bswap64(x);                              // first digit highest
  x = (x | x >> 4) & 0x00FF00FF00FF00FFULL;
  x = (x | x >> 8) & 0x0000FFFF0000FFFFULL;
  x = (x | x >> 16) & 0x00000000FFFFFFFFULL;
  return static_cast<uint32_t>(x);
}

// Writes 2n lowercase hex digits for n bytes.
void ToHex(const uint8_t* bytes, size_t n, char* out);

#if defined(__SSE2__)
// The 32 lowercase hex digits of 16 bytes: the first 16 digits in `first`, the rest in `second`.
inline __attribute__((always_inline)) void Hex128(__m128i bytes, __m128i& first, __m128i& second) {
  const __m128i low_nibbles = _mm_set1_epi8(0x0F);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibbles);
  const __m128i lo = _mm_and_si128(bytes, low_nibbles);
  auto ascii = [](__m128i n) {  // n + '0', plus 'a' - '0' - 10 where n > 9
    const __m128i letter = _mm_cmpgt_epi8(n, _mm_set1_epi8(9));
    return _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8('0')),
                        _mm_and_si128(letter, _mm_set1_epi8('a' - '0' - 10)));
  };
  first = ascii(_mm_unpacklo_epi8(hi, lo));
  second = ascii(_mm_unpackhi_epi8(hi, lo));
}
#endif

// Writes 32 lowercase hex digits for 16 bytes (a UUID, an MD5 digest).
inline void PutHex128(const uint8_t* bytes, char* out) {
#if defined(__SSE2__)
  __m128i first, second;
  Hex128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)), first, second);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), first);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), second);
#else
  ToHex(bytes, 16, out);
#endif
}

// Reads exactly 16 lowercase hex digits; nullopt if any character is something else.
inline __attribute__((always_inline)) std::optional<uint64_t> GetHex64(const char* in) {
#if defined(__SSE2__)
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
  // Signed byte compares: a byte of 0x80 or more is negative and falls in neither range.
  auto in_range = [&](char lo, char hi) {
    return _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8(static_cast<char>(lo - 1))),
                         _mm_cmplt_epi8(c, _mm_set1_epi8(static_cast<char>(hi + 1))));
  };
  const __m128i letters = in_range('a', 'f');
  if (_mm_movemask_epi8(_mm_or_si128(in_range('0', '9'), letters)) != 0xFFFF) return std::nullopt;
  // Nibble values, then each pair of them (first digit in the low byte of a 16-bit lane) made
  // one byte, and the eight bytes packed together, first digit's byte lowest.
  const __m128i nibbles =
      _mm_add_epi8(_mm_and_si128(c, _mm_set1_epi8(0x0F)), _mm_and_si128(letters, _mm_set1_epi8(9)));
  const __m128i pairs = _mm_and_si128(
      _mm_or_si128(_mm_slli_epi16(nibbles, 4), _mm_srli_epi16(nibbles, 8)), _mm_set1_epi16(0xFF));
  const uint64_t x = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_packus_epi16(pairs, pairs)));
  return __builtin_bswap64(x);
#else
  const std::optional<uint32_t> hi = GetHex32(in), lo = GetHex32(in + 8);
  if (!hi || !lo) return std::nullopt;
  return uint64_t{*hi} << 32 | *lo;
#endif
}

}  // namespace courier::detail

#endif  // COURIER_DETAIL_HEX_H_
