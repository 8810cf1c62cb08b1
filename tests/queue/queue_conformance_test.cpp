// The standard queue against AWS's documented and recorded SQS behaviour, where the other queue
// tests do not reach: the exact error names and messages AWS returns, attribute string forms,
// selection rules, tag limits and move-task errors. Recorded AWS responses are cited as [V].
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <string>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  std::shared_ptr<Queue> q = hub.CreateQueue("orders").value();

  QueueAttributeMap All() { return q->GetQueueAttributes().value(); }
};

std::string Redrive(const std::string& arn, const std::string& count) {
  return R"({"deadLetterTargetArn":")" + arn + R"(","maxReceiveCount":)" + count + "}";
}

TEST_CASE("Conformance: FifoQueue and FIFO-only attributes on a standard queue [V]",
          "[queue][conformance]") {
  Fixture f;
  // CreateQueue with FifoQueue=false on a standard queue: InvalidAttributeName [V].
  auto created = f.hub.CreateQueue("plain", QueueAttributeMap{{"FifoQueue", "false"}});
  CHECK(ErrorName(created.status()) == "InvalidAttributeName");
  CHECK(ErrorMessage(created.status()) == "Unknown Attribute FifoQueue.");
  CHECK(ErrorName(f.hub.GetQueue("plain").status()) == "QueueDoesNotExist");
  // SetQueueAttributes FifoQueue on a standard queue, either value: InvalidAttributeName [V].
  for (const char* value : {"true", "false"}) {
    const absl::Status st = f.q->SetQueueAttributes({{"FifoQueue", value}});
    CHECK(ErrorName(st) == "InvalidAttributeName");
    CHECK(ErrorMessage(st) == "Unknown Attribute FifoQueue.");
  }
  CHECK(ErrorMessage(
            f.hub.CreateQueue("plain", QueueAttributeMap{{"ContentBasedDeduplication", "false"}})
                .status()) == "Unknown Attribute ContentBasedDeduplication.");
  auto scope = f.hub.CreateQueue("plain", QueueAttributeMap{{"DeduplicationScope", "queue"}});
  CHECK(ErrorName(scope.status()) == "InvalidAttributeName");
  CHECK(ErrorMessage(scope.status()) ==
        "You can specify the DeduplicationScope only when FifoQueue is set to true.");
  auto limit = f.hub.CreateQueue("plain", QueueAttributeMap{{"FifoThroughputLimit", "perQueue"}});
  CHECK(ErrorName(limit.status()) == "InvalidAttributeName");
  CHECK(ErrorMessage(limit.status()) ==
        "You can specify the FifoThroughputLimit only when FifoQueue is set to true.");
  CHECK(f.q->GetQueueAttributes().value().count("FifoQueue") == 0);

  // A FIFO queue accepts FifoQueue=true again; false is a type change [V].
  auto fifo = f.hub.CreateFifoQueue("f.fifo", {{"FifoQueue", "true"}}).value();
  CHECK(fifo->SetQueueAttributes({{"FifoQueue", "true"}}).ok());
  const absl::Status change = fifo->SetQueueAttributes({{"FifoQueue", "false"}});
  CHECK(ErrorName(change) == "InvalidAttributeValue");
  CHECK(ErrorMessage(change) ==
        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not "
        "supported.");
}

TEST_CASE("Conformance: server-side encryption attributes [V]", "[queue][conformance]") {
  Fixture f;
  CHECK(f.All()["SqsManagedSseEnabled"] == "true");
  CHECK(f.All().count("KmsMasterKeyId") == 0);
  CHECK(f.All().count("KmsDataKeyReusePeriodSeconds") == 0);
  // Both kinds of encryption in one request: InvalidAttributeName, nothing changes [V].
  const absl::Status both =
      f.q->SetQueueAttributes({{"KmsMasterKeyId", "testKeyId"}, {"SqsManagedSseEnabled", "true"}});
  CHECK(ErrorName(both) == "InvalidAttributeName");
  CHECK(ErrorMessage(both) ==
        "You can use one type of server-side encryption (SSE) at one time. You can either enable "
        "KMS SSE or SQS SSE.");
  CHECK(f.All().count("KmsMasterKeyId") == 0);
  // A KMS key turns SQS-managed encryption off [V].
  REQUIRE(f.q->SetQueueAttributes(
                 {{"KmsMasterKeyId", "testKeyId"}, {"KmsDataKeyReusePeriodSeconds", "6000"}})
              .ok());
  auto all = f.All();
  CHECK(all["KmsMasterKeyId"] == "testKeyId");
  CHECK(all["KmsDataKeyReusePeriodSeconds"] == "6000");
  CHECK(all["SqsManagedSseEnabled"] == "false");
  // The reuse period is 60-86,400 s.
  for (const char* bad : {"59", "86401", "x", ""}) {
    INFO(bad);
    CHECK(ErrorName(f.q->SetQueueAttributes({{"KmsDataKeyReusePeriodSeconds", bad}})) ==
          "InvalidAttributeValue");
  }
  CHECK(f.q->SetQueueAttributes({{"KmsDataKeyReusePeriodSeconds", "60"}}).ok());
  CHECK(f.q->SetQueueAttributes({{"KmsDataKeyReusePeriodSeconds", "86400"}}).ok());
  CHECK(f.All()["KmsDataKeyReusePeriodSeconds"] == "86400");
  // Back to the defaults: no key, no reuse period shown, SQS-managed encryption stays off [V].
  REQUIRE(f.q->SetQueueAttributes({{"KmsMasterKeyId", ""}, {"KmsDataKeyReusePeriodSeconds", "300"}})
              .ok());
  all = f.All();
  CHECK(all.count("KmsMasterKeyId") == 0);
  CHECK(all.count("KmsDataKeyReusePeriodSeconds") == 0);
  CHECK(all["SqsManagedSseEnabled"] == "false");
  CHECK(f.q->SetQueueAttributes({{"SqsManagedSseEnabled", "true"}}).ok());
  CHECK(f.All()["SqsManagedSseEnabled"] == "true");
}

TEST_CASE("Conformance: an empty Policy removes it", "[queue][conformance]") {
  Fixture f;
  const std::string policy = R"({"Version":"2012-10-17","Statement":[]})";
  REQUIRE(f.q->SetQueueAttributes({{"Policy", policy}}).ok());
  CHECK(f.All()["Policy"] == policy);
  REQUIRE(f.q->SetQueueAttributes({{"Policy", ""}}).ok());
  CHECK(f.All().count("Policy") == 0);
}

TEST_CASE("Conformance: RedrivePolicy is returned as AWS writes it", "[queue][conformance]") {
  Fixture f;
  auto dlq = f.hub.CreateQueue("dlq").value();
  // maxReceiveCount given as a string, with spaces: returned compact, as a number.
  const std::string given =
      R"({ "deadLetterTargetArn": ")" + dlq->arn() + R"(", "maxReceiveCount": "5" })";
  REQUIRE(f.q->SetQueueAttributes({{"RedrivePolicy", given}}).ok());
  CHECK(f.All()["RedrivePolicy"] == Redrive(dlq->arn(), "5"));
  // CreateQueue with the same policy is still idempotent.
  auto again = f.hub.CreateQueue("src", QueueAttributeMap{{"RedrivePolicy", given}});
  REQUIRE(again.ok());
  CHECK(f.hub.CreateQueue("src", QueueAttributeMap{{"RedrivePolicy", given}}).ok());
  CHECK(f.hub.CreateQueue("src", QueueAttributeMap{{"RedrivePolicy", Redrive(dlq->arn(), "5")}})
            .ok());
  CHECK(ErrorName(
            f.hub.CreateQueue("src", QueueAttributeMap{{"RedrivePolicy", Redrive(dlq->arn(), "6")}})
                .status()) == "QueueAlreadyExists");
}

TEST_CASE("Conformance: an oversized batch entry fails alone, with AWS's batch wording [V]",
          "[queue][conformance]") {
  Fixture f;
  REQUIRE(f.q->SetQueueAttributes({{"MaximumMessageSize", "1024"}}).ok());
  auto r = f.q->SendMessageBatch({{"a", {.body = std::string(1024, 'a')}},
                                  {"b", {.body = std::string(1025, 'a')}}})
               .value();
  REQUIRE(r.successful.size() == 1);
  CHECK(r.successful[0].first == "a");
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].id == "b");
  CHECK(r.failed[0].sender_fault);
  CHECK(r.failed[0].code == "InvalidParameterValue");
  CHECK(r.failed[0].message ==
        "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 "
        "bytes.");
  // SendMessage keeps its own wording [V].
  CHECK(ErrorMessage(f.q->SendMessage({.body = std::string(1025, 'a')}).status()) ==
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.");
}

TEST_CASE("Conformance: a batch of exactly 1 MiB is accepted, one byte more is not [V]",
          "[queue][conformance]") {
  Fixture f;
  auto ok = f.q->SendMessageBatch(
      {{"a", {.body = std::string(524288, 'a')}}, {"b", {.body = std::string(524288, 'b')}}});
  REQUIRE(ok.ok());
  CHECK(ok->successful.size() == 2);
  auto over = f.q->SendMessageBatch(
      {{"a", {.body = std::string(524288, 'a')}}, {"b", {.body = std::string(524289, 'b')}}});
  CHECK(ErrorName(over.status()) == "BatchRequestTooLong");
  CHECK(ErrorMessage(over.status()) ==
        "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes.");
}

TEST_CASE("Conformance: system attributes selected by All [V]", "[queue][conformance]") {
  Fixture f;
  REQUIRE(f.q->SendMessage({.body = "msg"}).ok());
  REQUIRE(f.q->SendMessage({.body = "fair", .message_group_id = "test"}).ok());
  auto got =
      f.q->ReceiveMessage({.max_number_of_messages = 10, .message_system_attribute_names = {"All"}})
          .value();
  REQUIRE(got.size() == 2);
  for (const Message& m : got) {
    std::vector<std::string> names;
    for (const auto& [k, v] : m.attributes) names.push_back(k);
    if (m.body == "msg") {
      CHECK(names == std::vector<std::string>{"ApproximateFirstReceiveTimestamp",
                                              "ApproximateReceiveCount", "SenderId",
                                              "SentTimestamp"});
    } else {
      CHECK(names == std::vector<std::string>{"ApproximateFirstReceiveTimestamp",
                                              "ApproximateReceiveCount", "MessageGroupId",
                                              "SenderId", "SentTimestamp"});
      CHECK(m.attributes.at("MessageGroupId") == "test");
    }
  }
}

TEST_CASE("Conformance: MessageAttributeNames selection and its MD5 [V]", "[queue][conformance]") {
  Fixture f;
  REQUIRE(f.q->SetQueueAttributes({{"VisibilityTimeout", "0"}}).ok());
  auto sent = f.q->SendMessage({.body = "msg",
                                .attributes = {{"Help.Me", MessageAttribute::String("Me")},
                                               {"Hello", MessageAttribute::String("There")},
                                               {"General", MessageAttribute::String("Kenobi")}}})
                  .value();
  CHECK(sent.md5_of_message_attributes == "4c360f3fdafd970e05fae2f149d997f5");
  auto receive = [&](std::vector<std::string> names) {
    auto got = f.q->ReceiveMessage({.message_attribute_names = std::move(names)}).value();
    REQUIRE(got.size() == 1);
    std::vector<std::string> keys;
    for (const auto& [k, v] : got[0].message_attributes) keys.push_back(k);
    return std::make_pair(keys, std::string(got[0].md5_of_message_attributes.view()));
  };
  using Names = std::vector<std::string>;
  const Names all = {"General", "Hello", "Help.Me"};
  for (const char* selector : {"All", "*", ".*"}) {
    INFO(selector);
    auto [keys, md5] = receive({selector});
    CHECK(keys == all);
    CHECK(md5 == "4c360f3fdafd970e05fae2f149d997f5");
  }
  auto none = receive({"Foo", "Help"});
  CHECK(none.first.empty());
  CHECK(none.second.empty());
  auto existing = receive({"Hello", "General"});
  CHECK(existing.first == Names{"General", "Hello"});
  CHECK(existing.second == "fca026605781cb4126a1e9044df24232");
  auto mixed = receive({"Foo", "Hello"});
  CHECK(mixed.first == Names{"Hello"});
  CHECK(mixed.second == "a311262e065454b75da111d535b8dacd");
  // A prefix selector is the text before ".*": "Hel.*" selects Hello and Help.Me.
  auto prefix = receive({"Hel.*"});
  CHECK(prefix.first == Names{"Hello", "Help.Me"});
  CHECK(prefix.second == "83fee93c1bcd8b9a5a923ffacdc636c7");
  // Names that could not be attribute names select nothing and are no error.
  CHECK(receive({"AWS."}).first.empty());
  CHECK(receive({"..foo"}).first.empty());
}

TEST_CASE("Conformance: Number attributes between 10^-128 and 10^126", "[queue][conformance]") {
  Fixture f;
  auto send = [&](const std::string& number) {
    return f.q->SendMessage({.body = "x", .attributes = {{"n", MessageAttribute::Number(number)}}})
        .status();
  };
  for (const char* ok : {"0", "-0.0", "1e126", "-1e126", "9.99e125", "1e-128", "-1E-128",
                         "123456789012345678901234567890.12345678", "0.000001"}) {
    INFO(ok);
    CHECK(send(ok).ok());
  }
  for (const char* bad : {"1e127", "10e126", "-1e127", "1e-129", "0.1e-128", "1e99999999999"}) {
    INFO(bad);
    CHECK(ErrorName(send(bad)) == "InvalidParameterValue");
  }
  CHECK(f.All()["ApproximateNumberOfMessages"] == "9");
}

TEST_CASE("Conformance: an empty AWSTraceHeader is refused", "[queue][conformance]") {
  Fixture f;
  CHECK(ErrorName(f.q->SendMessage({.body = "x", .aws_trace_header = ""}).status()) ==
        "InvalidParameterValue");
  CHECK(f.All()["ApproximateNumberOfMessages"] == "0");
}

TEST_CASE("Conformance: tag limits", "[queue][conformance]") {
  Fixture f;
  REQUIRE(f.q->TagQueue({{"tag1", "value1"}, {"tag3", ""}}).ok());  // empty values are fine [V]
  std::string e_acute_128;
  for (int i = 0; i < 128; ++i) e_acute_128 += "\xC3\xA9";
  // Lengths count Unicode characters, not bytes.
  CHECK(f.q->TagQueue({{std::string(128, 'k'), std::string(256, 'v')}}).ok());
  CHECK(f.q->TagQueue({{e_acute_128, e_acute_128 + e_acute_128}}).ok());
  CHECK(f.q->TagQueue({{"Key with space_.:/=+-@", "v a_l.u:e/=+-@"}}).ok());
  const QueueAttributeMap before = f.q->ListQueueTags();
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"", "v"},
                                                        {std::string(129, 'k'), "v"},
                                                        {"k", std::string(257, 'v')},
                                                        {e_acute_128 + "x", "v"},
                                                        {"aws:reserved", "v"},
                                                        {"AWS:reserved", "v"},
                                                        {"bad#key", "v"},
                                                        {"k", "bad!value"},
                                                        {"k", "aws:value"}}) {
    INFO(k << " = " << v);
    CHECK(ErrorName(f.q->TagQueue({{"fine", "x"}, {k, v}})) == "InvalidParameterValue");
  }
  CHECK(f.q->ListQueueTags() == before);  // a failed call tags nothing
  Fixture g;
  QueueAttributeMap fifty;
  for (int i = 0; i < 50; ++i) fifty["t" + std::to_string(i)] = "v";
  REQUIRE(g.q->TagQueue(fifty).ok());
  CHECK(g.q->TagQueue({{"t0", "overwrite"}}).ok());  // same key: replaced, still 50
  CHECK(g.q->ListQueueTags().at("t0") == "overwrite");
  CHECK(ErrorName(g.q->TagQueue({{"t50", "v"}})) == "InvalidParameterValue");
  CHECK(g.q->ListQueueTags().size() == 50);
}

TEST_CASE("Conformance: ListQueues returns at most 1,000 URLs; MaxResults 1-1,000",
          "[queue][conformance]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  for (int i = 0; i < 1001; ++i) REQUIRE(hub.CreateQueue(fmt::format("q{:04}", i)).ok());
  auto listed = hub.ListQueues();
  REQUIRE(listed.size() == 1000);
  CHECK(listed.front() == hub.QueueUrl("q0000"));
  CHECK(listed.back() == hub.QueueUrl("q0999"));
  CHECK(hub.ListQueues("q099").size() == 10);
  CHECK(hub.ListQueues("q1") == std::vector<std::string>{hub.QueueUrl("q1000")});
  auto two = hub.ListQueues("q", 2);
  REQUIRE(two.ok());
  CHECK(*two == std::vector<std::string>{hub.QueueUrl("q0000"), hub.QueueUrl("q0001")});
  CHECK(hub.ListQueues("", 1000)->size() == 1000);
  CHECK(ErrorName(hub.ListQueues("", 0).status()) == "InvalidParameterValue");
  CHECK(ErrorName(hub.ListQueues("", 1001).status()) == "InvalidParameterValue");
}

TEST_CASE("Conformance: CancelMessageMoveTask errors [V]", "[queue][conformance][dlq]") {
  Fixture f;
  auto invalid = f.hub.CancelMessageMoveTask("foobared");
  CHECK(ErrorName(invalid.status()) == "InvalidParameterValue");
  CHECK(ErrorMessage(invalid.status()) == "Value for parameter TaskHandle is invalid.");
  // A well-formed handle whose source queue does not exist.
  auto dlq = f.hub.CreateQueue("dlq").value();
  REQUIRE(f.q->SetQueueAttributes({{"RedrivePolicy", Redrive(dlq->arn(), "1")}}).ok());
  const std::string handle = f.hub.StartMessageMoveTask(dlq->arn()).value();
  const std::string other_source = f.hub.Arn("sqs", "test-queue-doesnt-exist");
  auto no_source = f.hub.CancelMessageMoveTask(other_source + handle.substr(dlq->arn().size()));
  CHECK(ErrorName(no_source.status()) == "ResourceNotFoundException");
  CHECK(ErrorMessage(no_source.status()) ==
        "The resource that you specified for the SourceArn parameter doesn't exist.");
  // The source exists, the task does not.
  auto no_task = f.hub.CancelMessageMoveTask(dlq->arn() + "#999");
  CHECK(ErrorName(no_task.status()) == "ResourceNotFoundException");
  CHECK(ErrorMessage(no_task.status()) == "Task does not exist.");
}

TEST_CASE("Conformance: a move task whose destination is deleted fails [V]",
          "[queue][conformance][dlq]") {
  Fixture f;
  auto dlq = f.hub.CreateQueue("dlq").value();
  auto dest = f.hub.CreateQueue("dest").value();
  REQUIRE(f.q->SetQueueAttributes({{"RedrivePolicy", Redrive(dlq->arn(), "1")}}).ok());
  for (int i = 0; i < 4; ++i) REQUIRE(f.q->SendMessage({.body = "m"}).ok());
  REQUIRE(f.q->ReceiveMessage(
                 {.max_number_of_messages = 10, .visibility_timeout = absl::ZeroDuration()})
              ->size() == 4);
  REQUIRE(f.q->ReceiveMessage({.max_number_of_messages = 10})->empty());
  REQUIRE(f.hub.StartMessageMoveTask(dlq->arn(), dest->arn(), 1).ok());
  REQUIRE(f.hub.DeleteQueue(dest->arn()).ok());
  f.sim.clock().Advance(absl::Seconds(2));
  auto tasks = f.hub.ListMessageMoveTasks(dlq->arn()).value();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0]["Status"] == "FAILED");
  CHECK(tasks[0]["FailureReason"] == "AWS.SimpleQueueService.NonExistentQueue");
  CHECK(tasks[0]["ApproximateNumberOfMessagesMoved"] == "1");
  CHECK(tasks[0].count("TaskHandle") == 0);
  // The message it could not move stays in the dead-letter queue.
  CHECK(dlq->GetQueueAttributes({"ApproximateNumberOfMessages"})
            .value()["ApproximateNumberOfMessages"] == "3");
}

TEST_CASE("Conformance: ChangeMessageVisibility after the timeout expired succeeds [V]",
          "[queue][conformance]") {
  Fixture f;
  REQUIRE(f.q->SendMessage({.body = "test"}).ok());
  auto got = f.q->ReceiveMessage({.visibility_timeout = absl::Seconds(1)}).value();
  REQUIRE(got.size() == 1);
  f.sim.clock().Advance(absl::Seconds(2));
  CHECK(f.q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(2)).ok());
}

TEST_CASE("Conformance: per-message DelaySeconds 0 overrides the queue's delay",
          "[queue][conformance]") {
  Fixture f;
  REQUIRE(f.q->SetQueueAttributes({{"DelaySeconds", "900"}}).ok());
  REQUIRE(f.q->SendMessage({.body = "now", .delay = absl::ZeroDuration()}).ok());
  REQUIRE(f.q->SendMessage({.body = "later"}).ok());
  auto all = f.All();
  CHECK(all["ApproximateNumberOfMessages"] == "1");
  CHECK(all["ApproximateNumberOfMessagesDelayed"] == "1");
  // Changing the queue's delay does not touch messages already queued.
  REQUIRE(f.q->SetQueueAttributes({{"DelaySeconds", "0"}}).ok());
  CHECK(f.All()["ApproximateNumberOfMessagesDelayed"] == "1");
  f.sim.clock().Advance(absl::Seconds(900));
  CHECK(f.All()["ApproximateNumberOfMessages"] == "2");
}

}  // namespace
}  // namespace courier
