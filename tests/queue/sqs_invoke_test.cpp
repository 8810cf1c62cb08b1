// The SQS operation table against the scripts in tests/conformance/sqs: each *.jsonl file is a
// `courier invoke` script (one hub, a manual clock) whose lines also say what AWS answers. The
// line format and the runner: tests/invoke_script.h.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "invoke_script.h"

namespace courier {
namespace {

namespace fs = std::filesystem;
using testing_support::RunScript;
using testing_support::Scripts;
using testing_support::ScriptsUse;

const fs::path kScripts = fs::path(COURIER_TEST_DATA_DIR) / "conformance" / "sqs";

TEST_CASE("The SQS operation table answers as AWS does (tests/conformance/sqs)",
          "[queue][invoke]") {
  const std::vector<fs::path> scripts = Scripts(kScripts);
  REQUIRE(!scripts.empty());
  for (const fs::path& script : scripts) {
    DYNAMIC_SECTION(script.filename().string()) { RunScript(script); }
  }
}

TEST_CASE("The scripts use every SQS operation", "[queue][invoke]") {
  // AWS's SQS API (AmazonSQS.<operation>), as of 2026.
  const std::vector<std::string> operations = {"AddPermission",
                                               "CancelMessageMoveTask",
                                               "ChangeMessageVisibility",
                                               "ChangeMessageVisibilityBatch",
                                               "CreateQueue",
                                               "DeleteMessage",
                                               "DeleteMessageBatch",
                                               "DeleteQueue",
                                               "GetQueueAttributes",
                                               "GetQueueUrl",
                                               "ListDeadLetterSourceQueues",
                                               "ListMessageMoveTasks",
                                               "ListQueueTags",
                                               "ListQueues",
                                               "PurgeQueue",
                                               "ReceiveMessage",
                                               "RemovePermission",
                                               "SendMessage",
                                               "SendMessageBatch",
                                               "SetQueueAttributes",
                                               "StartMessageMoveTask",
                                               "TagQueue",
                                               "UntagQueue"};
  for (const std::string& op : operations) {
    INFO(op);
    CHECK(ScriptsUse(kScripts, op));
  }
}

}  // namespace
}  // namespace courier
