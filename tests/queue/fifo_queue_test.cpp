// FifoQueue against spec §5 (and the FIFO parts of §1-4, §6), driven by a simulated clock.
#include "courier/fifo_queue.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "courier/detail/digest.h"
#include "courier/hub.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"
#include "queue/fifo_fixture.h"

namespace courier {
namespace {

using Attrs = FifoQueue::AttributeMap;

using Fixture = testing::FifoFixture;
using testing::Bodies;
using testing::Msg;

TEST_CASE_METHOD(Fixture, "FifoQueue: receiving into a reused vector replaces its contents") {
  auto q = Make();
  MessageAttributes attrs{{"kind", MessageAttribute::String("first")}};
  SendMessageRequest first = Msg("a", "g1", "1");
  first.attributes = attrs;
  REQUIRE(q->SendMessage(first).ok());
  REQUIRE(q->SendMessage(Msg("b", "g1", "2")).ok());
  REQUIRE(q->SendMessage(Msg("c", "g2", "3")).ok());
  std::vector<Message> out;
  REQUIRE(q->ReceiveMessage({.max_number_of_messages = 10,
                             .message_system_attribute_names = {"All"},
                             .message_attribute_names = {"All"}},
                            out)
              .ok());
  REQUIRE(out.size() == 3);
  for (const Message& m : out) CHECK(m.message_attributes.size() == (m.body == "a" ? 1 : 0));
  for (const Message& m : out) REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
  // Fewer messages than the vector holds, without attributes: nothing of the old ones stays.
  REQUIRE(q->SendMessage(Msg("d", "g1", "4")).ok());
  REQUIRE(q->ReceiveMessage({.max_number_of_messages = 10}, out).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].body == "d");
  CHECK(out[0].message_attributes.empty());
  CHECK(out[0].attributes.empty());
  CHECK(out[0].md5_of_message_attributes.empty());
  CHECK(out[0].md5_of_body == detail::Md5Of("d"));
  CHECK(q->DeleteMessage(out[0].receipt_handle).ok());
  // Nothing to receive: empty; an invalid request: an error and empty.
  REQUIRE(q->ReceiveMessage({.max_number_of_messages = 10}, out).ok());
  CHECK(out.empty());
  out.resize(2);
  CHECK(ErrorName(q->ReceiveMessage({.max_number_of_messages = 11}, out)) ==
        "InvalidParameterValue");
  CHECK(out.empty());
}

TEST_CASE_METHOD(Fixture, "FifoQueue: names end in .fifo and the suffix counts toward 80") {
  CHECK(FifoQueue::Create(hub, std::string(75, 'a') + ".fifo").ok());
  CHECK(ErrorName(FifoQueue::Create(hub, std::string(76, 'a') + ".fifo").status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(FifoQueue::Create(hub, "plain").status()) == "InvalidParameterValue");
  CHECK(ErrorName(FifoQueue::Create(hub, ".fifo").status()) == "InvalidParameterValue");
  CHECK(ErrorName(FifoQueue::Create(hub, "a.b.fifo").status()) == "InvalidParameterValue");
  auto q = Make("orders.fifo");
  CHECK(q->arn() == "arn:aws:sqs:us-east-1:000000000000:orders.fifo");
  CHECK(q->url() == Sqs(hub).QueueUrl("orders.fifo"));
  CHECK(hub.FindResource(q->arn()) == q);
}

TEST_CASE_METHOD(Fixture, "FifoQueue: FIFO attributes, their rules, and the queue type") {
  auto q = Make("a.fifo", {{"FifoQueue", "true"}});
  auto attrs = q->GetQueueAttributes().value();
  CHECK(attrs.at("FifoQueue") == "true");
  CHECK(attrs.at("ContentBasedDeduplication") == "false");
  CHECK(attrs.at("DeduplicationScope") == "queue");
  CHECK(attrs.at("FifoThroughputLimit") == "perQueue");
  CHECK(attrs.at("MaximumMessageSize") == "1048576");
  CHECK(attrs.at("VisibilityTimeout") == "30");
  CHECK(attrs.at("MessageRetentionPeriod") == "345600");
  CHECK(attrs.at("ApproximateNumberOfMessages") == "0");

  const absl::Status type_change = q->SetQueueAttributes({{"FifoQueue", "false"}});
  CHECK(ErrorName(type_change) == "InvalidAttributeValue");
  CHECK(ErrorMessage(type_change).find("Modifying queue type is not supported") !=
        std::string_view::npos);
  CHECK(ErrorName(FifoQueue::Create(hub, "b.fifo", {{"FifoQueue", "false"}}).status()) ==
        "InvalidParameterValue");
  // perMessageGroupId needs messageGroup scope.
  CHECK(ErrorName(q->SetQueueAttributes({{"FifoThroughputLimit", "perMessageGroupId"}})) ==
        "InvalidAttributeValue");
  CHECK(q->SetQueueAttributes(
             {{"FifoThroughputLimit", "perMessageGroupId"}, {"DeduplicationScope", "messageGroup"}})
            .ok());
  CHECK(ErrorName(q->SetQueueAttributes({{"DeduplicationScope", "group"}})) ==
        "InvalidAttributeValue");
  CHECK(ErrorName(q->SetQueueAttributes({{"ContentBasedDeduplication", "yes"}})) ==
        "InvalidAttributeValue");
  CHECK(ErrorName(q->SetQueueAttributes({{"Bogus", "1"}})) == "InvalidAttributeName");
  CHECK(ErrorName(q->SetQueueAttributes({{"DelaySeconds", "901"}})) == "InvalidAttributeValue");
  // A failed change leaves everything as it was.
  CHECK(ErrorName(q->SetQueueAttributes({{"DelaySeconds", "5"}, {"VisibilityTimeout", "-1"}})) ==
        "InvalidAttributeValue");
  CHECK(q->GetQueueAttributes({"DelaySeconds"}).value().at("DelaySeconds") == "0");
  CHECK(ErrorName(q->GetQueueAttributes({"Nope"}).status()) == "InvalidAttributeName");
}

TEST_CASE_METHOD(Fixture, "FifoQueue: CreateQueue is idempotent only with identical attributes") {
  auto q = Make("x.fifo", {{"ContentBasedDeduplication", "true"}});
  auto again = FifoQueue::Create(hub, "x.fifo", {{"ContentBasedDeduplication", "true"}});
  REQUIRE(again.ok());
  CHECK(*again == q);
  auto clash = FifoQueue::Create(hub, "x.fifo", {{"ContentBasedDeduplication", "false"}});
  CHECK(ErrorName(clash.status()) == "QueueAlreadyExists");
  CHECK(ErrorMessage(clash.status()).find("ContentBasedDeduplication") != std::string_view::npos);
}

TEST_CASE_METHOD(Fixture, "FifoQueue: MessageGroupId is required; ids are 1-128 printable") {
  auto q = Make("q.fifo", {{"ContentBasedDeduplication", "true"}});
  auto missing = q->SendMessage({.body = "x"});
  CHECK(ErrorName(missing.status()) == "MissingParameter");
  CHECK(ErrorMessage(missing.status()) == "The request must contain the parameter MessageGroupId.");
  CHECK(ErrorName(q->SendMessage(Msg("x", "")).status()) == "InvalidParameterValue");
  CHECK(ErrorName(q->SendMessage(Msg("x", std::string(129, 'g'))).status()) ==
        "InvalidParameterValue");
  CHECK(q->SendMessage(Msg("x", std::string(128, 'g'))).ok());
  CHECK(ErrorName(q->SendMessage(Msg("x", "has space")).status()) == "InvalidParameterValue");
  CHECK(q->SendMessage(Msg("y", "punct!#$%&'()*+,-./:;<=>?@[]^_`{|}~")).ok());
  CHECK(ErrorName(q->SendMessage(Msg("x", "g", std::string(129, 'd'))).status()) ==
        "InvalidParameterValue");
  CHECK(q->GetQueueAttributes({"ApproximateNumberOfMessages"})
            .value()
            .at("ApproximateNumberOfMessages") == "2");
}

TEST_CASE_METHOD(
    Fixture, "FifoQueue: group-scoped deduplication with ids of the longest length and longer") {
  // The key is the group and the id together: 257 characters at most, and an overlong id of
  // either kind is refused before it is remembered.
  auto q = Make("long.fifo", {{"DeduplicationScope", "messageGroup"},
                              {"FifoThroughputLimit", "perMessageGroupId"}});
  const std::string group(128, 'g'), id(128, 'd');
  CHECK(ErrorName(q->SendMessage(Msg("x", std::string(129, 'g'), id)).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(q->SendMessage(Msg("x", group, std::string(129, 'd'))).status()) ==
        "InvalidParameterValue");
  CHECK(
      ErrorName(q->SendMessage(Msg("x", std::string(300, 'g'), std::string(300, 'd'))).status()) ==
      "InvalidParameterValue");
  auto first = q->SendMessage(Msg("x", group, id));
  REQUIRE(first.ok());
  auto again = q->SendMessage(Msg("y", group, id));
  REQUIRE(again.ok());
  CHECK(again->message_id == first->message_id);
  // The same id in another group is another message.
  auto other = q->SendMessage(Msg("z", std::string(127, 'g') + "h", id));
  REQUIRE(other.ok());
  CHECK(other->message_id != first->message_id);
  CHECK(q->GetQueueAttributes({"ApproximateNumberOfMessages"})
            .value()
            .at("ApproximateNumberOfMessages") == "2");
}

TEST_CASE_METHOD(Fixture, "FifoQueue: a dedup id or content-based dedup is needed") {
  auto q = Make();
  auto st = q->SendMessage(Msg("x", "g")).status();
  CHECK(ErrorName(st) == "InvalidParameterValue");
  CHECK(ErrorMessage(st) ==
        "The queue should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly");
  CHECK(q->SendMessage(Msg("x", "g", "d1")).ok());
}

TEST_CASE_METHOD(Fixture, "FifoQueue: duplicates inside 5 minutes are accepted, not delivered") {
  auto q = Make();
  auto first = q->SendMessage(Msg("one", "g", "d")).value();
  CHECK(first.sequence_number.size() == 20);
  // Same id, another body, another group: still a duplicate (scope: queue).
  sim.RunFor(absl::Minutes(5) - absl::Milliseconds(1));
  auto dup = q->SendMessage(Msg("two", "h", "d")).value();
  CHECK(dup.message_id == first.message_id);
  CHECK(dup.sequence_number == first.sequence_number);
  auto got = Receive(*q);
  REQUIRE(Bodies(got) == std::vector<std::string>{"one"});
  // Remembered after the first copy is received and deleted.
  REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
  CHECK(q->SendMessage(Msg("three", "g", "d")).value().message_id == first.message_id);
  CHECK(Receive(*q).empty());
  // At exactly 5:00.000 the id is new again.
  sim.RunFor(absl::Milliseconds(1));
  auto later = q->SendMessage(Msg("four", "g", "d")).value();
  CHECK(later.message_id != first.message_id);
  CHECK(later.sequence_number > first.sequence_number);
  CHECK(Bodies(Receive(*q)) == std::vector<std::string>{"four"});
}

TEST_CASE_METHOD(
    Fixture, "FifoQueue: MessageIds are distinct version 4 UUIDs; duplicates get the original's") {
  auto q = Make();
  auto other = Make("other.fifo");
  std::set<std::string> ids;
  std::vector<SendMessageResult> sent;
  for (int i = 0; i < 5000; ++i) {
    sent.push_back(
        q->SendMessage(Msg("b", "g" + std::to_string(i % 7), std::to_string(i))).value());
    const std::string id = sent.back().message_id.str();
    REQUIRE(id.size() == 36);
    REQUIRE(id[8] == '-');
    REQUIRE(id[14] == '4');                                                    // version 4
    REQUIRE(std::string_view("89ab").find(id[19]) != std::string_view::npos);  // variant 10
    REQUIRE(id.find_first_not_of("0123456789abcdef-") == std::string::npos);
    REQUIRE(ids.insert(id).second);
    // Another queue's ids are its own.
    REQUIRE(
        ids.insert(other->SendMessage(Msg("b", "g", std::to_string(i))).value().message_id.str())
            .second);
  }
  for (int i = 0; i < 5000; i += 37) {
    const auto dup = q->SendMessage(Msg("x", "h", std::to_string(i))).value();
    REQUIRE(dup.message_id == sent[i].message_id);
    REQUIRE(dup.sequence_number == sent[i].sequence_number);
  }
}

TEST_CASE_METHOD(Fixture, "FifoQueue: a duplicate of a dead letter's id returns the dead letter") {
  auto dlq = Make("dlq.fifo");
  auto q = Make("src.fifo", {{"RedrivePolicy", R"({"deadLetterTargetArn":")" + dlq->arn() +
                                                   R"(","maxReceiveCount":"1"})"}});
  const auto sent = q->SendMessage(Msg("poison", "g", "d")).value();
  REQUIRE(Receive(*q, 1, absl::ZeroDuration()).size() == 1);
  CHECK(Receive(*q).empty());  // moved to the dead-letter queue
  // In the dead-letter queue its deduplication id is its MessageId: a send with that id within
  // five minutes is a duplicate of it and returns it.
  const auto dup = dlq->SendMessage(Msg("again", "g", sent.message_id.str())).value();
  CHECK(dup.message_id == sent.message_id);
  const auto dead = Receive(*dlq);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].body == "poison");
  CHECK(dead[0].message_id == sent.message_id);
  CHECK(dup.sequence_number == dead[0].attributes.at("SequenceNumber"));
}

TEST_CASE_METHOD(Fixture, "FifoQueue: content-based dedup hashes the body only; explicit wins") {
  auto q = Make("c.fifo", {{"ContentBasedDeduplication", "true"}});
  auto a = q->SendMessage(Msg("same", "g")).value();
  SendMessageRequest with_attr = Msg("same", "h");
  with_attr.attributes["k"] = MessageAttribute::String("v");
  CHECK(q->SendMessage(with_attr).value().message_id == a.message_id);
  CHECK(q->SendMessage(Msg("same", "g", "explicit")).value().message_id != a.message_id);
  auto got = Receive(*q);
  REQUIRE(got.size() == 2);
  CHECK(got[0].attributes.at("MessageDeduplicationId") == detail::Sha256Hex("same"));
  CHECK(got[1].attributes.at("MessageDeduplicationId") == "explicit");
}

TEST_CASE_METHOD(Fixture, "FifoQueue: messageGroup scope deduplicates per group") {
  auto q = Make("s.fifo", {{"DeduplicationScope", "messageGroup"}});
  auto a = q->SendMessage(Msg("a", "g1", "d")).value();
  auto b = q->SendMessage(Msg("b", "g2", "d")).value();
  CHECK(a.message_id != b.message_id);
  CHECK(q->SendMessage(Msg("c", "g1", "d")).value().message_id == a.message_id);
  CHECK(Receive(*q).size() == 2);
}

TEST_CASE_METHOD(Fixture, "FifoQueue: strict order in a group; one group whole, then others") {
  auto q = Make();
  for (int i = 0; i < 4; ++i) {
    REQUIRE(q->SendMessage(Msg("a" + std::to_string(i), "A", "a" + std::to_string(i))).ok());
    REQUIRE(q->SendMessage(Msg("b" + std::to_string(i), "B", "b" + std::to_string(i))).ok());
  }
  auto got = Receive(*q, 6);
  REQUIRE(got.size() == 6);
  const std::string g0 = got[0].attributes.at("MessageGroupId");
  const std::string p0 = g0 == "A" ? "a" : "b";
  const std::string p1 = g0 == "A" ? "b" : "a";
  CHECK(Bodies(got) ==
        std::vector<std::string>{p0 + "0", p0 + "1", p0 + "2", p0 + "3", p1 + "0", p1 + "1"});
  // While any of a group is in flight, no later message of it is returned.
  CHECK(Receive(*q).empty());
  // Sequence numbers increase in send order within the group.
  for (size_t i = 1; i < 4; ++i) {
    CHECK(got[i].attributes.at("SequenceNumber") > got[i - 1].attributes.at("SequenceNumber"));
  }
  for (auto& m : got) REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
  CHECK(Bodies(Receive(*q)) == std::vector<std::string>{p1 + "2", p1 + "3"});
}

TEST_CASE_METHOD(Fixture, "FifoQueue: a lapsed message is first in its group again") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("m0", "g", "0")).ok());
  REQUIRE(q->SendMessage(Msg("m1", "g", "1")).ok());
  auto first = Receive(*q, 1);
  REQUIRE(Bodies(first) == std::vector<std::string>{"m0"});
  sim.RunFor(absl::Seconds(30) - absl::Milliseconds(1));
  CHECK(Receive(*q).empty());
  sim.RunFor(absl::Milliseconds(1));
  auto again = Receive(*q);
  REQUIRE(Bodies(again) == std::vector<std::string>{"m0", "m1"});
  CHECK(again[0].attributes.at("ApproximateReceiveCount") == "2");
  CHECK(again[0].attributes.at("ApproximateFirstReceiveTimestamp") ==
        first[0].attributes.at("ApproximateFirstReceiveTimestamp"));
  CHECK(again[1].attributes.at("ApproximateReceiveCount") == "1");
}

TEST_CASE_METHOD(Fixture,
                 "FifoQueue: a repeated delete succeeds until the handle's deadline, to the ms") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("m", "g", "0")).ok());
  sim.RunFor(absl::Milliseconds(400));  // the deadline falls inside a second
  auto got = Receive(*q, 1, absl::Seconds(10));
  REQUIRE(got.size() == 1);
  REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
  sim.RunFor(absl::Seconds(10) - absl::Milliseconds(1));
  CHECK(q->DeleteMessage(got[0].receipt_handle).ok());  // repeated, inside the visibility
  sim.RunFor(absl::Milliseconds(1));
  const absl::Status st = q->DeleteMessage(got[0].receipt_handle);
  CHECK(std::string(ErrorMessage(st)).ends_with("Reason: The receipt handle has expired."));
}

TEST_CASE_METHOD(Fixture, "FifoQueue: an expired handle cannot delete; an extended one can") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("m", "g", "0")).ok());
  auto got = Receive(*q, 1, absl::Seconds(10));
  REQUIRE(got.size() == 1);
  SECTION("expired") {
    sim.RunFor(absl::Seconds(10));
    const absl::Status st = q->DeleteMessage(got[0].receipt_handle);
    CHECK(ErrorName(st) == "InvalidParameterValue");
    CHECK(std::string(ErrorMessage(st)).ends_with("Reason: The receipt handle has expired."));
    CHECK(q->GetQueueAttributes({"ApproximateNumberOfMessages"})
              .value()
              .at("ApproximateNumberOfMessages") == "1");
  }
  SECTION("extended") {
    sim.RunFor(absl::Seconds(5));
    REQUIRE(q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(60)).ok());
    sim.RunFor(absl::Seconds(60) - absl::Milliseconds(1));  // the receive's 10 s are long gone
    CHECK(q->DeleteMessage(got[0].receipt_handle).ok());
    CHECK(q->GetQueueAttributes().value().at("ApproximateNumberOfMessagesNotVisible") == "0");
  }
  SECTION("malformed or foreign") {
    CHECK(ErrorName(q->DeleteMessage(ReceiptHandle("junk"))) == "ReceiptHandleIsInvalid");
    auto other = Make("other.fifo");
    CHECK(ErrorName(other->DeleteMessage(got[0].receipt_handle)) == "ReceiptHandleIsInvalid");
  }
  SECTION("any character of a handle that is not lowercase hex makes it invalid") {
    const std::string good(got[0].receipt_handle.value());
    for (size_t i = 0; i < good.size(); ++i) {
      for (char bad : {'g', 'G', 'A', 'F', '/', ':', '`', '@', ' ', '\0', '\x80', '\xb0'}) {
        std::string h = good;
        h[i] = bad;
        INFO("position " << i << " character " << static_cast<int>(bad));
        CHECK(ErrorName(q->DeleteMessage(ReceiptHandle(h))) == "ReceiptHandleIsInvalid");
      }
    }
    CHECK(q->DeleteMessage(got[0].receipt_handle).ok());  // none of them deleted it
  }
  SECTION("visibility rules") {
    CHECK(ErrorName(q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(43201))) ==
          "InvalidParameterValue");
    sim.RunFor(absl::Seconds(1));
    CHECK(ErrorName(q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(43200))) ==
          "InvalidParameterValue");  // beyond 12 h from the receive
    REQUIRE(q->ChangeMessageVisibility(got[0].receipt_handle, absl::ZeroDuration()).ok());
    auto again = Receive(*q);
    REQUIRE(again.size() == 1);
    CHECK(again[0].attributes.at("ApproximateReceiveCount") == "2");
  }
}

TEST_CASE_METHOD(Fixture, "FifoQueue: per-message delay only 0; queue delay applies to queued") {
  auto q = Make("d.fifo", {{"DelaySeconds", "10"}});
  SendMessageRequest delayed = Msg("x", "g", "1");
  delayed.delay = absl::Seconds(5);
  auto st = q->SendMessage(delayed).status();
  CHECK(ErrorName(st) == "InvalidParameterValue");
  CHECK(ErrorMessage(st).find("not valid for this queue type") != std::string_view::npos);
  SendMessageRequest zero = Msg("y", "g", "2");
  zero.delay = absl::ZeroDuration();
  REQUIRE(q->SendMessage(zero).ok());  // 0 accepted, the queue delay still applies
  REQUIRE(q->SendMessage(Msg("z", "h", "3")).ok());
  CHECK(q->GetQueueAttributes().value().at("ApproximateNumberOfMessagesDelayed") == "2");
  sim.RunFor(absl::Seconds(3));
  CHECK(Receive(*q).empty());
  // Lowering the queue delay releases queued messages (FIFO only).
  REQUIRE(q->SetQueueAttributes({{"DelaySeconds", "3"}}).ok());
  CHECK(Receive(*q).size() == 2);
}

TEST_CASE_METHOD(Fixture, "FifoQueue: a delayed group does not block other groups") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("early", "a", "1")).ok());
  REQUIRE(q->SetQueueAttributes({{"DelaySeconds", "60"}}).ok());
  sim.RunFor(absl::Seconds(30));
  REQUIRE(q->SendMessage(Msg("late", "b", "2")).ok());
  // "early" was enqueued 30 s ago: with a 60 s delay both still wait.
  CHECK(Receive(*q).empty());
  sim.RunFor(absl::Seconds(30));
  auto early = Receive(*q);
  REQUIRE(Bodies(early) == std::vector<std::string>{"early"});
  REQUIRE(q->DeleteMessage(early[0].receipt_handle).ok());
  CHECK(Receive(*q).empty());
  sim.RunFor(absl::Seconds(30));
  CHECK(Bodies(Receive(*q)) == std::vector<std::string>{"late"});
}

TEST_CASE_METHOD(Fixture, "FifoQueue: long polling wakes on a send and on a delay's end") {
  auto q = Make("lp.fifo", {{"DelaySeconds", "5"}});
  REQUIRE(q->SendMessage(Msg("soon", "g", "1")).ok());
  const absl::Time start = sim.Now();
  auto got = q->ReceiveMessage({.wait_time = absl::Seconds(20)});
  REQUIRE(got.ok());
  CHECK(Bodies(*got) == std::vector<std::string>{"soon"});
  CHECK(sim.Now() == start + absl::Seconds(5));
  auto empty = q->ReceiveMessage({.wait_time = absl::Seconds(20)});
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  CHECK(sim.Now() == start + absl::Seconds(25));
  // A message in flight with a 3 s visibility comes back to a long poll at t+3.
  sim.RunFor(absl::Seconds(10));
  auto lp = Make("lp2.fifo");
  REQUIRE(lp->SendMessage(Msg("again", "g", "1")).ok());
  REQUIRE(lp->ReceiveMessage({.visibility_timeout = absl::Seconds(3)}).value().size() == 1);
  const absl::Time t = sim.Now();
  auto back = lp->ReceiveMessage({.wait_time = absl::Seconds(20)});
  CHECK(back.value().size() == 1);
  CHECK(sim.Now() == t + absl::Seconds(3));
}

TEST_CASE_METHOD(Fixture, "FifoQueue: receive parameter ranges") {
  auto q = Make();
  auto st = q->ReceiveMessage({.max_number_of_messages = 11}).status();
  CHECK(ErrorName(st) == "InvalidParameterValue");
  CHECK(ErrorMessage(st) ==
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and "
        "10, if provided.");
  CHECK(ErrorName(q->ReceiveMessage({.max_number_of_messages = 0}).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(q->ReceiveMessage({.wait_time = absl::Seconds(21)}).status()) ==
        "InvalidParameterValue");
}

TEST_CASE_METHOD(Fixture, "FifoQueue: ReceiveRequestAttemptId replays the same receive") {
  auto q = Make();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(q->SendMessage(Msg("m" + std::to_string(i), "g", std::to_string(i))).ok());
  }
  FifoQueue::ReceiveRequest r{.max_number_of_messages = 2, .receive_request_attempt_id = "try-1"};
  auto first = q->ReceiveMessage(r).value();
  REQUIRE(first.size() == 2);
  sim.RunFor(absl::Seconds(20));
  auto retry = q->ReceiveMessage(r).value();
  CHECK(retry == first);  // same messages and handles
  // The retry reset visibility: still hidden at t+20+29.999, and the handles still work.
  sim.RunFor(absl::Seconds(30) - absl::Milliseconds(1));
  CHECK(q->ReceiveMessage({.max_number_of_messages = 10}).value().empty());
  SECTION("after a lapse nobody took, within 5 minutes") {
    sim.RunFor(absl::Minutes(2));
    CHECK(q->ReceiveMessage(r).value() == first);
    CHECK(q->DeleteMessage(first[0].receipt_handle).ok());
  }
  SECTION("invalid once a message is deleted") {
    REQUIRE(q->DeleteMessage(first[0].receipt_handle).ok());
    auto fresh = q->ReceiveMessage(r).value();
    // A fresh receive: m1 is still in flight, so the group is blocked.
    CHECK(fresh.empty());
  }
  SECTION("invalid once visibility changed") {
    REQUIRE(q->ChangeMessageVisibility(first[1].receipt_handle, absl::Seconds(100)).ok());
    CHECK(q->ReceiveMessage(r).value().empty());
  }
  SECTION("expires after 5 minutes") {
    sim.RunFor(absl::Minutes(5));
    auto fresh = q->ReceiveMessage(r).value();
    REQUIRE(fresh.size() == 2);
    CHECK(fresh[0].message_id == first[0].message_id);
    CHECK(fresh[0].receipt_handle != first[0].receipt_handle);
  }
}

TEST_CASE_METHOD(Fixture, "FifoQueue: FIFO dead-letter queues") {
  auto dlq = Make("dead.fifo");
  SECTION("the DLQ must be FIFO and exist") {
    auto q = Make();
    CHECK(
        ErrorName(q->SetQueueAttributes(
            {{"RedrivePolicy",
              R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:nope.fifo","maxReceiveCount":1})"}})) ==
        "InvalidParameterValue");
    CHECK(ErrorName(q->SetQueueAttributes(
              {{"RedrivePolicy", R"({"deadLetterTargetArn":")" + dlq->arn() +
                                     R"(","maxReceiveCount":1001})"}})) == "InvalidParameterValue");
  }
  SECTION("move on the receive that would exceed maxReceiveCount") {
    auto q = Make("src.fifo", {{"RedrivePolicy", R"({"deadLetterTargetArn":")" + dlq->arn() +
                                                     R"(","maxReceiveCount":"2"})"}});
    const auto sent = q->SendMessage(Msg("poison", "g", "d")).value();
    REQUIRE(q->SendMessage(Msg("next", "g", "d2")).ok());
    REQUIRE(Receive(*q, 1, absl::ZeroDuration()).size() == 1);
    REQUIRE(Receive(*q, 1, absl::ZeroDuration()).size() == 1);
    sim.RunFor(absl::Hours(50));  // retention in the DLQ restarts on entry
    auto third = Receive(*q, 1);
    CHECK(Bodies(third) == std::vector<std::string>{"next"});  // poison moved, not returned
    auto dead = Receive(*dlq);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].message_id == sent.message_id);
    CHECK(dead[0].body == "poison");
    CHECK(dead[0].attributes.at("ApproximateReceiveCount") == "3");
    CHECK(dead[0].attributes.at("MessageDeduplicationId") == sent.message_id);
    CHECK(dead[0].attributes.at("MessageGroupId") == "g");
    CHECK(dead[0].attributes.at("DeadLetterQueueSourceArn") == q->arn());
    // Retention (4 days) counts from the DLQ entry at t+50h, not from the send.
    REQUIRE(dlq->ChangeMessageVisibility(dead[0].receipt_handle, absl::ZeroDuration()).ok());
    sim.RunFor(absl::Hours(96) - absl::Seconds(1));
    CHECK(dlq->GetQueueAttributes().value().at("ApproximateNumberOfMessages") == "1");
    sim.RunFor(absl::Seconds(1));
    CHECK(dlq->GetQueueAttributes().value().at("ApproximateNumberOfMessages") == "0");
  }
  SECTION("RedriveAllowPolicy denyAll refuses sources") {
    REQUIRE(dlq->SetQueueAttributes({{"RedriveAllowPolicy", R"({"redrivePermission":"denyAll"})"}})
                .ok());
    auto q = Make();
    CHECK(ErrorName(q->SetQueueAttributes(
              {{"RedrivePolicy", R"({"deadLetterTargetArn":")" + dlq->arn() +
                                     R"(","maxReceiveCount":1})"}})) == "InvalidParameterValue");
    CHECK(ErrorName(dlq->SetQueueAttributes(
              {{"RedriveAllowPolicy", R"({"redrivePermission":"byQueue"})"}})) ==
          "InvalidParameterValue");
  }
}

TEST_CASE_METHOD(Fixture, "FifoQueue: retention expires messages at the exact instant") {
  auto q = Make("r.fifo", {{"MessageRetentionPeriod", "60"}});
  REQUIRE(q->SendMessage(Msg("m", "g", "1")).ok());
  sim.RunFor(absl::Seconds(60) - absl::Milliseconds(1));
  CHECK(q->GetQueueAttributes().value().at("ApproximateNumberOfMessages") == "1");
  sim.RunFor(absl::Milliseconds(1));
  CHECK(Receive(*q).empty());
  CHECK(q->GetQueueAttributes().value().at("ApproximateNumberOfMessages") == "0");
}

TEST_CASE_METHOD(Fixture, "FifoQueue: purge and its 60-second rule") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("m", "g", "1")).ok());
  REQUIRE(Receive(*q).size() == 1);
  REQUIRE(q->SendMessage(Msg("n", "g", "2")).ok());
  REQUIRE(q->PurgeQueue().ok());
  CHECK(q->GetQueueAttributes().value().at("ApproximateNumberOfMessagesNotVisible") == "0");
  CHECK(Receive(*q).empty());
  sim.RunFor(absl::Seconds(59));
  CHECK(ErrorName(q->PurgeQueue()) == "PurgeQueueInProgress");
  sim.RunFor(absl::Seconds(1));
  CHECK(q->PurgeQueue().ok());
}

TEST_CASE_METHOD(Fixture, "FifoQueue: send validation and results") {
  auto q = Make("v.fifo", {{"MaximumMessageSize", "1024"}});
  CHECK(ErrorName(q->SendMessage(Msg(std::string(1025, 'x'), "g", "1")).status()) ==
        "InvalidParameterValue");
  CHECK(q->SendMessage(Msg(std::string(1024, 'x'), "g", "2")).ok());
  CHECK(ErrorName(q->SendMessage(Msg(std::string("\x01", 1), "g", "3")).status()) ==
        "InvalidMessageContents");
  SendMessageRequest with = Msg("body", "g", "4");
  with.attributes["attribName1"] = MessageAttribute::String("attribValue 1");
  with.aws_trace_header = "Root=1-abc";
  auto r = q->SendMessage(with).value();
  CHECK(r.md5_of_message_body == detail::Md5Of("body"));
  CHECK(r.md5_of_message_attributes == "19e27d4e946b072f3f58da80d94fd778");
  CHECK(!r.md5_of_message_system_attributes.empty());
  SendMessageRequest bad = Msg("body", "g", "5");
  bad.attributes["AWS.x"] = MessageAttribute::String("v");
  CHECK(ErrorName(q->SendMessage(bad).status()) == "InvalidParameterValue");
}

TEST_CASE_METHOD(Fixture, "FifoQueue: batches") {
  auto q = Make("b.fifo", {{"ContentBasedDeduplication", "true"}});
  CHECK(ErrorName(q->SendMessageBatch({}).status()) == "EmptyBatchRequest");
  std::vector<FifoQueue::SendBatchEntry> eleven(11, {"id", Msg("x", "g")});
  for (int i = 0; i < 11; ++i) eleven[i].id = "e" + std::to_string(i);
  CHECK(ErrorName(q->SendMessageBatch(eleven).status()) == "TooManyEntriesInBatchRequest");
  CHECK(ErrorName(q->SendMessageBatch({{"a", Msg("x", "g")}, {"a", Msg("y", "g")}}).status()) ==
        "BatchEntryIdsNotDistinct");
  CHECK(ErrorName(q->SendMessageBatch({{"bad id", Msg("x", "g")}}).status()) ==
        "InvalidBatchEntryId");
  // A missing group id fails the whole call; a bad body fails only its entry.
  CHECK(ErrorName(q->SendMessageBatch({{"a", Msg("1", "g")}, {"b", {.body = "2"}}}).status()) ==
        "InvalidParameterValue");
  auto r =
      q->SendMessageBatch(
           {{"a", Msg("1", "g")}, {"b", Msg(std::string("\x01", 1), "g")}, {"c", Msg("3", "g")}})
          .value();
  REQUIRE(r.successful.size() == 2);
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].id == "b");
  CHECK(r.failed[0].code == "InvalidMessageContents");
  auto got = Receive(*q);
  CHECK(Bodies(got) == std::vector<std::string>{"1", "3"});
  auto del =
      q->DeleteMessageBatch({{"x", got[0].receipt_handle, {}}, {"y", ReceiptHandle("junk"), {}}})
          .value();
  CHECK(del.successful == std::vector<std::string>{"x"});
  REQUIRE(del.failed.size() == 1);
  CHECK(del.failed[0].code == "ReceiptHandleIsInvalid");
  auto vis =
      q->ChangeMessageVisibilityBatch({{"z", got[1].receipt_handle, absl::ZeroDuration()}}).value();
  CHECK(vis.successful == std::vector<std::string>{"z"});
  CHECK(Bodies(Receive(*q)) == std::vector<std::string>{"3"});
}

TEST_CASE_METHOD(Fixture, "FifoQueue: attribute selection on receive") {
  auto q = Make();
  SendMessageRequest m = Msg("b", "g", "1");
  m.attributes["foo.a"] = MessageAttribute::String("1");
  m.attributes["bar"] = MessageAttribute::Number("2");
  REQUIRE(q->SendMessage(m).ok());
  auto got = q->ReceiveMessage({.message_system_attribute_names = {"SequenceNumber"},
                                .message_attribute_names = {"foo.*"}})
                 .value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].message_attributes.size() == 1);
  CHECK(got[0].message_attributes.count("foo.a") == 1);
  CHECK(got[0].attributes.size() == 1);
  CHECK(got[0].attributes.at("SequenceNumber").size() == 20);
}

TEST_CASE_METHOD(Fixture, "FifoQueue: messages can be taken oldest first for a move task") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("a", "g1", "1")).ok());
  sim.RunFor(absl::Seconds(1));
  REQUIRE(q->SendMessage(Msg("b", "g2", "2")).ok());
  auto first = q->TakeOldestForMove();
  REQUIRE(first.has_value());
  CHECK(first->body == "a");
  CHECK(first->message_group_id == "g1");
  CHECK(q->TakeOldestForMove()->body == "b");
  CHECK_FALSE(q->TakeOldestForMove().has_value());
}

TEST_CASE_METHOD(Fixture,
                 "FifoQueue: receives look for available groups among the first 120,000 messages") {
  // SQS: "FIFO queues scan the first 120,000 messages to determine available message groups. If
  // a large backlog builds up in a single message group, messages from other groups sent later
  // will remain blocked until the backlog is processed." Every message stored counts, in flight
  // or not.
  constexpr int kScan = 120000;
  auto q = Make("backlog.fifo", {{"ContentBasedDeduplication", "true"}});
  int backlog = 0;
  SECTION("a message past the first 120,000 waits behind a blocked backlog") { backlog = kScan; }
  SECTION("the 120,000th message is still found") { backlog = kScan - 1; }
  for (int i = 0; i < backlog; ++i) {
    REQUIRE(q->SendMessage(Msg("a" + std::to_string(i), "A")).ok());
  }
  const auto head = Receive(*q, 1);  // the backlog's group is blocked from now on
  REQUIRE(Bodies(head) == std::vector<std::string>{"a0"});
  REQUIRE(q->SendMessage(Msg("b", "B")).ok());
  if (backlog == kScan) {
    CHECK(Receive(*q).empty());
    CHECK(q->GetQueueAttributes({"ApproximateNumberOfMessages"})
              .value()
              .at("ApproximateNumberOfMessages") == std::to_string(kScan));
    // Deleting the backlog's first message brings "b" within the first 120,000: two receives
    // find it beside the backlog's next messages (which group comes first is not specified).
    REQUIRE(q->DeleteMessage(head[0].receipt_handle).ok());
    std::vector<std::string> got = Bodies(Receive(*q));
    for (const std::string& body : Bodies(Receive(*q))) got.push_back(body);
    CHECK(std::count(got.begin(), got.end(), "b") == 1);
    CHECK(std::count(got.begin(), got.end(), "a1") == 1);
  } else {
    CHECK(Bodies(Receive(*q)) == std::vector<std::string>{"b"});
  }
}

TEST_CASE_METHOD(Fixture, "FifoQueue: tags, with the standard queue's rules") {
  auto q = Make();
  REQUIRE(q->TagQueue({{"team", "a"}, {"env", "test"}}).ok());
  REQUIRE(q->UntagQueue({"env", "absent"}).ok());
  CHECK(q->ListQueueTags() == FifoQueue::AttributeMap{{"team", "a"}});
  CHECK(ErrorName(q->TagQueue({{"aws:reserved", "x"}})) == "InvalidParameterValue");
  FifoQueue::AttributeMap many;
  for (int i = 0; i < 50; ++i) many["k" + std::to_string(i)] = "v";
  CHECK(ErrorName(q->TagQueue(many)) == "InvalidParameterValue");  // 51 with "team"
  CHECK(q->ListQueueTags().size() == 1);                           // nothing tagged
  many.erase("k0");
  CHECK(q->TagQueue(many).ok());
  CHECK(q->ListQueueTags().size() == 50);
}
}  // namespace
}  // namespace courier
