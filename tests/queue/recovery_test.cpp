// A hub rebuilt from the records its SQS service left in a RecordingStorage (Hub::Recover) is the
// same hub: the same queues, attributes and tags, the same messages in the same states, and the
// receipt handles the first hub gave out keep their meaning. Each test drives the first hub,
// recovers a second from a copy of its records at the same instant, and then makes the same calls
// on both, which must answer alike.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/service.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/storage.h"
#include "courier/testing/simulation.h"
#include "recording_hub.h"

namespace courier {
namespace {

using Side = testing_support::RecordingSide;

Json Call(Hub& hub, std::string_view operation, std::string_view request) {
  absl::StatusOr<Json> r = Invoke(hub, "sqs", operation, ParseJson(request).value());
  if (!r.ok()) return JsonObject{{"error", std::string(r.status().message())}};
  return *r;
}

std::string Url(std::string_view name) {
  return "https://sqs.us-east-1.amazonaws.com/000000000000/" + std::string(name);
}

std::string Handle(const Json& received, size_t i) {
  return std::string(received.at("Messages").at(i).at("ReceiptHandle").as_string());
}

// Up to ten messages, kept in flight for an hour, with every attribute; none when empty.
JsonArray ReceiveAll(Hub& hub, const std::string& url) {
  Json r = Call(hub, "ReceiveMessage",
                R"({"QueueUrl":")" + url +
                    R"(","MaxNumberOfMessages":10,"VisibilityTimeout":3600,)"
                    R"("MessageSystemAttributeNames":["All"],"MessageAttributeNames":["All"]})");
  if (!r.is_object() || !r.as_object().contains("Messages")) return {};
  return r.at("Messages").as_array();
}

// Every message of a queue, received until none is left (visible for an hour), as text; a
// standard queue's in MessageId order (its order is best effort), a FIFO queue's as received.
std::string Drain(Hub& hub, const std::string& url, bool fifo) {
  std::vector<std::string> out;
  for (;;) {
    const JsonArray messages = ReceiveAll(hub, url);
    if (messages.empty()) break;
    for (const Json& m : messages) out.push_back(ToJsonText(m));
  }
  if (!fifo) std::sort(out.begin(), out.end());
  std::string text;
  for (const std::string& m : out) text += m + "\n";
  return text;
}

// What both hubs must answer alike: the queues, their attributes and tags.
std::string Describe(Hub& hub) {
  std::string text = ToJsonText(Call(hub, "ListQueues", "{}")) + "\n";
  Json listed = Call(hub, "ListQueues", "{}");
  if (!listed.as_object().contains("QueueUrls")) return text;
  for (const Json& url : listed.at("QueueUrls").as_array()) {
    const std::string u(url.as_string());
    text += ToJsonText(Call(hub, "GetQueueAttributes",
                            R"({"QueueUrl":")" + u + R"(","AttributeNames":["All"]})")) +
            "\n";
    text += ToJsonText(Call(hub, "ListQueueTags", R"({"QueueUrl":")" + u + R"("})")) + "\n";
  }
  return text;
}

TEST_CASE("A hub recovered from its records has the same queues, messages and handles",
          "[queue][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side a(log);
  Hub& h = a.hub;
  // Queues: a dead-letter queue, a standard queue feeding it, a FIFO queue, one created and
  // deleted, one whose attributes and tags changed.
  Call(h, "CreateQueue", R"({"QueueName":"orders-dlq"})");
  Call(h, "CreateQueue",
       R"({"QueueName":"orders","Attributes":{"VisibilityTimeout":"20","RedrivePolicy":)"
       R"("{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:orders-dlq\",)"
       R"(\"maxReceiveCount\":2}"},"tags":{"team":"billing"}})");
  Call(h, "CreateQueue",
       R"({"QueueName":"jobs.fifo","Attributes":{"FifoQueue":"true",)"
       R"("ContentBasedDeduplication":"true"}})");
  Call(h, "CreateQueue", R"({"QueueName":"gone"})");
  Call(h, "DeleteQueue", R"({"QueueUrl":")" + Url("gone") + R"("})");
  Call(h, "SetQueueAttributes",
       R"({"QueueUrl":")" + Url("orders-dlq") + R"(","Attributes":{"DelaySeconds":"3"}})");
  Call(h, "TagQueue", R"({"QueueUrl":")" + Url("orders-dlq") + R"(","Tags":{"a":"1","b":"2"}})");
  Call(h, "UntagQueue", R"({"QueueUrl":")" + Url("orders-dlq") + R"(","TagKeys":["a"]})");

  // Standard messages in every state: visible, delayed, in flight, visibility changed, deleted,
  // moved to the dead-letter queue, with attributes and a trace header.
  const std::string orders = Url("orders");
  for (int i = 0; i < 6; ++i) {
    Call(h, "SendMessage",
         R"({"QueueUrl":")" + orders + R"(","MessageBody":"m)" + std::to_string(i) +
             R"(","MessageAttributes":{"n":{"DataType":"Number","StringValue":")" +
             std::to_string(i) + R"("},"b":{"DataType":"Binary","BinaryValue":"AAEC"}}})");
  }
  Call(h, "SendMessage",
       R"({"QueueUrl":")" + orders + R"(","MessageBody":"late","DelaySeconds":120})");
  Call(h, "SendMessage",
       R"({"QueueUrl":")" + orders +
           R"(","MessageBody":"traced","MessageSystemAttributes":{"AWSTraceHeader":)"
           R"({"DataType":"String","StringValue":"Root=1-5759e988-bd862e3fe1be46a994272793"}}})");
  a.sim.clock().Advance(absl::Seconds(1));
  Json first =
      Call(h, "ReceiveMessage", R"({"QueueUrl":")" + orders + R"(","MaxNumberOfMessages":3})");
  REQUIRE(first.at("Messages").as_array().size() == 3);
  Call(h, "DeleteMessage",
       R"({"QueueUrl":")" + orders + R"(","ReceiptHandle":")" + Handle(first, 0) + R"("})");
  Call(h, "ChangeMessageVisibility",
       R"({"QueueUrl":")" + orders + R"(","ReceiptHandle":")" + Handle(first, 1) +
           R"(","VisibilityTimeout":600})");
  const std::string kept_handle = Handle(first, 2);  // in flight for 20 s
  // A message received past maxReceiveCount moves to the dead-letter queue.
  for (int i = 0; i < 3; ++i) {
    a.sim.clock().Advance(absl::Seconds(1));
    Call(h, "ReceiveMessage",
         R"({"QueueUrl":")" + orders + R"(","MaxNumberOfMessages":10,"VisibilityTimeout":0})");
  }

  // FIFO: two groups, one blocked by a message in flight, a deletion, a duplicate.
  const std::string jobs = Url("jobs.fifo");
  for (const char* body : {"g1-a", "g1-b", "g1-c", "g2-a", "g2-b"}) {
    const std::string group = std::string(body).substr(0, 2);
    Call(h, "SendMessage",
         R"({"QueueUrl":")" + jobs + R"(","MessageBody":")" + body + R"(","MessageGroupId":")" +
             group + R"("})");
  }
  Json fifo_first =
      Call(h, "ReceiveMessage", R"({"QueueUrl":")" + jobs + R"(","MaxNumberOfMessages":2})");
  REQUIRE(fifo_first.at("Messages").as_array().size() == 2);
  Call(h, "DeleteMessage",
       R"({"QueueUrl":")" + jobs + R"(","ReceiptHandle":")" + Handle(fifo_first, 0) + R"("})");
  const std::string fifo_kept = Handle(fifo_first, 1);
  a.sim.clock().Advance(absl::Seconds(2));

  // The second hub, from a copy of the records, at the same instant.
  Side b(log->Copy(), a.sim.Now());
  REQUIRE(b.hub.Recover().ok());
  CHECK(Describe(b.hub) == Describe(a.hub));

  for (Side* side : {&a, &b}) {
    INFO((side == &a ? "original" : "recovered"));
    Hub& x = side->hub;
    // A handle from before the recovery deletes its message; a stale one is refused alike.
    CHECK(Call(x, "DeleteMessage",
               R"({"QueueUrl":")" + orders + R"(","ReceiptHandle":")" + kept_handle + R"("})") ==
          JsonObject{});
    CHECK(Call(x, "ChangeMessageVisibility",
               R"({"QueueUrl":")" + jobs + R"(","ReceiptHandle":")" + fifo_kept +
                   R"(","VisibilityTimeout":0})") == JsonObject{});
  }
  // The same duplicate answers with the original's MessageId on both.
  const std::string dup =
      R"({"QueueUrl":")" + jobs + R"(","MessageBody":"g2-a","MessageGroupId":"g2"})";
  CHECK(Call(b.hub, "SendMessage", dup) == Call(a.hub, "SendMessage", dup));

  a.sim.clock().Advance(absl::Seconds(700));
  b.sim.clock().Advance(absl::Seconds(700));
  CHECK(Describe(b.hub) == Describe(a.hub));
  for (const char* name : {"orders", "orders-dlq", "jobs.fifo"}) {
    INFO(name);
    const bool fifo = std::string_view(name).ends_with(".fifo");
    const std::string original = Drain(a.hub, Url(name), fifo);
    CHECK(!original.empty());
    CHECK(Drain(b.hub, Url(name), fifo) == original);
  }
  // The name of the queue deleted less than 60 s before is not free on either.
  // (It was deleted at the start; 700 s later it is free on both.)
  CHECK(Call(b.hub, "CreateQueue", R"({"QueueName":"gone"})") ==
        Call(a.hub, "CreateQueue", R"({"QueueName":"gone"})"));
}

// Every message of a FIFO queue, received and deleted batch by batch (a group gives nothing more
// while a message of it is in flight), in group and then sequence order: a group's order is what
// FIFO promises; the order in which groups are served is not compared.
std::string DrainByGroup(Hub& hub, const std::string& url) {
  std::vector<std::string> keyed;
  for (;;) {
    const JsonArray messages = ReceiveAll(hub, url);
    if (messages.empty()) break;
    for (const Json& m : messages) {
      const Json& a = m.at("Attributes");
      keyed.push_back(std::string(a.at("MessageGroupId").as_string()) + " " +
                      std::string(a.at("SequenceNumber").as_string()) + " " + ToJsonText(m));
      Call(hub, "DeleteMessage",
           R"({"QueueUrl":")" + url + R"(","ReceiptHandle":")" +
               std::string(m.at("ReceiptHandle").as_string()) + R"("})");
    }
  }
  std::sort(keyed.begin(), keyed.end());
  std::string text;
  for (const std::string& k : keyed) text += k + "\n";
  return text;
}

TEST_CASE("Records made by concurrent senders and receivers rebuild the same queues",
          "[queue][recovery][stress]") {
  auto log = std::make_shared<RecordingStorage>();
  Side a(log);
  auto standard = Sqs(a.hub).CreateQueue("s").value();
  auto fifo = Sqs(a.hub).CreateFifoQueue("f.fifo", {.content_based_deduplication = true}).value();
  constexpr int kProducers = 2, kConsumers = 2, kPerProducer = 400;
  std::atomic<int> producers_done{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        const std::string body = std::to_string(p) + ":" + std::to_string(i);
        if (!standard->SendMessage({.body = body}).ok()) failed = true;
        if (!fifo->SendMessage({.body = body, .message_group_id = "g" + std::to_string(i % 7)})
                 .ok()) {
          failed = true;
        }
      }
      ++producers_done;
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(c);
      for (int round = 0; producers_done < kProducers || round < 50; ++round) {
        for (SqsQueue* q :
             {static_cast<SqsQueue*>(standard.get()), static_cast<SqsQueue*>(fifo.get())}) {
          auto got = q->ReceiveMessage(
              {.max_number_of_messages = 10, .visibility_timeout = absl::Seconds(rng() % 3)});
          if (!got.ok()) {
            failed = true;
            return;
          }
          for (const Message& m : *got) {
            switch (rng() % 3) {
              case 0:
                (void)q->DeleteMessage(m.receipt_handle);
                break;
              case 1:
                (void)q->ChangeMessageVisibility(m.receipt_handle, absl::Seconds(rng() % 4));
                break;
              default:
                break;  // left to lapse
            }
          }
        }
        if (c == 0) a.sim.clock().Advance(absl::Milliseconds(700));
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE_FALSE(failed);
  // Whatever the workload left, some messages are queued and some in flight. FIFO: in six
  // groups, so that the five received cannot hold every group back.
  for (int i = 0; i < 20; ++i) {
    REQUIRE(standard->SendMessage({.body = "left " + std::to_string(i)}).ok());
    REQUIRE(fifo->SendMessage({.body = "left " + std::to_string(i),
                               .message_group_id = "left" + std::to_string(i % 6)})
                .ok());
  }
  REQUIRE(standard->ReceiveMessage({.max_number_of_messages = 5}).ok());
  REQUIRE(fifo->ReceiveMessage({.max_number_of_messages = 5}).ok());

  Side b(log->Copy(), a.sim.Now());
  REQUIRE(b.hub.Recover().ok());
  CHECK(Describe(b.hub) == Describe(a.hub));
  a.sim.clock().Advance(absl::Seconds(10));
  b.sim.clock().Advance(absl::Seconds(10));
  const std::string original = Drain(a.hub, Url("s"), /*fifo=*/false);
  CHECK(!original.empty());
  CHECK(Drain(b.hub, Url("s"), /*fifo=*/false) == original);
  const std::string original_fifo = DrainByGroup(a.hub, Url("f.fifo"));
  CHECK(!original_fifo.empty());
  CHECK(DrainByGroup(b.hub, Url("f.fifo")) == original_fifo);
}

TEST_CASE("A recovered queue remembers a recent purge and deletion", "[queue][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side a(log);
  Call(a.hub, "CreateQueue", R"({"QueueName":"q"})");
  Call(a.hub, "SendMessage", R"({"QueueUrl":")" + Url("q") + R"(","MessageBody":"before"})");
  Call(a.hub, "PurgeQueue", R"({"QueueUrl":")" + Url("q") + R"("})");
  Call(a.hub, "SendMessage", R"({"QueueUrl":")" + Url("q") + R"(","MessageBody":"after"})");
  Call(a.hub, "CreateQueue", R"({"QueueName":"d"})");
  Call(a.hub, "DeleteQueue", R"({"QueueUrl":")" + Url("d") + R"("})");
  Side b(log->Copy(), a.sim.Now());
  REQUIRE(b.hub.Recover().ok());
  CHECK(Drain(b.hub, Url("q"), false).find("\"Body\":\"after\"") != std::string::npos);
  CHECK(Drain(b.hub, Url("q"), false).empty());
  Json purge = Call(b.hub, "PurgeQueue", R"({"QueueUrl":")" + Url("q") + R"("})");
  CHECK(ToJsonText(purge).find("PurgeQueueInProgress") != std::string::npos);
  Json again = Call(b.hub, "CreateQueue", R"({"QueueName":"d"})");
  CHECK(ToJsonText(again).find("QueueDeletedRecently") != std::string::npos);
}

TEST_CASE("A queue that gave its memory back recovers its messages and handles",
          "[queue][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side a(log);
  Call(a.hub, "CreateQueue", R"({"QueueName":"q"})");
  auto q = Sqs(a.hub).GetQueue("q").value();
  for (int i = 0; i < 70'000; ++i) REQUIRE(q->SendMessageNoMd5({.body = "old"}).ok());
  std::string old_handle;
  for (;;) {
    auto got = q->ReceiveMessage({.max_number_of_messages = 10}).value();
    if (got.empty()) break;  // drained: the memory goes back
    for (const Message& m : got) REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
    if (old_handle.empty()) old_handle = got[0].receipt_handle.value();
  }
  for (int i = 0; i < 3; ++i) {
    Call(a.hub, "SendMessage", R"({"QueueUrl":")" + Url("q") + R"(","MessageBody":"new"})");
  }
  Json received = Call(a.hub, "ReceiveMessage",
                       R"({"QueueUrl":")" + Url("q") + R"(","VisibilityTimeout":600})");
  REQUIRE(received.at("Messages").as_array().size() == 1);

  Side b(log->Copy(), a.sim.Now());
  REQUIRE(b.hub.Recover().ok());
  for (Hub* hub : {&a.hub, &b.hub}) {
    // The old handle is stale in both (deletes nothing), the new one is live in both.
    CHECK(Call(*hub, "DeleteMessage",
               R"({"QueueUrl":")" + Url("q") + R"(","ReceiptHandle":")" + old_handle + R"("})")
              .as_object()
              .empty());
  }
  CHECK(Describe(a.hub) == Describe(b.hub));
  CHECK(Drain(a.hub, Url("q"), false) == Drain(b.hub, Url("q"), false));
  for (Hub* hub : {&a.hub, &b.hub}) {
    CHECK(Call(*hub, "DeleteMessage",
               R"({"QueueUrl":")" + Url("q") + R"(","ReceiptHandle":")" + Handle(received, 0) +
                   R"("})")
              .as_object()
              .empty());
  }
  CHECK(Describe(a.hub) == Describe(b.hub));
}

// 140,000 messages in 16 groups: at least 8,750 slots in each shard that has a group, past
// FifoGroups::kGiveBackAtLeast, so that the receive that finds the queue drained gives those
// shards' pages back, and the messages after it take their slots again from 0.
TEST_CASE("A FIFO queue that gave its memory back recovers its messages, handles and window",
          "[queue][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side a(log);
  Call(a.hub, "CreateQueue", R"({"QueueName":"f.fifo","Attributes":{"FifoQueue":"true"}})");
  const std::string f = Url("f.fifo");
  auto q = Sqs(a.hub).GetFifoQueue("f.fifo").value();
  for (int i = 0; i < 140'000; ++i) {
    REQUIRE(q->SendMessageNoMd5({.body = "old",
                                 .message_group_id = "g" + std::to_string(i % 16),
                                 .message_deduplication_id = "old-" + std::to_string(i)})
                .ok());
  }
  auto delete_old = [&](Hub& hub, const std::string& handle) {
    return Call(hub, "DeleteMessage",
                R"({"QueueUrl":")" + f + R"(","ReceiptHandle":")" + handle + R"("})");
  };
  std::string old_handle;
  Json old_delete;  // a second delete of a deleted message, before the give-back
  for (;;) {
    auto got = q->ReceiveMessage({.max_number_of_messages = 10}).value();
    if (got.empty()) break;  // drained: the memory goes back
    for (const Message& m : got) REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
    if (old_handle.empty()) {
      old_handle = got[0].receipt_handle.value();
      old_delete = delete_old(a.hub, old_handle);
    }
  }
  auto send = [&](Hub& hub, std::string_view body, std::string_view group, std::string_view dedup) {
    return Call(hub, "SendMessage",
                R"({"QueueUrl":")" + f + R"(","MessageBody":")" + std::string(body) +
                    R"(","MessageGroupId":")" + std::string(group) +
                    R"(","MessageDeduplicationId":")" + std::string(dedup) + R"("})");
  };
  for (int i = 0; i < 3; ++i)
    send(a.hub, "new", "g" + std::to_string(i), "new-" + std::to_string(i));
  Json duplicate = send(a.hub, "old again", "g0", "old-0");  // inside the window: not kept
  Json received =
      Call(a.hub, "ReceiveMessage", R"({"QueueUrl":")" + f + R"(","VisibilityTimeout":600})");
  REQUIRE(received.at("Messages").as_array().size() == 1);

  Side b(log->Copy(), a.sim.Now());
  REQUIRE(b.hub.Recover().ok());
  for (Hub* hub : {&a.hub, &b.hub}) {
    // The old handle deletes nothing in either, as before; "old-0" is still a duplicate.
    CHECK(delete_old(*hub, old_handle) == old_delete);
    CHECK(send(*hub, "old again", "g0", "old-0").at("MessageId") == duplicate.at("MessageId"));
  }
  CHECK(Describe(a.hub) == Describe(b.hub));
  for (Hub* hub : {&a.hub, &b.hub}) {
    CHECK(Call(*hub, "DeleteMessage",
               R"({"QueueUrl":")" + f + R"(","ReceiptHandle":")" + Handle(received, 0) + R"("})") ==
          JsonObject{});
  }
  const std::string drained = Drain(a.hub, f, true);
  CHECK(drained == Drain(b.hub, f, true));
  CHECK(std::count(drained.begin(), drained.end(), '\n') == 2);  // the two new ones not received
  CHECK(Describe(a.hub) == Describe(b.hub));
}

TEST_CASE("A FIFO queue recovered goes on with its sequence, groups and window",
          "[queue][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side a(log);
  Call(a.hub, "CreateQueue", R"({"QueueName":"f.fifo","Attributes":{"FifoQueue":"true"}})");
  const std::string f = Url("f.fifo");
  auto send = [&](Hub& hub, std::string_view body, std::string_view dedup) {
    return Call(hub, "SendMessage",
                R"({"QueueUrl":")" + f + R"(","MessageBody":")" + std::string(body) +
                    R"(","MessageGroupId":"g","MessageDeduplicationId":")" + std::string(dedup) +
                    R"("})");
  };
  Json one = send(a.hub, "one", "d1");
  send(a.hub, "two", "d2");
  Json held = Call(a.hub, "ReceiveMessage", R"({"QueueUrl":")" + f + R"("})");
  REQUIRE(held.at("Messages").as_array().size() == 1);

  Side b(log->Copy(), a.sim.Now());
  REQUIRE(b.hub.Recover().ok());
  // The group is blocked by its message in flight.
  CHECK(!Call(b.hub, "ReceiveMessage", R"({"QueueUrl":")" + f + R"("})")
             .as_object()
             .contains("Messages"));
  // d1 is still a duplicate (of "one"); a new send's sequence number comes after every earlier.
  CHECK(send(b.hub, "one again", "d1").at("MessageId") == one.at("MessageId"));
  Json three = send(b.hub, "three", "d3");
  CHECK(std::string(three.at("SequenceNumber").as_string()) >
        std::string(one.at("SequenceNumber").as_string()));
  CHECK(Call(b.hub, "DeleteMessage",
             R"({"QueueUrl":")" + f + R"(","ReceiptHandle":")" + Handle(held, 0) + R"("})") ==
        JsonObject{});
  Json next =
      Call(b.hub, "ReceiveMessage", R"({"QueueUrl":")" + f + R"(","MaxNumberOfMessages":10})");
  REQUIRE(next.at("Messages").as_array().size() == 2);
  CHECK(next.at("Messages").at(0).at("Body") == "two");
  CHECK(next.at("Messages").at(1).at("Body") == "three");
  // Five minutes after the first send, d1 is new again.
  b.sim.clock().Advance(absl::Minutes(5));
  CHECK(send(b.hub, "one later", "d1").at("MessageId") != one.at("MessageId"));
}

// Moves `n` messages of `source` to its dead-letter queue `dlq` (maxReceiveCount 1: received
// once, then visible again, they go there at the next receive).
void KillMessages(Hub& hub, std::string_view source, std::string_view dlq, int n, bool fifo) {
  for (int i = 0; i < n; ++i) {
    std::string send =
        R"({"QueueUrl":")" + Url(source) + R"(","MessageBody":"m)" + std::to_string(i) + R"(")";
    if (fifo) {
      send += R"(,"MessageGroupId":"g","MessageDeduplicationId":"d)" + std::to_string(i) + R"(")";
    }
    REQUIRE(Call(hub, "SendMessage", send + "}").as_object().contains("MessageId"));
  }
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      Json r = Call(hub, "ReceiveMessage",
                    R"({"QueueUrl":")" + Url(source) +
                        R"(","MaxNumberOfMessages":10,"VisibilityTimeout":0})");
      if (!r.as_object().contains("Messages")) break;
    }
  }
  Json counted = Call(
      hub, "GetQueueAttributes",
      R"({"QueueUrl":")" + Url(dlq) + R"(","AttributeNames":["ApproximateNumberOfMessages"]})");
  REQUIRE(counted.at("Attributes").at("ApproximateNumberOfMessages") == Json(std::to_string(n)));
}

TEST_CASE("A message move task goes on after recovery from where its records left it",
          "[queue][recovery]") {
  const bool fifo = GENERATE(false, true);
  const std::string suffix = fifo ? ".fifo" : "";
  const std::string kind = fifo ? R"("FifoQueue":"true",)" : "";
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  Hub& hub = first.hub;
  Json dlq = Call(hub, "CreateQueue",
                  R"({"QueueName":"dlq)" + suffix + R"(","Attributes":{)" + kind +
                      R"("VisibilityTimeout":"0"}})");
  const std::string dlq_arn = "arn:aws:sqs:us-east-1:000000000000:dlq" + suffix;
  Json made = Call(hub, "CreateQueue",
                   R"({"QueueName":"work)" + suffix + R"(","Attributes":{)" + kind +
                       R"("RedrivePolicy":"{\"deadLetterTargetArn\":\")" + dlq_arn +
                       R"(\",\"maxReceiveCount\":1}"}})");
  REQUIRE(made.as_object().contains("QueueUrl"));
  KillMessages(hub, "work" + suffix, "dlq" + suffix, 5, fifo);
  // A finished task, then one that moves two a second: two moved, three left.
  Json started = Call(hub, "StartMessageMoveTask",
                      R"({"SourceArn":")" + dlq_arn + R"(","MaxNumberOfMessagesPerSecond":2})");
  REQUIRE(started.as_object().contains("TaskHandle"));
  const std::string list = R"({"SourceArn":")" + dlq_arn + R"(","MaxResults":10})";
  const std::string before = ToJsonText(Call(hub, "ListMessageMoveTasks", list));
  CHECK(before.find(R"("ApproximateNumberOfMessagesMoved":2)") != std::string::npos);

  Side second(log->Copy(), first.sim.Now());
  REQUIRE(second.hub.Recover().ok());
  // The same task, RUNNING under the same handle; its numbers where they were.
  CHECK(ToJsonText(Call(second.hub, "ListMessageMoveTasks", list)) == before);
  // A second task is refused while it runs, on both hubs.
  CHECK(
      ToJsonText(Call(second.hub, "StartMessageMoveTask", R"({"SourceArn":")" + dlq_arn + R"("})"))
          .find("already a task running") != std::string::npos);
  // Both go on alike, second by second, to COMPLETED with every message back once.
  for (Side* side : {&first, &second}) side->sim.RunFor(absl::Seconds(3));
  const std::string after = ToJsonText(Call(second.hub, "ListMessageMoveTasks", list));
  CHECK(after == ToJsonText(Call(hub, "ListMessageMoveTasks", list)));
  CHECK(after.find(R"("Status":"COMPLETED")") != std::string::npos);
  CHECK(after.find(R"("ApproximateNumberOfMessagesMoved":5)") != std::string::npos);
  const std::string drained = Drain(second.hub, Url("work" + suffix), fifo);
  CHECK(std::count(drained.begin(), drained.end(), '\n') == 5);
  CHECK(Drain(second.hub, Url("dlq" + suffix), fifo).empty());
}

TEST_CASE("A record that cannot be read fails the recovery with DataLoss", "[queue][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  const std::string bad = R"({"op":"Store","arn":"arn:aws:sqs:us-east-1:000000000000:q"})";
  REQUIRE(log->Append("sqs", std::span<const std::string>(&bad, 1)).ok());
  Side b(log);
  absl::Status st = b.hub.Recover();
  CHECK(st.code() == absl::StatusCode::kDataLoss);
  CHECK(std::string(st.message()).find("cannot be read") != std::string::npos);
}

TEST_CASE("MemoryStorage keeps no records and a hub on it recovers nothing", "[queue][recovery]") {
  testing::Simulation sim;
  Environment env = sim.environment();
  env.storage = std::make_shared<MemoryStorage>();  // not the suite's default, which may differ
  Hub hub(env);
  CHECK_FALSE(hub.environment().storage->keeps_records());
  Call(hub, "CreateQueue", R"({"QueueName":"q"})");
  CHECK(hub.Recover().ok());
  CHECK(Call(hub, "ListQueues", "{}").at("QueueUrls").as_array().size() == 1);
}

}  // namespace
}  // namespace courier
