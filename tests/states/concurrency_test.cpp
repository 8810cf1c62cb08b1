// Callbacks, stops and completions racing across threads (meant for ThreadSanitizer).
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "courier/function.h"
#include "courier/lambda.h"
#include "courier/step_functions.h"
#include "test_util.h"

using namespace courier;

TEST_CASE("Task tokens completed and executions stopped from other threads", "[states][stress]") {
  Hub hub(Environment{.clock = std::make_shared<ManualClock>(),
                      .executor = std::make_shared<ThreadPoolExecutor>(2)});
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::string>> tokens;  // (execution name, token)
  REQUIRE(Lambda(hub)
              .RegisterFunction("ask",
                                [&](const Json& in) -> absl::StatusOr<Json> {
                                  std::lock_guard lock(mu);
                                  tokens.emplace_back(in.at("exec").as_string(),
                                                      in.at("token").as_string());
                                  cv.notify_all();
                                  return Json(nullptr);
                                })
              .ok());
  auto m =
      StepFunctions(hub).CreateStateMachine("cb", R"j({"StartAt":"M","States":{"M":{"Type":"Map",
      "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task",
        "Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters":{"FunctionName":"ask","Payload":{"token.$":"$$.Task.Token",
          "exec.$":"$$.Execution.Name"}},"End":true}}},
      "End":true}}})j");
  REQUIRE(m.ok());
  constexpr int kExecutions = 40;
  constexpr int kItems = 3;
  std::vector<std::shared_ptr<Execution>> execs;
  for (int i = 0; i < kExecutions; ++i) {
    execs.push_back(*(*m)->StartExecution({.name = "e" + std::to_string(i), .input = "[1,2,3]"}));
  }
  // Every fourth execution is stopped from another thread and never gets its tasks answered.
  auto stopped = [](const std::string& name) { return std::stoi(name.substr(1)) % 4 == 0; };
  std::atomic<int> stop_errors{0};  // Catch's macros are not thread-safe: count, check later
  std::thread stopper([&] {
    for (int i = 0; i < kExecutions; i += 4) {
      if (!execs[i]->Stop("Stopped", "by test").ok()) ++stop_errors;
    }
  });
  // Tokens of stopped executions never come: a watcher says when every execution has ended.
  bool finished = false;
  std::thread watcher([&] {
    for (auto& e : execs) e->Await();
    std::lock_guard lock(mu);
    finished = true;
    cv.notify_all();
  });
  for (int i = 0;; ++i) {
    std::pair<std::string, std::string> token;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return static_cast<int>(tokens.size()) > i || finished; });
      if (static_cast<int>(tokens.size()) <= i) break;
      token = tokens[i];
    }
    if (stopped(token.first)) continue;
    CHECK(StepFunctions(hub).SendTaskSuccess(token.second, R"({"ok":true})").ok());
  }
  stopper.join();
  watcher.join();
  CHECK(stop_errors == 0);
  for (auto& e : execs) {
    auto d = e->Await();
    if (stopped(e->name())) {
      CHECK(d.status == ExecutionStatus::kAborted);
      CHECK(d.error == "Stopped");
    } else {
      REQUIRE(d.status == ExecutionStatus::kSucceeded);
      CHECK(d.output->as_array().size() == kItems);
    }
  }
}
