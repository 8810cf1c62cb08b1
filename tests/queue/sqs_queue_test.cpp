// SqsQueue (standard queue) against spec §1-4, driven by a simulated clock.
#include "courier/sqs_queue.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "courier/detail/digest.h"
#include "courier/hub.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

using Attrs = SqsQueue::AttributeMap;

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};

  std::shared_ptr<SqsQueue> Make(std::string name = "q", Attrs attrs = {},
                                 SqsQueue::Options options = {}) {
    auto q = SqsQueue::Create(hub, name, attrs, std::move(options));
    REQUIRE(q.ok());
    return *q;
  }
  std::vector<Message> Receive(SqsQueue& q, int max = 10,
                               std::optional<absl::Duration> vis = std::nullopt) {
    auto got = q.ReceiveMessage({.max_number_of_messages = max,
                                 .visibility_timeout = vis,
                                 .message_system_attribute_names = {"All"},
                                 .message_attribute_names = {"All"}});
    REQUIRE(got.ok());
    return *got;
  }
  std::string Count(SqsQueue& q, const std::string& name) {
    return q.GetQueueAttributes({name}).value().at(name);
  }
};

TEST_CASE("SqsQueue: create, names, idempotency, deleted recently", "[sqs]") {
  Fixture f;
  auto q = f.Make("orders", {{"VisibilityTimeout", "60"}});
  CHECK(q->arn() == "arn:aws:sqs:us-east-1:000000000000:orders");
  CHECK(q->url() == "https://sqs.us-east-1.amazonaws.com/000000000000/orders");
  // Same attributes: the same queue; different: QueueAlreadyExists naming the attribute.
  CHECK(SqsQueue::Create(f.hub, "orders", {{"VisibilityTimeout", "60"}}).value() == q);
  CHECK(SqsQueue::Create(f.hub, "orders").value() == q);
  auto clash = SqsQueue::Create(f.hub, "orders", {{"VisibilityTimeout", "61"}});
  CHECK(ErrorName(clash.status()) == "QueueAlreadyExists");
  CHECK(ErrorMessage(clash.status()).find("attribute VisibilityTimeout") != std::string::npos);
  for (std::string bad : {std::string(""), std::string(81, 'a'), std::string("a.b"),
                          std::string("sp ace"), std::string("q.fifo")}) {
    CHECK(ErrorName(SqsQueue::Create(f.hub, bad).status()) == "InvalidParameterValue");
  }
  CHECK(SqsQueue::Create(f.hub, std::string(80, 'a')).ok());
  // FIFO-only attributes are unknown here; FifoQueue=true is not this kind.
  CHECK(ErrorName(SqsQueue::Create(f.hub, "x", {{"ContentBasedDeduplication", "true"}}).status()) ==
        "InvalidAttributeName");
  CHECK(ErrorName(SqsQueue::Create(f.hub, "x", {{"FifoThroughputLimit", "perQueue"}}).status()) ==
        "InvalidAttributeName");
  CHECK(SqsQueue::Create(f.hub, "y", {{"FifoQueue", "false"}}).ok());
  // Get by name, ARN or URL.
  CHECK(SqsQueue::Get(f.hub, "orders").value() == q);
  CHECK(SqsQueue::Get(f.hub, q->arn()).value() == q);
  CHECK(SqsQueue::Get(f.hub, q->url()).value() == q);
  CHECK(ErrorName(SqsQueue::Get(f.hub, "nope").status()) == "QueueDoesNotExist");
  // Delete; the name comes back after 60 s.
  REQUIRE(SqsQueue::Delete(f.hub, q->url()).ok());
  CHECK(ErrorName(SqsQueue::Get(f.hub, "orders").status()) == "QueueDoesNotExist");
  CHECK(ErrorName(SqsQueue::Delete(f.hub, "orders")) == "QueueDoesNotExist");
  f.sim.clock().Advance(absl::Seconds(59));
  CHECK(ErrorName(SqsQueue::Create(f.hub, "orders").status()) == "QueueDeletedRecently");
  f.sim.clock().Advance(absl::Seconds(1));
  CHECK(SqsQueue::Create(f.hub, "orders").ok());
}

TEST_CASE("SqsQueue: attributes with ranges, defaults and read-only counts", "[sqs]") {
  Fixture f;
  auto q = f.Make();
  auto all = q->GetQueueAttributes().value();
  CHECK(all.at("DelaySeconds") == "0");
  CHECK(all.at("MaximumMessageSize") == "1048576");
  CHECK(all.at("MessageRetentionPeriod") == "345600");
  CHECK(all.at("ReceiveMessageWaitTimeSeconds") == "0");
  CHECK(all.at("VisibilityTimeout") == "30");
  CHECK(all.at("SqsManagedSseEnabled") == "true");
  CHECK(all.at("ApproximateNumberOfMessages") == "0");
  CHECK(all.at("QueueArn") == q->arn());
  CHECK(all.at("CreatedTimestamp") ==
        std::to_string(absl::ToUnixSeconds(ManualClock::DefaultStart())));
  CHECK_FALSE(all.contains("FifoQueue"));
  struct Case {
    const char* name;
    const char* lo;
    const char* hi;
    const char* below;
    const char* above;
  };
  for (const Case& c : {Case{"DelaySeconds", "0", "900", "-1", "901"},
                        Case{"MaximumMessageSize", "1024", "1048576", "1023", "1048577"},
                        Case{"MessageRetentionPeriod", "60", "1209600", "59", "1209601"},
                        Case{"ReceiveMessageWaitTimeSeconds", "0", "20", "-1", "21"},
                        Case{"VisibilityTimeout", "0", "43200", "-1", "43201"}}) {
    INFO(c.name);
    CHECK(q->SetQueueAttributes({{c.name, c.lo}}).ok());
    CHECK(q->SetQueueAttributes({{c.name, c.hi}}).ok());
    CHECK(ErrorName(q->SetQueueAttributes({{c.name, c.below}})) == "InvalidAttributeValue");
    CHECK(ErrorName(q->SetQueueAttributes({{c.name, c.above}})) == "InvalidAttributeValue");
    CHECK(ErrorName(q->SetQueueAttributes({{c.name, "x"}})) == "InvalidAttributeValue");
    CHECK(q->GetQueueAttributes({c.name}).value().at(c.name) == c.hi);
  }
  // A bad attribute in a set changes nothing, even the good ones next to it.
  CHECK(ErrorName(q->SetQueueAttributes({{"DelaySeconds", "5"}, {"VisibilityTimeout", "-3"}})) ==
        "InvalidAttributeValue");
  CHECK(q->GetQueueAttributes({"DelaySeconds"}).value().at("DelaySeconds") == "900");
  CHECK(ErrorName(q->SetQueueAttributes({{"FifoQueue", "true"}})) == "InvalidAttributeValue");
  CHECK(ErrorMessage(q->SetQueueAttributes({{"FifoQueue", "false"}})) ==
        "Modifying queue type is not supported.");
  CHECK(ErrorName(q->SetQueueAttributes({{"ApproximateNumberOfMessages", "3"}})) ==
        "InvalidAttributeName");
  CHECK(ErrorName(q->SetQueueAttributes({{"Bogus", "3"}})) == "InvalidAttributeName");
  CHECK(ErrorName(q->GetQueueAttributes({"Bogus"}).status()) == "InvalidAttributeName");
  f.sim.clock().Advance(absl::Seconds(5));
  REQUIRE(q->SetQueueAttributes({{"Policy", "{}"}}).ok());
  CHECK(q->GetQueueAttributes({"LastModifiedTimestamp"}).value().at("LastModifiedTimestamp") ==
        std::to_string(absl::ToUnixSeconds(ManualClock::DefaultStart()) + 5));
  CHECK(q->GetQueueAttributes({"Policy"}).value().at("Policy") == "{}");
}

TEST_CASE("SqsQueue: tags", "[sqs]") {
  Fixture f;
  auto q = f.Make("t", {}, {.tags = {{"team", "a"}}});
  REQUIRE(q->TagQueue({{"env", "prod"}, {"team", "b"}}).ok());
  CHECK(q->ListQueueTags() == SqsQueue::Tags{{"env", "prod"}, {"team", "b"}});
  REQUIRE(q->UntagQueue({"team", "absent"}).ok());
  CHECK(q->ListQueueTags() == SqsQueue::Tags{{"env", "prod"}});
  CHECK(ErrorName(q->TagQueue({{"", "x"}})) == "InvalidParameterValue");
  SqsQueue::Tags many;
  for (int i = 0; i < 50; ++i) many["k" + std::to_string(i)] = "v";
  CHECK(ErrorName(q->TagQueue(many)) == "InvalidParameterValue");  // 51 with env
  CHECK(q->ListQueueTags().size() == 1);
}

TEST_CASE("SqsQueue: send rules and MD5s", "[sqs]") {
  Fixture f;
  auto q = f.Make("s", {{"MaximumMessageSize", "1024"}});
  auto r = q->SendMessage({.body = "hello"}).value();
  CHECK(r.md5_of_message_body == detail::Md5Hex("hello"));
  CHECK(r.md5_of_message_body == "5d41402abc4b2a76b9719d911017c592");
  CHECK(r.md5_of_message_attributes.empty());
  CHECK(r.message_id.size() == 36);
  CHECK(r.message_id[14] == '4');
  auto a =
      q->SendMessage({.body = "x",
                      .attributes = {{"attribName1", MessageAttribute::String("attribValue 1")}},
                      .aws_trace_header = "Root=1-5759e988-bd862e3fe1be46a994272793"})
          .value();
  CHECK(a.md5_of_message_attributes == "19e27d4e946b072f3f58da80d94fd778");
  CHECK(a.md5_of_message_system_attributes ==
        detail::Md5OfMessageAttributes(
            {{"AWSTraceHeader",
              MessageAttribute::String("Root=1-5759e988-bd862e3fe1be46a994272793")}}));
  CHECK(a.message_id != r.message_id);
  // Bad input: each fails and leaves the queue as it was (2 messages).
  CHECK(ErrorName(q->SendMessage({.body = ""}).status()) == "MissingParameter");
  CHECK(ErrorName(q->SendMessage({.body = std::string("a\x01", 2)}).status()) ==
        "InvalidMessageContents");
  CHECK(ErrorName(q->SendMessage({.body = "x", .delay = absl::Seconds(901)}).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(q->SendMessage({.body = "x", .aws_trace_header = ""}).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(q->SendMessage({.body = "x", .message_group_id = ""}).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(q->SendMessage({.body = "x", .message_deduplication_id = "d"}).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(
            q->SendMessage({.body = "x", .attributes = {{"AWS.x", MessageAttribute::String("v")}}})
                .status()) == "InvalidParameterValue");
  CHECK(ErrorName(q->SendMessage({.body = "x", .attributes = {{"e", MessageAttribute::String("")}}})
                      .status()) == "InvalidParameterValue");
  // Size counts the attributes; exactly the maximum is fine, one more byte is not.
  MessageAttributes attrs{{"ab", MessageAttribute::String("cd")}};  // 2 + 6 + 2 = 10 bytes
  CHECK(q->SendMessage({.body = std::string(1014, 'a'), .attributes = attrs}).ok());
  auto big = q->SendMessage({.body = std::string(1015, 'a'), .attributes = attrs});
  CHECK(ErrorName(big.status()) == "InvalidParameterValue");
  CHECK(ErrorMessage(big.status()).find("Message must be shorter than 1024 bytes") !=
        std::string::npos);
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "3");
}

TEST_CASE("SqsQueue: receive returns system and message attributes", "[sqs]") {
  Fixture f;
  auto q = f.Make();
  REQUIRE(q->SendMessage({.body = "b",
                          .attributes = {{"foo.a", MessageAttribute::String("1")},
                                         {"foo.b", MessageAttribute::Number("2")},
                                         {"bar", MessageAttribute::Binary("\x01\x02")}},
                          .aws_trace_header = "Root=1",
                          .message_group_id = "tenant-7"})
              .ok());
  const absl::Time sent = f.sim.Now();
  f.sim.clock().Advance(absl::Seconds(2));
  auto got = q->ReceiveMessage(
                  {.max_number_of_messages = 1,
                   .visibility_timeout = absl::ZeroDuration(),
                   .message_system_attribute_names = {"SentTimestamp", "ApproximateReceiveCount"},
                   .message_attribute_names = {"foo.*"}})
                 .value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "b");
  CHECK(got[0].md5_of_body == detail::Md5Hex("b"));
  CHECK(got[0].attributes == std::map<std::string, std::string, std::less<>>{
                                 {"ApproximateReceiveCount", "1"},
                                 {"SentTimestamp", std::to_string(absl::ToUnixMillis(sent))}});
  CHECK(got[0].message_attributes.size() == 2);
  CHECK(got[0].message_attributes.contains("foo.a"));
  CHECK(got[0].md5_of_message_attributes ==
        detail::Md5OfMessageAttributes({{"foo.a", MessageAttribute::String("1")},
                                        {"foo.b", MessageAttribute::Number("2")},
                                        {"bar", MessageAttribute::Binary("\x01\x02")}}));
  // Visibility 0: visible again at once; All returns everything.
  f.sim.clock().Advance(absl::Seconds(1));
  auto again = f.Receive(*q);
  REQUIRE(again.size() == 1);
  const auto& sys = again[0].attributes;
  CHECK(sys.at("ApproximateReceiveCount") == "2");
  CHECK(sys.at("ApproximateFirstReceiveTimestamp") ==
        std::to_string(absl::ToUnixMillis(sent + absl::Seconds(2))));
  CHECK(sys.at("SenderId") == "000000000000");
  CHECK(sys.at("AWSTraceHeader") == "Root=1");
  CHECK(sys.at("MessageGroupId") == "tenant-7");
  CHECK(sys.at("SqsManagedSseEnabled") == "true");
  CHECK(again[0].message_attributes.size() == 3);
  // Parameter ranges.
  CHECK(ErrorMessage(q->ReceiveMessage({.max_number_of_messages = 11}).status()) ==
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and "
        "10, if provided.");
  CHECK(ErrorName(q->ReceiveMessage({.max_number_of_messages = 0}).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(q->ReceiveMessage({.wait_time = absl::Seconds(21)}).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(q->ReceiveMessage({.visibility_timeout = absl::Seconds(43201)}).status()) ==
        "InvalidParameterValue");
}

TEST_CASE("SqsQueue: visibility timeout, delays and exact counts", "[sqs]") {
  Fixture f;
  auto q = f.Make("v", {{"VisibilityTimeout", "10"}, {"DelaySeconds", "5"}});
  REQUIRE(q->SendMessage({.body = "queue-delay"}).ok());
  REQUIRE(q->SendMessage({.body = "no-delay", .delay = absl::ZeroDuration()}).ok());
  REQUIRE(q->SendMessage({.body = "long", .delay = absl::Seconds(20)}).ok());
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesDelayed") == "2");
  auto got = f.Receive(*q);
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "no-delay");
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesNotVisible") == "1");
  f.sim.clock().Advance(absl::Seconds(5));
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "1");
  auto second = f.Receive(*q);
  REQUIRE(second.size() == 1);
  CHECK(second[0].body == "queue-delay");
  f.sim.clock().Advance(absl::Seconds(5));  // t=10: "no-delay" is visible again
  auto third = f.Receive(*q);
  REQUIRE(third.size() == 1);
  CHECK(third[0].body == "no-delay");
  CHECK(third[0].attributes.at("ApproximateReceiveCount") == "2");
  // Changing the queue's delay does not affect queued messages.
  REQUIRE(q->SetQueueAttributes({{"DelaySeconds", "0"}}).ok());
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesDelayed") == "1");
  f.sim.clock().Advance(absl::Seconds(9));  // t=19: "queue-delay" is visible again since 15
  auto fourth = f.Receive(*q);
  REQUIRE(fourth.size() == 1);
  CHECK(fourth[0].body == "queue-delay");
  f.sim.clock().Advance(absl::Seconds(1));  // t=20: "long" ends its delay, "no-delay" its timeout
  auto last = f.Receive(*q);
  REQUIRE(last.size() == 2);
  CHECK(std::set<std::string>{last[0].body, last[1].body} ==
        std::set<std::string>{"long", "no-delay"});
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "0");
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesNotVisible") == "3");
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesDelayed") == "0");
}

TEST_CASE("SqsQueue: delete handle rules", "[sqs]") {
  Fixture f;
  auto q = f.Make("d", {{"VisibilityTimeout", "10"}});
  REQUIRE(q->SendMessage({.body = "m"}).ok());
  auto first = f.Receive(*q);
  REQUIRE(first.size() == 1);
  // Malformed or foreign handles.
  CHECK(ErrorName(q->DeleteMessage(ReceiptHandle("garbage"))) == "ReceiptHandleIsInvalid");
  auto other = f.Make("other");
  REQUIRE(other->SendMessage({.body = "o"}).ok());
  auto foreign = f.Receive(*other);
  CHECK(ErrorName(q->DeleteMessage(foreign[0].receipt_handle)) == "ReceiptHandleIsInvalid");
  // Stale handle (received again since): success, the message stays.
  f.sim.clock().Advance(absl::Seconds(10));
  auto second = f.Receive(*q);
  REQUIRE(second.size() == 1);
  CHECK(second[0].receipt_handle != first[0].receipt_handle);
  CHECK(q->DeleteMessage(first[0].receipt_handle).ok());
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesNotVisible") == "1");
  // Expired current handle with no later receive: deletes.
  f.sim.clock().Advance(absl::Seconds(10));
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "1");
  CHECK(q->DeleteMessage(second[0].receipt_handle).ok());
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "0");
  CHECK(f.Receive(*q).empty());
  // Deleting again is still fine.
  CHECK(q->DeleteMessage(second[0].receipt_handle).ok());
}

TEST_CASE("SqsQueue: change visibility rules", "[sqs]") {
  Fixture f;
  auto q = f.Make("c", {{"VisibilityTimeout", "30"}});
  REQUIRE(q->SendMessage({.body = "m"}).ok());
  auto got = f.Receive(*q);
  REQUIRE(got.size() == 1);
  const ReceiptHandle h = got[0].receipt_handle;
  f.sim.clock().Advance(absl::Seconds(20));
  // Counts from the call: 20 + 15 = 35.
  REQUIRE(q->ChangeMessageVisibility(h, absl::Seconds(15)).ok());
  f.sim.clock().Advance(absl::Seconds(14));
  CHECK(f.Receive(*q).empty());
  f.sim.clock().Advance(absl::Seconds(1));
  auto again = f.Receive(*q);
  REQUIRE(again.size() == 1);
  const ReceiptHandle h2 = again[0].receipt_handle;
  // The 12-hour cap counts from the receive.
  f.sim.clock().Advance(absl::Hours(1));
  CHECK(ErrorName(q->ChangeMessageVisibility(h2, absl::Hours(11) + absl::Seconds(1))) ==
        "InvalidParameterValue");
  CHECK(q->ChangeMessageVisibility(h2, absl::Hours(11)).ok());
  CHECK(ErrorName(q->ChangeMessageVisibility(h2, absl::Seconds(43201))) == "InvalidParameterValue");
  CHECK(ErrorName(q->ChangeMessageVisibility(ReceiptHandle("x"), absl::Seconds(1))) ==
        "ReceiptHandleIsInvalid");
  // 0: visible now, receive count kept; the next receive uses the queue default again.
  REQUIRE(q->ChangeMessageVisibility(h2, absl::ZeroDuration()).ok());
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "1");
  auto third = f.Receive(*q);
  REQUIRE(third.size() == 1);
  CHECK(third[0].attributes.at("ApproximateReceiveCount") == "3");
  f.sim.clock().Advance(absl::Seconds(29));
  CHECK(f.Receive(*q).empty());
  // An expired handle with no later receive may still change visibility (AWS returns 200).
  f.sim.clock().Advance(absl::Seconds(1));
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "1");
  REQUIRE(q->ChangeMessageVisibility(third[0].receipt_handle, absl::Seconds(10)).ok());
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesNotVisible") == "1");
  // A deleted message.
  REQUIRE(q->DeleteMessage(third[0].receipt_handle).ok());
  auto gone = q->ChangeMessageVisibility(third[0].receipt_handle, absl::Seconds(5));
  CHECK(ErrorName(gone) == "InvalidParameterValue");
  CHECK(ErrorMessage(gone).find(
            "Message does not exist or is not available for visibility timeout change.") !=
        std::string::npos);
}

TEST_CASE("SqsQueue: batches", "[sqs]") {
  Fixture f;
  auto q = f.Make();
  CHECK(ErrorName(q->SendMessageBatch({}).status()) == "EmptyBatchRequest");
  std::vector<SqsQueue::SendBatchEntry> many;
  for (int i = 0; i < 20; ++i) many.push_back({std::to_string(i), {.body = "x"}});
  auto too_many = q->SendMessageBatch(many);
  CHECK(ErrorName(too_many.status()) == "TooManyEntriesInBatchRequest");
  CHECK(ErrorMessage(too_many.status()) ==
        "Maximum number of entries per request are 10. You have sent 20.");
  CHECK(ErrorName(q->SendMessageBatch({{"a", {.body = "x"}}, {"a", {.body = "y"}}}).status()) ==
        "BatchEntryIdsNotDistinct");
  CHECK(ErrorName(q->SendMessageBatch({{"a b", {.body = "x"}}}).status()) == "InvalidBatchEntryId");
  auto long_batch = q->SendMessageBatch(
      {{"a", {.body = std::string(600000, 'a')}}, {"b", {.body = std::string(448577, 'b')}}});
  CHECK(ErrorMessage(long_batch.status()) ==
        "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes.");
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "0");
  auto sent = q->SendMessageBatch({{"ok", {.body = "fine"}},
                                   {"bad", {.body = "x", .delay = absl::Seconds(1000)}},
                                   {"ok2", {.body = "fine2"}}})
                  .value();
  CHECK(sent.successful.size() == 2);
  REQUIRE(sent.failed.size() == 1);
  CHECK(sent.failed[0].id == "bad");
  CHECK(sent.failed[0].code == "InvalidParameterValue");
  CHECK(sent.failed[0].sender_fault);
  auto got = f.Receive(*q);
  REQUIRE(got.size() == 2);
  auto vis = q->ChangeMessageVisibilityBatch({{"1", got[0].receipt_handle, absl::Seconds(100)},
                                              {"2", ReceiptHandle("junk"), absl::Seconds(1)}})
                 .value();
  CHECK(vis.successful == std::vector<std::string>{"1"});
  REQUIRE(vis.failed.size() == 1);
  CHECK(vis.failed[0].code == "ReceiptHandleIsInvalid");
  CHECK(ErrorName(q->DeleteMessageBatch({}).status()) == "EmptyBatchRequest");
  auto del = q->DeleteMessageBatch({{"1", got[0].receipt_handle, {}},
                                    {"2", got[1].receipt_handle, {}},
                                    {"3", ReceiptHandle("junk"), {}}})
                 .value();
  CHECK(del.successful == std::vector<std::string>{"1", "2"});
  CHECK(del.failed.size() == 1);
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesNotVisible") == "0");
}

TEST_CASE("SqsQueue: purge and retention", "[sqs]") {
  Fixture f;
  auto q = f.Make("p", {{"MessageRetentionPeriod", "600"}});
  REQUIRE(q->SendMessage({.body = "a"}).ok());
  REQUIRE(q->SendMessage({.body = "b"}).ok());
  REQUIRE(f.Receive(*q, 1).size() == 1);
  REQUIRE(q->PurgeQueue().ok());
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "0");
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesNotVisible") == "0");
  REQUIRE(q->SendMessage({.body = "after"}).ok());
  auto again = q->PurgeQueue();
  CHECK(ErrorName(again) == "PurgeQueueInProgress");
  CHECK(ErrorMessage(again) == "Only one PurgeQueue operation on p is allowed every 60 seconds.");
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "1");  // later sends are kept
  f.sim.clock().Advance(absl::Seconds(60));
  CHECK(q->PurgeQueue().ok());
  // Retention: a message expires at enqueue + retention, in flight or not.
  REQUIRE(q->SendMessage({.body = "old"}).ok());
  f.sim.clock().Advance(absl::Seconds(300));
  REQUIRE(q->SendMessage({.body = "new"}).ok());
  auto old = f.Receive(*q, 1, absl::Seconds(1000));
  REQUIRE(old.size() == 1);
  CHECK(old[0].body == "old");
  f.sim.clock().Advance(absl::Seconds(299));
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "1");
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesNotVisible") == "1");
  f.sim.clock().Advance(absl::Seconds(1));  // "old" is 600 s old
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "1");
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesNotVisible") == "0");
  CHECK(ErrorName(q->ChangeMessageVisibility(old[0].receipt_handle, absl::Seconds(1))) ==
        "InvalidParameterValue");
  // Lowering retention expires what is already older.
  REQUIRE(q->SetQueueAttributes({{"MessageRetentionPeriod", "60"}}).ok());
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "0");
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesNotVisible") == "0");
  CHECK(f.Receive(*q).empty());
}

TEST_CASE("SqsQueue: long polling wakes on send and when a message becomes visible", "[sqs]") {
  Fixture f;
  auto q = f.Make("lp", {{"VisibilityTimeout", "5"}});
  // Nothing arrives: returns empty at exactly the end of the wait.
  const absl::Time start = f.sim.Now();
  auto empty = q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value();
  CHECK(empty.empty());
  CHECK(f.sim.Now() == start + absl::Seconds(20));
  // A delayed message wakes the poll at the instant it becomes visible.
  REQUIRE(q->SendMessage({.body = "later", .delay = absl::Seconds(7)}).ok());
  const absl::Time sent = f.sim.Now();
  auto got = q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value();
  REQUIRE(got.size() == 1);
  CHECK(f.sim.Now() == sent + absl::Seconds(7));
  // And so does the end of a visibility timeout.
  auto back = q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value();
  REQUIRE(back.size() == 1);
  CHECK(f.sim.Now() == sent + absl::Seconds(12));
  // A send from a timer (another party) wakes a waiting poll at once.
  REQUIRE(q->DeleteMessage(back[0].receipt_handle).ok());
  f.sim.clock().ScheduleAfter(absl::Seconds(3), [&] { (void)q->SendMessage({.body = "now"}); });
  const absl::Time before = f.sim.Now();
  auto woke = q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value();
  REQUIRE(woke.size() == 1);
  CHECK(woke[0].body == "now");
  CHECK(f.sim.Now() == before + absl::Seconds(3));
  // The queue's ReceiveMessageWaitTimeSeconds is the default wait.
  REQUIRE(q->SetQueueAttributes({{"ReceiveMessageWaitTimeSeconds", "4"}}).ok());
  const absl::Time t0 = f.sim.Now();
  CHECK(q->ReceiveMessage({}).value().empty());
  CHECK(f.sim.Now() == t0 + absl::Seconds(4));
}

TEST_CASE("SqsQueue: message ids stay unique when slots are reused; UTF-8 bodies", "[sqs]") {
  Fixture f;
  auto q = f.Make("ids");
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto sent = q->SendMessage({.body = "m"}).value();
    CHECK(ids.insert(sent.message_id).second);
    auto got = f.Receive(*q);
    REQUIRE(got.size() == 1);
    CHECK(got[0].message_id == sent.message_id);
    REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
  }
  const std::string utf8 = "caf\xC3\xA9 \xF0\x9F\x93\xA6\ttab\r\n";
  auto sent = q->SendMessage({.body = utf8}).value();
  CHECK(sent.md5_of_message_body == detail::Md5Hex(utf8));
  auto got = f.Receive(*q);
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == utf8);
  CHECK(ErrorName(q->SendMessage({.body = "bad \xEF\xBF\xBE"}).status()) ==
        "InvalidMessageContents");  // U+FFFE is outside the allowed set
}

TEST_CASE("SqsQueue: replace_invalid_characters swaps them for U+FFFD", "[sqs]") {
  Fixture f;
  auto q = f.Make("fffd", {}, {.replace_invalid_characters = true});
  const std::string sent_body = std::string(
                                    "a\x01"
                                    "b\xEF\xBF\xBE"
                                    "c\xFF",
                                    8) +
                                "d\xC3\xA9";
  const std::string stored =
      "a\xEF\xBF\xBD"
      "b\xEF\xBF\xBD"
      "c\xEF\xBF\xBD"
      "d\xC3\xA9";
  auto r = q->SendMessage({.body = sent_body}).value();
  CHECK(r.md5_of_message_body == detail::Md5Hex(stored));
  auto got = f.Receive(*q);
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == stored);
  CHECK(ErrorName(q->SendMessage({.body = ""}).status()) == "MissingParameter");
}

TEST_CASE("SqsQueue: md5_of_body off leaves the digest empty", "[sqs]") {
  Fixture f;
  auto q = f.Make("nomd5", {}, {.md5_of_body = false});
  auto r = q->SendMessage({.body = "x"}).value();
  CHECK(r.md5_of_message_body.empty());
  auto got = f.Receive(*q);
  REQUIRE(got.size() == 1);
  CHECK(got[0].md5_of_body.empty());
  CHECK(got[0].body == "x");
}

}  // namespace
}  // namespace courier

namespace courier {
namespace {

TEST_CASE("SqsQueue: 120,000 in flight: short polls fail with OverLimit, long polls wait",
          "[sqs]") {
  Fixture f;
  auto q = f.Make("limit", {{"VisibilityTimeout", "600"}});
  size_t failures = 0;
  for (int i = 0; i < 120000 + 5; i += 5) {
    std::vector<SqsQueue::SendBatchEntry> batch;
    for (int k = 0; k < 5; ++k) batch.push_back({std::to_string(k), {.body = "m"}});
    failures += q->SendMessageBatch(std::move(batch)).value().failed.size();
  }
  for (int i = 0; i < 12000; ++i) {
    failures += q->ReceiveMessage({.max_number_of_messages = 10}).value().size() != 10;
  }
  CHECK(failures == 0);
  CHECK(f.Count(*q, "ApproximateNumberOfMessagesNotVisible") == "120000");
  auto over = q->ReceiveMessage({.max_number_of_messages = 1});
  CHECK(ErrorName(over.status()) == "OverLimit");
  const absl::Time start = f.sim.Now();
  auto waited = q->ReceiveMessage({.wait_time = absl::Seconds(2)});
  REQUIRE(waited.ok());
  CHECK(waited->empty());
  CHECK(f.sim.Now() == start + absl::Seconds(2));
  CHECK(f.Count(*q, "ApproximateNumberOfMessages") == "5");
}

}  // namespace
}  // namespace courier
