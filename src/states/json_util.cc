#include "states/json_util.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

namespace courier::states_internal {

double AsDouble(const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::int64:
      return static_cast<double>(v.get_int64());
    case boost::json::kind::uint64:
      return static_cast<double>(v.get_uint64());
    case boost::json::kind::double_:
      return v.get_double();
    default:
      return 0;
  }
}

std::optional<int64_t> AsInteger(const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::int64:
      return v.get_int64();
    case boost::json::kind::uint64:
      if (v.get_uint64() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(v.get_uint64());
    case boost::json::kind::double_: {
      double d = v.get_double();
      if (std::trunc(d) != d || std::fabs(d) > 9.0e15) return std::nullopt;
      return static_cast<int64_t>(d);
    }
    default:
      return std::nullopt;
  }
}

bool JsonEquals(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_double() || b.is_double()) return AsDouble(a) == AsDouble(b);
    return a == b;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case boost::json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x) {
        auto it = y.find(k);
        if (it == y.end() || !JsonEquals(v, it->value())) return false;
      }
      return true;
    }
    case boost::json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsonEquals(x[i], y[i])) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

namespace {
// Adds an upper estimate of the text size of `v` to `size`; false once over `limit`.
bool AddSize(const Json& v, size_t limit, size_t& size) {
  switch (v.kind()) {
    case boost::json::kind::string:
      size += v.get_string().size() + 2;
      break;
    case boost::json::kind::array:
      size += 2;
      for (const auto& e : v.get_array()) {
        ++size;
        if (!AddSize(e, limit, size)) return false;
      }
      break;
    case boost::json::kind::object:
      size += 2;
      for (const auto& [k, e] : v.get_object()) {
        size += k.size() + 4;
        if (!AddSize(e, limit, size)) return false;
      }
      break;
    default:
      size += 8;
      break;
  }
  return size <= limit;
}
}  // namespace

bool JsonLargerThan(const Json& value, size_t limit) {
  size_t estimate = 0;
  if (AddSize(value, limit, estimate)) return false;
  // The estimate is generous (escapes aside): confirm with the exact text.
  return ToJsonText(value).size() > limit;
}

std::optional<absl::Time> ParseTimestamp(std::string_view s) {
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (!digits(0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
      !digits(8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, h) || s[13] != ':' ||
      !digits(14, 2, mi) || s[16] != ':' || !digits(17, 2, sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  absl::Duration frac = absl::ZeroDuration();
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    double scale = 0.1;
    double f = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      f += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    frac = absl::Seconds(f);
  }
  if (pos >= s.size()) return std::nullopt;
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  absl::CivilSecond cs(y, mo, d, h, mi, sec);
  if (cs.day() != d || cs.month() != mo) return std::nullopt;  // 2024-02-31 normalises
  return absl::FromCivil(cs, absl::UTCTimeZone()) - absl::Minutes(offset_minutes) + frac;
}

std::string FormatTimestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string_view JsonTypeName(const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "boolean";
    case boost::json::kind::string:
      return "string";
    case boost::json::kind::array:
      return "array";
    case boost::json::kind::object:
      return "object";
    default:
      return "number";
  }
}

}  // namespace courier::states_internal
