// The standard queue against spec/sqs-sns.md §1-4 (AWS's documented behaviour), on a manual clock.
#include "courier/queue.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"
#include "queue/long_poll_wake.h"

namespace courier {
namespace {

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  std::shared_ptr<Queue> q = Sqs(hub).CreateQueue("orders").value();

  std::string Attr(const std::string& name) { return q->GetQueueAttributes({name}).value()[name]; }
  std::vector<Message> Receive(int n = 10, std::optional<absl::Duration> vt = std::nullopt) {
    return q->ReceiveMessage({.max_number_of_messages = n, .visibility_timeout = vt}).value();
  }
};

TEST_CASE("CreateQueue: idempotent, QueueAlreadyExists, names, deleted recently", "[queue]") {
  Fixture f;
  auto again = Sqs(f.hub).CreateQueue("orders");
  REQUIRE(again.ok());
  CHECK(again->get() == f.q.get());
  auto a = Sqs(f.hub).CreateQueue("orders", QueueAttributeMap{{"VisibilityTimeout", "30"}});
  CHECK(a.ok());
  auto b =
      Sqs(f.hub).CreateQueue("orders", QueueAttributes{.visibility_timeout = absl::Seconds(60)});
  CHECK(ErrorName(b.status()) == "QueueAlreadyExists");
  CHECK(ErrorMessage(b.status()).find("VisibilityTimeout") != std::string_view::npos);
  CHECK(ErrorName(Sqs(f.hub).CreateQueue("").status()) == "InvalidParameterValue");
  CHECK(ErrorName(Sqs(f.hub).CreateQueue(std::string(81, 'a')).status()) ==
        "InvalidParameterValue");
  CHECK(Sqs(f.hub).CreateQueue(std::string(80, 'a')).ok());
  CHECK(ErrorName(Sqs(f.hub).CreateQueue("a.b").status()) == "InvalidParameterValue");
  CHECK(ErrorName(Sqs(f.hub).CreateQueue("x.fifo").status()) == "InvalidParameterValue");
  CHECK(Sqs(f.hub).CreateFifoQueue("x.fifo").ok());

  CHECK(Sqs(f.hub).GetQueue("orders").value() == f.q);
  CHECK(Sqs(f.hub).GetQueue(f.q->arn()).value() == f.q);
  CHECK(Sqs(f.hub).GetQueue(f.q->url()).value() == f.q);
  CHECK(f.q->url() == "https://sqs.us-east-1.amazonaws.com/000000000000/orders");
  CHECK(f.q->arn() == "arn:aws:sqs:us-east-1:000000000000:orders");
  CHECK(ErrorName(Sqs(f.hub).GetQueue("nope").status()) == "QueueDoesNotExist");
  CHECK(Sqs(f.hub).GetFifoQueue("x.fifo").ok());
  CHECK(Sqs(f.hub).ListQueues("o") == std::vector<std::string>{f.q->url()});
  CHECK(Sqs(f.hub).ListQueues().size() == 3);

  REQUIRE(Sqs(f.hub).DeleteQueue("orders").ok());
  CHECK(ErrorName(Sqs(f.hub).GetQueue("orders").status()) == "QueueDoesNotExist");
  CHECK(ErrorName(Sqs(f.hub).DeleteQueue("orders")) == "QueueDoesNotExist");
  f.sim.clock().Advance(absl::Seconds(59));
  CHECK(ErrorName(Sqs(f.hub).CreateQueue("orders").status()) == "QueueDeletedRecently");
  f.sim.clock().Advance(absl::Seconds(1));
  CHECK(Sqs(f.hub).CreateQueue("orders").ok());
}

// Every call on a queue that was deleted fails as SQS answers for a queue that does not exist,
// whatever handle the caller kept; the message it held is gone with it.
template <typename Q>
void CheckDeleted(Q& q, const ReceiptHandle& handle, SendMessageRequest send) {
  auto gone = [](const absl::Status& st) { return ErrorName(st) == "QueueDoesNotExist"; };
  CHECK(gone(q.SendMessage(send).status()));
  CHECK(gone(q.SendMessageNoMd5(send).status()));
  CHECK(gone(q.SendMessageBatch({{"a", send}}).status()));
  CHECK(gone(q.ReceiveMessage({.max_number_of_messages = 10}).status()));
  std::vector<Message> out(1);
  CHECK(gone(q.ReceiveMessage({}, out)));
  CHECK(out.empty());
  CHECK(gone(q.DeleteMessage(handle)));
  CHECK(gone(q.DeleteMessageBatch({{"a", handle, {}}}).status()));
  CHECK(gone(q.ChangeMessageVisibility(handle, absl::Seconds(1))));
  CHECK(gone(q.ChangeMessageVisibilityBatch({{"a", handle, absl::Seconds(1)}}).status()));
  CHECK(gone(q.GetQueueAttributes().status()));
  CHECK(gone(q.SetQueueAttributes({{"DelaySeconds", "1"}})));
  CHECK(gone(q.PurgeQueue()));
  CHECK(gone(q.StartMessageMoveTask(std::nullopt, std::nullopt).status()));
  CHECK(gone(q.TagQueue({{"k", "v"}})));
  CHECK(gone(q.UntagQueue({"k"})));
}

TEST_CASE("DeleteQueue: a handle kept to a deleted queue answers QueueDoesNotExist", "[queue]") {
  Fixture f;
  SECTION("standard") {
    REQUIRE(f.q->SendMessage({.body = "m"}).ok());
    const auto got = f.Receive();
    REQUIRE(got.size() == 1);
    REQUIRE(Sqs(f.hub).DeleteQueue("orders").ok());
    CheckDeleted(*f.q, got[0].receipt_handle, {.body = "m"});
    // A queue created again under the name is another queue, empty.
    f.sim.clock().Advance(absl::Seconds(60));
    auto again = Sqs(f.hub).CreateQueue("orders").value();
    CHECK(again != f.q);
    CHECK(again->ReceiveMessage({}).value().empty());
    CHECK(ErrorName(f.q->SendMessage({.body = "m"}).status()) == "QueueDoesNotExist");
  }
  SECTION("FIFO") {
    auto q = Sqs(f.hub).CreateFifoQueue("jobs.fifo").value();
    const SendMessageRequest send{
        .body = "m", .message_group_id = "g", .message_deduplication_id = "d"};
    REQUIRE(q->SendMessage(send).ok());
    const auto got = q->ReceiveMessage({}).value();
    REQUIRE(got.size() == 1);
    REQUIRE(Sqs(f.hub).DeleteQueue("jobs.fifo").ok());
    CheckDeleted(*q, got[0].receipt_handle, send);
  }
}

TEST_CASE("Attributes: defaults, ranges, FIFO-only names, read-only values", "[queue]") {
  Fixture f;
  auto all = f.q->GetQueueAttributes().value();
  CHECK(all["DelaySeconds"] == "0");
  CHECK(all["MaximumMessageSize"] == "1048576");
  CHECK(all["MessageRetentionPeriod"] == "345600");
  CHECK(all["ReceiveMessageWaitTimeSeconds"] == "0");
  CHECK(all["VisibilityTimeout"] == "30");
  CHECK(all["SqsManagedSseEnabled"] == "true");
  CHECK(all["QueueArn"] == f.q->arn());
  CHECK(all["CreatedTimestamp"] == "1767225600");
  CHECK(all["ApproximateNumberOfMessages"] == "0");
  CHECK(all.count("FifoQueue") == 0);
  struct Case {
    const char* name;
    const char* bad_low;
    const char* low;
    const char* high;
    const char* bad_high;
  };
  for (const Case& c : {Case{"DelaySeconds", "-1", "0", "900", "901"},
                        Case{"MaximumMessageSize", "1023", "1024", "1048576", "1048577"},
                        Case{"MessageRetentionPeriod", "59", "60", "1209600", "1209601"},
                        Case{"ReceiveMessageWaitTimeSeconds", "-1", "0", "20", "21"},
                        Case{"VisibilityTimeout", "-1", "0", "43200", "43201"}}) {
    INFO(c.name);
    CHECK(ErrorName(f.q->SetQueueAttributes({{c.name, c.bad_low}})) == "InvalidAttributeValue");
    CHECK(ErrorName(f.q->SetQueueAttributes({{c.name, c.bad_high}})) == "InvalidAttributeValue");
    CHECK(ErrorName(f.q->SetQueueAttributes({{c.name, "x"}})) == "InvalidAttributeValue");
    CHECK(f.q->SetQueueAttributes({{c.name, c.low}}).ok());
    CHECK(f.Attr(c.name) == c.low);
    CHECK(f.q->SetQueueAttributes({{c.name, c.high}}).ok());
    CHECK(f.Attr(c.name) == c.high);
  }
  for (const char* fifo_only :
       {"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}) {
    CHECK(ErrorName(f.q->SetQueueAttributes({{fifo_only, "true"}})) == "InvalidAttributeName");
  }
  CHECK(ErrorName(f.q->SetQueueAttributes({{"FifoQueue", "true"}})) == "InvalidAttributeName");
  CHECK(ErrorName(f.q->SetQueueAttributes({{"Bogus", "1"}})) == "InvalidAttributeName");
  CHECK(ErrorName(f.q->GetQueueAttributes({"Bogus"}).status()) == "InvalidAttributeName");
  // A bad attribute anywhere changes nothing.
  CHECK(!f.q->SetQueueAttributes({{"DelaySeconds", "5"}, {"VisibilityTimeout", "99999"}}).ok());
  CHECK(f.Attr("DelaySeconds") == "900");
  f.sim.clock().Advance(absl::Seconds(10));
  REQUIRE(f.q->SetQueueAttributes({{"DelaySeconds", "1"}}).ok());
  CHECK(f.Attr("LastModifiedTimestamp") == "1767225610");
}

TEST_CASE("SendMessage: body, size, attributes and MD5s", "[queue]") {
  Fixture f;
  auto r = f.q->SendMessage({.body = "hello"}).value();
  CHECK(r.md5_of_message_body == "5d41402abc4b2a76b9719d911017c592");
  CHECK(r.md5_of_message_attributes.empty());
  CHECK(r.message_id.size() == 36);
  auto a =
      f.q->SendMessage({.body = "x",
                        .attributes = {{"attribName1", MessageAttribute::String("attribValue 1")}}})
          .value();
  CHECK(a.md5_of_message_attributes == "19e27d4e946b072f3f58da80d94fd778");
  auto b =
      f.q->SendMessage(
             {.body = "x",
              .attributes = {{"binaryAttribute", MessageAttribute::Binary("Hello binary world!")}}})
          .value();
  CHECK(b.md5_of_message_attributes == "31a92b15d92f8db860eda32aceb656c3");
  auto t = f.q->SendMessage({.body = "x", .aws_trace_header = "Root=1-abc"}).value();
  CHECK(t.md5_of_message_system_attributes.size() == 32);
  CHECK(f.q->SendMessageNoMd5({.body = "x"}).value().md5_of_message_body.empty());
  {
    Fixture g;
    g.q->SendMessageNoMd5({.body = "hello"}).value();
    auto fast =
        g.q->ReceiveMessage({.visibility_timeout = absl::ZeroDuration(), .md5_of_body = false})
            .value();
    REQUIRE(fast.size() == 1);
    CHECK(fast[0].md5_of_body.empty());
    auto full = g.q->ReceiveMessage({}).value();  // computed when asked, as AWS returns it
    REQUIRE(full.size() == 1);
    CHECK(full[0].md5_of_body == "5d41402abc4b2a76b9719d911017c592");
  }

  CHECK(ErrorName(f.q->SendMessage({.body = ""}).status()) == "MissingParameter");
  CHECK(ErrorName(f.q->SendMessage({.body = std::string("a\x01", 2)}).status()) ==
        "InvalidMessageContents");
  CHECK(f.q->SendMessage({.body = "tab\t\n\r \xEF\xBF\xBD"}).ok());
  // The check reads 16 and 8 bytes at a time: a bad or multi-byte character is found wherever
  // it sits relative to those blocks.
  Fixture sweep;
  for (size_t at = 0; at < 40; ++at) {
    std::string body(40, 'a');
    body[at] = '\x1F';
    CHECK(ErrorName(sweep.q->SendMessage({.body = body}).status()) == "InvalidMessageContents");
    body[at] = '\xFF';
    CHECK(ErrorName(sweep.q->SendMessage({.body = body}).status()) == "InvalidMessageContents");
    body.replace(at, 1, "\xC3\xA9");  // e-acute
    CHECK(sweep.q->SendMessage({.body = body}).ok());
    body.replace(at, 2, "\x7F");  // DEL is allowed (#x20 to #xD7FF)
    CHECK(sweep.q->SendMessage({.body = body}).ok());
  }
  REQUIRE(f.q->SetQueueAttributes({{"MaximumMessageSize", "1024"}}).ok());
  CHECK(f.q->SendMessage({.body = std::string(1024, 'a')}).ok());
  auto big = f.q->SendMessage({.body = std::string(1025, 'a')});
  CHECK(ErrorName(big.status()) == "InvalidParameterValue");
  CHECK(ErrorMessage(big.status()).find("Message must be shorter than 1024 bytes") !=
        std::string_view::npos);
  // Attributes count towards the size: name + type + value.
  CHECK(!f.q->SendMessage({.body = std::string(1010, 'a'),
                           .attributes = {{"abcd", MessageAttribute::String("0123456789")}}})
             .ok());
  MessageAttributes eleven;
  for (int i = 0; i < 11; ++i) eleven["a" + std::to_string(i)] = MessageAttribute::String("v");
  CHECK(!f.q->SendMessage({.body = "x", .attributes = eleven}).ok());
  CHECK(!f.q->SendMessage({.body = "x", .attributes = {{"AWS.x", MessageAttribute::String("v")}}})
             .ok());
  CHECK(!f.q->SendMessage({.body = "x", .attributes = {{"a", MessageAttribute::String("")}}}).ok());
  CHECK(!f.q->SendMessage({.body = "x", .delay = absl::Seconds(901)}).ok());
  CHECK(f.q->SendMessage({.body = "x", .message_group_id = "tenant-1"}).ok());
  CHECK(!f.q->SendMessage({.body = "x", .message_group_id = ""}).ok());
  CHECK(!f.q->SendMessage({.body = "x", .message_deduplication_id = "d"}).ok());
  // None of the failures queued anything.
  CHECK(f.Attr("ApproximateNumberOfMessages") == "8");
}

TEST_CASE("SendMessageBatch: entry rules and per-entry failures", "[queue]") {
  Fixture f;
  CHECK(ErrorName(f.q->SendMessageBatch({}).status()) == "EmptyBatchRequest");
  std::vector<Queue::SendBatchEntry> many;
  for (int i = 0; i < 11; ++i) many.push_back({"e" + std::to_string(i), {.body = "b"}});
  auto too_many = f.q->SendMessageBatch(many);
  CHECK(ErrorName(too_many.status()) == "TooManyEntriesInBatchRequest");
  CHECK(ErrorName(f.q->SendMessageBatch({{"a b", {.body = "x"}}}).status()) ==
        "InvalidBatchEntryId");
  CHECK(ErrorName(f.q->SendMessageBatch({{"a", {.body = "x"}}, {"a", {.body = "y"}}}).status()) ==
        "BatchEntryIdsNotDistinct");
  // Long ids that share a prefix are distinct; the same long id twice is not.
  CHECK(ErrorName(f.q->SendMessageBatch(
                         {{"entry-number-1", {.body = "x"}}, {"entry-number-1", {.body = "y"}}})
                      .status()) == "BatchEntryIdsNotDistinct");
  {
    Fixture g;
    CHECK(g.q->SendMessageBatch(
                 {{"entry-number-1", {.body = "x"}}, {"entry-number-2", {.body = "y"}}})
              .ok());
  }
  // Ids that differ only in the middle are distinct.
  {
    std::vector<Queue::HandleBatchEntry> entries(2);
    entries[0].id = "abcdefgh-X-abcdefgh";
    entries[1].id = "abcdefgh-Y-abcdefgh";
    CHECK(ErrorName(f.q->DeleteMessageBatch(entries).status()) != "BatchEntryIdsNotDistinct");
    CHECK(f.q->DeleteMessageBatch(entries)->failed.size() == 2);  // handles are empty: invalid
  }
  // A repeat is found wherever the two copies sit among ten entries.
  for (int first = 0; first < 10; ++first) {
    for (int second = first + 1; second < 10; ++second) {
      std::vector<Queue::HandleBatchEntry> entries(10);
      for (int k = 0; k < 10; ++k) entries[k].id = "id-" + std::to_string(k * 7919);
      entries[second].id = entries[first].id;
      CHECK(ErrorName(f.q->DeleteMessageBatch(entries).status()) == "BatchEntryIdsNotDistinct");
    }
  }
  std::vector<Queue::SendBatchEntry> huge;
  for (int i = 0; i < 2; ++i)
    huge.push_back({"h" + std::to_string(i), {.body = std::string(524289, 'a')}});
  CHECK(ErrorName(f.q->SendMessageBatch(huge).status()) == "BatchRequestTooLong");
  CHECK(f.Attr("ApproximateNumberOfMessages") == "0");
  auto r = f.q->SendMessageBatch({{"ok", {.body = "fine"}}, {"bad", {.body = ""}}}).value();
  REQUIRE(r.successful.size() == 1);
  CHECK(r.successful[0].first == "ok");
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].id == "bad");
  CHECK(r.failed[0].sender_fault);
  CHECK(f.Attr("ApproximateNumberOfMessages") == "1");
}

TEST_CASE("ReceiveMessage: parameters, system and message attribute selection", "[queue]") {
  Fixture f;
  CHECK(ErrorMessage(f.q->ReceiveMessage({.max_number_of_messages = 11}).status()) ==
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and "
        "10, if provided.");
  CHECK(!f.q->ReceiveMessage({.max_number_of_messages = 0}).ok());
  CHECK(!f.q->ReceiveMessage({.wait_time = absl::Seconds(21)}).ok());
  CHECK(!f.q->ReceiveMessage({.visibility_timeout = absl::Seconds(43201)}).ok());
  f.q->SendMessage({.body = "m",
                    .attributes = {{"foo.a", MessageAttribute::String("1")},
                                   {"foo.b", MessageAttribute::Number("2")},
                                   {"bar", MessageAttribute::String("3")}},
                    .aws_trace_header = "Root=1"})
      .value();
  const absl::Time sent = f.sim.Now();
  f.sim.clock().Advance(absl::Seconds(2));
  auto got = f.q->ReceiveMessage({.message_system_attribute_names = {"All"},
                                  .message_attribute_names = {"foo.*"}})
                 .value();
  REQUIRE(got.size() == 1);
  const Message& m = got[0];
  CHECK(m.body == "m");
  CHECK(m.md5_of_body == "6f8f57715090da2632453988d9a1501b");
  CHECK(m.attributes.at("ApproximateReceiveCount") == "1");
  CHECK(m.attributes.at("SentTimestamp") == std::to_string(absl::ToUnixMillis(sent)));
  CHECK(m.attributes.at("ApproximateFirstReceiveTimestamp") ==
        std::to_string(absl::ToUnixMillis(sent + absl::Seconds(2))));
  CHECK(m.attributes.at("SenderId") == "000000000000");
  CHECK(m.attributes.at("AWSTraceHeader") == "Root=1");
  CHECK(m.message_attributes.size() == 2);
  CHECK(m.message_attributes.count("bar") == 0);
  CHECK(!m.md5_of_message_attributes.empty());

  f.sim.clock().Advance(absl::Seconds(30));
  got = f.q->ReceiveMessage({.message_system_attribute_names = {"ApproximateReceiveCount"},
                             .message_attribute_names = {"All"}})
            .value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].attributes.size() == 1);
  CHECK(got[0].attributes.at("ApproximateReceiveCount") == "2");
  CHECK(got[0].message_attributes.size() == 3);
  f.sim.clock().Advance(absl::Seconds(30));
  got = f.q->ReceiveMessage({}).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].attributes.empty());
  CHECK(got[0].message_attributes.empty());
  CHECK(got[0].md5_of_message_attributes.empty());
}

TEST_CASE("ReceiveMessage into a reused vector: nothing of the last receive is left", "[queue]") {
  Fixture f;
  REQUIRE(f.q->SendMessage({.body = "first, with attributes",
                            .attributes = {{"a", MessageAttribute::String("1")}}})
              .ok());
  REQUIRE(f.q->SendMessageNoMd5({.body = "second"}).ok());
  REQUIRE(f.q->SendMessageNoMd5({.body = "third"}).ok());
  std::vector<Message> out;
  REQUIRE(f.q->ReceiveMessage({.max_number_of_messages = 1,
                               .message_system_attribute_names = {"All"},
                               .message_attribute_names = {"All"}},
                              out)
              .ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].body == "first, with attributes");
  CHECK(!out[0].attributes.empty());
  CHECK(!out[0].message_attributes.empty());
  const MessageId first_id = out[0].message_id;

  REQUIRE(f.q->ReceiveMessage({.max_number_of_messages = 10, .md5_of_body = false}, out).ok());
  REQUIRE(out.size() == 2);
  for (const Message& m : out) {
    CHECK((m.body == "second" || m.body == "third"));
    CHECK(m.message_id != first_id);
    CHECK(m.attributes.empty());
    CHECK(m.message_attributes.empty());
    CHECK(m.md5_of_message_attributes.empty());
    CHECK(m.md5_of_body.empty());  // sent without it, and not asked for
    CHECK(f.q->DeleteMessage(m.receipt_handle).ok());
  }
  // Empty queue: an empty vector; bad arguments: an error and an empty vector.
  REQUIRE(f.q->ReceiveMessage({}, out).ok());
  CHECK(out.empty());
  REQUIRE(f.q->SendMessage({.body = "x"}).ok());
  REQUIRE(f.q->ReceiveMessage({}, out).ok());
  REQUIRE(out.size() == 1);
  CHECK(ErrorName(f.q->ReceiveMessage({.max_number_of_messages = 11}, out)) ==
        "InvalidParameterValue");
  CHECK(out.empty());
}

TEST_CASE("In-flight limit: 120,000 messages, then OverLimit for short polls", "[queue]") {
  Fixture f;
  constexpr int kLimit = 120000;
  for (int i = 0; i < kLimit + 10; ++i) REQUIRE(f.q->SendMessageNoMd5({.body = "m"}).ok());
  std::vector<Message> got;
  for (int taken = 0; taken < kLimit; taken += static_cast<int>(got.size())) {
    REQUIRE(f.q->ReceiveMessage({.max_number_of_messages = 10, .md5_of_body = false}, got).ok());
    REQUIRE(!got.empty());
  }
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == std::to_string(kLimit));
  auto over = f.q->ReceiveMessage({});
  CHECK(ErrorName(over.status()) == "OverLimit");
  // A long poll does not fail: it returns nothing.
  auto polled = f.q->ReceiveMessage({.wait_time = absl::Seconds(1)});
  REQUIRE(polled.ok());
  CHECK(polled->empty());
  // One deletion makes room again.
  REQUIRE(f.q->DeleteMessage(got[0].receipt_handle).ok());
  CHECK(f.q->ReceiveMessage({}).ok());
}

TEST_CASE("Long polling: wakes at the delayed message's instant, and at the wait's end",
          "[queue]") {
  Fixture f;
  const absl::Time start = f.sim.Now();
  auto none = f.q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value();
  CHECK(none.empty());
  CHECK(f.sim.Now() == start + absl::Seconds(20));
  f.q->SendMessage({.body = "later", .delay = absl::Seconds(5)}).value();
  auto got = f.q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value();
  REQUIRE(got.size() == 1);
  CHECK(f.sim.Now() == start + absl::Seconds(25));
  // An in-flight message becoming visible again (at t+55s) also ends the wait.
  CHECK(f.q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value().empty());
  CHECK(f.sim.Now() == start + absl::Seconds(45));
  got = f.q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value();
  REQUIRE(got.size() == 1);
  CHECK(f.sim.Now() == start + absl::Seconds(55));
  // The queue's ReceiveMessageWaitTimeSeconds is the default wait.
  REQUIRE(f.q->DeleteMessage(got[0].receipt_handle).ok());
  REQUIRE(f.q->SetQueueAttributes({{"ReceiveMessageWaitTimeSeconds", "3"}}).ok());
  CHECK(f.q->ReceiveMessage({}).value().empty());
  CHECK(f.sim.Now() == start + absl::Seconds(58));
}

TEST_CASE("Messages whose receiver's thread has gone come back when their timeout ends",
          "[queue]") {
  Fixture f;
  // Sent and received on two other threads at once (each thread has its own lane, where the
  // timers it sets are kept), then this thread's own messages, which it finds first.
  // (Catch's assertions stay on this thread.)
  std::atomic<bool> received{false};
  std::atomic<int> sent{0};
  std::thread sender([&] {
    for (int i = 0; i < 10; ++i) sent += f.q->SendMessage({.body = "x"}).ok();
    while (!received.load())
      std::this_thread::yield();  // alive: the receiver has a lane of its own
  });
  while (sent.load() < 10) std::this_thread::yield();
  size_t got = 0;
  std::thread([&] { got = f.Receive(10, absl::Seconds(1)).size(); }).join();
  received = true;
  sender.join();
  REQUIRE(got == 10);
  for (int i = 0; i < 100; ++i) REQUIRE(f.q->SendMessage({.body = "m"}).ok());
  f.sim.clock().Advance(absl::Seconds(1));
  int x = 0, m = 0;
  for (int k = 0; k < 11; ++k) {
    for (const Message& got : f.Receive(10, absl::Hours(1))) (got.body == "x" ? x : m)++;
  }
  CHECK(x == 10);
  CHECK(m == 100);
}

TEST_CASE("Twenty distinct visibility timeouts each end on time", "[queue]") {
  // More durations than a lane keeps rings for (16): the rest go to its late timers.
  Fixture f;
  for (int i = 0; i < 20; ++i) REQUIRE(f.q->SendMessage({.body = std::to_string(i)}).ok());
  std::map<std::string, int> timeout;  // body -> seconds
  for (int i = 0; i < 20; ++i) {
    auto got = f.Receive(1, absl::Seconds(i + 1));
    REQUIRE(got.size() == 1);
    timeout[got[0].body] = i + 1;
  }
  for (int t = 1; t <= 20; ++t) {
    f.sim.clock().Advance(absl::Seconds(1));
    auto back = f.Receive(10, absl::Hours(1));
    REQUIRE(back.size() == 1);  // exactly the one whose timeout just ended
    CHECK(timeout[back[0].body] == t);
  }
}

TEST_CASE("Long polling returns as soon as another thread sends", "[queue]") {
  Hub hub;  // system clock
  auto q = Sqs(hub).CreateQueue("poll").value();
  std::thread sender([&] { q->SendMessage({.body = "hi"}).value(); });
  auto got = q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value();
  sender.join();
  if (got.empty()) got = q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "hi");
}

TEST_CASE("Long polling returns as soon as another thread makes a message visible", "[queue]") {
  auto clock = std::make_shared<ManualClock>();  // moves only when told: the poll must be woken
  Hub hub(Environment::Deterministic(clock));
  auto q = Sqs(hub).CreateQueue("poll").value();
  q->SendMessage({.body = "again"}).value();
  auto first = q->ReceiveMessage({.visibility_timeout = absl::Seconds(10)}).value();
  REQUIRE(first.size() == 1);
  const absl::Time start = clock->Now();
  std::vector<Message> got;
  // The poll sets a timer for the visibility's end at t+10 s.
  CHECK(testing::PollWokenBy(
      *clock, [&] { got = q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value(); },
      [&] {
        REQUIRE(q->ChangeMessageVisibility(first[0].receipt_handle, absl::ZeroDuration()).ok());
      }));
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "again");
  CHECK(clock->Now() == start);
}

TEST_CASE("Visibility: timeouts, delays, counters, 12-hour cap", "[queue]") {
  Fixture f;
  f.q->SendMessage({.body = "a"}).value();
  f.q->SendMessage({.body = "d", .delay = absl::Seconds(10)}).value();
  CHECK(f.Attr("ApproximateNumberOfMessages") == "1");
  CHECK(f.Attr("ApproximateNumberOfMessagesDelayed") == "1");
  auto got = f.Receive();
  REQUIRE(got.size() == 1);
  CHECK(f.Attr("ApproximateNumberOfMessages") == "0");
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "1");
  f.sim.clock().Advance(absl::Seconds(10));
  CHECK(f.Attr("ApproximateNumberOfMessagesDelayed") == "0");
  CHECK(f.Attr("ApproximateNumberOfMessages") == "1");
  f.sim.clock().Advance(absl::Seconds(19));
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "1");
  f.sim.clock().Advance(absl::Seconds(1));  // exactly 30 s after the receive
  CHECK(f.Attr("ApproximateNumberOfMessages") == "2");
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "0");

  // Visibility 0 makes a received message visible again at once.
  got = f.Receive(10, absl::ZeroDuration());
  CHECK(got.size() == 2);
  CHECK(f.Attr("ApproximateNumberOfMessages") == "2");

  // ChangeMessageVisibility counts from the call; capped at 12 h after the receive.
  got = f.Receive(1, absl::Seconds(100));
  REQUIRE(got.size() == 1);
  const ReceiptHandle h = got[0].receipt_handle;
  f.sim.clock().Advance(absl::Seconds(50));
  REQUIRE(f.q->ChangeMessageVisibility(h, absl::Seconds(100)).ok());
  f.sim.clock().Advance(absl::Seconds(99));
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "1");
  f.sim.clock().Advance(absl::Seconds(1));
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "0");
  got = f.Receive(2, absl::Seconds(10));
  REQUIRE(got.size() == 2);
  f.sim.clock().Advance(absl::Seconds(5));
  auto over = f.q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(43200));
  CHECK(ErrorName(over) == "InvalidParameterValue");
  CHECK(f.q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(43195)).ok());
  CHECK(!f.q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(43201)).ok());
  // Timeout 0: visible now, receive count kept.
  REQUIRE(f.q->ChangeMessageVisibility(got[1].receipt_handle, absl::ZeroDuration()).ok());
  auto again = f.q->ReceiveMessage({.message_system_attribute_names = {"All"}}).value();
  REQUIRE(again.size() == 1);
  CHECK(again[0].message_id == got[1].message_id);
  CHECK(std::stoi(again[0].attributes.at("ApproximateReceiveCount")) >= 3);
  // Deleted message: not available.
  REQUIRE(f.q->DeleteMessage(again[0].receipt_handle).ok());
  CHECK(ErrorName(f.q->ChangeMessageVisibility(again[0].receipt_handle, absl::Seconds(5))) ==
        "InvalidParameterValue");
  CHECK(ErrorName(f.q->ChangeMessageVisibility(ReceiptHandle("junk"), absl::Seconds(5))) ==
        "ReceiptHandleIsInvalid");
}

TEST_CASE("DeleteMessage: stale, expired, malformed and foreign handles", "[queue]") {
  Fixture f;
  auto other = Sqs(f.hub).CreateQueue("other").value();
  f.q->SendMessage({.body = "a"}).value();
  auto first = f.Receive(1, absl::Seconds(10));
  REQUIRE(first.size() == 1);
  f.sim.clock().Advance(absl::Seconds(10));
  auto second = f.Receive(1, absl::Seconds(10));
  REQUIRE(second.size() == 1);
  // Stale handle (received again since): success, message kept.
  CHECK(f.q->DeleteMessage(first[0].receipt_handle).ok());
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "1");
  // Expired handle with no later receive: success, deleted.
  f.sim.clock().Advance(absl::Seconds(10));
  CHECK(f.Attr("ApproximateNumberOfMessages") == "1");
  CHECK(f.q->DeleteMessage(second[0].receipt_handle).ok());
  CHECK(f.Attr("ApproximateNumberOfMessages") == "0");
  CHECK(f.Receive().empty());
  // Deleting again is fine.
  CHECK(f.q->DeleteMessage(second[0].receipt_handle).ok());
  CHECK(ErrorName(f.q->DeleteMessage(ReceiptHandle("garbage"))) == "ReceiptHandleIsInvalid");
  CHECK(ErrorName(f.q->DeleteMessage(ReceiptHandle(""))) == "ReceiptHandleIsInvalid");
  other->SendMessage({.body = "b"}).value();
  auto foreign = other->ReceiveMessage({}).value();
  REQUIRE(foreign.size() == 1);
  CHECK(ErrorName(f.q->DeleteMessage(foreign[0].receipt_handle)) == "ReceiptHandleIsInvalid");
  CHECK(other->GetQueueAttributes({"ApproximateNumberOfMessagesNotVisible"})
            .value()["ApproximateNumberOfMessagesNotVisible"] == "1");
}

// A lane that has held at least 65,536 messages gives its memory back once drained
// (queue/message_store.h, GiveBackIfDrained): what a caller can see stays as it was.
TEST_CASE("A drained queue gives its memory back; handles given out before stay stale", "[queue]") {
  Fixture f;
  constexpr int kMessages = 70'000;
  for (int i = 0; i < kMessages; ++i) REQUIRE(f.q->SendMessageNoMd5({.body = "m"}).ok());
  std::vector<ReceiptHandle> handles;
  for (;;) {
    auto got = f.Receive(10, absl::Seconds(30));
    if (got.empty()) break;  // this receive, finding nothing, gives the memory back
    for (Message& m : got) {
      REQUIRE(f.q->DeleteMessage(m.receipt_handle).ok());
      handles.push_back(std::move(m.receipt_handle));
    }
  }
  REQUIRE(handles.size() == kMessages);
  CHECK(f.Attr("ApproximateNumberOfMessages") == "0");
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "0");

  REQUIRE(f.q->SendMessage({.body = "new"}).ok());
  auto fresh = f.Receive(10, absl::Seconds(30));
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].body == "new");
  // Every old handle is a stale one: a delete succeeds and deletes nothing, a visibility
  // change finds no message; none is ReceiptHandleIsInvalid.
  for (size_t k = 0; k < handles.size(); k += 997) {
    CHECK(f.q->DeleteMessage(handles[k]).ok());
    CHECK(ErrorName(f.q->ChangeMessageVisibility(handles[k], absl::Seconds(5))) ==
          "InvalidParameterValue");
  }
  CHECK(f.q->DeleteMessage(handles.front()).ok());
  CHECK(f.q->DeleteMessage(handles.back()).ok());
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "1");
  CHECK(f.q->ChangeMessageVisibility(fresh[0].receipt_handle, absl::Seconds(0)).ok());
  auto again = f.Receive();
  REQUIRE(again.size() == 1);
  CHECK(again[0].message_id == fresh[0].message_id);
  CHECK(f.q->DeleteMessage(again[0].receipt_handle).ok());
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "0");
}

TEST_CASE("Delete and visibility batches", "[queue]") {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.q->SendMessage({.body = "m"}).value();
  auto got = f.Receive();
  REQUIRE(got.size() == 3);
  CHECK(ErrorName(f.q->DeleteMessageBatch({}).status()) == "EmptyBatchRequest");
  auto v = f.q->ChangeMessageVisibilityBatch({{"a", got[0].receipt_handle, absl::Seconds(100)},
                                              {"b", ReceiptHandle("bad"), absl::Seconds(1)}})
               .value();
  CHECK(v.successful == std::vector<std::string>{"a"});
  REQUIRE(v.failed.size() == 1);
  CHECK(v.failed[0].code == "ReceiptHandleIsInvalid");
  auto d = f.q->DeleteMessageBatch({{"x", got[1].receipt_handle, {}},
                                    {"y", got[2].receipt_handle, {}},
                                    {"z", ReceiptHandle("bad"), {}}})
               .value();
  CHECK(d.successful.size() == 2);
  CHECK(d.failed.size() == 1);
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "1");
}

TEST_CASE("PurgeQueue: everything, once every 60 s", "[queue]") {
  Fixture f;
  f.q->SendMessage({.body = "a"}).value();
  f.q->SendMessage({.body = "b", .delay = absl::Seconds(30)}).value();
  f.q->SendMessage({.body = "c"}).value();
  REQUIRE(f.Receive(1).size() == 1);
  REQUIRE(f.q->PurgeQueue().ok());
  CHECK(f.Attr("ApproximateNumberOfMessages") == "0");
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "0");
  CHECK(f.Attr("ApproximateNumberOfMessagesDelayed") == "0");
  f.q->SendMessage({.body = "after"}).value();
  f.sim.clock().Advance(absl::Seconds(59));
  auto again = f.q->PurgeQueue();
  CHECK(ErrorName(again) == "PurgeQueueInProgress");
  CHECK(ErrorMessage(again) ==
        "Only one PurgeQueue operation on orders is allowed every 60 seconds.");
  CHECK(f.Attr("ApproximateNumberOfMessages") == "1");
  f.sim.clock().Advance(absl::Seconds(1));
  CHECK(f.q->PurgeQueue().ok());
}

TEST_CASE("Retention: expiry at enqueue + period, whatever the state; lowering it", "[queue]") {
  Fixture f;
  REQUIRE(f.q->SetQueueAttributes({{"MessageRetentionPeriod", "120"}}).ok());
  f.q->SendMessage({.body = "a"}).value();
  f.sim.clock().Advance(absl::Seconds(60));
  f.q->SendMessage({.body = "b"}).value();
  REQUIRE(f.Receive(10, absl::Seconds(1000)).size() == 2);
  f.sim.clock().Advance(absl::Seconds(59));
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "2");
  f.sim.clock().Advance(absl::Seconds(1));  // a: 120 s old
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "1");
  // Lowering retention expires messages already older than the new period.
  REQUIRE(f.q->SetQueueAttributes({{"MessageRetentionPeriod", "60"}}).ok());
  CHECK(f.Attr("ApproximateNumberOfMessagesNotVisible") == "0");
}

// Retention counts from the send, a delay included: a message whose retention ends before its
// delay is gone then, never delayed past its retention nor received.
TEST_CASE("Retention: a delayed message expires when its retention ends, not its delay",
          "[queue]") {
  Fixture f;
  REQUIRE(
      f.q->SetQueueAttributes({{"MessageRetentionPeriod", "60"}, {"DelaySeconds", "900"}}).ok());
  f.q->SendMessage({.body = "late"}).value();
  f.q->SendMessage({.body = "later", .delay = absl::Seconds(120)}).value();
  f.sim.clock().Advance(absl::Seconds(59));
  CHECK(f.Attr("ApproximateNumberOfMessagesDelayed") == "2");
  f.sim.clock().Advance(absl::Seconds(1));
  CHECK(f.Attr("ApproximateNumberOfMessagesDelayed") == "0");
  CHECK(f.Attr("ApproximateNumberOfMessages") == "0");
  f.sim.clock().Advance(absl::Seconds(900));
  CHECK(f.Receive().empty());
  CHECK(f.Attr("ApproximateNumberOfMessages") == "0");
}

TEST_CASE("Tags", "[queue]") {
  Fixture f;
  REQUIRE(f.q->TagQueue({{"team", "a"}, {"env", "test"}}).ok());
  REQUIRE(f.q->UntagQueue({"env"}).ok());
  CHECK(f.q->ListQueueTags() == QueueAttributeMap{{"team", "a"}});
}

}  // namespace
}  // namespace courier
