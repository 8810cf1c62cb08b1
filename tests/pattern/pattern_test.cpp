// EventPattern and FilterPolicy: operators, AWS's validation messages, SNS specifics.
#include "courier/pattern.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <string>

#include "courier/status.h"

namespace {

using courier::EventPattern;
using courier::FilterPolicy;
using courier::FilterPolicyScope;
using courier::MessageAttribute;
using courier::MessageAttributes;

bool Match(const std::string& pattern, const std::string& event) {
  auto p = EventPattern::Compile(pattern);
  INFO(pattern << " : " << (p.ok() ? "" : std::string(p.status().message())));
  REQUIRE(p.ok());
  return p->Matches(event);
}

std::string Invalid(const std::string& pattern) {
  auto p = EventPattern::Compile(pattern);
  INFO(pattern);
  REQUIRE_FALSE(p.ok());
  CHECK(courier::ErrorName(p.status()) == "InvalidEventPatternException");
  return std::string(courier::ErrorMessage(p.status()));
}

TEST_CASE("exact values, prefix, suffix and case folding", "[pattern]") {
  CHECK(Match(R"({"a":["x"]})", R"({"a":"x"})"));
  CHECK_FALSE(Match(R"({"a":["x"]})", R"({"a":"X"})"));
  CHECK(Match(R"({"a":[null]})", R"({"a":null})"));
  CHECK(Match(R"({"a":[false]})", R"({"a":[true,false]})"));
  CHECK(Match(R"({"a":[{"prefix":"us-"}]})", R"({"a":"us-east-1"})"));
  CHECK_FALSE(Match(R"({"a":[{"prefix":"us-"}]})", R"({"a":"eu-west-1"})"));
  CHECK(Match(R"({"a":[{"suffix":".png"}]})", R"({"a":"cat.png"})"));
  CHECK(Match(R"({"a":[{"suffix":{"equals-ignore-case":".PNG"}}]})", R"({"a":"cat.png"})"));
  CHECK(Match(R"({"a":[{"equals-ignore-case":"straße"}]})", R"({"a":"STRASSE"})"));
  CHECK(Match(R"({"a":[{"prefix":{"equals-ignore-case":"привет"}}]})", R"({"a":"ПРИВЕТ мир"})"));
  CHECK(Match(R"({"a":[{"exact":"x"}]})", R"({"a":"x"})"));
}

TEST_CASE("numbers compare by value and ranges honour open and closed ends", "[pattern]") {
  CHECK(Match(R"({"n":[5]})", R"({"n":5.0})"));
  CHECK(Match(R"({"n":[-0.0]})", R"({"n":0})"));
  CHECK(Match(R"({"n":[{"numeric":[">",0,"<=",5]}]})", R"({"n":5})"));
  CHECK_FALSE(Match(R"({"n":[{"numeric":[">",0,"<=",5]}]})", R"({"n":0})"));
  CHECK_FALSE(Match(R"({"n":[{"numeric":[">",0,"<",5]}]})", R"({"n":5})"));
  CHECK(Match(R"({"n":[{"numeric":[">=",0,"<",5]}]})", R"({"n":0})"));
  CHECK(Match(R"({"n":[{"numeric":["<",-1]}]})", R"({"n":-1e9})"));
  CHECK(Match(R"({"n":[{"numeric":["=",300]}]})", R"({"n":3e2})"));
}

TEST_CASE("exists, anything-but, cidr and wildcard", "[pattern]") {
  CHECK(Match(R"({"a":[{"exists":false}]})", R"({"b":1})"));
  CHECK_FALSE(Match(R"({"a":[{"exists":false}]})", R"({"a":1})"));
  CHECK(Match(R"({"a":[{"exists":false}]})", R"({"a":{"b":1}})"));
  CHECK(Match(R"({"a":{"b":[{"exists":false}]},"c":["x"]})", R"({"c":"x"})"));
  CHECK(Match(R"({"a":[{"anything-but":{"prefix":"x"}}]})", R"({"a":7})"));
  CHECK_FALSE(Match(R"({"a":[{"anything-but":[1,2]}]})", R"({"a":2.0})"));
  CHECK(Match(R"({"a":[{"anything-but":{"wildcard":["*.png","*.jpg"]}}]})", R"({"a":"x.gif"})"));
  CHECK(Match(R"({"ip":[{"cidr":"2001:db8::/32"}]})", R"({"ip":"2001:0db8:ffff::1"})"));
  CHECK_FALSE(Match(R"({"ip":[{"cidr":"10.0.0.0/8"}]})", R"({"ip":"::ffff:10.0.0.1"})"));
  CHECK(Match(R"({"s":[{"wildcard":"*/lib/*.so"}]})", R"({"s":"/usr/lib/libz.so"})"));
  CHECK_FALSE(Match(R"({"s":[{"wildcard":"a*b*c"}]})", R"({"s":"acb"})"));
  CHECK(Match(R"({"s":[{"wildcard":"a*b*c"}]})", R"({"s":"abbc"})"));
}

TEST_CASE("paths: nesting, dotted keys, arrays of objects, $or", "[pattern]") {
  CHECK(Match(R"({"a":{"b":["x"]}})", R"({"a.b":"x"})"));
  CHECK(Match(R"({"a.b":["x"]})", R"({"a":{"b":"x"}})"));
  CHECK(Match(R"({"a":{"b":["x"],"c":["y"]}})", R"({"a":[{"b":"x","c":"y"},{"b":"z"}]})"));
  CHECK_FALSE(Match(R"({"a":{"b":["x"],"c":["y"]}})", R"({"a":[{"b":"x"},{"c":"y"}]})"));
  CHECK(Match(R"({"a":{"b":["x"]},"d":["y"]})", R"({"a":[{"b":"x"}],"d":["q","y"]})"));
  CHECK(Match(R"({"$or":[{"a":["1"]},{"b":["2"]}]})", R"({"b":"2"})"));
  CHECK_FALSE(Match(R"({"$or":[{"a":["1"]},{"b":["2"]}]})", R"({"c":"2"})"));
  CHECK(Match(R"({"x":["k"],"$or":[{"a":["1"]},{"b":{"$or":[{"c":[3]},{"d":[4]}]}}]})",
              R"({"x":"k","b":{"d":4}})"));
}

TEST_CASE("malformed events match nothing and never crash", "[pattern]") {
  auto p = EventPattern::Compile(R"({"a":["x"]})");
  REQUIRE(p.ok());
  for (std::string e : {"", "[", "{", "{\"a\"", "{\"a\":", "{\"a\":\"x", "\"x\"", "[1]", "nul",
                        "{\"a\":[\"x\"", "{\"a\":tru}"}) {
    CHECK_FALSE(p->Matches(e));
  }
  // Reading stops once every top-level field a rule names has been read (documented).
  CHECK(p->Matches(R"({"a":"x","b":)"));
  CHECK_FALSE(p->Matches(R"({"b":1,"a":"y"} trailing)"));
  // Objects whose named fields were all read are skipped, nested ones included.
  CHECK(Match(R"({"a":{"b":["x"]},"c":["y"]})", R"({"a":{"b":"x","z":[1,{"q":"}"}]},"c":"y"})"));
  CHECK(Match(R"({"a":{"b":{"c":["x"]}},"d":["y"]})",
              R"({"a":{"b":{"c":"x","w":{"k":"}]"}},"v":"]\"}"},"d":"y"})"));
  CHECK_FALSE(Match(R"({"a":{"b":{"c":["x"]}},"d":["y"]})",
                    R"({"a":{"b":{"c":"x","w":{"k":"}"}},"v":1},"d":"n"})"));
  CHECK(Match(R"({"a":{"b":["x"]},"c":["y"]})", R"({"a":[{"q":1},{"b":"x","z":2}],"c":"y"})"));
  std::string deep(100000, '[');
  CHECK_FALSE(p->Matches("{\"b\":" + deep));
  CHECK_FALSE(p->Matches("{\"a\":" + deep));
}

TEST_CASE("EventBridge validation says what is wrong and where", "[pattern][validation]") {
  CHECK_THAT(Invalid(R"({"a":[]})"), Catch::Contains("Empty arrays are not allowed") &&
                                         Catch::Contains("line: 1, column: 6"));
  CHECK_THAT(Invalid(R"({"a":{}})"), Catch::Contains("Empty objects are not allowed"));
  CHECK_THAT(Invalid(R"({"a":"x"})"), Catch::Contains("\"a\" must be an object or an array"));
  CHECK_THAT(Invalid(R"(["a"])"), Catch::Contains("Filter is not an object"));
  CHECK_THAT(Invalid(R"({"a":[[1]]})"),
             Catch::Contains("Match value must be String, number, true, false, or null"));
  CHECK_THAT(Invalid(R"({"a":[{"contains":"x"}]})"),
             Catch::Contains("Unrecognized match type contains"));
  CHECK_THAT(Invalid(R"({"a":[{"prefix":1}]})"),
             Catch::Contains("prefix match pattern must be a string"));
  CHECK_THAT(Invalid(R"({"a":[{"prefix":"x","suffix":"y"}]})"),
             Catch::Contains("Only one key allowed in match expression"));
  CHECK_THAT(Invalid(R"({"a":[{"cidr":"10.0.0.0"}]})"),
             Catch::Contains("Malformed CIDR, one '/' required"));
  CHECK_THAT(Invalid(R"({"a":[{"cidr":"10.0.0.300/8"}]})"),
             Catch::Contains("Nonstandard IP address: 10.0.0.300"));
  CHECK_THAT(Invalid(R"({"a":[{"cidr":"10.0.0.0/x"}]})"),
             Catch::Contains("mask bits must be an integer"));
  CHECK_THAT(Invalid(R"({"a":[{"cidr":"10.0.0.0/32"}]})"),
             Catch::Contains("mask bits must be < 32"));
  CHECK_THAT(Invalid(R"({"a":[{"numeric":[">",5,"<",1]}]})"),
             Catch::Contains("Bottom must be less than top"));
  CHECK_THAT(Invalid(R"({"a":[{"numeric":["~",5]}]})"),
             Catch::Contains("Unrecognized numeric range operator: ~"));
  CHECK_THAT(Invalid(R"({"a":[{"numeric":["<",5,"<",6]}]})"),
             Catch::Contains("Too many elements in numeric expression"));
  CHECK_THAT(Invalid(R"({"a":[{"numeric":[">",5,">",6]}]})"),
             Catch::Contains("Bad numeric range operator: >"));
  CHECK_THAT(Invalid(R"({"a":[{"numeric":"5"}]})"),
             Catch::Contains("Value of numeric must be an array."));
  CHECK_THAT(Invalid(R"({"a":[{"numeric":["=","5"]}]})"),
             Catch::Contains("Value of equals must be numeric"));
  CHECK_THAT(Invalid(R"({"a":[{"exists":"yes"}]})"),
             Catch::Contains("exists match pattern must be either true or false."));
  CHECK_THAT(Invalid(R"({"a":[{"wildcard":"a**b"}]})"),
             Catch::Contains("Consecutive wildcard characters"));
  CHECK_THAT(Invalid(R"({"a":[{"anything-but":["x",1]}]})"),
             Catch::Contains("mixed type is not supported"));
  CHECK_THAT(Invalid(R"({"a":[{"anything-but":[null]}]})"),
             Catch::Contains("start|null|boolean is not supported"));
  CHECK_THAT(Invalid(R"({"a":[{"anything-but":{"exists":true}}]})"),
             Catch::Contains("Unsupported anything-but pattern: exists"));
  CHECK_THAT(Invalid(R"({"a":[{"anything-but":{"prefix":""}}]})"),
             Catch::Contains("Null prefix/suffix not allowed"));
  CHECK_THAT(Invalid(R"({"$or":"x"})"), Catch::Contains("It must be an Array followed with $or."));
  CHECK_THAT(Invalid(R"({"$or":[{"a":["1"]},{"prefix":["2"]}]})"),
             Catch::Contains("reserved fieldName"));
  CHECK_THAT(Invalid(R"({"a":["x"],)"), Catch::Contains("Expected a field name"));
  CHECK_THAT(Invalid(R"({"a":["x"]} x)"), Catch::Contains("Unexpected content"));
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "{\"a\":";
  deep += "[1]" + std::string(70, '}');
  CHECK_THAT(Invalid(deep), Catch::Contains("nested deeper"));
  std::string big = R"({"a":[")" + std::string(3000, 'x') + R"("]})";
  CHECK_THAT(Invalid(big), Catch::Contains("maximum of 2048"));
  CHECK(EventPattern::Compile(big, {.max_length = 4096}).ok());
  std::string many_or = R"({"$or":[)";
  for (int i = 0; i < 40; ++i)
    many_or += (i ? "," : "") + std::string(R"({"a":["1"],"$or":[{"b":["1"]},{"c":["2"]}]})");
  many_or += "]}";
  CHECK(EventPattern::Compile(many_or, {.max_length = 4096}).ok());
  std::string six =
      R"({"$or":[{"p":["1"]},{"q":["1"]},{"r":["1"]},{"s":["1"]},{"t":["1"]},{"u":["1"]}]})";
  CHECK_THAT(
      Invalid(R"({"a":)" + six + R"(,"b":)" + six + R"(,"c":)" + six + R"(,"d":)" + six + "}"),
      Catch::Contains("exceed 1000"));
}

TEST_CASE("invalid patterns of every prefix length never crash", "[pattern][validation]") {
  std::string text =
      R"({"a":[{"numeric":[">",1,"<=",2]},{"anything-but":{"prefix":"x"}},"\u00e9",null],)"
      R"("$or":[{"b":[{"cidr":"10.0.0.0/8"}]},{"c":{"d":[{"wildcard":"a\\*b*"}]}}]})";
  REQUIRE(EventPattern::Compile(text).ok());
  for (size_t n = 0; n < text.size(); ++n) {
    auto p = EventPattern::Compile(text.substr(0, n));
    CHECK_FALSE(p.ok());
  }
}

// ----------------------------------------------------------------------------------------------
// SNS

std::string SnsInvalid(const std::string& policy,
                       FilterPolicyScope scope = FilterPolicyScope::kMessageAttributes) {
  auto p = FilterPolicy::Compile(policy, scope);
  INFO(policy);
  REQUIRE_FALSE(p.ok());
  CHECK(courier::ErrorName(p.status()) == "InvalidParameter");
  return std::string(courier::ErrorMessage(p.status()));
}

TEST_CASE("SNS compares numbers to five decimal places; EventBridge to the double", "[sns]") {
  auto price = [](const std::string& policy, const std::string& value) {
    auto p = FilterPolicy::Compile(policy);
    REQUIRE(p.ok());
    return p->MatchesAttributes({{"price", MessageAttribute::Number(value)}});
  };
  CHECK(price(R"({"price":[{"numeric":["=",1.000001]}]})", "1.000002"));
  CHECK(price(R"({"price":[{"numeric":["=",1.000001]}]})", "1"));
  CHECK_FALSE(price(R"({"price":[{"numeric":["=",1.000001]}]})", "1.00001"));
  CHECK_FALSE(price(R"({"price":[{"numeric":[">",0.000001]}]})", "0.000004"));
  CHECK(price(R"({"price":[{"numeric":[">",0.000001]}]})", "0.00001"));
  CHECK_FALSE(price(R"({"price":[{"numeric":[">",0,"<",5]}]})", "4.999999"));
  CHECK(price(R"({"price":[301.5]})", "301.500001"));
  CHECK(price(R"({"price":[301.5]})", "3.015e2"));
  CHECK_FALSE(price(R"({"price":[{"anything-but":[100]}]})", "100.000001"));
  CHECK(price(R"({"price":[{"anything-but":[100]}]})", "100.00001"));
  // Body scope, and a policy whose numbers are evaluated one by one beside an indexed one.
  auto body = FilterPolicy::Compile(R"({"p":[{"numeric":["<",5]}],"q":[{"exists":true}]})",
                                    FilterPolicyScope::kMessageBody);
  REQUIRE(body.ok());
  CHECK_FALSE(body->MatchesBody(R"({"p":4.999999,"q":1})"));
  CHECK(body->MatchesBody(R"({"p":4.99999,"q":1})"));
  // EventBridge has no such rounding.
  CHECK_FALSE(Match(R"({"p":[{"numeric":["=",1.000001]}]})", R"({"p":1.000002})"));
  CHECK(Match(R"({"p":[{"numeric":["=",1.000001]}]})", R"({"p":1.000001})"));
}

TEST_CASE("attribute scope matches String, Number and String.Array, ignores Binary", "[sns]") {
  auto p = FilterPolicy::Compile(
      R"({"store":["example_corp"],"price":[{"numeric":[">=",100]}],"tags":["red"]})");
  REQUIRE(p.ok());
  MessageAttributes attrs{{"store", MessageAttribute::String("example_corp")},
                          {"price", MessageAttribute::Number("150.5")},
                          {"tags", MessageAttribute::String("[\"blue\",\"red\"]", "")},
                          {"blob", MessageAttribute::Binary("\x01\x02")}};
  attrs["tags"].data_type = "String.Array";
  CHECK(p->MatchesAttributes(attrs));
  attrs["price"] = MessageAttribute::Number("99");
  CHECK_FALSE(p->MatchesAttributes(attrs));
  attrs["price"] = MessageAttribute::String("150");  // a String is not a number
  CHECK_FALSE(p->MatchesAttributes(attrs));

  auto bin = FilterPolicy::Compile(R"({"blob":[{"exists":true}]})");
  REQUIRE(bin.ok());
  CHECK_FALSE(bin->MatchesAttributes(attrs));
  auto quote = FilterPolicy::Compile(R"({"q":["say \"hi\""]})");
  REQUIRE(quote.ok());
  CHECK(quote->MatchesAttributes({{"q", MessageAttribute::String("say \"hi\"")}}));
}

TEST_CASE("body scope matches nested JSON bodies only", "[sns]") {
  auto p = FilterPolicy::Compile(R"({"order":{"kind":["new"],"total":[{"numeric":[">",10]}]}})",
                                 FilterPolicyScope::kMessageBody);
  REQUIRE(p.ok());
  CHECK(p->MatchesBody(R"({"order":{"kind":"new","total":12}})"));
  CHECK_FALSE(p->MatchesBody(R"({"order":{"kind":"new","total":2}})"));
  CHECK_FALSE(p->MatchesBody("not json"));
  CHECK(p->Matches(R"({"order":{"kind":"new","total":12}})", {}));
  CHECK_THAT(SnsInvalid(R"({"a":{"b":["x"]}})"),
             Catch::Equals("Invalid parameter: Filter policy scope MessageAttributes does not "
                           "support nested filter policy"));
}

TEST_CASE("SNS limits and messages", "[sns][validation]") {
  CHECK_THAT(SnsInvalid(R"({"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]})"),
             Catch::Equals(
                 "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys"));
  // AWS's documented example: 4 values at depth 3 and 3 at depth 2 make 3 x 4 x 2 x 3 = 72.
  CHECK(FilterPolicy::Compile(
            R"({"key_a":{"key_b":{"key_c":["1","2","3","4"]}},"key_d":{"key_e":["1","2","3"]}})",
            FilterPolicyScope::kMessageBody)
            .ok());
  CHECK_THAT(
      SnsInvalid(
          R"({"key_a":{"key_b":{"key_c":["1","2","3","4"]}},"key_d":{"key_e":["1","2","3"]},"key_f":["1","2","3"]})",
          FilterPolicyScope::kMessageBody),
      Catch::Contains("Filter policy is too complex"));
  std::string values = R"(["1","2","3","4","5","6","7","8","9","10","11","12","13"])";
  CHECK_THAT(SnsInvalid(R"({"a":)" + values + R"(,"b":)" + values + "}"),
             Catch::Equals("Invalid parameter: FilterPolicy: Filter policy is too complex"));
  CHECK_THAT(SnsInvalid(R"({"a":[{"wildcard":"x*"}]})"),
             Catch::Contains("FilterPolicy: Unrecognized match type wildcard"));
  CHECK_THAT(SnsInvalid(R"({"a":[{"anything-but":{"suffix":"x"}}]})"),
             Catch::Contains("Unsupported anything-but pattern: suffix"));
  CHECK_THAT(SnsInvalid(R"({"a":[]})"),
             Catch::Contains("FilterPolicy: Empty arrays are not allowed"));
  CHECK_THAT(SnsInvalid(R"({"a":[{"numeric":[">",5,"<",5]}]})"),
             Catch::Contains("Bottom must be less than top"));
  // SNS matches numbers from -1e9 to 1e9 (spec §10); EventBridge has no such bound.
  CHECK_THAT(SnsInvalid(R"({"a":[{"numeric":[">",1000000001]}]})"),
             Catch::Contains("Numeric value must be between -1.0E9 and 1.0E9 inclusive"));
  CHECK_THAT(SnsInvalid(R"({"a":[{"numeric":[">=",0,"<",1.5e9]}]})"),
             Catch::Contains("Numeric value must be between -1.0E9 and 1.0E9 inclusive"));
  CHECK(FilterPolicy::Compile(R"({"a":[{"numeric":[">=",-1e9,"<=",1e9]}]})").ok());
  CHECK(EventPattern::Compile(R"({"a":[{"numeric":[">",1e12]}]})").ok());
  CHECK_THAT(SnsInvalid(R"({"a":[{"cidr":"10.0.0.0"}]})"),
             Catch::Contains("Malformed CIDR, one '/' required"));
  auto sub = FilterPolicy::Compile(R"({"a":"x"})", FilterPolicyScope::kMessageAttributes,
                                   {.subscribe_call = true});
  REQUIRE_FALSE(sub.ok());
  CHECK(courier::ErrorMessage(sub.status()) ==
        "Invalid parameter: Attributes Reason: FilterPolicy: \"a\" must be an object or an array");
  auto scope = courier::ParseFilterPolicyScope("Body");
  REQUIRE_FALSE(scope.ok());
  CHECK_THAT(
      std::string(scope.status().message()),
      Catch::Contains("Invalid value [Body]. Please use either MessageBody or MessageAttributes"));
}

TEST_CASE("SNS anything-but over arrays: switchable", "[sns]") {
  std::string policy = R"({"sport":[{"anything-but":["rugby","tennis"]}]})";
  auto newest = FilterPolicy::Compile(policy, FilterPolicyScope::kMessageBody);
  auto older = FilterPolicy::Compile(policy, FilterPolicyScope::kMessageBody,
                                     {.anything_but_matches_any_element = true});
  REQUIRE(newest.ok());
  REQUIRE(older.ok());
  std::string body = R"({"sport":["rugby","baseball"]})";
  CHECK_FALSE(newest->MatchesBody(body));
  CHECK(older->MatchesBody(body));
  CHECK(newest->MatchesBody(R"({"sport":["golf","baseball"]})"));
  CHECK_FALSE(newest->MatchesBody(R"({"other":1})"));
  auto with_absent =
      FilterPolicy::Compile(R"({"sport":[{"anything-but":["rugby"]},{"exists":false}]})",
                            FilterPolicyScope::kMessageBody);
  REQUIRE(with_absent.ok());
  CHECK(with_absent->MatchesBody(R"({"other":1})"));
  CHECK_FALSE(with_absent->MatchesBody(R"({"sport":"rugby"})"));
}

TEST_CASE("SNS $or: a list of 2+ objects, otherwise an ordinary key", "[sns]") {
  auto p = FilterPolicy::Compile(R"({"source":["shop"],"$or":[{"a":["1"]},{"b":["2"]}]})",
                                 FilterPolicyScope::kMessageBody);
  REQUIRE(p.ok());
  CHECK(p->MatchesBody(R"({"source":"shop","b":"2"})"));
  CHECK_FALSE(p->MatchesBody(R"({"source":"shop","c":"2"})"));
  auto key = FilterPolicy::Compile(R"({"$or":["x"]})", FilterPolicyScope::kMessageBody);
  REQUIRE(key.ok());
  CHECK(key->MatchesBody(R"({"$or":"x"})"));
}

}  // namespace

namespace {

TEST_CASE("array consistency on a crafted event stays bounded", "[pattern]") {
  // Four fields, each present in many different elements of one array, never together.
  auto p = EventPattern::Compile(R"({"a":{"b":["x"],"c":["x"],"d":["x"],"e":["x"]}})");
  REQUIRE(p.ok());
  std::string event = R"({"a":[)";
  for (int i = 0; i < 400; ++i) {
    event += fmt::format(R"({}{{"{}":"x"}})", i ? "," : "", "bcde"[i % 4]);
  }
  event += "]}";
  CHECK_FALSE(p->Matches(event));
  event.insert(event.size() - 2, R"(,{"b":"x","c":"x","d":"x","e":"x"})");
  CHECK(p->Matches(event));
}

}  // namespace
