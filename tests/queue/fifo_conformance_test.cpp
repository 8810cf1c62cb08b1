// Conformance of FifoQueue with AWS's documented SQS FIFO behaviour (spec/sqs-sns.md §5 and the
// FIFO parts of §1-4, §6, §7; the SQS Developer Guide's FIFO pages and the API reference). Each
// test names the rule it checks. Time is a ManualClock (testing::Simulation): never a sleep.
// The cases that are AWS requests and responses are data, run through the operation table:
// tests/conformance/sqs/recorded_fifo.jsonl (names, attributes, ids, dedup windows, group order,
// expired handles, batches, dead-letter queues, move tasks). The ones here need what a script
// cannot say:
//   - a per-message delay under a second (the API's DelaySeconds is whole seconds);
//   - a batch over 1 MiB (two 600,000-byte bodies: too large for a script line);
//   - SequenceNumber over 200 sends and receives in 37 groups (a loop);
//   - groups coming whole and contiguous in an order the test must not fix (a check over the
//     order of the groups, not of the messages);
//   - random interleavings against a reference model (a loop of 1,500 steps);
//   - a long poll freed by a delete scheduled on the clock while it waits, and one woken by
//     another thread (a script line cannot run during a call);
//   - the extended client's blob store (queue Options) and SendMessageNoMd5 (not SQS).
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

using Fixture = testing::FifoFixture;
using testing::Bodies;
using testing::Msg;

// ---- SendMessage parameters ----

// The rest of this rule (whole seconds, 0 allowed, the queue's delay applies) is in
// recorded_fifo.jsonl.
TEST_CASE_METHOD(Fixture,
                 "SendMessage on FIFO: a per-message delay under a second is InvalidParameterValue "
                 "too",
                 "[fifo-conformance]") {
  auto q = Make("d.fifo", {{"DelaySeconds", "2"}});
  SendMessageRequest r = Msg("x", "g", "x");
  r.delay = absl::Milliseconds(500);
  const absl::Status st = q->SendMessage(r).status();
  CHECK(ErrorName(st) == "InvalidParameterValue");
  CHECK(ErrorMessage(st).find("The request include parameter that is not valid for this queue "
                              "type") != std::string_view::npos);
  CHECK(Count(*q, "ApproximateNumberOfMessagesDelayed") == "0");
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

// ---- Batches ----

// The rest of the batch rules (1-10 entries, distinct and valid ids) are in recorded_fifo.jsonl.
TEST_CASE_METHOD(Fixture,
                 "Batch calls on FIFO: a batch over 1 MiB in all is BatchRequestTooLong, nothing "
                 "is sent",
                 "[fifo-conformance]") {
  auto q = Make();
  CHECK(ErrorName(q->SendMessageBatch({{"big1", Msg(std::string(600000, 'x'), "g", "b1")},
                                       {"big2", Msg(std::string(600000, 'y'), "g", "b2")}})
                      .status()) == "BatchRequestTooLong");
  CHECK(Count(*q, "ApproximateNumberOfMessages") == "0");
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
