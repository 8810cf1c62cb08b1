// The expectation language of the script runner (tests/invoke_script.h): each matcher accepts
// what it should and refuses what it should, and a misspelt matcher fails instead of matching.
#include "invoke_script.h"

#include <catch2/catch.hpp>
#include <string>

namespace courier {
namespace {

// Whether `actual` (JSON text) matches `expected` (JSON text).
bool Matches(const std::string& expected, const std::string& actual) {
  const Json e = ParseJson(expected).value();
  const Json a = ParseJson(actual).value();
  const std::string why = testing_support::Mismatch(e, &a, "");
  INFO(expected << " against " << actual << ": " << why);
  return why.empty();
}

TEST_CASE("Script matchers: $ne", "[queue][invoke]") {
  CHECK(Matches(R"({"$ne":"a"})", R"("b")"));
  CHECK_FALSE(Matches(R"({"$ne":"a"})", R"("a")"));
  CHECK_FALSE(Matches(R"({"$ne":1})", "1.0"));  // numbers compare by value here too
  CHECK(Matches(R"({"Id":{"$ne":"x"}})", R"({"Id":"y"})"));
  CHECK_FALSE(Matches(R"({"Id":{"$ne":"x"}})", R"({})"));  // absent is not "not equal"
  CHECK(Matches(R"({"$ne":{"$prefix":"ab"}})", R"("xab")"));
  CHECK_FALSE(Matches(R"({"$ne":{"$prefix":"ab"}})", R"("abc")"));
}

TEST_CASE("Script matchers: $gt, $gte, $lt", "[queue][invoke]") {
  CHECK(Matches(R"({"$gt":1})", "2"));
  CHECK_FALSE(Matches(R"({"$gt":2})", "2"));
  CHECK(Matches(R"({"$gte":2})", "2"));
  CHECK_FALSE(Matches(R"({"$gte":2})", "1.5"));
  CHECK(Matches(R"({"$lt":"600"})", R"("599")"));
  CHECK_FALSE(Matches(R"({"$lt":"600"})", R"("600")"));
  CHECK(Matches(R"({"$gt":"1.5"})", R"("2")"));
  // 20-digit strings compare exactly (they differ beyond a double's precision).
  CHECK(Matches(R"({"$gt":"18446744073709551615"})", R"("18446744073709551616")"));
  CHECK_FALSE(Matches(R"({"$gt":"18446744073709551616"})", R"("18446744073709551615")"));
  CHECK(Matches(R"({"$gt":"00000000000000000009"})", R"("00000000000000000010")"));
  CHECK_FALSE(Matches(R"({"$gt":"1"})", R"("abc")"));  // not a number
  CHECK_FALSE(Matches(R"({"$gt":"x"})", "5"));         // nor is the operand
  CHECK_FALSE(Matches(R"({"$lt":5})", R"("")"));
}

TEST_CASE("Script matchers: $contains, $prefix, $suffix, $regex", "[queue][invoke]") {
  CHECK(Matches(R"({"$contains":"handle has"})", R"("The receipt handle has expired.")"));
  CHECK_FALSE(Matches(R"({"$contains":"handle is"})", R"("The receipt handle has expired.")"));
  CHECK(Matches(R"({"$prefix":"The"})", R"("The end")"));
  CHECK_FALSE(Matches(R"({"$prefix":"end"})", R"("The end")"));
  CHECK(Matches(R"({"$suffix":"end"})", R"("The end")"));
  CHECK_FALSE(Matches(R"({"$suffix":"The"})", R"("The end")"));
  CHECK_FALSE(Matches(R"({"$contains":"1"})", "1"));  // only strings
  CHECK(Matches(R"({"$regex":"[0-9]{20}"})", R"("00000000000000000012")"));
  CHECK_FALSE(Matches(R"({"$regex":"[0-9]{20}"})", R"("0000000000000000001")"));
  CHECK_FALSE(Matches(R"({"$regex":"[0-9]{3}"})", R"("1234")"));  // the whole string
}

TEST_CASE("Script matchers: $unordered", "[queue][invoke]") {
  CHECK(Matches(R"({"$unordered":["a","b"]})", R"(["b","a"])"));
  CHECK(Matches(R"({"$unordered":[{"Body":"a"},{"Body":"b"}]})",
                R"([{"Body":"b","Id":1},{"Body":"a","Id":2}])"));
  CHECK_FALSE(Matches(R"({"$unordered":["a","b"]})", R"(["a","a"])"));
  CHECK_FALSE(Matches(R"({"$unordered":["a","b"]})", R"(["a","b","c"])"));
  CHECK_FALSE(Matches(R"({"$unordered":["a"]})", R"("a")"));
  // Each expected element takes a different actual one: "*" must not steal the only "a".
  CHECK(Matches(R"({"$unordered":["*","a"]})", R"(["a","b"])"));
  CHECK_FALSE(Matches(R"({"$unordered":["a","a"]})", R"(["a","b"])"));
}

TEST_CASE("Script matchers: an unknown or malformed matcher fails loudly", "[queue][invoke]") {
  CHECK_FALSE(Matches(R"({"$neq":"a"})", R"("b")"));
  CHECK_FALSE(Matches(R"({"$ne":"a","$gt":1})", "2"));
  CHECK_FALSE(Matches(R"({"X":{"$startsWith":"a"}})", R"({"X":"abc"})"));
  CHECK_FALSE(Matches(R"({"$gt":1,"Other":2})", R"({"Other":2})"));
  CHECK_FALSE(Matches(R"({"$unordered":"a"})", R"(["a"])"));
  CHECK_FALSE(Matches(R"({"$prefix":1})", R"("1")"));
}

}  // namespace
}  // namespace courier
