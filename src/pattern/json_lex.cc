#include "pattern/json_lex.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace courier::pattern_internal {
namespace {

// First position in [p, end) holding '"' or '\\', or end.
inline const char* FindQuoteOrBackslash(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    int mask = _mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && *p != '"' && *p != '\\') ++p;
  return p;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Without -mpopcnt, __builtin_popcountll is a libgcc call; the SWAR form is inline. (No ifunc
// multiversioning: its resolver runs before the sanitizers' runtimes start.)
inline int Popcount64(uint64_t x) {
#if defined(__POPCNT__)
  return __builtin_popcountll(x);
#else
  x -= (x >> 1) & 0x5555555555555555ull;
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return static_cast<int>((x * 0x0101010101010101ull) >> 56);
#endif
}

const char* SkipContainer(const char* p, const char* end, int max_depth, int initial_depth) {
  int depth = initial_depth;
  bool in_string = false, escape = false;
  auto scalar = [&](const char* from, const char* to) -> const char* {
    for (const char* q = from; q < to; ++q) {
      char c = *q;
      if (in_string) {
        if (escape) {
          escape = false;
        } else if (c == '\\') {
          escape = true;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        if (++depth > max_depth) return end + 1;  // too deep
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return q + 1;
      }
    }
    return nullptr;
  };
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  const __m128i lbrace = _mm_set1_epi8('{'), rbrace = _mm_set1_epi8('}');
  const __m128i lbracket = _mm_set1_epi8('['), rbracket = _mm_set1_epi8(']');
  while (end - p >= 64) {
    uint64_t q = 0, b = 0, o = 0, cl = 0;
    for (int k = 0; k < 4; ++k) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
      auto bits = [&](__m128i m) {
        return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(m))) << (16 * k);
      };
      q |= bits(_mm_cmpeq_epi8(v, quote));
      b |= bits(_mm_cmpeq_epi8(v, backslash));
      o |= bits(_mm_or_si128(_mm_cmpeq_epi8(v, lbrace), _mm_cmpeq_epi8(v, lbracket)));
      cl |= bits(_mm_or_si128(_mm_cmpeq_epi8(v, rbrace), _mm_cmpeq_epi8(v, rbracket)));
    }
    if (b != 0 || escape) {
      const char* r = scalar(p, p + 64);
      if (r == end + 1) return nullptr;
      if (r != nullptr) return r;
      p += 64;
      continue;
    }
    uint64_t inside = q;
    inside ^= inside << 1;
    inside ^= inside << 2;
    inside ^= inside << 4;
    inside ^= inside << 8;
    inside ^= inside << 16;
    inside ^= inside << 32;
    if (in_string) inside = ~inside;
    in_string = (inside >> 63) != 0;
    o &= ~inside;
    cl &= ~inside;
    int closes = Popcount64(cl);
    if (depth - closes > 0) {
      depth += Popcount64(o) - closes;
      if (depth > max_depth) return nullptr;
      p += 64;
      continue;
    }
    uint64_t all = o | cl;
    while (all != 0) {
      int i = __builtin_ctzll(all);
      if ((o >> i) & 1) {
        if (++depth > max_depth) return nullptr;
      } else if (--depth == 0) {
        return p + i + 1;
      }
      all &= all - 1;
    }
    p += 64;
  }
#endif
  const char* r = scalar(p, end);
  return r == end + 1 ? nullptr : r;
}

}  // namespace

const char* ScanString(const char* p, const char* end, std::string_view* raw, bool* has_escape) {
  const char* start = p;
  bool escaped = false;
  for (;;) {
    p = FindQuoteOrBackslash(p, end);
    if (p >= end) return nullptr;
    if (*p == '"') break;
    escaped = true;
    p += 2;  // skip the escaped character (validated by Unescape)
    if (p > end) return nullptr;
  }
  *raw = std::string_view(start, static_cast<size_t>(p - start));
  *has_escape = escaped;
  return p + 1;
}

bool Unescape(std::string_view raw, std::string* out) {
  out->clear();
  out->reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (static_cast<unsigned char>(c) < 0x20) return false;
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= raw.size()) return false;
    switch (raw[i]) {
      case '"':
        out->push_back('"');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '/':
        out->push_back('/');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        auto read4 = [&](size_t at, uint32_t* v) {
          if (at + 4 > raw.size()) return false;
          *v = 0;
          for (size_t k = 0; k < 4; ++k) {
            int h = HexValue(raw[at + k]);
            if (h < 0) return false;
            *v = *v * 16 + static_cast<uint32_t>(h);
          }
          return true;
        };
        uint32_t cp;
        if (!read4(i + 1, &cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 2 < raw.size() && raw[i + 1] == '\\' &&
            raw[i + 2] == 'u') {
          uint32_t lo;
          if (read4(i + 3, &lo) && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

const char* ScanNumber(const char* p, const char* end, int* significant_digits) {
  int sig = 0;
  bool nonzero_seen = false;
  if (p < end && *p == '-') ++p;
  if (p >= end) return nullptr;
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    while (p < end && *p >= '0' && *p <= '9') {
      nonzero_seen = true;
      ++sig;
      ++p;
    }
  } else {
    return nullptr;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p >= end || *p < '0' || *p > '9') return nullptr;
    while (p < end && *p >= '0' && *p <= '9') {
      if (*p != '0') nonzero_seen = true;
      if (nonzero_seen) ++sig;
      ++p;
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p >= end || *p < '0' || *p > '9') return nullptr;
    while (p < end && *p >= '0' && *p <= '9') ++p;
  }
  *significant_digits = sig;
  return p;
}

const char* SkipRest(const char* p, const char* end, int levels) {
  if (levels <= 0 || levels > kMaxJsonDepth) return nullptr;
  return SkipContainer(p, end, kMaxJsonDepth, levels);
}

const char* SkipValue(const char* p, const char* end, int depth) {
  if (p >= end) return nullptr;
  char c = *p;
  if (c == '"') {
    std::string_view raw;
    bool esc;
    return ScanString(p + 1, end, &raw, &esc);
  }
  if (c == '{' || c == '[') {
    if (depth >= kMaxJsonDepth) return nullptr;
    return SkipContainer(p, end, kMaxJsonDepth - depth, 0);
  }
  if (c == 't') return (end - p >= 4 && std::memcmp(p, "true", 4) == 0) ? p + 4 : nullptr;
  if (c == 'f') return (end - p >= 5 && std::memcmp(p, "false", 5) == 0) ? p + 5 : nullptr;
  if (c == 'n') return (end - p >= 4 && std::memcmp(p, "null", 4) == 0) ? p + 4 : nullptr;
  int sig;
  return ScanNumber(p, end, &sig);
}

bool ParseDouble(std::string_view text, double* value) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(*value)) {
    return false;
  }
  if (*value == 0) *value = 0;  // -0.0 == 0
  return true;
}

bool IsShortestText(std::string_view text, int significant_digits, double value) {
  // Every decimal of <= 15 digits survives a round trip through double.
  if (significant_digits <= 15) return true;
  // The shortest text of the double in scientific form, "-d.ddde+XX": compare its digits and
  // exponent with the text's, in one pass and without building either.
  char buf[40];
  auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  const char* sp = buf;
  const char* se = res.ptr;
  if (sp < se && *sp == '-') ++sp;
  const char* e_pos = std::find(sp, se, 'e');
  int s_exp = 0;
  {
    int sign = 1;
    const char* q = e_pos + 1;
    if (q < se && (*q == '-' || *q == '+')) sign = *q++ == '-' ? -1 : 1;
    for (; q < se; ++q) s_exp = s_exp * 10 + (*q - '0');
    s_exp *= sign;
  }
  // Walk the text's significant digits.
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  int int_digits = 0, leading_zeros = 0;
  bool point = false, started = false;
  const char* sd = sp;  // next digit of the shortest form
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    if (!started && c == '0') {
      if (point) ++leading_zeros;
      continue;
    }
    started = true;
    if (!point) ++int_digits;
    while (sd < e_pos && *sd == '.') ++sd;
    if (sd < e_pos) {
      if (*sd != c) return false;
      ++sd;
    } else if (c != '0') {
      return false;  // more non-zero digits than the shortest form has
    }
  }
  while (sd < e_pos && *sd == '.') ++sd;
  if (sd != e_pos) return false;  // the shortest form has more digits
  int exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    int sign = 1;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) sign = text[i++] == '-' ? -1 : 1;
    for (; i < text.size() && exp < 100000; ++i) exp = exp * 10 + (text[i] - '0');
    exp *= sign;
  }
  int t_exp = exp + (int_digits > 0 ? int_digits - 1 : -leading_zeros - 1);
  return t_exp == s_exp;
}

double ToFiveDecimals(double value) {
  if (!(std::fabs(value) < 1e13)) return value;
  return std::round(value * 1e5) / 1e5;
}

NumberValue ParseNumber(std::string_view text, int significant_digits) {
  NumberValue n;
  if (!ParseDouble(text, &n.value)) return NumberValue{};
  n.comparable = IsShortestText(text, significant_digits, n.value);
  return n;
}

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

}  // namespace courier::pattern_internal
