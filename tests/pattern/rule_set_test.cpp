// RuleSet: named rules matched together; changes published while other threads match.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "courier/pattern.h"
#include "courier/status.h"
#include "pattern/pattern_ir.h"

namespace {

using courier::EventPattern;
using courier::RuleSet;
using Names = std::vector<std::string>;

EventPattern P(const std::string& text) { return EventPattern::Compile(text).value(); }

TEST_CASE("add, replace and remove named rules", "[ruleset]") {
  RuleSet rules;
  REQUIRE(rules.AddRule("b-ec2", P(R"({"source":["aws.ec2"]})")).ok());
  REQUIRE(rules.AddRule("a-running", P(R"({"detail":{"state":["running"]}})")).ok());
  auto dup = rules.AddRule("b-ec2", P(R"({"source":["x"]})"));
  CHECK(dup.code() == absl::StatusCode::kAlreadyExists);
  std::string event = R"({"source":"aws.ec2","detail":{"state":"running"}})";
  CHECK(rules.Match(event) == Names{"a-running", "b-ec2"});
  rules.ReplaceRule("b-ec2", P(R"({"source":["aws.s3"]})"));
  CHECK(rules.Match(event) == Names{"a-running"});
  CHECK(rules.RemoveRule("a-running"));
  CHECK_FALSE(rules.RemoveRule("a-running"));
  CHECK(rules.Match(event).empty());
  CHECK(rules.size() == 1);
  rules.Update(
      {{"x", P(R"({"source":["aws.ec2"]})")}, {"y", P(R"({"source":[{"prefix":"aws."}]})")}},
      {"b-ec2"});
  CHECK(rules.Match(event) == Names{"x", "y"});
}

TEST_CASE("rules of both kinds and many rules sharing fields", "[ruleset]") {
  RuleSet rules;
  auto policy = courier::FilterPolicy::Compile(R"({"kind":["new"]})").value();
  REQUIRE(rules.AddRule("policy", policy).ok());
  std::vector<std::pair<std::string, RuleSet::Rule>> many;
  for (int i = 0; i < 2000; ++i) {
    // (append, not operator+: g++ 12 -O2 warns falsely about "literal" + std::string)
    std::string number = std::to_string(i);
    std::string name = std::string("n").append(number);
    std::string text =
        std::string(R"({"n":[)").append(number).append(R"(],"kind":[{"prefix":"n"}]})");
    many.emplace_back(name, P(text));
  }
  rules.Update(std::move(many));
  CHECK(rules.size() == 2001);
  CHECK(rules.Match(R"({"n":1234,"kind":"new"})") == Names{"n1234", "policy"});
  CHECK(rules.MatchAttributes({{"kind", courier::MessageAttribute::String("new")}}) ==
        Names{"policy"});
  auto snap = rules.snapshot();
  size_t count =
      snap.ForEachMatch(R"({"n":7,"kind":"no"})", [&](size_t i) { CHECK(snap.name(i) == "n7"); });
  CHECK(count == 1);
  std::vector<std::string_view> batch = {R"({"n":1,"kind":"x"})", R"({"n":5000})",
                                         R"({"n":2,"kind":"n"})"};
  std::vector<std::pair<size_t, std::string>> got;
  snap.ForEachMatchInBatch(batch, [&](size_t e, size_t i) { got.emplace_back(e, snap.name(i)); });
  CHECK(got == std::vector<std::pair<size_t, std::string>>{{2, "n2"}});
  // A callback may match again (a delivery that publishes to another topic).
  std::vector<std::string> outer;
  snap.ForEachMatch(R"({"n":3,"kind":"new"})", [&](size_t i) {
    outer.push_back(snap.name(i));
    snap.ForEachMatch(R"({"n":4,"kind":"n"})", [](size_t) {});
  });
  std::sort(outer.begin(), outer.end());
  CHECK(outer == std::vector<std::string>{"n3", "policy"});
}

TEST_CASE("matching while another thread changes the rules", "[ruleset][concurrency]") {
  RuleSet rules;
  REQUIRE(rules.AddRule("stable", P(R"({"a":["x"]})")).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        Names got = rules.Match(R"({"a":"x","b":"y"})");
        // "stable" is always there; "churn" may or may not be.
        if (got.empty() || got[0] == "churn" ? got.size() != 2 : got[0] != "stable") ++bad;
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    rules.ReplaceRule("churn", P(R"({"b":["y"]})"));
    rules.RemoveRule("churn");
  }
  stop = true;
  for (auto& t : readers) t.join();
  CHECK(bad.load() == 0);
}

}  // namespace

namespace {

// Random rules and events over a small vocabulary: the rule set's answer must equal each rule's
// own answer. Many rules share values, which exercises the lazy evaluation of common fields.
TEST_CASE("a rule set answers as its rules do one by one", "[ruleset][differential]") {
  uint64_t seed = 20261126;
  auto next = [&seed](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  const char* fields[] = {"source", "detail.state", "detail.items.sku", "detail.n", "region"};
  const char* values[] = {R"("a")",
                          R"("b")",
                          "1",
                          "2.5",
                          "null",
                          R"({"prefix":"a"})",
                          R"({"numeric":[">",1]})",
                          R"({"anything-but":"a"})",
                          R"({"exists":false})",
                          R"({"wildcard":"*b*"})",
                          R"({"equals-ignore-case":"A"})",
                          R"({"exists":true})"};
  const char* event_values[] = {R"("a")", R"("b")", "1", "2.5", "null", R"("ab")", R"("A")", "3"};
  std::vector<std::pair<std::string, EventPattern>> patterns;
  for (int r = 0; r < 150; ++r) {
    std::string text = "{";
    // Every rule says source: "a" (a common field) plus 1-2 other fields.
    text += R"("source":["a"])";
    int extra = 1 + static_cast<int>(next(2));
    for (int k = 0; k < extra; ++k) {
      std::string path = fields[1 + next(4)];
      std::string nested;
      size_t dot;
      std::string closing;
      while ((dot = path.find('.')) != std::string::npos) {
        nested += fmt::format("\"{}\":{{", path.substr(0, dot));
        closing += "}";
        path = path.substr(dot + 1);
      }
      text += fmt::format(",{}\"{}\":[{}]{}", nested, path, values[next(12)], closing);
    }
    text += "}";
    auto p = EventPattern::Compile(text);
    if (!p.ok()) continue;  // e.g. the same object key twice
    patterns.emplace_back(fmt::format("r{}", r), *p);
  }
  REQUIRE(patterns.size() > 100);
  RuleSet rules;
  std::vector<std::pair<std::string, RuleSet::Rule>> all;
  for (const auto& [name, p] : patterns) all.emplace_back(name, p);
  rules.Update(std::move(all));
  for (int e = 0; e < 300; ++e) {
    auto v = [&] { return std::string(event_values[next(8)]); };
    std::string event = fmt::format(
        R"({{"source":{},"detail":{{"state":{},"items":[{{"sku":{}}},{{"sku":{}}}],"n":{}}},"region":{}}})",
        next(4) ? std::string(R"("a")") : v(), v(), v(), v(), v(), v());
    std::vector<std::string> expected;
    for (const auto& [name, p] : patterns) {
      if (p.Matches(event)) expected.push_back(name);
    }
    std::sort(expected.begin(), expected.end());
    INFO(event);
    CHECK(rules.Match(event) == expected);
  }
}

}  // namespace

namespace {

// Reference glob: '*' any run, "\*" a literal star.
bool Glob(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*') {
    for (size_t k = 0; k <= s.size(); ++k) {
      if (Glob(p.substr(1), s.substr(k))) return true;
    }
    return false;
  }
  size_t len = (p[0] == '\\') ? 2 : 1;
  char c = p[len - 1];
  return !s.empty() && s[0] == c && Glob(p.substr(len), s.substr(1));
}

TEST_CASE("all wildcards of a field in one automaton", "[ruleset][wildcard]") {
  uint64_t seed = 7;
  auto next = [&seed](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  std::vector<std::string> globs;
  RuleSet rules;
  std::vector<std::pair<std::string, RuleSet::Rule>> all;
  while (globs.size() < 60) {
    std::string g;
    size_t n = 1 + next(6);
    for (size_t k = 0; k < n; ++k) {
      const char* tokens[] = {"a", "b", "*", "\\\\*"};
      g += tokens[next(4)];
    }
    if (g.find("**") != std::string::npos) continue;
    std::string json_text = g;  // escape the backslashes for JSON
    for (size_t at = 0; (at = json_text.find('\\', at)) != std::string::npos; at += 2) {
      json_text.insert(at, "\\");
    }
    auto p = EventPattern::Compile(fmt::format(R"({{"s":[{{"wildcard":"{}"}}]}})", json_text));
    REQUIRE(p.ok());
    all.emplace_back(fmt::format("w{:02}", globs.size()), *p);
    globs.push_back(g);
  }
  rules.Update(std::move(all));
  for (int e = 0; e < 300; ++e) {
    std::string s;
    size_t n = next(7);
    for (size_t k = 0; k < n; ++k) s.push_back("ab*"[next(3)]);
    std::vector<std::string> expected;
    for (size_t i = 0; i < globs.size(); ++i) {
      if (Glob(globs[i], s)) expected.push_back(fmt::format("w{:02}", i));
    }
    INFO(s);
    CHECK(rules.Match(fmt::format(R"({{"s":"{}"}})", s)) == expected);
  }
}

}  // namespace

namespace {

// Many policies with an anything-but on one field and a selective field: the anything-but is
// evaluated lazily, in both the SNS (no element excluded) and EventBridge (some element not
// excluded) readings, and must answer as each policy alone.
TEST_CASE("anything-but shared by many rules, both array readings", "[ruleset][differential]") {
  for (bool any_element : {false, true}) {
    std::vector<std::pair<std::string, courier::FilterPolicy>> policies;
    for (int i = 0; i < 80; ++i) {
      std::string text =
          fmt::format(R"({{"customer":["c{}"],"kind":[{{"anything-but":{{"prefix":"k{}"}}}}]}})",
                      i % 10, i % 7);
      policies.emplace_back(
          fmt::format("p{:02}", i),
          courier::FilterPolicy::Compile(text, courier::FilterPolicyScope::kMessageBody,
                                         {.anything_but_matches_any_element = any_element})
              .value());
    }
    RuleSet rules;
    std::vector<std::pair<std::string, RuleSet::Rule>> all;
    for (const auto& [name, p] : policies) all.emplace_back(name, p);
    rules.Update(std::move(all));
    for (int c = 0; c < 10; ++c) {
      for (const char* kinds : {R"("k1x")", R"(["k1","k2"])", R"(["z","k3"])", R"([])", "7"}) {
        std::string body = fmt::format(R"({{"customer":"c{}","kind":{}}})", c, kinds);
        std::vector<std::string> expected;
        for (const auto& [name, p] : policies) {
          if (p.MatchesBody(body)) expected.push_back(name);
        }
        INFO(body << " any_element=" << any_element);
        CHECK(rules.Match(body) == expected);
      }
    }
  }
}

}  // namespace

namespace {

TEST_CASE("many overlapping numeric ranges on one field", "[ruleset][differential]") {
  uint64_t seed = 99;
  auto next = [&seed](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  const char* ops[] = {">", ">=", "<", "<=", "="};
  std::vector<std::pair<std::string, EventPattern>> patterns;
  for (int r = 0; r < 300; ++r) {
    std::string range;
    int a = static_cast<int>(next(40)) - 20;
    if (next(3) == 0) {
      int b = a + 1 + static_cast<int>(next(20));
      range = fmt::format(R"(["{}",{},"{}",{}])", next(2) ? ">" : ">=", a, next(2) ? "<" : "<=", b);
    } else {
      range = fmt::format(R"(["{}",{}])", ops[next(5)], a);
    }
    patterns.emplace_back(
        fmt::format("n{:03}", r),
        EventPattern::Compile(fmt::format(R"({{"x":[{{"numeric":{}}}]}})", range)).value());
  }
  RuleSet rules;
  std::vector<std::pair<std::string, RuleSet::Rule>> all;
  for (const auto& [name, p] : patterns) all.emplace_back(name, p);
  rules.Update(std::move(all));
  for (int v = -45; v <= 45; ++v) {
    for (const char* frac : {"", ".5"}) {
      std::string event = fmt::format(R"({{"x":{}{}}})", v, frac);
      std::vector<std::string> expected;
      for (const auto& [name, p] : patterns) {
        if (p.Matches(event)) expected.push_back(name);
      }
      INFO(event);
      CHECK(rules.Match(event) == expected);
    }
  }
}

}  // namespace

namespace {

// Non-ASCII equals-ignore-case patterns (whole, prefix, suffix) share one automaton per field;
// the reference is the direct position-by-position matcher.
TEST_CASE("non-ASCII case-insensitive patterns in one automaton", "[ruleset][differential]") {
  using courier::pattern_internal::Anchor;
  using courier::pattern_internal::BuildCaseAlternatives;
  using courier::pattern_internal::CaseAlternativesMatch;
  uint64_t seed = 5;
  auto next = [&seed](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  const char* pieces[] = {"ß", "S", "s", "σ", "ς", "Σ", "k", "\u212a", "ı", "I", "п", "П", "x"};
  auto word = [&](size_t max) {
    std::string w;
    size_t n = 1 + next(max);
    for (size_t k = 0; k < n; ++k) w += pieces[next(13)];
    return w;
  };
  struct Case {
    std::string text;
    Anchor anchor;
  };
  std::vector<Case> cases;
  std::vector<std::pair<std::string, RuleSet::Rule>> all;
  while (cases.size() < 60) {
    std::string w = word(3);
    if (courier::pattern_internal::IsAscii(w)) continue;
    Anchor anchor = static_cast<Anchor>(next(3));
    std::string op = anchor == Anchor::kWhole    ? R"({{"equals-ignore-case":"{}"}})"
                     : anchor == Anchor::kPrefix ? R"({{"prefix":{{"equals-ignore-case":"{}"}}}})"
                                                 : R"({{"suffix":{{"equals-ignore-case":"{}"}}}})";
    std::string pattern = fmt::format(R"({{"s":[{}]}})", fmt::format(fmt::runtime(op), w));
    all.emplace_back(fmt::format("c{:02}", cases.size()), EventPattern::Compile(pattern).value());
    cases.push_back({w, anchor});
  }
  RuleSet rules;
  rules.Update(std::move(all));
  for (int e = 0; e < 400; ++e) {
    std::string s = word(5);
    std::vector<std::string> expected;
    for (size_t i = 0; i < cases.size(); ++i) {
      if (CaseAlternativesMatch(BuildCaseAlternatives(cases[i].text), s, cases[i].anchor)) {
        expected.push_back(fmt::format("c{:02}", i));
      }
    }
    INFO(s);
    CHECK(rules.Match(fmt::format(R"({{"s":"{}"}})", s)) == expected);
  }
}

}  // namespace
