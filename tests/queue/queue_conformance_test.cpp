// The standard queue against AWS's documented and recorded SQS behaviour, where the other queue
// tests do not reach: the exact error names and messages AWS returns, attribute string forms,
// selection rules, tag limits and move-task errors. Recorded AWS responses are cited as [V].
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/lambda.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/step_functions.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  std::shared_ptr<Queue> q = Sqs(hub).CreateQueue("orders").value();

  QueueAttributeMap All() { return q->GetQueueAttributes().value(); }
};

std::string Redrive(const std::string& arn, const std::string& count) {
  return R"({"deadLetterTargetArn":")" + arn + R"(","maxReceiveCount":)" + count + "}";
}

TEST_CASE("Conformance: FifoQueue and FIFO-only attributes on a standard queue [V]",
          "[queue][conformance]") {
  Fixture f;
  // CreateQueue with FifoQueue=false on a standard queue: InvalidAttributeName [V].
  auto created = Sqs(f.hub).CreateQueue("plain", QueueAttributeMap{{"FifoQueue", "false"}});
  CHECK(ErrorName(created.status()) == "InvalidAttributeName");
  CHECK(ErrorMessage(created.status()) == "Unknown Attribute FifoQueue.");
  CHECK(ErrorName(Sqs(f.hub).GetQueue("plain").status()) == "QueueDoesNotExist");
  // SetQueueAttributes FifoQueue on a standard queue, either value: InvalidAttributeName [V].
  for (const char* value : {"true", "false"}) {
    const absl::Status st = f.q->SetQueueAttributes({{"FifoQueue", value}});
    CHECK(ErrorName(st) == "InvalidAttributeName");
    CHECK(ErrorMessage(st) == "Unknown Attribute FifoQueue.");
  }
  CHECK(ErrorMessage(
            Sqs(f.hub)
                .CreateQueue("plain", QueueAttributeMap{{"ContentBasedDeduplication", "false"}})
                .status()) == "Unknown Attribute ContentBasedDeduplication.");
  auto scope = Sqs(f.hub).CreateQueue("plain", QueueAttributeMap{{"DeduplicationScope", "queue"}});
  CHECK(ErrorName(scope.status()) == "InvalidAttributeName");
  CHECK(ErrorMessage(scope.status()) ==
        "You can specify the DeduplicationScope only when FifoQueue is set to true.");
  auto limit =
      Sqs(f.hub).CreateQueue("plain", QueueAttributeMap{{"FifoThroughputLimit", "perQueue"}});
  CHECK(ErrorName(limit.status()) == "InvalidAttributeName");
  CHECK(ErrorMessage(limit.status()) ==
        "You can specify the FifoThroughputLimit only when FifoQueue is set to true.");
  CHECK(f.q->GetQueueAttributes().value().count("FifoQueue") == 0);

  // A FIFO queue accepts FifoQueue=true again; false is a type change [V].
  auto fifo = Sqs(f.hub).CreateFifoQueue("f.fifo", {{"FifoQueue", "true"}}).value();
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

TEST_CASE("Conformance: Policy is a JSON object; an empty Policy removes it",
          "[queue][conformance]") {
  Fixture f;
  const std::string policy = R"({"Version":"2012-10-17","Statement":[]})";
  REQUIRE(f.q->SetQueueAttributes({{"Policy", policy}}).ok());
  CHECK(f.All()["Policy"] == policy);
  REQUIRE(f.q->SetQueueAttributes({{"Policy", ""}}).ok());
  CHECK(f.All().count("Policy") == 0);
  for (const char* bad : {"not json", "[]", "{"}) {
    INFO(bad);
    CHECK(ErrorName(f.q->SetQueueAttributes({{"Policy", bad}})) == "InvalidAttributeValue");
  }
  CHECK(f.All().count("Policy") == 0);
}

TEST_CASE("Conformance: RedrivePolicy is returned as AWS writes it", "[queue][conformance]") {
  Fixture f;
  auto dlq = Sqs(f.hub).CreateQueue("dlq").value();
  // maxReceiveCount given as a string, with spaces: returned compact, as a number.
  const std::string given =
      R"({ "deadLetterTargetArn": ")" + dlq->arn() + R"(", "maxReceiveCount": "5" })";
  REQUIRE(f.q->SetQueueAttributes({{"RedrivePolicy", given}}).ok());
  CHECK(f.All()["RedrivePolicy"] == Redrive(dlq->arn(), "5"));
  // CreateQueue with the same policy is still idempotent.
  auto again = Sqs(f.hub).CreateQueue("src", QueueAttributeMap{{"RedrivePolicy", given}});
  REQUIRE(again.ok());
  CHECK(Sqs(f.hub).CreateQueue("src", QueueAttributeMap{{"RedrivePolicy", given}}).ok());
  CHECK(Sqs(f.hub)
            .CreateQueue("src", QueueAttributeMap{{"RedrivePolicy", Redrive(dlq->arn(), "5")}})
            .ok());
  CHECK(ErrorName(
            Sqs(f.hub)
                .CreateQueue("src", QueueAttributeMap{{"RedrivePolicy", Redrive(dlq->arn(), "6")}})
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
  for (int i = 0; i < 1001; ++i) REQUIRE(Sqs(hub).CreateQueue(fmt::format("q{:04}", i)).ok());
  auto listed = Sqs(hub).ListQueues();
  REQUIRE(listed.size() == 1000);
  CHECK(listed.front() == Sqs(hub).QueueUrl("q0000"));
  CHECK(listed.back() == Sqs(hub).QueueUrl("q0999"));
  CHECK(Sqs(hub).ListQueues("q099").size() == 10);
  CHECK(Sqs(hub).ListQueues("q1") == std::vector<std::string>{Sqs(hub).QueueUrl("q1000")});
  auto two = Sqs(hub).ListQueues("q", 2);
  REQUIRE(two.ok());
  CHECK(*two == std::vector<std::string>{Sqs(hub).QueueUrl("q0000"), Sqs(hub).QueueUrl("q0001")});
  CHECK(Sqs(hub).ListQueues("", 1000)->size() == 1000);
  CHECK(ErrorName(Sqs(hub).ListQueues("", 0).status()) == "InvalidParameterValue");
  CHECK(ErrorName(Sqs(hub).ListQueues("", 1001).status()) == "InvalidParameterValue");
}

TEST_CASE("Conformance: CancelMessageMoveTask errors [V]", "[queue][conformance][dlq]") {
  Fixture f;
  auto invalid = Sqs(f.hub).CancelMessageMoveTask("foobared");
  CHECK(ErrorName(invalid.status()) == "InvalidParameterValue");
  CHECK(ErrorMessage(invalid.status()) == "Value for parameter TaskHandle is invalid.");
  // A well-formed handle whose source queue does not exist.
  auto dlq = Sqs(f.hub).CreateQueue("dlq").value();
  REQUIRE(f.q->SetQueueAttributes({{"RedrivePolicy", Redrive(dlq->arn(), "1")}}).ok());
  const std::string handle = Sqs(f.hub).StartMessageMoveTask(dlq->arn()).value();
  const std::string other_source = f.hub.Arn("sqs", "test-queue-doesnt-exist");
  auto no_source =
      Sqs(f.hub).CancelMessageMoveTask(other_source + handle.substr(dlq->arn().size()));
  CHECK(ErrorName(no_source.status()) == "ResourceNotFoundException");
  CHECK(ErrorMessage(no_source.status()) ==
        "The resource that you specified for the SourceArn parameter doesn't exist.");
  // The source exists, the task does not.
  auto no_task = Sqs(f.hub).CancelMessageMoveTask(dlq->arn() + "#999");
  CHECK(ErrorName(no_task.status()) == "ResourceNotFoundException");
  CHECK(ErrorMessage(no_task.status()) == "Task does not exist.");
}

TEST_CASE("Conformance: a move task whose destination is deleted fails [V]",
          "[queue][conformance][dlq]") {
  Fixture f;
  auto dlq = Sqs(f.hub).CreateQueue("dlq").value();
  auto dest = Sqs(f.hub).CreateQueue("dest").value();
  REQUIRE(f.q->SetQueueAttributes({{"RedrivePolicy", Redrive(dlq->arn(), "1")}}).ok());
  for (int i = 0; i < 4; ++i) REQUIRE(f.q->SendMessage({.body = "m"}).ok());
  REQUIRE(f.q->ReceiveMessage(
                 {.max_number_of_messages = 10, .visibility_timeout = absl::ZeroDuration()})
              ->size() == 4);
  REQUIRE(f.q->ReceiveMessage({.max_number_of_messages = 10})->empty());
  REQUIRE(Sqs(f.hub).StartMessageMoveTask(dlq->arn(), dest->arn(), 1).ok());
  REQUIRE(Sqs(f.hub).DeleteQueue(dest->arn()).ok());
  f.sim.clock().Advance(absl::Seconds(2));
  auto tasks = Sqs(f.hub).ListMessageMoveTasks(dlq->arn()).value();
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

TEST_CASE("Conformance: GetQueueAttributes takes every AWS attribute name",
          "[queue][conformance]") {
  Fixture f;
  // A standard queue has no FIFO attributes to return, but asking is no error.
  auto got =
      f.q->GetQueueAttributes({"FifoQueue", "ContentBasedDeduplication", "VisibilityTimeout"});
  REQUIRE(got.ok());
  CHECK(*got == QueueAttributeMap{{"VisibilityTimeout", "30"}});
  CHECK(f.q->GetQueueAttributes({}).value().empty());
  auto bogus = f.q->GetQueueAttributes({"VisibilityTimeout", "Bogus"});
  CHECK(ErrorName(bogus.status()) == "InvalidAttributeName");
  CHECK(ErrorMessage(bogus.status()) == "Unknown Attribute Bogus.");
}

TEST_CASE("Conformance: a move task whose source is deleted fails", "[queue][conformance][dlq]") {
  Fixture f;
  auto dlq = Sqs(f.hub).CreateQueue("dlq").value();
  REQUIRE(f.q->SetQueueAttributes({{"RedrivePolicy", Redrive(dlq->arn(), "1")}}).ok());
  for (int i = 0; i < 3; ++i) REQUIRE(f.q->SendMessage({.body = "m"}).ok());
  REQUIRE(f.q->ReceiveMessage(
                 {.max_number_of_messages = 10, .visibility_timeout = absl::ZeroDuration()})
              ->size() == 3);
  REQUIRE(f.q->ReceiveMessage({.max_number_of_messages = 10})->empty());
  REQUIRE(Sqs(f.hub).StartMessageMoveTask(dlq->arn(), std::nullopt, 1).ok());
  auto tasks_before = Sqs(f.hub).ListMessageMoveTasks(dlq->arn()).value();
  REQUIRE(tasks_before[0]["Status"] == "RUNNING");
  REQUIRE(Sqs(f.hub).DeleteQueue(dlq->arn()).ok());
  f.sim.clock().Advance(absl::Seconds(2));
  auto tasks = dlq->ListMessageMoveTasks(1).value();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].status == "FAILED");
  CHECK(tasks[0].failure_reason == "AWS.SimpleQueueService.NonExistentQueue");
  CHECK(tasks[0].approximate_number_of_messages_moved == 1);
}

TEST_CASE("Conformance: a queue created with a KMS key has SQS-managed encryption off [V]",
          "[queue][conformance]") {
  Fixture f;
  auto kms = Sqs(f.hub)
                 .CreateQueue("kms", QueueAttributeMap{{"KmsMasterKeyId", "alias/aws/sqs"},
                                                       {"KmsDataKeyReusePeriodSeconds", "297"}})
                 .value();
  auto all = kms->GetQueueAttributes().value();
  CHECK(all["KmsMasterKeyId"] == "alias/aws/sqs");
  CHECK(all["KmsDataKeyReusePeriodSeconds"] == "297");
  CHECK(all["SqsManagedSseEnabled"] == "false");
  // Without a reuse period the default (300 s) shows.
  auto plain = Sqs(f.hub).CreateQueue("kms2", QueueAttributeMap{{"KmsMasterKeyId", "k"}}).value();
  CHECK(plain->GetQueueAttributes().value()["KmsDataKeyReusePeriodSeconds"] == "300");
  CHECK(ErrorName(Sqs(f.hub)
                      .CreateQueue("kms3", QueueAttributeMap{{"KmsMasterKeyId", "k"},
                                                             {"SqsManagedSseEnabled", "true"}})
                      .status()) == "InvalidAttributeName");
  CHECK(ErrorName(Sqs(f.hub).GetQueue("kms3").status()) == "QueueDoesNotExist");
}

TEST_CASE("Conformance: CreateQueue compares only the attributes given [V]",
          "[queue][conformance]") {
  Fixture f;
  auto q = Sqs(f.hub)
               .CreateQueue("idem", QueueAttributeMap{{"ReceiveMessageWaitTimeSeconds", "1"},
                                                      {"DelaySeconds", "1"}})
               .value();
  CHECK(Sqs(f.hub).CreateQueue("idem").value() == q);
  CHECK(Sqs(f.hub).CreateQueue("idem", QueueAttributeMap{{"DelaySeconds", "1"}}).value() == q);
  auto different = Sqs(f.hub).CreateQueue(
      "idem", QueueAttributeMap{{"ReceiveMessageWaitTimeSeconds", "1"}, {"DelaySeconds", "2"}});
  CHECK(ErrorName(different.status()) == "QueueAlreadyExists");
  CHECK(ErrorMessage(different.status()) ==
        "A queue already exists with the same name and a different value for attribute "
        "DelaySeconds");
  REQUIRE(q->SetQueueAttributes({{"DelaySeconds", "2"}}).ok());
  CHECK(Sqs(f.hub)
            .CreateQueue("idem", QueueAttributeMap{{"ReceiveMessageWaitTimeSeconds", "1"},
                                                   {"DelaySeconds", "2"}})
            .value() == q);
}

TEST_CASE("Conformance: Binary attribute values are raw bytes, control characters too [V]",
          "[queue][conformance]") {
  Fixture f;
  const std::string bytes =
      "traceparent\x1e"
      "00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01";
  auto sent =
      f.q->SendMessage({.body = "test", .attributes = {{"attr1", MessageAttribute::Binary(bytes)}}})
          .value();
  CHECK(sent.md5_of_message_body == "098f6bcd4621d373cade4e832627b4f6");
  CHECK(sent.md5_of_message_attributes == "8cbe4db156db8a94db8b801b7addb984");
  auto got = f.q->ReceiveMessage({.message_attribute_names = {"All"}}).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].md5_of_message_attributes == "8cbe4db156db8a94db8b801b7addb984");
  CHECK(got[0].message_attributes.at("attr1").binary_value == bytes);
}

TEST_CASE("Options: invalid body characters replaced with U+FFFD instead of refused (spec §2)",
          "[queue][conformance]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto q = Queue::Create(hub, "lenient", {}, {.replace_invalid_characters = true}).value();
  const std::string body = std::string(
      "a\x01"
      "b\xFF"
      "c\xED\xA0\x80"
      "d\xC3",
      10);
  const std::string replaced =
      "a\xEF\xBF\xBD"
      "b\xEF\xBF\xBD"
      "c\xEF\xBF\xBD"
      "d\xEF\xBF\xBD";
  auto sent = q->SendMessage({.body = body}).value();
  auto got = q->ReceiveMessage({}).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == replaced);
  CHECK(got[0].md5_of_body == sent.md5_of_message_body);
  CHECK(q->SendMessage({.body = "fine \xC3\xA9"}).ok());
  // Attribute values are not rewritten; the default queue still refuses.
  CHECK(ErrorName(
            q->SendMessage({.body = "x", .attributes = {{"a", MessageAttribute::String("\x01")}}})
                .status()) == "InvalidMessageContents");
  auto strict = Sqs(hub).CreateQueue("strict").value();
  CHECK(ErrorName(strict->SendMessage({.body = body}).status()) == "InvalidMessageContents");
}

TEST_CASE("Options: shuffle returns a receive's messages in random order (spec §3)",
          "[queue][conformance]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto q = Queue::Create(hub, "shuffled", {}, {.shuffle = true, .seed = 42}).value();
  std::vector<std::string> sent;
  for (int i = 0; i < 10; ++i) {
    sent.push_back(std::to_string(i));
    REQUIRE(q->SendMessage({.body = sent.back()}).ok());
  }
  auto got = q->ReceiveMessage({.max_number_of_messages = 10}).value();
  REQUIRE(got.size() == 10);
  std::vector<std::string> bodies;
  for (const Message& m : got) bodies.push_back(m.body);
  CHECK(bodies != sent);
  std::sort(bodies.begin(), bodies.end());
  CHECK(bodies == sent);
  for (const Message& m : got) CHECK(q->DeleteMessage(m.receipt_handle).ok());
  CHECK(q->GetQueueAttributes({"ApproximateNumberOfMessagesNotVisible"})
            .value()["ApproximateNumberOfMessagesNotVisible"] == "0");
}

TEST_CASE("Options: duplicate deliveries (spec §3 at-least-once)", "[queue][conformance]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto always = Queue::Create(hub, "dup", {}, {.duplicate_probability = 1, .seed = 7}).value();
  REQUIRE(always->SendMessage({.body = "twice"}).ok());
  auto first = always->ReceiveMessage({.message_system_attribute_names = {"All"}}).value();
  REQUIRE(first.size() == 1);
  auto second = always->ReceiveMessage({.message_system_attribute_names = {"All"}}).value();
  REQUIRE(second.size() == 1);
  CHECK(second[0].message_id == first[0].message_id);
  CHECK(second[0].attributes.at("ApproximateReceiveCount") == "2");
  // The first handle is stale now: success, nothing deleted; the latest one deletes.
  CHECK(always->DeleteMessage(first[0].receipt_handle).ok());
  CHECK(always->GetQueueAttributes({"ApproximateNumberOfMessages"})
            .value()["ApproximateNumberOfMessages"] == "1");
  CHECK(always->DeleteMessage(second[0].receipt_handle).ok());
  CHECK(always->ReceiveMessage({}).value().empty());

  auto half = Queue::Create(hub, "half", {}, {.duplicate_probability = 0.5, .seed = 7}).value();
  for (int i = 0; i < 1000; ++i) REQUIRE(half->SendMessage({.body = "m"}).ok());
  for (int i = 0; i < 100; ++i) {
    REQUIRE(half->ReceiveMessage({.max_number_of_messages = 10}).value().size() == 10);
  }
  const int again = std::stoi(half->GetQueueAttributes({"ApproximateNumberOfMessages"})
                                  .value()["ApproximateNumberOfMessages"]);
  CHECK(again > 400);
  CHECK(again < 600);
}

TEST_CASE("Conformance: queue URLs in AWS's current and legacy forms", "[queue][conformance]") {
  Fixture f;
  for (const char* url : {"https://sqs.us-east-1.amazonaws.com/000000000000/orders",
                          "https://queue.amazonaws.com/000000000000/orders",
                          "https://us-east-1.queue.amazonaws.com/000000000000/orders",
                          "http://sqs.us-east-1.amazonaws.com/000000000000/orders",
                          "http://localhost:4566/000000000000/orders"}) {
    INFO(url);
    CHECK(Sqs(f.hub).GetQueue(url).value() == f.q);
  }
  for (const char* url : {"https://sqs.eu-west-1.amazonaws.com/000000000000/orders",
                          "https://sqs.us-east-1.amazonaws.com/111111111111/orders",
                          "https://sqs.us-east-1.amazonaws.com/000000000000/orders/x",
                          "https://sqs.us-east-1.amazonaws.com/orders",
                          "https://sqs.us-east-1.amazonaws.com/000000000000/nope"}) {
    INFO(url);
    CHECK(ErrorName(Sqs(f.hub).GetQueue(url).status()) == "QueueDoesNotExist");
  }
  CHECK(Sqs(f.hub).DeleteQueue("https://queue.amazonaws.com/000000000000/orders").ok());
  CHECK(ErrorName(Sqs(f.hub).GetQueue("orders").status()) == "QueueDoesNotExist");
}

}  // namespace
}  // namespace courier
