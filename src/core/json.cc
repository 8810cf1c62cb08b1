#include "courier/json.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>
#include <iterator>

namespace courier {

absl::StatusOr<Json> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 1024;
  Json value =
      boost::json::parse(boost::json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) {
    return absl::InvalidArgumentError(fmt::format("invalid JSON: {}", ec.message()));
  }
  return value;
}

namespace {

void AppendString(std::string_view s, std::string& out) {
  out.push_back('"');
  size_t run = 0;  // start of the pending run of characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

}  // namespace

void AppendJsonNumber(const Json& v, std::string& out) {
  if (v.is_int64()) {
    fmt::format_int text(v.get_int64());
    out.append(text.data(), text.size());
  } else if (v.is_uint64()) {
    fmt::format_int text(v.get_uint64());
    out.append(text.data(), text.size());
  } else {
    // As AWS's services (Java's Double.toString) write doubles: plain from 10^-3 to 10^7, with
    // ".0" when whole (5.0); else the shortest digits in scientific form (1.7672256E9, 1.0E-4).
    const double d = v.get_double();
    const double a = std::fabs(d);
    if (!std::isfinite(d)) {
      out += "null";
    } else if (a == 0 || (a >= 1e-3 && a < 1e7)) {
      if (std::trunc(d) == d) {
        fmt::format_to(std::back_inserter(out), "{:.1f}", d);
      } else {
        fmt::format_to(std::back_inserter(out), "{}", d);
      }
    } else {
      char buf[40];
      const auto [end, ec] =
          std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
      const std::string_view text(buf, static_cast<size_t>(end - buf));  // "1.7672256e+09"
      const size_t e = text.find('e');
      std::string_view mantissa = text.substr(0, e);
      out.append(mantissa);
      if (mantissa.find('.') == std::string_view::npos) out += ".0";
      out.push_back('E');
      std::string_view exponent = text.substr(e + 1);
      if (exponent.front() == '-') {
        out.push_back('-');
      }
      exponent.remove_prefix(1);  // the sign
      while (exponent.size() > 1 && exponent.front() == '0') exponent.remove_prefix(1);
      out.append(exponent);
    }
  }
}

void AppendJsonText(const Json& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      AppendJsonNumber(v, out);
      break;
    case boost::json::kind::string:
      AppendString(v.get_string(), out);
      break;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonText(e, out);
      }
      out.push_back(']');
      break;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        AppendString(k, out);
        out.push_back(':');
        AppendJsonText(e, out);
      }
      out.push_back('}');
      break;
    }
  }
}

std::string ToJsonText(const Json& value) {
  std::string out;
  AppendJsonText(value, out);
  return out;
}

}  // namespace courier
