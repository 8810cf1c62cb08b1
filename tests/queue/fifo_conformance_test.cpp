// Conformance of FifoQueue with AWS's documented SQS FIFO behaviour (spec/sqs-sns.md §5 and the
// FIFO parts of §1-4, §6, §7; the SQS Developer Guide's FIFO pages and the API reference). Each
// test names the rule it checks. Time is a ManualClock (testing::Simulation): never a sleep.
// The cases that are AWS requests and responses only are data, run through the operation table:
// tests/conformance/sqs/recorded_fifo.jsonl (names and attributes among them).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "courier/detail/digest.h"
#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"
#include "queue/fifo_fixture.h"
#include "queue/long_poll_wake.h"

namespace courier {
namespace {

using Attrs = FifoQueue::AttributeMap;
constexpr absl::Duration kMs = absl::Milliseconds(1);

using Fixture = testing::FifoFixture;
using testing::Bodies;
using testing::Msg;

std::string Redrive(const std::string& arn, int max_receives) {
  return R"({"deadLetterTargetArn":")" + arn + R"(","maxReceiveCount":)" +
         std::to_string(max_receives) + "}";
}

// ---- SendMessage parameters ----

TEST_CASE_METHOD(Fixture,
                 "SendMessage on FIFO: a per-message DelaySeconds other than 0 is "
                 "InvalidParameterValue; the queue's DelaySeconds applies",
                 "[fifo-conformance]") {
  auto q = Make("d.fifo", {{"DelaySeconds", "2"}});
  for (absl::Duration d : {absl::Seconds(1), absl::Seconds(900), absl::Milliseconds(500)}) {
    SendMessageRequest r = Msg("x", "g", "x");
    r.delay = d;
    const absl::Status st = q->SendMessage(r).status();
    CHECK(ErrorName(st) == "InvalidParameterValue");
    CHECK(ErrorMessage(st).find("The request include parameter that is not valid for this queue "
                                "type") != std::string_view::npos);
  }
  SendMessageRequest zero = Msg("zero", "g", "z");
  zero.delay = absl::ZeroDuration();
  REQUIRE(q->SendMessage(zero).ok());
  CHECK(Count(*q, "ApproximateNumberOfMessagesDelayed") == "1");
  sim.RunFor(absl::Seconds(2) - kMs);
  CHECK(Receive(*q).empty());
  sim.RunFor(kMs);
  CHECK(Bodies(Receive(*q)) == std::vector<std::string>{"zero"});
}

// ---- Deduplication ----

TEST_CASE_METHOD(Fixture,
                 "Dedup window: a duplicate is accepted, not delivered, until exactly 5:00.000 "
                 "after the first send; duplicates do not extend it",
                 "[fifo-conformance]") {
  auto q = Make();
  const auto first = q->SendMessage(Msg("one", "g", "d")).value();
  sim.RunFor(absl::Minutes(4));
  const auto dup = q->SendMessage(Msg("dup", "g", "d")).value();
  CHECK(dup.message_id == first.message_id);
  CHECK(dup.sequence_number == first.sequence_number);
  sim.RunFor(absl::Minutes(1) - kMs);  // 4:59.999 after the first send
  CHECK(q->SendMessage(Msg("dup2", "g", "d")).value().message_id == first.message_id);
  CHECK(Count(*q, "ApproximateNumberOfMessages") == "1");
  sim.RunFor(kMs);  // 5:00.000: the window of the first send is over, the duplicates' never began
  const auto fresh = q->SendMessage(Msg("two", "g", "d")).value();
  CHECK(fresh.message_id != first.message_id);
  CHECK(Bodies(Receive(*q)) == std::vector<std::string>{"one", "two"});
}

TEST_CASE_METHOD(Fixture,
                 "Content-based dedup: SHA-256 of the body; an explicit id equal to that hash is "
                 "the same id; the window ends at exactly 5:00.000",
                 "[fifo-conformance]") {
  auto q = Make("c.fifo", {{"ContentBasedDeduplication", "true"}});
  const auto first = q->SendMessage(Msg("body", "g")).value();
  // AWS: an explicit MessageDeduplicationId equal to the generated one is a duplicate.
  CHECK(q->SendMessage(Msg("other body", "g", detail::Sha256Hex("body"))).value().message_id ==
        first.message_id);
  // A different body is not a duplicate; attributes are not hashed.
  CHECK(q->SendMessage(Msg("body ", "g")).value().message_id != first.message_id);
  sim.RunFor(absl::Minutes(5) - kMs);
  CHECK(q->SendMessage(Msg("body", "h")).value().message_id == first.message_id);
  sim.RunFor(kMs);
  CHECK(q->SendMessage(Msg("body", "h")).value().message_id != first.message_id);
  auto got = Receive(*q);
  REQUIRE(got.size() == 3);
  for (const auto& m : got) {
    CHECK(m.attributes.at("MessageDeduplicationId") == detail::Sha256Hex(m.body));
  }
}

TEST_CASE_METHOD(Fixture,
                 "Content-based dedup can be switched on and off; an explicit id always wins",
                 "[fifo-conformance]") {
  auto q = Make();
  CHECK(ErrorName(q->SendMessage(Msg("x", "g")).status()) == "InvalidParameterValue");
  REQUIRE(q->SetQueueAttributes({{"ContentBasedDeduplication", "true"}}).ok());
  const auto a = q->SendMessage(Msg("x", "g")).value();
  CHECK(q->SendMessage(Msg("x", "g")).value().message_id == a.message_id);
  CHECK(q->SendMessage(Msg("x", "g", "explicit")).value().message_id != a.message_id);
  REQUIRE(q->SetQueueAttributes({{"ContentBasedDeduplication", "false"}}).ok());
  CHECK(ErrorName(q->SendMessage(Msg("y", "g")).status()) == "InvalidParameterValue");
  CHECK(Bodies(Receive(*q)) == std::vector<std::string>{"x", "x"});
}

TEST_CASE_METHOD(Fixture,
                 "DeduplicationScope=messageGroup: the same id in another group is delivered; in "
                 "the same group it is a duplicate until 5:00.000",
                 "[fifo-conformance]") {
  auto q = Make("s.fifo",
                {{"DeduplicationScope", "messageGroup"}, {"ContentBasedDeduplication", "true"}});
  const auto a = q->SendMessage(Msg("same", "g1")).value();
  const auto b = q->SendMessage(Msg("same", "g2")).value();
  CHECK(a.message_id != b.message_id);
  sim.RunFor(absl::Minutes(5) - kMs);
  CHECK(q->SendMessage(Msg("same", "g1")).value().message_id == a.message_id);
  CHECK(q->SendMessage(Msg("same", "g2", detail::Sha256Hex("same"))).value().message_id ==
        b.message_id);
  sim.RunFor(kMs);
  CHECK(q->SendMessage(Msg("same", "g1")).value().message_id != a.message_id);
  CHECK(Receive(*q).size() == 3);
}

// AWS, recorded (test_purge_queue_clears_fifo_deduplication_cache).
TEST_CASE_METHOD(Fixture, "PurgeQueue clears the FIFO deduplication window", "[fifo-conformance]") {
  auto q = Make();
  const auto first = q->SendMessage(Msg("message-1", "g", "d")).value();
  REQUIRE(q->PurgeQueue().ok());
  const auto second = q->SendMessage(Msg("message-2", "g", "d")).value();
  CHECK(second.message_id != first.message_id);
  CHECK(Bodies(Receive(*q)) == std::vector<std::string>{"message-2"});
}

// ---- Sequence numbers ----

TEST_CASE_METHOD(Fixture,
                 "SequenceNumber: 20 digits, strictly increasing in send order across groups, the "
                 "same on receive as on send",
                 "[fifo-conformance]") {
  auto q = Make();
  std::map<std::string, std::string> seq_of_body;
  std::string last;
  for (int i = 0; i < 200; ++i) {
    const std::string body = "m" + std::to_string(i);
    auto r = q->SendMessage(Msg(body, "g" + std::to_string(i % 37), body)).value();
    REQUIRE(r.sequence_number.size() == 20);
    for (char c : r.sequence_number.view()) REQUIRE((c >= '0' && c <= '9'));
    CHECK(std::string(r.sequence_number.view()) > last);
    last = std::string(r.sequence_number.view());
    seq_of_body[body] = last;
  }
  size_t seen = 0;
  for (int round = 0; round < 100 && seen < 200; ++round) {
    for (const auto& m : Receive(*q)) {
      CHECK(m.attributes.at("SequenceNumber") == seq_of_body.at(m.body));
      REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
      ++seen;
    }
  }
  CHECK(seen == 200);
}

// ---- Ordering and group blocking ----

// AWS, recorded (test_fifo_message_group_visibility_after_terminate_visibility_timeout and
// ..._after_change_message_visibility): g1-m1 made visible again while g1-m2 is still in flight is
// returned, with g2-m1.
TEST_CASE_METHOD(Fixture,
                 "A message made visible again is first in its group and is returned although a "
                 "later message of its group is still in flight",
                 "[fifo-conformance]") {
  auto q = Make("t.fifo", {{"VisibilityTimeout", "30"}, {"ContentBasedDeduplication", "true"}});
  REQUIRE(q->SendMessage(Msg("g1-m1", "group-1")).ok());
  REQUIRE(q->SendMessage(Msg("g1-m2", "group-1")).ok());
  auto got = Receive(*q, 2);
  REQUIRE(Bodies(got) == std::vector<std::string>{"g1-m1", "g1-m2"});
  // Sent after the receive here, so that the first receive does not depend on which group a
  // receive serves first (see the next test).
  REQUIRE(q->SendMessage(Msg("g2-m1", "group-2")).ok());
  SECTION("visibility 0") {
    REQUIRE(q->ChangeMessageVisibility(got[0].receipt_handle, absl::ZeroDuration()).ok());
  }
  SECTION("visibility 1 s, then 2 s pass") {
    REQUIRE(q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(1)).ok());
    sim.RunFor(absl::Seconds(2));
  }
  auto next = Receive(*q, 3);
  std::multiset<std::string> bodies;
  for (const auto& m : next) bodies.insert(m.body);
  CHECK(bodies == std::multiset<std::string>{"g1-m1", "g2-m1"});
}

TEST_CASE_METHOD(Fixture,
                 "A receive fills up from one group, then adds other groups; each group in order",
                 "[fifo-conformance]") {
  auto q = Make();
  // Interleaved sends over three groups.
  for (int i = 0; i < 3; ++i) {
    for (const char* g : {"A", "B", "C"}) {
      const std::string body = std::string(g) + std::to_string(i);
      REQUIRE(q->SendMessage(Msg(body, g, body)).ok());
    }
  }
  auto got = Receive(*q, 10);
  REQUIRE(got.size() == 9);
  // Groups come whole and contiguous.
  std::vector<std::string> groups;
  for (const auto& m : got) {
    const std::string g = m.attributes.at("MessageGroupId");
    if (groups.empty() || groups.back() != g) groups.push_back(g);
  }
  CHECK(groups.size() == 3);
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].body == groups[i / 3] + std::to_string(i % 3));
  }
}

// A reference model of one FIFO queue's groups, to check courier against under random
// interleavings of sends, receives, deletes, visibility changes and time.
struct ModelMessage {
  std::string body;
  std::string group;
  int index = 0;  // position in its group's send order
  bool deleted = false;
  bool in_flight = false;
  absl::Time deadline;
  int receives = 0;
};

TEST_CASE_METHOD(
    Fixture,
    "Random interleavings: strict order within groups, nothing after a message in flight, lapsed "
    "messages first again, receives as full as the eligible messages allow",
    "[fifo-conformance]") {
  // Several runs: which group a receive serves first varies (groups are sharded by a seeded
  // hash), and with it which interleavings a run meets.
  for (uint32_t seed = 20261127; seed < 20261127 + 8; ++seed) {
    INFO("seed " << seed);
    auto q = Make("model" + std::to_string(seed) + ".fifo", {{"VisibilityTimeout", "3"}});
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    std::vector<ModelMessage> model;
    std::map<std::string, int> sent_in_group;
    std::map<std::string, size_t> by_body;
    struct Held {
      ReceiptHandle handle;
      size_t message;
      int receive;
    };
    std::vector<Held> held;
    int bodies = 0;
    auto lapse = [&] {
      for (auto& m : model) {
        if (m.in_flight && m.deadline <= sim.Now()) m.in_flight = false;
      }
    };
    for (int step = 0; step < 1500; ++step) {
      const int action = pick(10);
      lapse();
      if (action < 3) {  // send
        const std::string group = "g" + std::to_string(pick(4));
        const std::string body = "b" + std::to_string(bodies++);
        REQUIRE(q->SendMessage(Msg(body, group, body)).ok());
        by_body[body] = model.size();
        model.push_back({body, group, sent_in_group[group]++});
      } else if (action < 6) {  // receive
        const int max = 1 + pick(10);
        const int vis = pick(4);
        // Eligible (AWS): per group, in send order, the undeleted messages before the first one
        // in flight.
        std::map<std::string, std::vector<size_t>> queued;
        std::set<std::string> blocked;  // groups with a message in flight
        for (size_t i = 0; i < model.size(); ++i) {
          const auto& m = model[i];
          if (m.deleted || blocked.contains(m.group)) continue;
          if (m.in_flight) {
            blocked.insert(m.group);
          } else {
            queued[m.group].push_back(i);
          }
        }
        size_t eligible = 0;
        for (const auto& [g, v] : queued) eligible += v.size();
        auto got = Receive(*q, max, absl::Seconds(vis));
        INFO("step " << step);
        REQUIRE(got.size() == std::min<size_t>(max, eligible));
        std::map<std::string, size_t> taken;  // per group, how many so far in this receive
        std::string partial;                  // a group not taken whole
        for (const auto& m : got) {
          const size_t i = by_body.at(m.body);
          ModelMessage& mm = model[i];
          REQUIRE(queued.contains(mm.group));
          const auto& order = queued.at(mm.group);
          // The next undeleted message of its group, in send order.
          REQUIRE(taken[mm.group] < order.size());
          REQUIRE(order[taken[mm.group]] == i);
          ++taken[mm.group];
          mm.in_flight = true;
          mm.deadline = sim.Now() + absl::Seconds(vis);
          ++mm.receives;
          CHECK(m.attributes.at("ApproximateReceiveCount") == std::to_string(mm.receives));
          held.push_back({m.receipt_handle, i, mm.receives});
        }
        for (const auto& [g, n] : taken) {
          if (n < queued.at(g).size()) {
            CHECK(partial.empty());  // at most one group is cut short, by the maximum
            partial = g;
          }
        }
        if (!partial.empty()) CHECK(got.size() == static_cast<size_t>(max));
        lapse();                                 // a visibility of 0 makes them available at once
      } else if (action < 8 && !held.empty()) {  // delete with a held handle
        const size_t k = pick(static_cast<int>(held.size()));
        const Held h = held[k];
        held.erase(held.begin() + static_cast<long>(k));
        ModelMessage& mm = model[h.message];
        const bool current = !mm.deleted && mm.in_flight && mm.receives == h.receive;
        const absl::Status st = q->DeleteMessage(h.handle);
        INFO("step " << step << " delete " << mm.body);
        if (current) {
          REQUIRE(st.ok());
          mm.deleted = true;
          mm.in_flight = false;
        } else if (!mm.deleted) {
          REQUIRE(ErrorName(st) == "InvalidParameterValue");
          REQUIRE(std::string(ErrorMessage(st)).ends_with("The receipt handle has expired."));
        }
      } else if (action < 9 && !held.empty()) {  // change visibility
        const Held& h = held[pick(static_cast<int>(held.size()))];
        ModelMessage& mm = model[h.message];
        const bool current = !mm.deleted && mm.in_flight && mm.receives == h.receive;
        const int to = pick(3);
        const absl::Status st = q->ChangeMessageVisibility(h.handle, absl::Seconds(to));
        INFO("step " << step << " visibility " << mm.body);
        if (current) {
          REQUIRE(st.ok());
          mm.deadline = sim.Now() + absl::Seconds(to);
        } else {
          REQUIRE_FALSE(st.ok());
        }
      } else {
        sim.RunFor(absl::Milliseconds(250 * pick(8)));
      }
    }
  }
}

// ---- Receipt handles ----

TEST_CASE_METHOD(Fixture,
                 "DeleteMessage on FIFO: an expired handle is InvalidParameterValue 'The receipt "
                 "handle has expired', also in a batch, also once the message was received again",
                 "[fifo-conformance]") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("m", "g", "1")).ok());
  auto first = Receive(*q, 1, absl::Seconds(5));
  REQUIRE(first.size() == 1);
  sim.RunFor(absl::Seconds(5) - kMs);
  // 4.999 s: still valid for a visibility change.
  REQUIRE(q->ChangeMessageVisibility(first[0].receipt_handle, absl::Seconds(1)).ok());
  sim.RunFor(absl::Seconds(1));
  auto batch = q->DeleteMessageBatch({{"e1", first[0].receipt_handle, {}}}).value();
  REQUIRE(batch.failed.size() == 1);
  CHECK(batch.failed[0].id == "e1");
  CHECK(batch.failed[0].code == "InvalidParameterValue");
  CHECK(batch.failed[0].sender_fault);
  CHECK(batch.failed[0].message.find("The receipt handle has expired") != std::string::npos);
  auto second = Receive(*q, 1);
  REQUIRE(second.size() == 1);
  const absl::Status st = q->DeleteMessage(first[0].receipt_handle);
  CHECK(ErrorName(st) == "InvalidParameterValue");
  CHECK(ErrorMessage(st).find("The receipt handle has expired") != std::string_view::npos);
  CHECK(Count(*q, "ApproximateNumberOfMessagesNotVisible") == "1");  // not deleted
  CHECK(q->DeleteMessage(second[0].receipt_handle).ok());
  CHECK(Count(*q, "ApproximateNumberOfMessagesNotVisible") == "0");
}

TEST_CASE_METHOD(Fixture,
                 "DeleteMessage on FIFO: a handle whose receive is over stays expired after the "
                 "message was deleted through a later receive",
                 "[fifo-conformance]") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("m", "g", "1")).ok());
  auto first = Receive(*q, 1, absl::Seconds(5));
  REQUIRE(first.size() == 1);
  sim.RunFor(absl::Seconds(5));
  auto second = Receive(*q, 1);
  REQUIRE(second.size() == 1);
  REQUIRE(q->DeleteMessage(second[0].receipt_handle).ok());
  const absl::Status st = q->DeleteMessage(first[0].receipt_handle);
  CHECK(ErrorName(st) == "InvalidParameterValue");
  CHECK(std::string(ErrorMessage(st)).ends_with("Reason: The receipt handle has expired."));
}

TEST_CASE_METHOD(Fixture,
                 "DeleteMessage on FIFO: the expired handle of a message since moved to the "
                 "dead-letter queue fails; it does not report a deletion that did not happen",
                 "[fifo-conformance]") {
  auto dlq = Make("dead.fifo");
  auto q = Make("src.fifo", {{"RedrivePolicy", Redrive(dlq->arn(), 1)}});
  REQUIRE(q->SendMessage(Msg("poison", "g", "1")).ok());
  auto first = Receive(*q, 1, absl::Seconds(5));
  REQUIRE(first.size() == 1);
  sim.RunFor(absl::Seconds(5));
  REQUIRE(Receive(*q).empty());  // moved to the DLQ
  const absl::Status st = q->DeleteMessage(first[0].receipt_handle);
  CHECK(ErrorName(st) == "InvalidParameterValue");
  CHECK(std::string(ErrorMessage(st)).ends_with("Reason: The receipt handle has expired."));
  CHECK(Count(*dlq, "ApproximateNumberOfMessages") == "1");
}

TEST_CASE_METHOD(Fixture,
                 "ChangeMessageVisibility on FIFO: an expired handle fails and does not hide the "
                 "message; a deleted message is 'Message does not exist or is not available'",
                 "[fifo-conformance]") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("m", "g", "1")).ok());
  auto got = Receive(*q, 1, absl::Seconds(5));
  REQUIRE(got.size() == 1);
  sim.RunFor(absl::Seconds(5));
  CHECK_FALSE(q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(60)).ok());
  auto again = Receive(*q, 1);
  REQUIRE(again.size() == 1);
  REQUIRE(q->DeleteMessage(again[0].receipt_handle).ok());
  const absl::Status st = q->ChangeMessageVisibility(again[0].receipt_handle, absl::Seconds(1));
  CHECK(ErrorName(st) == "InvalidParameterValue");
  CHECK(ErrorMessage(st).find(
            "Message does not exist or is not available for visibility timeout change") !=
        std::string_view::npos);
  auto vb =
      q->ChangeMessageVisibilityBatch({{"v", again[0].receipt_handle, absl::Seconds(1)}}).value();
  REQUIRE(vb.failed.size() == 1);
  CHECK(vb.failed[0].code == "InvalidParameterValue");
}

// ---- ReceiveRequestAttemptId ----

TEST_CASE_METHOD(Fixture,
                 "ReceiveRequestAttemptId: after a visibility change of one message, the retry no "
                 "longer replays (a new receive)",
                 "[fifo-conformance]") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("m0", "g", "0")).ok());
  REQUIRE(q->SendMessage(Msg("m1", "h", "1")).ok());
  const FifoQueue::ReceiveRequest r{.max_number_of_messages = 10,
                                    .receive_request_attempt_id = "x"};
  auto first = q->ReceiveMessage(r).value();
  REQUIRE(first.size() == 2);
  REQUIRE(q->ChangeMessageVisibility(first[0].receipt_handle, absl::ZeroDuration()).ok());
  auto retry = q->ReceiveMessage(r).value();
  // A new receive: only the message made visible again, with a new handle.
  REQUIRE(retry.size() == 1);
  CHECK(retry[0].message_id == first[0].message_id);
  CHECK(retry[0].receipt_handle != first[0].receipt_handle);
}

// ---- Batches ----

TEST_CASE_METHOD(Fixture,
                 "SendMessageBatch on FIFO: entries keep their order, get increasing sequence "
                 "numbers and deduplicate against each other",
                 "[fifo-conformance]") {
  auto q = Make();
  auto r = q->SendMessageBatch({{"a", Msg("1", "g", "d1")},
                                {"c", Msg("2", "g", "d2")},
                                {"d", Msg("dup", "g", "d1")},
                                {"g", Msg("3", "g", "d3")}})
               .value();
  CHECK(r.failed.empty());
  REQUIRE(r.successful.size() == 4);
  std::map<std::string, SendMessageResult> ok(r.successful.begin(), r.successful.end());
  CHECK(ok.at("d").message_id == ok.at("a").message_id);
  CHECK(ok.at("a").sequence_number.size() == 20);
  CHECK(ok.at("c").sequence_number.view() > ok.at("a").sequence_number.view());
  CHECK(ok.at("g").sequence_number.view() > ok.at("c").sequence_number.view());
  CHECK(Bodies(Receive(*q)) == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE_METHOD(Fixture, "Batch calls on FIFO: 1-10 entries with distinct, valid ids",
                 "[fifo-conformance]") {
  auto q = Make();
  CHECK(ErrorName(q->DeleteMessageBatch({}).status()) == "EmptyBatchRequest");
  CHECK(ErrorName(q->ChangeMessageVisibilityBatch({}).status()) == "EmptyBatchRequest");
  std::vector<FifoQueue::HandleBatchEntry> eleven;
  for (int i = 0; i < 11; ++i) eleven.push_back({"e" + std::to_string(i), ReceiptHandle("x"), {}});
  const absl::Status too_many = q->DeleteMessageBatch(eleven).status();
  CHECK(ErrorName(too_many) == "TooManyEntriesInBatchRequest");
  CHECK(ErrorMessage(too_many) ==
        "Maximum number of entries per request are 10. You have sent 11.");
  CHECK(ErrorName(q->ChangeMessageVisibilityBatch(eleven).status()) ==
        "TooManyEntriesInBatchRequest");
  CHECK(ErrorName(
            q->DeleteMessageBatch({{"a", ReceiptHandle("x"), {}}, {"a", ReceiptHandle("y"), {}}})
                .status()) == "BatchEntryIdsNotDistinct");
  CHECK(
      ErrorName(q->DeleteMessageBatch({{std::string(81, 'a'), ReceiptHandle("x"), {}}}).status()) ==
      "InvalidBatchEntryId");
  CHECK(ErrorName(q->SendMessageBatch({{std::string(81, 'a'), Msg("x", "g", "d")}}).status()) ==
        "InvalidBatchEntryId");
  CHECK(q->SendMessageBatch({{std::string(80, 'a'), Msg("x", "g", "d")}}).ok());
  CHECK(ErrorName(q->SendMessageBatch({{"big1", Msg(std::string(600000, 'x'), "g", "b1")},
                                       {"big2", Msg(std::string(600000, 'y'), "g", "b2")}})
                      .status()) == "BatchRequestTooLong");
  CHECK(Count(*q, "ApproximateNumberOfMessages") == "1");
}

// ---- Dead-letter queues ----

TEST_CASE_METHOD(Fixture,
                 "FIFO dead-letter queue: each message's dedup id becomes its MessageId, so equal "
                 "bodies all arrive; group and order are kept",
                 "[fifo-conformance]") {
  auto dlq = Make("dead.fifo", {{"ContentBasedDeduplication", "true"}});
  auto q = Make("src.fifo",
                {{"ContentBasedDeduplication", "true"}, {"RedrivePolicy", Redrive(dlq->arn(), 1)}});
  const auto a = q->SendMessage(Msg("same", "g1")).value();
  sim.RunFor(absl::Minutes(5));  // the source's window: send the same body again
  const auto b = q->SendMessage(Msg("same", "g1")).value();
  REQUIRE(a.message_id != b.message_id);
  REQUIRE(Receive(*q, 10, absl::ZeroDuration()).size() == 2);
  CHECK(Receive(*q).empty());  // the next receive moves both
  auto dead = Receive(*dlq);
  REQUIRE(dead.size() == 2);
  CHECK(dead[0].message_id == a.message_id);
  CHECK(dead[1].message_id == b.message_id);
  for (const auto& m : dead) {
    CHECK(m.attributes.at("MessageDeduplicationId") == m.message_id);
    CHECK(m.attributes.at("MessageGroupId") == "g1");
    CHECK(m.attributes.at("ApproximateReceiveCount") == "2");
    CHECK(m.attributes.at("DeadLetterQueueSourceArn") == q->arn());
  }
  CHECK(dead[1].attributes.at("SequenceNumber") > dead[0].attributes.at("SequenceNumber"));
}

// ---- Message move tasks ----

TEST_CASE_METHOD(Fixture,
                 "Message move task between FIFO queues: new MessageId, group and order kept, "
                 "retention restarts; a standard destination is refused",
                 "[fifo-conformance]") {
  auto dlq = Make("dead.fifo");
  auto q = Make("src.fifo", {{"RedrivePolicy", Redrive(dlq->arn(), 1)}});
  auto dest = Make("dest.fifo", {{"MessageRetentionPeriod", "60"}});
  auto standard = Sqs(hub).CreateQueue("plain").value();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(std::string(q->SendMessage(Msg("m" + std::to_string(i), "g", std::to_string(i)))
                                  .value()
                                  .message_id.view()));
  }
  REQUIRE(Receive(*q, 10, absl::ZeroDuration()).size() == 3);
  REQUIRE(Receive(*q).empty());  // all three moved
  CHECK(Count(*dlq, "ApproximateNumberOfMessages") == "3");
  CHECK_FALSE(dlq->StartMessageMoveTask(standard->arn()).ok());
  sim.RunFor(absl::Seconds(30));
  REQUIRE(dlq->StartMessageMoveTask(dest->arn()).ok());
  sim.RunUntilIdle(absl::Seconds(5));
  auto moved = Receive(*dest, 10, absl::ZeroDuration());
  REQUIRE(Bodies(moved) == std::vector<std::string>{"m0", "m1", "m2"});
  for (size_t i = 0; i < moved.size(); ++i) {
    CHECK(moved[i].message_id.view() != ids[i]);
    CHECK(moved[i].attributes.at("MessageGroupId") == "g");
  }
  // The 60 s retention counts from the move, not from the send 30+ s earlier.
  sim.RunFor(absl::Seconds(45));
  CHECK(Receive(*dest, 10, absl::ZeroDuration()).size() == 3);
}

// ---- Long polling and groups ----

TEST_CASE_METHOD(Fixture,
                 "Long polling on FIFO returns as soon as a blocked group is freed by a delete",
                 "[fifo-conformance]") {
  auto q = Make();
  REQUIRE(q->SendMessage(Msg("m0", "g", "0")).ok());
  REQUIRE(q->SendMessage(Msg("m1", "g", "1")).ok());
  auto first = Receive(*q, 1, absl::Seconds(60));
  REQUIRE(first.size() == 1);
  const ReceiptHandle handle = first[0].receipt_handle;
  const absl::Time start = sim.Now();
  sim.clock().ScheduleAfter(absl::Seconds(4), [&] { (void)q->DeleteMessage(handle); });
  auto got = q->ReceiveMessage({.wait_time = absl::Seconds(20)});
  REQUIRE(got.ok());
  CHECK(Bodies(*got) == std::vector<std::string>{"m1"});
  CHECK(sim.Now() == start + absl::Seconds(4));
}

// ---- Large payloads (spec §7) with FIFO deduplication ----

TEST_CASE_METHOD(Fixture,
                 "Extended client on FIFO: content-based dedup hashes the original body; a "
                 "duplicate leaves no blob behind",
                 "[fifo-conformance]") {
  auto store = std::make_shared<MemoryBlobStore>();
  auto q =
      FifoQueue::Create(hub, "big.fifo", {{"ContentBasedDeduplication", "true"}},
                        {.large_payloads = LargePayloadOptions{.store = store, .always = true}})
          .value();
  const auto a = q->SendMessage(Msg("payload", "g")).value();
  const auto b = q->SendMessage(Msg("payload", "g")).value();
  CHECK(a.message_id == b.message_id);
  CHECK(store->Count() == 1);
  auto got = Receive(*q);
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "payload");
  CHECK(got[0].attributes.at("MessageDeduplicationId") == detail::Sha256Hex("payload"));
  REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
  CHECK(store->Count() == 0);
}

}  // namespace
// The rules the standard queue's audit recorded from AWS hold for FIFO queues too.
TEST_CASE_METHOD(Fixture,
                 "FIFO send and receive: Number range, trace header, attribute selection, SSE flag "
                 "only by name, batch entry wording",
                 "[fifo-conformance]") {
  auto q = Make();
  SendMessageRequest huge = Msg("x", "g", "1");
  huge.attributes["n"] = MessageAttribute::Number("1e127");
  CHECK(ErrorName(q->SendMessage(huge).status()) == "InvalidParameterValue");
  SendMessageRequest tiny = Msg("x", "g", "2");
  tiny.attributes["n"] = MessageAttribute::Number("1e-129");
  CHECK(ErrorName(q->SendMessage(tiny).status()) == "InvalidParameterValue");
  SendMessageRequest empty_trace = Msg("x", "g", "3");
  empty_trace.aws_trace_header = "";
  CHECK(ErrorName(q->SendMessage(empty_trace).status()) == "InvalidParameterValue");

  SendMessageRequest with = Msg("body", "g", "4");
  with.attributes["Hello"] = MessageAttribute::String("a");
  with.attributes["Help.Me"] = MessageAttribute::String("b");
  with.attributes["Other"] = MessageAttribute::String("c");
  REQUIRE(q->SendMessage(with).ok());
  auto got = q->ReceiveMessage(
                  {.message_system_attribute_names = {"All"}, .message_attribute_names = {"Hel.*"}})
                 .value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].message_attributes.size() == 2);
  CHECK(got[0].message_attributes.contains("Hello"));
  CHECK(got[0].message_attributes.contains("Help.Me"));
  CHECK_FALSE(got[0].attributes.contains("SqsManagedSseEnabled"));
  CHECK(got[0].attributes.contains("SequenceNumber"));
  REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());

  REQUIRE(q->SendMessage(with).ok() == true);  // a duplicate: accepted, not delivered
  SendMessageRequest again = with;
  again.message_deduplication_id = "5";
  REQUIRE(q->SendMessage(again).ok());
  got = q->ReceiveMessage({.message_system_attribute_names = {"SqsManagedSseEnabled"},
                           .message_attribute_names = {"*"}})
            .value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].message_attributes.size() == 3);
  CHECK(got[0].attributes.contains("SqsManagedSseEnabled"));

  REQUIRE(q->SetQueueAttributes({{"MaximumMessageSize", "1024"}}).ok());
  auto batch = q->SendMessageBatch({{"big", Msg(std::string(1025, 'x'), "g", "6")}}).value();
  REQUIRE(batch.failed.size() == 1);
  CHECK(batch.failed[0].code == "InvalidParameterValue");
  CHECK(batch.failed[0].message.starts_with("One or more parameters cannot be validated."));
}

// Not SQS: the fast path for callers that do not check the body's MD5, as on standard queues.
TEST_CASE_METHOD(Fixture, "FifoQueue::SendMessageNoMd5 leaves the digest to the receive",
                 "[fifo-conformance]") {
  auto q = Make();
  const auto sent = q->SendMessageNoMd5(Msg("body", "g", "1")).value();
  CHECK(sent.md5_of_message_body.empty());
  CHECK(sent.message_id.size() == 36);
  REQUIRE(q->SendMessageNoMd5(Msg("other", "g", "2")).ok());
  auto got = q->ReceiveMessage({.max_number_of_messages = 1}).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].md5_of_body == detail::Md5Of("body"));
  REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
  got = q->ReceiveMessage({.max_number_of_messages = 1, .md5_of_body = false}).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "other");
  CHECK(got[0].md5_of_body.empty());
  // A duplicate is still a duplicate.
  CHECK(q->SendMessageNoMd5(Msg("body", "g", "1")).value().message_id == sent.message_id);
}

TEST_CASE("FIFO long polling returns as soon as another thread sends", "[fifo-conformance]") {
  auto clock = std::make_shared<ManualClock>();  // moves only when told: the poll must be woken
  Hub hub(Environment::Deterministic(clock));
  auto q = FifoQueue::Create(hub, "poll.fifo", {}).value();
  // An in-flight message gives the poll a timer to set (its visibility's end), which tells
  // this thread that the poll has looked once and is about to wait.
  REQUIRE(q->SendMessage(Msg("first", "a", "1")).ok());
  REQUIRE(q->ReceiveMessage({.visibility_timeout = absl::Seconds(10)}).value().size() == 1);
  const absl::Time start = clock->Now();
  std::vector<Message> got;
  CHECK(testing::PollWokenBy(
      *clock, [&] { got = q->ReceiveMessage({.wait_time = absl::Seconds(20)}).value(); },
      [&] { REQUIRE(q->SendMessage(Msg("second", "b", "2")).ok()); }));
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "second");
  CHECK(clock->Now() == start);
}

}  // namespace courier
