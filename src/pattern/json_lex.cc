#include "pattern/json_lex.h"

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

// Classes for skipping: 1 quote, 2 open, 3 close.
struct SkipTable {
  uint8_t cls[256] = {};
  constexpr SkipTable() {
    cls[static_cast<uint8_t>('"')] = 1;
    cls[static_cast<uint8_t>('{')] = 2;
    cls[static_cast<uint8_t>('[')] = 2;
    cls[static_cast<uint8_t>('}')] = 3;
    cls[static_cast<uint8_t>(']')] = 3;
  }
};
constexpr SkipTable kSkip;

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

// Digits of a decimal text without leading/trailing zeros, and the power of ten of its first
// digit: 300 -> ("3", 2), 0.05 -> ("5", -2). Zero -> ("", 0).
struct Decimal {
  bool negative = false;
  std::string digits;
  int exponent = 0;
};

Decimal Normalize(std::string_view text) {
  Decimal d;
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) d.negative = text[i++] == '-';
  int int_digits = 0;
  bool seen_point = false;
  int leading_zeros_after_point = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      seen_point = true;
    } else if (c >= '0' && c <= '9') {
      if (d.digits.empty() && c == '0') {
        if (seen_point) ++leading_zeros_after_point;
        continue;
      }
      d.digits.push_back(c);
      if (!seen_point) ++int_digits;
    } else {
      break;  // exponent
    }
  }
  long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
    for (; i < text.size() && exp < 100000; ++i) exp = exp * 10 + (text[i] - '0');
    if (neg) exp = -exp;
  }
  while (!d.digits.empty() && d.digits.back() == '0') d.digits.pop_back();
  if (d.digits.empty()) return Decimal{};
  d.exponent =
      static_cast<int>(exp) + (int_digits > 0 ? int_digits - 1 : -leading_zeros_after_point - 1);
  return d;
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
    int level = 0;
    while (p < end) {
      switch (kSkip.cls[static_cast<uint8_t>(*p)]) {
        case 1: {
          std::string_view raw;
          bool esc;
          p = ScanString(p + 1, end, &raw, &esc);
          if (p == nullptr) return nullptr;
          continue;
        }
        case 2:
          if (++level + depth > kMaxJsonDepth) return nullptr;
          break;
        case 3:
          if (--level == 0) return p + 1;
          break;
        default:
          break;
      }
      ++p;
    }
    return nullptr;
  }
  if (c == 't') return (end - p >= 4 && std::memcmp(p, "true", 4) == 0) ? p + 4 : nullptr;
  if (c == 'f') return (end - p >= 5 && std::memcmp(p, "false", 5) == 0) ? p + 5 : nullptr;
  if (c == 'n') return (end - p >= 4 && std::memcmp(p, "null", 4) == 0) ? p + 4 : nullptr;
  int sig;
  return ScanNumber(p, end, &sig);
}

NumberValue ParseNumber(std::string_view text, int significant_digits) {
  NumberValue n;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, n.value);
  if (ec != std::errc() || ptr != last || !std::isfinite(n.value)) return NumberValue{};
  if (n.value == 0) n.value = 0;  // -0.0 == 0
  if (significant_digits <= 15) {
    n.comparable = true;  // every decimal of <= 15 digits survives a round trip through double
    return n;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), n.value);
  Decimal a = Normalize(text);
  Decimal b = Normalize(std::string_view(buf, static_cast<size_t>(res.ptr - buf)));
  n.comparable = a.digits == b.digits && a.exponent == b.exponent;
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
