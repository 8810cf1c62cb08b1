// Callbacks, stops and completions racing across threads (meant for ThreadSanitizer).
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "courier/function.h"
#include "test_util.h"

using namespace courier;

TEST_CASE("Task tokens completed and executions stopped from other threads", "[states][stress]") {
  Hub hub(Environment{.clock = std::make_shared<ManualClock>(),
                      .executor = std::make_shared<ThreadPoolExecutor>(2)});
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> tokens;
  REQUIRE(hub.RegisterFunction("ask",
                               [&](const Json& in) -> absl::StatusOr<Json> {
                                 std::lock_guard lock(mu);
                                 tokens.emplace_back(in.at("token").as_string());
                                 cv.notify_all();
                                 return Json(nullptr);
                               })
              .ok());
  auto m = hub.CreateStateMachine("cb", R"j({"StartAt":"M","States":{"M":{"Type":"Map",
      "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task",
        "Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters":{"FunctionName":"ask","Payload":{"token.$":"$$.Task.Token"}},"End":true}}},
      "End":true}}})j");
  REQUIRE(m.ok());
  constexpr int kExecutions = 40;
  constexpr int kItems = 3;
  std::vector<std::shared_ptr<Execution>> execs;
  for (int i = 0; i < kExecutions; ++i)
    execs.push_back(*(*m)->StartExecution({.input = "[1,2,3]"}));
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
    std::string token;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return static_cast<int>(tokens.size()) > i || finished; });
      if (static_cast<int>(tokens.size()) <= i) break;
      token = tokens[i];
    }
    absl::Status st = hub.SendTaskSuccess(token, R"({"ok":true})");
    CHECK((st.ok() || ErrorName(st) == "TaskDoesNotExist"));
  }
  stopper.join();
  watcher.join();
  CHECK(stop_errors == 0);
  int succeeded = 0, aborted = 0;
  for (auto& e : execs) {
    auto d = e->Await();
    if (d.status == ExecutionStatus::kSucceeded) {
      ++succeeded;
      CHECK(d.output->as_array().size() == kItems);
    } else {
      CHECK(d.status == ExecutionStatus::kAborted);
      ++aborted;
    }
  }
  CHECK(aborted >= 1);
  CHECK(succeeded + aborted == kExecutions);
}
