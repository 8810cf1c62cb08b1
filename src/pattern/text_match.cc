// IP parsing, wildcard and case-insensitive matching used by the compiled patterns.
#include <locale.h>
#include <wctype.h>

#include <cstring>

#include "pattern/pattern_ir.h"

namespace courier::pattern_internal {
namespace {

bool ParseIpv4(std::string_view s, uint8_t out[4]) {
  int part = 0;
  size_t i = 0;
  while (part < 4) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    int v = 0, digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i] - '0');
      if (++digits > 3 || v > 255) return false;
      ++i;
    }
    out[part++] = static_cast<uint8_t>(v);
    if (part < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseIpv6(std::string_view s, uint8_t out[16]) {
  uint16_t groups[8] = {};
  int count = 0, gap = -1;
  size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    i = 2;
    if (i == s.size()) {
      std::memset(out, 0, 16);
      return true;
    }
  } else if (!s.empty() && s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    if (count >= 8) return false;
    // An embedded IPv4 tail.
    size_t next_colon = s.find(':', i);
    std::string_view rest =
        s.substr(i, next_colon == std::string_view::npos ? s.npos : next_colon - i);
    if (next_colon == std::string_view::npos && rest.find('.') != std::string_view::npos) {
      uint8_t v4[4];
      if (count > 6 || !ParseIpv4(rest, v4)) return false;
      groups[count++] = static_cast<uint16_t>(v4[0] << 8 | v4[1]);
      groups[count++] = static_cast<uint16_t>(v4[2] << 8 | v4[3]);
      i = s.size();
      break;
    }
    int v = 0, digits = 0;
    while (i < s.size() && Hex(s[i]) >= 0) {
      v = v * 16 + Hex(s[i]);
      if (++digits > 4) return false;
      ++i;
    }
    if (digits == 0) return false;
    groups[count++] = static_cast<uint16_t>(v);
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (gap >= 0) return false;
      gap = count;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return false;
    }
  }
  if (gap < 0 && count != 8) return false;
  if (gap >= 0 && count > 7) return false;
  uint16_t full[8] = {};
  if (gap < 0) {
    std::memcpy(full, groups, sizeof(full));
  } else {
    int tail = count - gap;
    for (int k = 0; k < gap; ++k) full[k] = groups[k];
    for (int k = 0; k < tail; ++k) full[8 - tail + k] = groups[gap + k];
  }
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<uint8_t>(full[k] & 0xFF);
  }
  return true;
}

locale_t Utf8Locale() {
  static locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    return l;
  }();
  return loc;
}

// Decodes one UTF-8 code point at s[i]; advances i. Invalid bytes decode as themselves.
uint32_t DecodeUtf8(std::string_view s, size_t* i) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (*i + static_cast<size_t>(len) > s.size()) len = 1;
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3F);
  *i += static_cast<size_t>(len);
  return cp;
}

void EncodeUtf8(uint32_t cp, std::string* out) {
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

bool StartsWithAt(std::string_view s, size_t at, std::string_view lit) {
  return s.size() - at >= lit.size() && s.compare(at, lit.size(), lit) == 0;
}

}  // namespace

bool ParseIp(std::string_view text, IpAddress* out) {
  *out = IpAddress{};
  if (text.find(':') != std::string_view::npos) {
    out->v6 = true;
    return ParseIpv6(text, out->bytes.data());
  }
  return ParseIpv4(text, out->bytes.data());
}

IpAddress MaskIp(const IpAddress& ip, int bits) {
  IpAddress r = ip;
  int total = ip.v6 ? 128 : 32;
  for (int b = bits; b < total; ++b) r.bytes[b / 8] &= static_cast<uint8_t>(~(0x80 >> (b % 8)));
  return r;
}

WildcardParts SplitWildcard(std::string_view p) {
  WildcardParts w;
  std::string cur;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      cur.push_back(p[++i]);
    } else if (c == '*') {
      w.literals.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  w.literals.push_back(std::move(cur));
  return w;
}

// literals has k+1 entries for k stars: the first must be a prefix, the last a suffix, the
// middle ones found in order (greedy leftmost is optimal for '*'-only globs).
bool WildcardMatches(const WildcardParts& w, std::string_view s) {
  const auto& lit = w.literals;
  if (lit.size() == 1) return s == lit[0];
  const std::string& head = lit.front();
  const std::string& tail = lit.back();
  if (s.size() < head.size() + tail.size()) return false;
  if (s.compare(0, head.size(), head) != 0) return false;
  if (s.compare(s.size() - tail.size(), tail.size(), tail) != 0) return false;
  size_t pos = head.size();
  size_t limit = s.size() - tail.size();
  for (size_t k = 1; k + 1 < lit.size(); ++k) {
    if (lit[k].empty()) continue;
    size_t found = s.substr(0, limit).find(lit[k], pos);
    if (found == std::string_view::npos) return false;
    pos = found + lit[k].size();
  }
  return pos <= limit;
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void AsciiLower(std::string_view s, std::string* out) {
  out->resize(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    (*out)[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
}

CaseAlternatives BuildCaseAlternatives(std::string_view pattern) {
  CaseAlternatives alts;
  locale_t loc = Utf8Locale();
  size_t i = 0;
  while (i < pattern.size()) {
    uint32_t cp = DecodeUtf8(pattern, &i);
    std::string lower, upper;
    if (loc != static_cast<locale_t>(nullptr)) {
      EncodeUtf8(static_cast<uint32_t>(towlower_l(static_cast<wint_t>(cp), loc)), &lower);
      if (cp == 0xDF) {
        upper = "SS";  // Java's String.toUpperCase: the one multi-character mapping that matters
      } else {
        EncodeUtf8(static_cast<uint32_t>(towupper_l(static_cast<wint_t>(cp), loc)), &upper);
      }
    } else {
      EncodeUtf8(cp, &lower);
      upper = lower;
    }
    std::vector<std::string> pos{lower};
    if (upper != lower) pos.push_back(upper);
    alts.positions.push_back(std::move(pos));
  }
  return alts;
}

bool CaseAlternativesMatch(const CaseAlternatives& alts, std::string_view s, Anchor anchor) {
  // Sets of reachable offsets in s after each pattern position (alternatives differ in length).
  std::vector<size_t> cur, next;
  if (anchor == Anchor::kSuffix) {
    for (size_t start = 0; start <= s.size(); ++start) cur.push_back(start);
  } else {
    cur.push_back(0);
  }
  for (const auto& pos : alts.positions) {
    next.clear();
    for (size_t at : cur) {
      for (const std::string& alt : pos) {
        if (StartsWithAt(s, at, alt)) next.push_back(at + alt.size());
      }
    }
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    cur.swap(next);
    if (cur.empty()) return false;
  }
  if (anchor == Anchor::kPrefix) return true;
  return std::find(cur.begin(), cur.end(), s.size()) != cur.end();
}

}  // namespace courier::pattern_internal
