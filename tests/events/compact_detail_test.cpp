// PutEvents' Detail check and compaction (events/compact_detail.h): explicit cases, then
// random and mutated documents against Boost.JSON's parser as the oracle.
#include "events/compact_detail.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <charconv>
#include <optional>
#include <random>
#include <string>

namespace courier::events_internal {
namespace {

constexpr size_t npos = std::string_view::npos;

// The oracle: Boost.JSON parses it into an object within the depth limit, and every integer in
// it (a number without '.', 'e' or 'E') fits in int64.
bool IntegersFitInt64(std::string_view text) {  // `text` is valid JSON
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c != '-' && (c < '0' || c > '9')) continue;
    size_t j = i;
    while (j < text.size() && std::string_view("0123456789.eE+-").find(text[j]) != npos) ++j;
    std::string_view number = text.substr(i, j - i);
    int64_t value = 0;
    if (number.find_first_of(".eE") == npos &&
        std::from_chars(number.data(), number.data() + number.size(), value).ec != std::errc{}) {
      return false;
    }
    i = j - 1;
  }
  return true;
}
// No answer (nullopt) for an exponent beyond Boost's int, which JSON does not limit.
std::optional<bool> OracleAccepts(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = kMaxDetailDepth;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec, {}, options);
  if (ec == boost::json::error::exponent_overflow) return std::nullopt;
  return !ec && v.is_object() && IntegersFitInt64(text);
}

std::string Compact(std::string_view text, bool* ok) {
  std::string out = "prefix:";
  *ok = AppendCompactDetail(text, out);
  if (!*ok) {
    CHECK(out == "prefix:");  // untouched on failure
    return "";
  }
  REQUIRE(out.starts_with("prefix:"));
  return out.substr(7);
}

bool Accepts(std::string_view text) {
  bool ok = false;
  Compact(text, &ok);
  return ok;
}

// `text` compacted when the reader accepts it, checked against Boost.JSON: accepted exactly when
// Boost.JSON accepts it, as the same value. nullopt when refused, or when the oracle cannot say.
std::optional<std::string> CompactChecked(const std::string& text) {
  bool ok = false;
  std::string out = Compact(text, &ok);
  const std::optional<bool> oracle = OracleAccepts(text);
  if (!oracle) return std::nullopt;
  REQUIRE(ok == *oracle);
  if (!ok) return std::nullopt;
  CHECK(boost::json::parse(out) == boost::json::parse(text));
  return out;
}

TEST_CASE("Detail: a JSON object, compacted", "[events][detail]") {
  bool ok = false;
  CHECK(Compact(" { \"a\" : [ 1 , 2.5e-3 , true , null ] ,\n\t\"b\":{ } , \"c\" : \" x y \" } ",
                &ok) == R"({"a":[1,2.5e-3,true,null],"b":{},"c":" x y "})");
  CHECK(ok);
  CHECK(Compact(R"({"s":"q\"uo\\te\/\b\f\n\r\t\u00e9\ud83d\ude00","u":"é😀"})", &ok) ==
        R"({"s":"q\"uo\\te\/\b\f\n\r\t\u00e9\ud83d\ude00","u":"é😀"})");
  CHECK(ok);
  CHECK(Accepts("{}"));
  CHECK(Accepts(R"({"n":-0,"m":0.0,"e":1E+2,"f":-1e-2,"big":9223372036854775807})"));
  CHECK(Accepts(R"({"min":-9223372036854775808,"dbl":99999999999999999999.5})"));
  CHECK(Accepts(R"({"exp":1e400,"huge":-2E99999999999999999999})"));
}

TEST_CASE("Detail: what EventBridge calls malformed", "[events][detail]") {
  for (const char* bad : {
           "",
           " ",
           "[1,2]",
           "\"text\"",
           "12",
           "null",
           "{",
           "}",
           "{\"a\":}",
           "{\"a\" 1}",
           "{\"a\":1,}",
           "{\"a\":1}x",
           "{\"a\":1}{}",
           "{a:1}",
           "{'a':1}",
           "{\"a\":[1,]}",
           "{\"a\":01}",
           "{\"a\":1.}",
           "{\"a\":.5}",
           "{\"a\":1e}",
           "{\"a\":+1}",
           "{\"a\":-}",
           "{\"a\":tru}",
           "{\"a\":nul}",
           "{\"a\":True}",
           "{\"a\":NaN}",
           "{\"a\":Infinity}",
           "{\"a\":\"\x01\"}",
           "{\"a\":\"tab\there\"}",
           "{\"a\":\"\\x\"}",
           "{\"a\":\"\\u12g4\"}",
           "{\"a\":\"open}",
           "{\"a\":\"\xff\"}",
           "{\"a\":\"\xc0\xaf\"}",
           "{\"a\":\"\xed\xa0\x80\"}",
           "{\"a\":\"\xf4\x90\x80\x80\"}",
           "{\"a\":\"\xe2\x82\"}",
           "{\"a\":1 /* c */}",
           "{\"big\":9223372036854775808}",
           "{\"small\":-9223372036854775809}",
           "{\"big\":99999999999999999999}",
           "{\"a\":[[[1]]]]}",
           "{\"a\":\"\\ud800\"}",
           "{\"a\":\"\\udc00\"}",
       }) {
    INFO(bad);
    CHECK_FALSE(Accepts(bad));
    CHECK(OracleAccepts(bad) == false);
  }
}

TEST_CASE("Detail: nesting up to the depth limit", "[events][detail]") {
  auto nested = [](int levels) {  // levels of objects and arrays, the outermost an object
    std::string s = "{\"a\":";
    for (int i = 1; i < levels; ++i) s += i % 2 ? "[" : "{\"a\":";
    s += "1";
    for (int i = levels - 1; i >= 1; --i) s += i % 2 ? "]" : "}";
    return s + "}";
  };
  CHECK(Accepts(nested(kMaxDetailDepth)));
  CHECK(OracleAccepts(nested(kMaxDetailDepth)) == true);
  CHECK(OracleAccepts(nested(kMaxDetailDepth + 1)) == false);
  CHECK_FALSE(Accepts(nested(kMaxDetailDepth + 1)));
  CHECK_FALSE(Accepts(nested(100000)));  // no recursion to overflow
}

// Random documents, then single-byte mutations of them: the two parsers agree on every one, and
// what is accepted compacts to the same value without whitespace outside strings.
std::string RandomValue(std::mt19937_64& rng, int depth) {
  static const char* kAtoms[] = {"0",     "-1",       "12.5",
                                 "3e7",   "-0.25E-3", "true",
                                 "false", "null",     "9223372036854775807",
                                 "\"\"",  "\"a b\"",  "\"\\n\\u0041\"",
                                 "\"é\"", "\"\\\"\""};
  const char* ws[] = {"", "", "", " ", "\n", "\t "};
  auto space = [&] { return std::string(ws[rng() % 6]); };
  switch (depth >= 4 ? 0 : rng() % 4) {
    case 1: {
      std::string s = "[" + space();
      for (size_t i = 0, n = rng() % 4; i < n; ++i) {
        s += (i ? "," : "") + space() + RandomValue(rng, depth + 1) + space();
      }
      return s + "]";
    }
    case 2: {
      std::string s = "{" + space();
      for (size_t i = 0, n = rng() % 4; i < n; ++i) {
        s += (i ? "," : "") + space() + "\"k" + std::to_string(i) + "\"" + space() + ":" + space() +
             RandomValue(rng, depth + 1) + space();
      }
      return s + "}";
    }
    default:
      return kAtoms[rng() % (sizeof kAtoms / sizeof *kAtoms)];
  }
}

TEST_CASE("Detail: agrees with Boost.JSON on random and mutated documents", "[events][detail]") {
  std::mt19937_64 rng(7);
  const std::string kBytes = "{}[],:\" \\0123456789.eE+-tfnulrsa\x01\xc3\xa9\xff";
  int accepted = 0, mutants = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string doc = "{\"d\":" + RandomValue(rng, 0) + "}";
    std::string text = doc;
    if (round % 3 != 0) {  // two of three mutated: a byte changed, inserted or removed
      const size_t at = rng() % text.size();
      const char b = kBytes[rng() % kBytes.size()];
      switch (rng() % 3) {
        case 0:
          text[at] = b;
          break;
        case 1:
          text.insert(text.begin() + static_cast<long>(at), b);
          break;
        default:
          text.erase(at, 1);
      }
      ++mutants;
    }
    INFO(text);
    const std::optional<std::string> compacted = CompactChecked(text);
    if (!compacted) continue;
    ++accepted;
    const std::string& out = *compacted;
    // No whitespace left outside strings: re-serialising the value of a document without
    // escapes in its strings gives the same length.
    size_t spaces_outside = 0;
    bool in_string = false;
    for (size_t i = 0; i < out.size(); ++i) {
      if (in_string && out[i] == '\\') {
        ++i;
      } else if (out[i] == '"') {
        in_string = !in_string;
      } else if (!in_string && (out[i] == ' ' || out[i] == '\n' || out[i] == '\t')) {
        ++spaces_outside;
      }
    }
    CHECK(spaces_outside == 0);
  }
  CHECK(accepted > 1000);  // the random documents, and mutants that stayed valid
  CHECK(mutants == 2000);
}

// Longer documents (up to a few kilobytes, as events are), and each kind of token after keys of
// every length from 50 to 140 bytes: no SIMD step of the reader misreads a token it straddles.
TEST_CASE("Detail: long documents, mutated, and tokens at every offset", "[events][detail]") {
  std::mt19937_64 rng(11);
  const std::string kBytes = "{}[],:\" \\0123456789.eE+-tfnulrsa\x01\xc3\xa9\xff";
  int accepted = 0;
  for (int round = 0; round < 1500; ++round) {
    std::string text = "{\"d\":[";
    for (size_t i = 0, n = 4 + rng() % 40; i < n; ++i) {
      text += (i ? "," : "") + RandomValue(rng, 1);
    }
    text += "]}";
    if (round % 2 != 0) {
      const size_t at = rng() % text.size();
      const char b = kBytes[rng() % kBytes.size()];
      if (rng() % 2 == 0) {
        text[at] = b;
      } else {
        text.insert(text.begin() + static_cast<long>(at), b);
      }
    }
    INFO(text);
    if (CompactChecked(text)) ++accepted;
  }
  CHECK(accepted > 700);
  for (size_t pad = 50; pad < 140; ++pad) {
    const std::string filler(pad, 'x');
    for (const std::string& value :
         {std::string(R"("\\")"), std::string(R"("a\"b")"), std::string(R"("\ud83d\ude00")"),
          std::string("-12.5e+3"), std::string("\"\xc3\xa9\""), std::string("[ 1 ,\n2 ]")}) {
      const std::string text = "{\"" + filler + "\":" + value + "}";
      INFO(text);
      CHECK(Accepts(text));
      CHECK_FALSE(Accepts(text.substr(0, text.size() - 1)));
    }
  }
}

}  // namespace
}  // namespace courier::events_internal
