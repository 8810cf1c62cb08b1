#include "events/compact_detail.h"

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace courier::events_internal {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// First position in [p, end) holding '"', '\\', a control character or a byte of a multi-byte
// UTF-8 sequence: what a string's scan must look at. Plain ASCII is passed 16 bytes at a time.
const char* FindStringSpecial(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compare: bytes >= 0x80 are negative, so below ' ' too.
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                     _mm_cmplt_epi8(chunk, space));
    if (const int mask = _mm_movemask_epi8(special); mask != 0) {
      return p + __builtin_ctz(static_cast<unsigned>(mask));
    }
    p += 16;
  }
#endif
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
    ++p;
  }
  return p;
}

// First position in [p, end) that is not a decimal digit, 16 bytes at a time.
const char* SkipDigits(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i below = _mm_set1_epi8('0' - 1);
  const __m128i above = _mm_set1_epi8('9' + 1);
  while (end - p >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(chunk, below), _mm_cmplt_epi8(chunk, above));
    const int other = ~_mm_movemask_epi8(digit) & 0xFFFF;
    if (other != 0) return p + __builtin_ctz(static_cast<unsigned>(other));
    p += 16;
  }
#endif
  while (p < end && IsDigit(*p)) ++p;
  return p;
}

// Length of the well-formed UTF-8 sequence at p (its lead byte >= 0x80), or 0: no overlong
// forms, no surrogates, nothing above U+10FFFF.
size_t Utf8SequenceLength(const char* p, const char* end) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  const size_t left = static_cast<size_t>(end - p);
  auto continuation = [&](size_t i) { return i < left && (u[i] & 0xC0) == 0x80; };
  const unsigned lead = u[0];
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && u[1] < 0xA0) return 0;  // overlong
    if (lead == 0xED && u[1] > 0x9F) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && u[1] < 0x90) return 0;  // overlong
    if (lead == 0xF4 && u[1] > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// `\uXXXX` at p: its UTF-16 unit, or -1.
int Utf16Unit(const char* p, const char* end) {
  if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return -1;
  int unit = 0;
  for (int i = 2; i < 6; ++i) {
    const char h = p[i];
    if (!IsHex(h)) return -1;
    unit = unit * 16 + (IsDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
  }
  return unit;
}

// At a backslash: one escape; a \u escape of a high surrogate needs its low half after it.
const char* ScanEscape(const char* p, const char* end) {
  if (end - p < 2) return nullptr;
  switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      return p + 2;
    default:
      break;
  }
  const int unit = Utf16Unit(p, end);
  if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return nullptr;  // a low half alone
  if (unit < 0xD800 || unit > 0xDBFF) return p + 6;
  const int low = Utf16Unit(p + 6, end);
  return low >= 0xDC00 && low <= 0xDFFF ? p + 12 : nullptr;
}

// The scanners take the position of a token's first character and return the position after
// it, or nullptr if it is malformed. They work on local pointers so that the hot loop keeps
// its position in a register.

// At the opening quote.
const char* ScanString(const char* p, const char* end) {
  ++p;
  for (;;) {
    p = FindStringSpecial(p, end);
    if (p == end) return nullptr;
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') return p + 1;
    if (c == '\\') {
      p = ScanEscape(p, end);
      if (p == nullptr) return nullptr;
    } else if (c < 0x20) {
      return nullptr;
    } else if (const size_t n = Utf8SequenceLength(p, end); n != 0) {
      p += n;
    } else {
      return nullptr;
    }
  }
}

// RFC 8259's number; an integer (no fraction, no exponent) must fit in int64.
const char* ScanNumber(const char* p, const char* end) {
  const bool negative = *p == '-';
  if (negative) ++p;
  const char* digits = p;
  if (p != end && *p == '0') {
    ++p;
  } else if (p != end && IsDigit(*p)) {
    p = SkipDigits(p, end);
  } else {
    return nullptr;
  }
  const size_t integer_digits = static_cast<size_t>(p - digits);
  bool integer = true;
  if (p != end && *p == '.') {
    integer = false;
    const char* first = ++p;
    p = SkipDigits(p, end);
    if (p == first) return nullptr;
  }
  if (p != end && (*p == 'e' || *p == 'E')) {
    integer = false;
    ++p;
    if (p != end && (*p == '+' || *p == '-')) ++p;
    const char* first = p;
    p = SkipDigits(p, end);
    if (p == first) return nullptr;
  }
  if (integer && integer_digits >= 19) {
    if (integer_digits > 19) return nullptr;
    const char* limit = negative ? "9223372036854775808" : "9223372036854775807";
    if (std::memcmp(digits, limit, 19) > 0) return nullptr;
  }
  return p;
}

const char* ScanWord(const char* p, const char* end, std::string_view word) {
  if (static_cast<size_t>(end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0) {
    return nullptr;
  }
  return p + word.size();
}

const char* ScanScalar(const char* p, const char* end) {
  switch (*p) {
    case '"':
      return ScanString(p, end);
    case 't':
      return ScanWord(p, end, "true");
    case 'f':
      return ScanWord(p, end, "false");
    case 'n':
      return ScanWord(p, end, "null");
    default:
      return *p == '-' || IsDigit(*p) ? ScanNumber(p, end) : nullptr;
  }
}

// Reads the detail once and appends it to `out` in runs: the text between two stretches of
// whitespace is copied at the second, so a detail without any is copied by one append at the
// end. Containers are tracked in a bit stack (set: an object), not by recursion.
bool Compact(const char* p, const char* const end, std::string& out) {
  const char* run = p;  // the start of what is read and not yet copied
  auto skip_space = [&] {
    if (p == end || !IsSpace(*p)) return;
    out.append(run, static_cast<size_t>(p - run));
    while (p != end && IsSpace(*p)) ++p;
    run = p;
  };
  std::array<uint64_t, (kMaxDetailDepth + 63) / 64> kinds{};
  size_t depth = 0;
  auto in_object = [&] { return (kinds[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1; };
  auto key = [&] {  // `"name" :`, after which a value is expected
    skip_space();
    if (p == end || *p != '"' || (p = ScanString(p, end)) == nullptr) return false;
    skip_space();
    if (p == end || *p != ':') return false;
    ++p;
    return true;
  };

  skip_space();
  if (p == end || *p != '{') return false;
  for (;;) {  // a value is expected here
    skip_space();
    if (p == end) return false;
    const char c = *p;
    if (c == '{' || c == '[') {
      if (depth == kMaxDetailDepth) return false;
      const uint64_t bit = uint64_t{1} << (depth % 64);
      kinds[depth / 64] = c == '{' ? kinds[depth / 64] | bit : kinds[depth / 64] & ~bit;
      ++depth;
      ++p;
      skip_space();
      if (p == end) return false;
      if (*p != (c == '{' ? '}' : ']')) {
        if (c == '{' && !key()) return false;
        continue;
      }
      ++p;
      --depth;
    } else if ((p = ScanScalar(p, end)) == nullptr) {
      return false;
    }
    // After a value: close containers until a ',' asks for the next value.
    for (;;) {
      skip_space();
      if (depth == 0) {
        out.append(run, static_cast<size_t>(p - run));
        return p == end;
      }
      if (p == end) return false;
      const bool object = in_object();
      if (*p == ',') {
        ++p;
        if (object && !key()) return false;
        break;
      }
      if (*p != (object ? '}' : ']')) return false;
      ++p;
      --depth;
    }
  }
}

}  // namespace

bool AppendCompactDetail(std::string_view detail, std::string& out) {
  const size_t before = out.size();
  out.reserve(before + detail.size());
  if (Compact(detail.data(), detail.data() + detail.size(), out)) return true;
  out.resize(before);
  return false;
}

}  // namespace courier::events_internal
