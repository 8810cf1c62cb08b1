#include <catch2/catch.hpp>

#include "courier/function.h"
#include "courier/lambda.h"
#include "courier/step_functions.h"
#include "test_util.h"

using namespace courier;
using courier::states_internal::test::Fixture;

namespace {
bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("ToDot and ToMermaid draw states, transitions, catches and nested scopes",
          "[states][graph]") {
  Fixture fx;
  REQUIRE(Lambda(fx.hub)
              .RegisterFunction("f",
                                [](const Json&) -> absl::StatusOr<Json> {
                                  return FunctionError("Boom", "always");
                                })
              .ok());
  auto m = fx.Machine(R"j({"StartAt":"Check","States":{
      "Check":{"Type":"Choice","Choices":[{"Variable":"$.go","BooleanEquals":true,"Next":"Work"}],"Default":"Skip"},
      "Work":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f",
              "Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":1}],
              "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Fan"}],"Next":"Skip"},
      "Fan":{"Type":"Parallel","Branches":[{"StartAt":"B1","States":{"B1":{"Type":"Pass","End":true}}}],"Next":"Skip"},
      "Skip":{"Type":"Succeed"}}})j");
  std::string dot = m->ToDot();
  CHECK(Contains(dot, "digraph \"m\""));
  CHECK(Contains(dot, "start -> s0;"));
  CHECK(Contains(dot, "s0 -> s1 [label=\"rule 1\"]"));
  CHECK(Contains(dot, "s0 -> s3 [label=\"Default\", style=dashed]"));
  CHECK(Contains(dot, "s1 -> s2 [label=\"Catch States.ALL\", style=dashed, color=red]"));
  CHECK(Contains(dot, "subgraph cluster_s2_0_"));
  CHECK(!Contains(dot, "fillcolor=\"#"));  // no execution: no colours
  std::string mermaid = m->ToMermaid();
  CHECK(Contains(mermaid, "flowchart TD"));
  CHECK(Contains(mermaid, "s0{\"Check<br/><i>Choice</i>\"}"));
  CHECK(Contains(mermaid, "subgraph s2_0_"));

  auto e = m->StartExecution({.input = R"({"go":true})"});
  fx.sim.RunUntilIdle();
  std::string coloured = m->ToDot(e->get());
  CHECK(Contains(coloured, "s0 [label=\"Check\\n(Choice)\", fillcolor=\"#c8e6c9\""));  // succeeded
  CHECK(Contains(coloured, "s1 [label=\"Work\\n(Task)\", fillcolor=\"#ffe0b2\""));     // caught
  std::string mer = m->ToMermaid(e->get());
  CHECK(Contains(mer, "class s1 caught"));
  CHECK(Contains(mer, "class s3 succeeded"));
}
