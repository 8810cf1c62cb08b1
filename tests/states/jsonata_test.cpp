// JSONata query language: expressions, $states, Arguments/Output/Assign, Condition, Items.
#include "states/jsonata.h"

#include <catch2/catch.hpp>

#include "courier/function.h"
#include "courier/lambda.h"
#include "courier/step_functions.h"
#include "test_util.h"

using namespace courier;
using courier::states_internal::JsonEquals;
using courier::states_internal::test::Fixture;
using courier::states_internal::test::J;
using courier::states_internal::test::Text;

namespace {
class TestEnv : public states_internal::Env {
 public:
  explicit TestEnv(Json states) : states_(std::move(states)) {}
  const Json& Context() override { return context_; }
  const Json* Variable(std::string_view name) override {
    if (name == "states") return &states_;
    if (name == "limit") return &limit_;
    return nullptr;
  }

 private:
  Json states_;
  Json context_;
  Json limit_ = 10;
};

std::string Eval(std::string_view expr, std::string_view input) {
  auto parsed = states_internal::ParseJsonata(expr);
  if (!parsed.ok()) return "PARSE: " + std::string(parsed.status().message());
  TestEnv env(Json{{"input", J(input)}});
  auto v = states_internal::EvaluateJsonata(**parsed, env);
  if (!v.ok()) return "ERROR: " + std::string(v.status().message());
  return *v ? ToJsonText(**v) : "undefined";
}
}  // namespace

TEST_CASE("JSONata expressions", "[states][jsonata]") {
  const char* input = R"({"order":{"id":"o-1","items":[{"name":"pen","price":2,"qty":3},
      {"name":"book","price":12.5,"qty":1},{"name":"ink","price":7,"qty":2}],
      "customer":{"first":"Ada","last":"Lovelace","vip":true}},"nums":[1,2,3,4]})";
  struct Case {
    const char* expr;
    const char* want;
  };
  const Case cases[] = {
      {"$states.input.order.id", R"("o-1")"},
      {"$states.input.order.items.name", R"(["pen","book","ink"])"},
      {"$states.input.order.items[0].name", R"("pen")"},
      {"$states.input.order.items[-1].name", R"("ink")"},
      {"$states.input.order.items[price > 5].name", R"(["book","ink"])"},
      {"$states.input.order.items[price > 10].name", R"("book")"},
      {"$sum($states.input.order.items.(price * qty))", "32.5"},
      {"$count($states.input.nums)", "4"},
      {"$max($states.input.nums) - $min($states.input.nums)", "3"},
      {"$average($states.input.nums)", "2.5"},
      {"$states.input.order.customer.first & ' ' & $states.input.order.customer.last",
       R"("Ada Lovelace")"},
      {"$states.input.order.customer.vip ? 'gold' : 'basic'", R"("gold")"},
      {"$uppercase($states.input.order.id)", R"("O-1")"},
      {"$lowercase('ABC')", R"("abc")"},
      {"$string(42) & $string(true)", R"("42true")"},
      {"$number('12.5') + 1", "13.5"},
      {"$join(['a','b','c'], '-')", R"("a-b-c")"},
      {"$split('a,b,c', ',')", R"(["a","b","c"])"},
      {"$substring('hello world', 6)", R"("world")"},
      {"$substring('hello', 1, 3)", R"("ell")"},
      {"$contains('hello', 'ell')", "true"},
      {"$exists($states.input.nope)", "false"},
      {"$exists($states.input.order)", "true"},
      {"$states.input.nope", "undefined"},
      {"{'total': $sum($states.input.nums), 'n': $count($states.input.nums)}",
       R"({"total":10,"n":4})"},
      {"[1, 2, $states.input.nums[0]]", "[1,2,1]"},
      {"[1..4]", "[1,2,3,4]"},
      {"3 in $states.input.nums", "true"},
      {"1 + 2 * 3 = 7 and $not(false)", "true"},
      {"10 % 3", "1"},
      {"$limit > 5", "true"},
      {"($x := 5; $x * $x)", "25"},
      {"$map($states.input.nums, function($v) { $v * 10 })", "[10,20,30,40]"},
      {"$filter($states.input.nums, function($v) { $v % 2 = 0 })", "[2,4]"},
      {"$reduce($states.input.nums, function($a, $b) { $a + $b })", "10"},
      {"$states.input.nums ~> $sum()", "10"},
      {"$partition([1,2,3,4,5], 2)", "[[1,2],[3,4],[5]]"},
      {"$range(0, 10, 5)", "[0,5,10]"},
      {"$hash('input data', 'MD5')", R"("812f45842bc6d66ee14572ce20db8e86")"},
      {"$parse('{\"a\":1}').a", "1"},
      {"$keys($states.input.order.customer)", R"(["first","last","vip"])"},
      {"$merge([{'a':1},{'b':2}])", R"({"a":1,"b":2})"},
      {"$sort([3,1,2])", "[1,2,3]"},
      {"$round(2.5) + $floor(1.7) + $ceil(1.2) + $abs(-1)", "6"},
      {"'abc' < 'abd'", "true"},
      {"$type($states.input.nums)", R"("array")"},
      {"$states.input.order.items[name = 'book'].qty", "1"},
      {"$states.input.order.items[qty > 1 and price < 5].name", R"("pen")"},
  };
  for (const Case& c : cases) {
    INFO(c.expr);
    std::string got = Eval(c.expr, input);
    if (got.starts_with("ERROR") || got.starts_with("PARSE") || got == "undefined" ||
        std::string_view(c.want) == "undefined") {
      CHECK(got == c.want);
    } else {
      CHECK(JsonEquals(J(got), J(c.want)));
    }
  }
  CHECK(Eval("1 + 'a'", "{}").starts_with("ERROR: States.QueryEvaluationError"));
  CHECK(Eval("$nofunction(1)", "{}").starts_with("ERROR"));
  CHECK(Eval("1 +", "{}").starts_with("PARSE"));
}

TEST_CASE("JSONata states: Arguments, Output, Assign, Condition, Items, Catch",
          "[states][jsonata]") {
  Fixture fx;
  REQUIRE(Lambda(fx.hub)
              .RegisterFunction("price",
                                [](const Json& in) -> absl::StatusOr<Json> {
                                  if (in.at("qty").as_int64() > 100)
                                    return FunctionError("TooMany", "qty");
                                  return Json{{"total", in.at("qty").as_int64() * 3}};
                                })
              .ok());
  auto ok = fx.Run(R"j({"QueryLanguage":"JSONata","StartAt":"Init","States":{
      "Init":{"Type":"Pass","Assign":{"customer":"{% $states.input.customer %}"},
              "Output":"{% $states.input.orders %}","Next":"Each"},
      "Each":{"Type":"Map","Items":"{% $states.input %}",
              "ItemSelector":{"qty":"{% $states.context.Map.Item.Value %}"},
              "ItemProcessor":{"StartAt":"Price","States":{"Price":{"Type":"Task",
                 "Resource":"arn:aws:lambda:us-east-1:000000000000:function:price",
                 "Arguments":{"qty":"{% $states.input.qty %}"},
                 "Output":"{% $states.result.total %}",
                 "Catch":[{"ErrorEquals":["TooMany"],"Output":"{% -1 %}","Next":"Rejected"}],"End":true},
                 "Rejected":{"Type":"Pass","End":true}}},
              "Assign":{"totals":"{% $states.result %}"},
              "Output":"{% $sum($states.result[$ > 0]) %}","Next":"Big"},
      "Big":{"Type":"Choice","Choices":[{"Condition":"{% $states.input > 10 %}","Next":"Yes",
               "Assign":{"verdict":"big"}}],"Default":"No"},
      "Yes":{"Type":"Pass","Output":{"customer":"{% $customer %}","total":"{% $states.input %}",
              "verdict":"{% $verdict %}","totals":"{% $totals %}"},"End":true},
      "No":{"Type":"Fail","Error":"Small","Cause":"{% 'only ' & $string($states.input) %}"}}})j",
                   R"({"customer":"ada","orders":[1,5,500]})");
  INFO(Text(ok.output) << ok.error.value_or("") << ok.cause.value_or(""));
  REQUIRE(ok.status == ExecutionStatus::kSucceeded);
  CHECK(JsonEquals(*ok.output,
                   J(R"({"customer":"ada","total":18,"verdict":"big","totals":[3,15,-1]})")));
  auto small = fx.Run(R"j({"QueryLanguage":"JSONata","StartAt":"C","States":{
      "C":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.n > 10 %}","Next":"S"}],"Default":"F"},
      "S":{"Type":"Succeed"},
      "F":{"Type":"Fail","Error":"{% 'Small' & 'Number' %}","Cause":"{% 'only ' & $string($states.input.n) %}"}}})j",
                      R"({"n":3})");
  CHECK(small.status == ExecutionStatus::kFailed);
  CHECK(small.error == "SmallNumber");
  CHECK(small.cause == "only 3");
  auto bad = fx.Run(R"j({"QueryLanguage":"JSONata","StartAt":"M","States":{
      "M":{"Type":"Map","Items":"{% $states.input.nope %}","ItemProcessor":{"StartAt":"P",
        "States":{"P":{"Type":"Pass","End":true}}},"End":true}}})j");
  CHECK(bad.error == "States.QueryEvaluationError");
  auto wait = fx.Run(R"j({"QueryLanguage":"JSONata","StartAt":"W","States":{
      "W":{"Type":"Wait","Seconds":"{% $states.input.delay * 2 %}","End":true}}})j",
                     R"({"delay":30})");
  REQUIRE(wait.status == ExecutionStatus::kSucceeded);
  CHECK(*wait.stop_date - wait.start_date == absl::Seconds(60));
}

TEST_CASE("A JSONPath machine can opt one state into JSONata", "[states][jsonata]") {
  Fixture fx;
  auto d = fx.Run(R"j({"StartAt":"A","States":{
      "A":{"Type":"Pass","Parameters":{"v.$":"$.x"},"Assign":{"keep.$":"$.v"},"Next":"B"},
      "B":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input.v + $keep %}","End":true}}})j",
                  R"({"x":20})");
  INFO(d.error.value_or("") << d.cause.value_or(""));
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  CHECK(d.output->as_int64() == 40);
}

TEST_CASE("JSONata predicates bind to their step", "[states][jsonata]") {
  const char* input = R"({"a":[{"b":[1,2]},{"b":[3,4]}]})";
  CHECK(JsonEquals(J(Eval("$states.input.a.b[0]", input)), J("[1,3]")));
  CHECK(JsonEquals(J(Eval("($states.input.a.b)[0]", input)), J("1")));
  CHECK(JsonEquals(J(Eval("{'x': $states.input.nope, 'y': 1}", input)), J(R"({"y":1})")));
}
