// Numbers compare by value only when their text is exactly the shortest text of their double.
#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "pattern/json_lex.h"

namespace {

using courier::pattern_internal::ParseNumber;
using courier::pattern_internal::ScanNumber;

bool Comparable(const std::string& text) {
  int sig = 0;
  const char* end = ScanNumber(text.data(), text.data() + text.size(), &sig);
  REQUIRE(end == text.data() + text.size());
  return ParseNumber(text, sig).comparable;
}

TEST_CASE("number texts that are exactly their double", "[pattern][number]") {
  CHECK(Comparable("300"));
  CHECK(Comparable("3.0e2"));
  CHECK(Comparable("-0.0"));
  CHECK(Comparable("37.80780792169409"));
  CHECK_FALSE(Comparable("37.807807921694092"));
  CHECK(Comparable("37.807807921694090000"));
  CHECK(Comparable("-122.42916360922355"));
  CHECK(Comparable("0.30000000000000004"));
  CHECK_FALSE(Comparable("0.30000000000000005"));
  CHECK(Comparable("1.2345678901234568e20"));
  CHECK_FALSE(Comparable("123456789012345678901"));
  CHECK_FALSE(Comparable("0.000012345678901234567"));  // shortest: ...568e-05
  CHECK(Comparable("0.000012345678901234568"));
  // An integer printed in full is not its double's shortest text (Java: 5.08814311756343E18).
  CHECK_FALSE(Comparable("-5088143117563430912"));
  CHECK(Comparable("12345678901234567e-30"));
  CHECK(Comparable("1e-320") == Comparable("1e-320"));  // subnormal: no crash

  std::mt19937_64 rng(1);
  for (int k = 0; k < 5000; ++k) {
    double d;
    uint64_t bits = rng();
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string shortest(buf, r.ptr);
    INFO(shortest);
    CHECK(Comparable(shortest));
    auto s = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific, 17);
    std::string seventeen(buf, s.ptr);
    // 17 significant digits name the same double; they are its text only if they are also the
    // shortest (then the extra digits are zeros).
    double back = 0;
    std::from_chars(seventeen.data(), seventeen.data() + seventeen.size(), back);
    CHECK(back == d);
    // Comparable exactly when the 17 digits, without trailing zeros, are the shortest digits.
    auto digits = [](const std::string& t) {
      std::string m = t.substr(0, t.find('e'));
      std::string out;
      for (char c : m) {
        if (c >= '0' && c <= '9') out.push_back(c);
      }
      while (out.size() > 1 && out.back() == '0') out.pop_back();
      return std::make_pair(out, t.substr(t.find('e')));
    };
    CHECK(Comparable(seventeen) == (digits(seventeen) == digits(shortest)));
  }
}

}  // namespace
