// libFuzzer target for the pattern compiler and the event reader. The first byte picks what the
// rest is: an event pattern, a filter policy (either scope), an event matched against a fixed
// rule set, or "pattern\nevent" compiled and matched. Nothing may crash, leak or read out of
// bounds; compiled patterns must match deterministically.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "courier/pattern.h"

namespace {

const courier::RuleSet& FixedRules() {
  static courier::RuleSet* rules = [] {
    auto* r = new courier::RuleSet();
    const char* patterns[] = {
        R"({"a":["x",1,null,true],"b":{"c":[{"prefix":"p"},{"suffix":"s"}]}})",
        R"({"a":[{"anything-but":["x"]}],"d":[{"exists":false}]})",
        R"({"n":[{"numeric":[">",0,"<=",10]}],"ip":[{"cidr":"10.0.0.0/8"}]})",
        R"({"w":[{"wildcard":"a*b\\*c*"}],"e":[{"equals-ignore-case":"ÄbC"}]})",
        R"({"$or":[{"a":{"b":["1"]}},{"a":{"c":["2"]},"x":[{"exists":true}]}]})",
    };
    int i = 0;
    for (const char* p : patterns) {
      (void)r->AddRule("r" + std::to_string(i++), courier::EventPattern::Compile(p).value());
    }
    return r;
  }();
  return *rules;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      (void)courier::EventPattern::Compile(rest);
      break;
    case 1:
      (void)courier::FilterPolicy::Compile(rest, courier::FilterPolicyScope::kMessageAttributes);
      break;
    case 2:
      (void)courier::FilterPolicy::Compile(rest, courier::FilterPolicyScope::kMessageBody);
      break;
    case 3:
      (void)FixedRules().Match(rest);
      break;
    default: {
      size_t nl = rest.find('\n');
      if (nl == std::string_view::npos) return 0;
      auto p = courier::EventPattern::Compile(rest.substr(0, nl));
      if (p.ok()) {
        std::string_view event = rest.substr(nl + 1);
        bool first = p->Matches(event);
        if (p->Matches(event) != first) __builtin_trap();
      }
      break;
    }
  }
  return 0;
}
