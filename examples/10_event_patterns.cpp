// Event patterns and filter policies: compile once, match many events; a RuleSet matches all
// of its rules in one pass over the event.
#include <cassert>
#include <string>
#include <vector>

#include "courier/pattern.h"
#include "courier/status.h"

int main() {
  // EventBridge: an event pattern, as PutRule takes it.
  auto big = courier::EventPattern::Compile(
      R"({"source":["shop"],"detail":{"amount":[{"numeric":[">",100]}]}})");
  assert(big.ok());
  assert(big->Matches(R"({"source":"shop","detail":{"amount":250}})"));
  assert(!big->Matches(R"({"source":"shop","detail":{"amount":20}})"));

  // Invalid patterns are rejected with AWS's reason and position.
  auto bad = courier::EventPattern::Compile(R"({"detail":{"amount":[]}})");
  assert(!bad.ok() && courier::ErrorName(bad.status()) == "InvalidEventPatternException");

  // Many named rules, matched together; changes never block matching threads.
  courier::RuleSet rules;
  assert(rules.AddRule("big-orders", *big).ok());
  auto eu = courier::EventPattern::Compile(R"({"region":[{"prefix":"eu-"}]})").value();
  assert(rules.AddRule("eu", eu).ok());
  std::vector<std::string> hits =
      rules.Match(R"({"source":"shop","region":"eu-west-1","detail":{"amount":500}})");
  assert((hits == std::vector<std::string>{"big-orders", "eu"}));

  // SNS: a filter policy over message attributes (the default scope)...
  auto policy =
      courier::FilterPolicy::Compile(R"({"kind":["new"],"price":[{"numeric":["<",10]}]})");
  assert(policy.ok());
  courier::MessageAttributes attrs{{"kind", courier::MessageAttribute::String("new")},
                                   {"price", courier::MessageAttribute::Number("7.5")}};
  assert(policy->MatchesAttributes(attrs));

  // ...or over the JSON body.
  auto body = courier::FilterPolicy::Compile(R"({"order":{"kind":["new"]}})",
                                             courier::FilterPolicyScope::kMessageBody);
  assert(body.ok() && body->MatchesBody(R"({"order":{"kind":"new"}})"));
  return 0;
}
