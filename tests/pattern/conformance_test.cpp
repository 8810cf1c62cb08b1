// Runs every case of tests/conformance/patterns/cases.jsonl: pattern, event, MATCH/NO/INVALID.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "courier/json.h"
#include "courier/pattern.h"
#include "courier/status.h"

namespace {

// A case's pattern or event is either a JSON value or, where its exact text matters (number
// spellings), a string holding the JSON text.
std::string TextOf(const courier::Json& v) {
  if (v.is_string()) return std::string(v.as_string());
  return courier::ToJsonText(v);
}

TEST_CASE("conformance cases (event-ruler checked)", "[pattern][conformance]") {
  std::ifstream in(COURIER_TEST_DATA_DIR "/conformance/patterns/cases.jsonl");
  REQUIRE(in);
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto doc = courier::ParseJson(line);
    REQUIRE(doc.ok());
    const auto& c = doc->as_object();
    std::string id(c.at("id").as_string());
    std::string expected(c.at("expected").as_string());
    std::string pattern = TextOf(c.at("pattern"));
    std::string event = TextOf(c.at("event"));
    INFO(id << ": " << pattern << " vs " << event);
    auto compiled = courier::EventPattern::Compile(pattern);
    if (expected == "INVALID") {
      CHECK_FALSE(compiled.ok());
      if (!compiled.ok())
        CHECK(courier::ErrorName(compiled.status()) == "InvalidEventPatternException");
    } else {
      REQUIRE(compiled.ok());
      CHECK(compiled->Matches(event) == (expected == "MATCH"));
    }
    ++cases;
  }
  CHECK(cases >= 70);
}

}  // namespace
