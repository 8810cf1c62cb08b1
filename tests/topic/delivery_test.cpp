// Deliveries that fail, FIFO topics, Functions and lifetimes (spec §9): retries on the
// simulated clock with SNS's SQS/Lambda schedule, dead-letter queues, client errors, counters,
// per-group order at every FIFO subscriber, the dedup window, and the Lambda event record.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "courier/detail/hub_registry.h"
#include "courier/fifo_queue.h"
#include "courier/function.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/lambda.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"
#include "courier/topic.h"
#include "flaky_sink.h"

namespace courier {
namespace {

using testing_support::FlakySink;

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  SnsService& sns = Sns(hub);

  std::shared_ptr<FlakySink> Flaky(const std::string& name, int64_t failures) {
    auto sink = std::make_shared<FlakySink>(hub, name, failures);
    REQUIRE(detail::AddResource(hub, sink).ok());
    return sink;
  }
  static std::vector<Message> Receive(SqsQueue& q) {
    return q
        .ReceiveMessage({.max_number_of_messages = 10,
                         .message_system_attribute_names = {"All"},
                         .message_attribute_names = {"All"}})
        .value();
  }
};

std::string Policy(const std::string& dlq_arn) {
  return R"({"deadLetterTargetArn":")" + dlq_arn + R"("})";
}

TEST_CASE("A failing SQS subscriber: SNS's 23-day schedule on the simulated clock, then the DLQ",
          "[topic][retry]") {
  Fixture f;
  auto topic = f.sns.CreateTopic("t").value();
  auto dlq = Sqs(f.hub).CreateQueue("dlq").value();
  auto sink = f.Flaky("down", 1'000'000);  // never recovers
  const std::string sub =
      f.sns.Subscribe(topic->arn(), "sqs", sink->arn(), {{"RedrivePolicy", Policy(dlq->arn())}})
          .value();
  const absl::Time t0 = f.sim.Now();
  REQUIRE(topic->Publish({.message = "m"}).ok());
  f.sim.RunUntilIdle();

  // 3 tries at once, 2 at 1 s, 10 backing off from 1 s to 20 s, 100,000 at 20 s.
  const auto& tries = sink->tries;
  REQUIRE(tries.size() == 100'015);
  std::vector<double> gaps;
  for (size_t i = 1; i < tries.size(); ++i)
    gaps.push_back(absl::ToDoubleSeconds(tries[i] - tries[i - 1]));
  CHECK(tries[0] == t0);
  CHECK(gaps[0] == 0);
  CHECK(gaps[1] == 0);
  CHECK(gaps[2] == 1);
  CHECK(gaps[3] == 1);
  CHECK(gaps[4] == 1);                                        // the backoff phase starts at 1 s ...
  for (int i = 5; i < 14; ++i) CHECK(gaps[i] > gaps[i - 1]);  // ... and grows ...
  CHECK(gaps[13] == 20);                                      // ... to 20 s
  for (size_t i = 14; i < gaps.size(); ++i) {
    if (gaps[i] != 20) FAIL("gap " << i << " is " << gaps[i]);
  }
  const double days = absl::ToDoubleHours(tries.back() - t0) / 24;
  CHECK(days > 23.1);
  CHECK(days < 23.2);

  auto dead = Fixture::Receive(*dlq);
  REQUIRE(dead.size() == 1);
  CHECK(ParseJson(dead[0].body)->at("Message").as_string() == "m");
  auto m = f.sns.SubscriptionMetrics(sub).value();
  CHECK(m["NumberOfNotificationsDelivered"] == 0);
  CHECK(m["NumberOfNotificationsFailed"] == 1);
  CHECK(m["NumberOfNotificationsRedrivenToDlq"] == 1);
  CHECK(topic->Metrics()["NumberOfNotificationsRedrivenToDlq"] == 1);
}

TEST_CASE("A subscriber that recovers gets the message on a later try, once", "[topic][retry]") {
  Fixture f;
  auto topic = f.sns.CreateTopic("t").value();
  auto sink = f.Flaky("flaky", 4);
  const std::string sub = f.sns.Subscribe(topic->arn(), "sqs", sink->arn()).value();
  const absl::Time t0 = f.sim.Now();
  REQUIRE(topic->Publish({.message = "m"}).ok());
  f.sim.RunUntilIdle();
  REQUIRE(sink->tries.size() == 5);
  CHECK(sink->tries[2] == t0);
  CHECK(sink->tries[3] == t0 + absl::Seconds(1));
  CHECK(sink->tries[4] == t0 + absl::Seconds(2));
  CHECK(sink->received.size() == 1);
  auto m = f.sns.SubscriptionMetrics(sub).value();
  CHECK(m["NumberOfNotificationsDelivered"] == 1);
  CHECK(m["NumberOfNotificationsFailed"] == 0);
}

TEST_CASE("Unsubscribing stops the retries waiting for that subscription", "[topic][retry]") {
  Fixture f;
  auto topic = f.sns.CreateTopic("t").value();
  auto sink = f.Flaky("down", 1'000'000);
  const std::string sub = f.sns.Subscribe(topic->arn(), "sqs", sink->arn()).value();
  REQUIRE(topic->Publish({.message = "m"}).ok());
  f.sim.RunFor(absl::Seconds(30));
  const size_t tries = sink->tries.size();
  CHECK(tries > 5);
  REQUIRE(f.sns.Unsubscribe(sub).ok());
  f.sim.RunUntilIdle();
  CHECK(sink->tries.size() == tries);
  CHECK(topic->Metrics()["NumberOfNotificationsFailed"] == 1);
}

TEST_CASE("A deleted queue is a client error: no retries, DLQ or counted drop", "[topic][retry]") {
  Fixture f;
  auto topic = f.sns.CreateTopic("t").value();
  auto gone = Sqs(f.hub).CreateQueue("gone").value();
  auto gone2 = Sqs(f.hub).CreateQueue("gone2").value();
  auto dlq = Sqs(f.hub).CreateQueue("dlq").value();
  const std::string with_dlq =
      f.sns.Subscribe(topic->arn(), "sqs", gone->arn(), {{"RedrivePolicy", Policy(dlq->arn())}})
          .value();
  const std::string without = f.sns.Subscribe(topic->arn(), "sqs", gone2->arn()).value();
  REQUIRE(Sqs(f.hub).DeleteQueue(gone->url()).ok());
  REQUIRE(Sqs(f.hub).DeleteQueue(gone2->url()).ok());
  REQUIRE(topic->Publish({.message = "m"}).ok());
  CHECK(f.sim.RunUntilIdle() == 0);  // nothing scheduled: not retried
  CHECK(Fixture::Receive(*dlq).size() == 1);
  CHECK(f.sns.SubscriptionMetrics(with_dlq).value()["NumberOfNotificationsRedrivenToDlq"] == 1);
  auto m = f.sns.SubscriptionMetrics(without).value();
  CHECK(m["NumberOfNotificationsFailed"] == 1);
  CHECK(m["NumberOfNotificationsRedrivenToDlq"] == 0);

  // A DLQ that is gone too: counted as failed to redrive.
  REQUIRE(Sqs(f.hub).DeleteQueue(dlq->url()).ok());
  REQUIRE(topic->Publish({.message = "m2"}).ok());
  CHECK(f.sns.SubscriptionMetrics(with_dlq).value()["NumberOfNotificationsFailedToRedriveToDlq"] ==
        1);
  auto t = topic->Metrics();
  CHECK(t["NumberOfNotificationsFailed"] == 4);
  CHECK(t["NumberOfNotificationsFailedToRedriveToDlq"] == 1);
}

TEST_CASE("A subscription follows its queue's ARN: created after it, or deleted and created again",
          "[topic]") {
  Fixture f;
  auto topic = f.sns.CreateTopic("t").value();
  const std::string later_arn = f.hub.Arn("sqs", "later");
  REQUIRE(f.sns.Subscribe(topic->arn(), "sqs", later_arn, {{"RawMessageDelivery", "true"}}).ok());
  auto old = Sqs(f.hub).CreateQueue("again").value();
  REQUIRE(f.sns.Subscribe(topic->arn(), "sqs", old->arn(), {{"RawMessageDelivery", "true"}}).ok());
  auto later = Sqs(f.hub).CreateQueue("later").value();
  REQUIRE(topic->Publish({.message = "one"}).ok());
  CHECK(Fixture::Receive(*later).size() == 1);
  CHECK(Fixture::Receive(*old).size() == 1);

  REQUIRE(Sqs(f.hub).DeleteQueue(old->url()).ok());
  f.sim.RunFor(absl::Seconds(61));  // SQS lets a deleted queue's name be used again after 60 s
  auto again = Sqs(f.hub).CreateQueue("again").value();
  REQUIRE(again->arn() == old->arn());
  REQUIRE(topic->Publish({.message = "two"}).ok());
  std::vector<Message> got = Fixture::Receive(*again);
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "two");
  CHECK(topic->Metrics()["NumberOfNotificationsDelivered"] == 4);
  CHECK(topic->Metrics()["NumberOfNotificationsFailed"] == 0);
}

std::string Iso(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string Replay(absl::Time from, std::optional<absl::Time> to = std::nullopt) {
  std::string p = R"({"PointType":"Timestamp","StartingPoint":")" + Iso(from) + R"(")";
  if (to) p += R"(,"EndingPoint":")" + Iso(*to) + R"(")";
  return p + "}";
}

TEST_CASE("FIFO topic archive: ArchivePolicy keeps messages, a ReplayPolicy delivers them again",
          "[topic][fifo]") {
  Fixture f;
  const absl::Time created = f.sim.environment().clock->Now();
  auto topic = f.sns
                   .CreateTopic("t.fifo", {{"FifoTopic", "true"},
                                           {"ContentBasedDeduplication", "true"},
                                           {"ArchivePolicy", R"({"MessageRetentionPeriod":"1"})"}})
                   .value();
  CHECK(topic->GetAttributes().value()["BeginningArchiveTime"] == Iso(created));
  std::vector<PublishResult> sent;
  std::vector<absl::Time> times;
  for (std::string kind : {"a", "b", "a"}) {
    f.sim.RunFor(absl::Seconds(10));
    times.push_back(f.sim.environment().clock->Now());
    sent.push_back(topic
                       ->Publish({.message = "m" + std::to_string(sent.size()),
                                  .attributes = {{"kind", MessageAttribute::String(kind)}},
                                  .message_group_id = "g"})
                       .value());
  }

  // A new subscriber replays the window [m1, before m2]: m1 only, as it was first sent.
  auto q = Sqs(f.hub).CreateFifoQueue("q.fifo").value();
  const std::string sub =
      f.sns
          .Subscribe(topic->arn(), "sqs", q->arn(),
                     {{"ReplayPolicy", Replay(times[1], times[2] - absl::Seconds(1))}})
          .value();
  std::vector<Message> got = Fixture::Receive(*q);
  REQUIRE(got.size() == 1);
  auto envelope = ParseJson(got[0].body).value().get_object();
  CHECK(envelope["Message"] == "m1");
  CHECK(envelope["MessageId"].get_string() == sent[1].message_id.view());
  CHECK(envelope["SequenceNumber"].get_string() == sent[1].sequence_number);
  CHECK(envelope["Timestamp"].get_string() == Iso(times[1]));
  CHECK(envelope["Replayed"] == true);
  CHECK(f.sns.GetSubscriptionAttributes(sub).value()["ReplayStatus"] == "Completed");

  // A replay of everything, through the filter policy: the two "a" messages, in order.
  REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
  f.sim.RunFor(absl::Minutes(6));  // past the queue's deduplication window
  REQUIRE(f.sns.SetSubscriptionAttributes(sub, "FilterPolicy", R"({"kind":["a"]})").ok());
  REQUIRE(f.sns.SetSubscriptionAttributes(sub, "ReplayPolicy", Replay(created)).ok());
  got = Fixture::Receive(*q);
  REQUIRE(got.size() == 2);
  CHECK(ParseJson(got[0].body).value().get_object()["Message"] == "m0");
  CHECK(ParseJson(got[1].body).value().get_object()["Message"] == "m2");
  // Live messages carry no Replayed field.
  for (auto& m : got) REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
  REQUIRE(topic
              ->Publish({.message = "live",
                         .attributes = {{"kind", MessageAttribute::String("a")}},
                         .message_group_id = "g"})
              .ok());
  got = Fixture::Receive(*q);
  REQUIRE(got.size() == 1);
  CHECK_FALSE(ParseJson(got[0].body).value().get_object().contains("Replayed"));

  // The archive keeps a message for its retention period only.
  f.sim.RunFor(absl::Hours(24));
  CHECK(topic->GetAttributes().value()["BeginningArchiveTime"] ==
        Iso(f.sim.environment().clock->Now() - absl::Hours(24)));
  auto late = f.sns.SetSubscriptionAttributes(sub, "ReplayPolicy", Replay(created));
  CHECK(ErrorName(late) == "InvalidParameter");

  // Bad policies.
  CHECK(ErrorName(topic->SetAttribute("ArchivePolicy", R"({"MessageRetentionPeriod":"366"})")) ==
        "InvalidParameter");
  CHECK(ErrorName(topic->SetAttribute("ArchivePolicy", R"({"MessageRetentionPeriod":0})")) ==
        "InvalidParameter");
  CHECK(ErrorName(f.sns.SetSubscriptionAttributes(sub, "ReplayPolicy", R"({"PointType":"x"})")) ==
        "InvalidParameter");
  auto plain = f.sns.CreateTopic("plain.fifo", {{"FifoTopic", "true"}}).value();
  CHECK_FALSE(plain->GetAttributes().value().contains("BeginningArchiveTime"));
  auto q2 = Sqs(f.hub).CreateFifoQueue("q2.fifo").value();
  CHECK(
      ErrorName(f.sns.Subscribe(plain->arn(), "sqs", q2->arn(), {{"ReplayPolicy", Replay(created)}})
                    .status()) == "InvalidParameter");
  auto standard = f.sns.CreateTopic("standard").value();
  auto q3 = Sqs(f.hub).CreateQueue("q3").value();
  const std::string standard_sub = f.sns.Subscribe(standard->arn(), "sqs", q3->arn()).value();
  CHECK(ErrorMessage(
            f.sns.SetSubscriptionAttributes(standard_sub, "ReplayPolicy", Replay(created))) ==
        "Invalid parameter: ReplayPolicy: ReplayPolicy can only be set for FIFO topics");
  // Archiving off ({}): nothing more is kept.
  REQUIRE(topic->SetAttribute("ArchivePolicy", "{}").ok());
  CHECK_FALSE(topic->GetAttributes().value().contains("BeginningArchiveTime"));
}

TEST_CASE("FIFO topics: ids required, dedup window, scopes, sequence numbers", "[topic][fifo]") {
  Fixture f;
  auto topic = f.sns.CreateTopic("t.fifo", {{"FifoTopic", "true"}}).value();
  auto q = Sqs(f.hub).CreateFifoQueue("q.fifo").value();
  REQUIRE(f.sns.Subscribe(topic->arn(), "sqs", q->arn(), {{"RawMessageDelivery", "true"}}).ok());
  CHECK(ErrorMessage(topic->Publish({.message = "m"}).status()) ==
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics");
  CHECK(ErrorMessage(topic->Publish({.message = "m", .message_group_id = "g"}).status()) ==
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly");
  auto a =
      topic->Publish({.message = "a", .message_group_id = "g", .message_deduplication_id = "1"});
  auto b =
      topic->Publish({.message = "b", .message_group_id = "g", .message_deduplication_id = "2"});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->sequence_number.size() == 20);
  CHECK(b->sequence_number > a->sequence_number);
  // A duplicate within 5 minutes: the first answer again, not delivered again.
  auto again = topic->Publish(
      {.message = "a2", .message_group_id = "other", .message_deduplication_id = "1"});
  CHECK(again.value() == *a);
  f.sim.RunFor(absl::Minutes(5));
  auto later =
      topic->Publish({.message = "a3", .message_group_id = "g", .message_deduplication_id = "1"});
  CHECK(later->message_id != a->message_id);

  std::vector<std::string> bodies;
  for (auto got = Fixture::Receive(*q); !got.empty(); got = Fixture::Receive(*q)) {
    for (auto& m : got) {
      bodies.push_back(m.body);
      CHECK(m.attributes.at("MessageGroupId") == "g");
      REQUIRE(q->DeleteMessage(m.receipt_handle).ok());
    }
  }
  CHECK(bodies == std::vector<std::string>{"a", "b", "a3"});
  CHECK(topic->Metrics()["NumberOfMessagesPublished"] == 3);

  // Content-based dedup (SHA-256 of the body) and the MessageGroup scope.
  REQUIRE(topic->SetAttribute("ContentBasedDeduplication", "true").ok());
  auto c1 = topic->Publish({.message = "same", .message_group_id = "g1"});
  auto c2 = topic->Publish({.message = "same", .message_group_id = "g2"});
  CHECK(c2->message_id == c1->message_id);  // Topic scope: dedup across groups
  REQUIRE(topic->SetAttribute("FifoThroughputScope", "MessageGroup").ok());
  auto c3 = topic->Publish({.message = "other", .message_group_id = "g1"});
  auto c4 = topic->Publish({.message = "other", .message_group_id = "g2"});
  CHECK(c4->message_id != c3->message_id);  // MessageGroup scope: per group
}

TEST_CASE("FIFO topic to a FIFO and a standard queue: the envelope, ids and order",
          "[topic][fifo]") {
  Fixture f;
  auto topic =
      f.sns.CreateTopic("t.fifo", {{"FifoTopic", "true"}, {"ContentBasedDeduplication", "true"}})
          .value();
  auto fq = Sqs(f.hub).CreateFifoQueue("q.fifo").value();
  auto sq = Sqs(f.hub).CreateQueue("q").value();
  REQUIRE(f.sns.Subscribe(topic->arn(), "sqs", fq->arn()).ok());
  REQUIRE(f.sns.Subscribe(topic->arn(), "sqs", sq->arn()).ok());
  std::vector<std::string> sequence;
  for (int i = 0; i < 5; ++i) {
    auto r = topic->Publish({.message = "m" + std::to_string(i), .message_group_id = "g"});
    REQUIRE(r.ok());
    sequence.push_back(r->sequence_number);
  }
  std::vector<std::string> fifo_order;
  for (auto got = Fixture::Receive(*fq); !got.empty(); got = Fixture::Receive(*fq)) {
    for (auto& m : got) {
      auto e = ParseJson(m.body).value().as_object();
      fifo_order.push_back(std::string(e.at("Message").as_string()));
      // FIFO envelopes carry the sequence number and no signature.
      CHECK(e.contains("SequenceNumber"));
      CHECK(!e.contains("Signature"));
      CHECK(!e.contains("SigningCertURL"));
      CHECK(m.attributes.at("MessageGroupId") == "g");
      CHECK(m.attributes.at("MessageDeduplicationId").size() == 64);  // SHA-256 of the body
      REQUIRE(fq->DeleteMessage(m.receipt_handle).ok());
    }
  }
  CHECK(fifo_order == std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"});
  size_t standard = 0;
  for (auto got = Fixture::Receive(*sq); !got.empty(); got = Fixture::Receive(*sq)) {
    standard += got.size();
    for (auto& m : got) REQUIRE(sq->DeleteMessage(m.receipt_handle).ok());
  }
  CHECK(standard == 5);
}

TEST_CASE("Each group stays in order at a FIFO subscriber that is failing", "[topic][fifo]") {
  Fixture f;
  auto topic =
      f.sns.CreateTopic("t.fifo", {{"FifoTopic", "true"}, {"ContentBasedDeduplication", "true"}})
          .value();
  auto healthy = Sqs(f.hub).CreateFifoQueue("ok.fifo").value();
  auto flaky = f.Flaky("flaky.fifo", 7);  // down for the first 7 tries (several seconds)
  REQUIRE(
      f.sns.Subscribe(topic->arn(), "sqs", healthy->arn(), {{"RawMessageDelivery", "true"}}).ok());
  REQUIRE(
      f.sns.Subscribe(topic->arn(), "sqs", flaky->arn(), {{"RawMessageDelivery", "true"}}).ok());
  for (int i = 0; i < 6; ++i) {
    REQUIRE(topic->Publish({.message = "a" + std::to_string(i), .message_group_id = "A"}).ok());
    REQUIRE(topic->Publish({.message = "b" + std::to_string(i), .message_group_id = "B"}).ok());
  }
  // The healthy subscriber has everything at once.
  size_t now = 0;
  for (auto got = Fixture::Receive(*healthy); !got.empty(); got = Fixture::Receive(*healthy)) {
    now += got.size();
    for (auto& m : got) REQUIRE(healthy->DeleteMessage(m.receipt_handle).ok());
  }
  CHECK(now == 12);
  f.sim.RunUntilIdle();
  std::vector<std::string> a, b;
  for (const auto& r : flaky->received) {
    (r.message_group_id == "A" ? a : b).push_back(r.body);
    CHECK(r.message_deduplication_id.has_value());
  }
  CHECK(a == std::vector<std::string>{"a0", "a1", "a2", "a3", "a4", "a5"});
  CHECK(b == std::vector<std::string>{"b0", "b1", "b2", "b3", "b4", "b5"});
}

TEST_CASE("A long FIFO backlog behind a failing subscriber drains without deep recursion",
          "[topic][fifo]") {
  Fixture f;
  auto topic =
      f.sns.CreateTopic("t.fifo", {{"FifoTopic", "true"}, {"ContentBasedDeduplication", "true"}})
          .value();
  auto flaky = f.Flaky("flaky.fifo", 3);  // fails the first message's 3 immediate tries
  REQUIRE(
      f.sns.Subscribe(topic->arn(), "sqs", flaky->arn(), {{"RawMessageDelivery", "true"}}).ok());
  constexpr int kBacklog = 100'000;  // a recursion this deep would overflow the stack
  int published = 0;
  for (int i = 0; i < kBacklog; ++i) {
    published += topic->Publish({.message = std::to_string(i), .message_group_id = "g"}).ok();
  }
  REQUIRE(published == kBacklog);
  CHECK(flaky->received.empty());  // all held behind the first, which waits 1 s for its retry
  f.sim.RunUntilIdle();
  REQUIRE(flaky->received.size() == kBacklog);
  bool in_order = true;
  for (int i = 0; i < kBacklog; ++i)
    in_order = in_order && flaky->received[i].body == std::to_string(i);
  CHECK(in_order);
}

TEST_CASE("Functions receive SNS's event record", "[topic][lambda]") {
  Fixture f;
  auto topic = f.sns.CreateTopic("t").value();
  std::vector<Json> events;
  auto fn = Lambda(f.hub)
                .RegisterFunction("handler",
                                  [&](const Json& in) -> absl::StatusOr<Json> {
                                    events.push_back(in);
                                    return Json(nullptr);
                                  })
                .value();
  const std::string sub = topic->Subscribe(*fn).value();  // protocol lambda, from the ARN
  CHECK(f.sns.GetSubscriptionAttributes(sub).value()["Protocol"] == "lambda");
  CHECK(ErrorName(topic->Subscribe(*topic).status()) == "InvalidParameter");
  auto sent = topic->Publish(
      {.message = "hello", .attributes = {{"kind", MessageAttribute::String("new")}}});
  REQUIRE(sent.ok());
  REQUIRE(events.size() == 1);
  const auto& record = events[0].at("Records").as_array().at(0).as_object();
  CHECK(record.at("EventSource").as_string() == "aws:sns");
  CHECK(record.at("EventVersion").as_string() == "1.0");
  CHECK(record.at("EventSubscriptionArn").as_string() == sub);
  const auto& sns = record.at("Sns").as_object();
  CHECK(sns.at("Type").as_string() == "Notification");
  CHECK(sns.at("MessageId").as_string() == sent->message_id.view());
  CHECK(sns.at("TopicArn").as_string() == topic->arn());
  CHECK(sns.at("Subject").is_null());
  CHECK(sns.at("Message").as_string() == "hello");
  CHECK(sns.contains("Timestamp"));
  CHECK(sns.contains("Signature"));
  CHECK(sns.contains("SigningCertUrl"));
  CHECK(sns.at("UnsubscribeUrl").as_string().ends_with(sub));
  CHECK(sns.at("MessageAttributes").at("kind").at("Value").as_string() == "new");

  // A function that fails is retried on SNS's schedule, then counted.
  int calls = 0;
  auto failing = Lambda(f.hub)
                     .RegisterFunction("failing",
                                       [&](const Json&) -> absl::StatusOr<Json> {
                                         ++calls;
                                         return FunctionError("Boom", "no");
                                       })
                     .value();
  const std::string bad = f.sns.Subscribe(topic->arn(), "lambda", failing->arn()).value();
  REQUIRE(topic->Publish({.message = "x"}).ok());
  f.sim.RunFor(absl::Seconds(2));
  CHECK(calls == 5);
  CHECK(f.sns.SubscriptionMetrics(bad).value()["NumberOfNotificationsFailed"] == 0);  // not yet
}

// When the outbox of `sub` received its notifications.
std::vector<absl::Time> OutboxTimes(SnsService& sns, const std::string& sub) {
  std::vector<absl::Time> times;
  const std::vector<OutboxMessage> outbox = sns.Outbox(sub).value();
  for (const OutboxMessage& m : outbox) {
    if (m.type == "Notification") times.push_back(m.time);
  }
  return times;
}

TEST_CASE("Endpoints outside AWS that fail: HTTP(S) and SMS delivery policies, DLQ",
          "[topic][retry]") {
  Fixture f;
  auto topic = f.sns.CreateTopic("t").value();
  auto dlq = Sqs(f.hub).CreateQueue("dlq").value();
  const std::string url = "https://example.com/hook";
  const std::string http =
      f.sns.Subscribe(topic->arn(), "https", url, {{"RedrivePolicy", Policy(dlq->arn())}}).value();
  const std::string token = f.sns.Outbox(http).value().at(0).token;
  REQUIRE(f.sns.ConfirmSubscription(topic->arn(), token).ok());
  const std::string sms = f.sns.Subscribe(topic->arn(), "sms", "+15555550100").value();

  // HTTP(S) by default: the first try and 3 retries 20 s apart, then the DLQ.
  f.sns.SetEndpointFailure(url, absl::UnavailableError("502 Bad Gateway"));
  f.sns.SetEndpointFailure("+15555550100", absl::UnavailableError("carrier down"));
  const absl::Time t0 = f.sim.Now();
  REQUIRE(topic->Publish({.message = "m"}).ok());
  f.sim.RunFor(absl::Seconds(61));
  CHECK(OutboxTimes(f.sns, http).empty());
  auto dead = Fixture::Receive(*dlq);
  REQUIRE(dead.size() == 1);
  REQUIRE(dlq->DeleteMessage(dead[0].receipt_handle).ok());
  CHECK(f.sns.SubscriptionMetrics(http).value()["NumberOfNotificationsFailed"] == 1);

  // SMS: 50 tries over more than 6 hours; the endpoint comes back before the end.
  f.sim.RunFor(absl::Hours(5) - absl::Seconds(61));
  CHECK(OutboxTimes(f.sns, sms).empty());
  f.sns.SetEndpointFailure("+15555550100", absl::OkStatus());
  f.sim.RunUntilIdle();
  auto times = OutboxTimes(f.sns, sms);
  REQUIRE(times.size() == 1);
  CHECK(times[0] > t0 + absl::Hours(5));
  CHECK(f.sns.SubscriptionMetrics(sms).value()["NumberOfNotificationsDelivered"] == 1);

  // A client error is not retried.
  f.sns.SetEndpointFailure(url, absl::InvalidArgumentError("410 Gone"));
  REQUIRE(topic->Publish({.message = "m2"}).ok());
  CHECK(Fixture::Receive(*dlq).size() == 1);  // at once

  // The subscription's own policy: 5 retries 2 s apart.
  f.sns.SetEndpointFailure(url, absl::UnavailableError("busy"));
  REQUIRE(
      f.sns
          .SetSubscriptionAttributes(
              http, "DeliveryPolicy",
              R"({"healthyRetryPolicy":{"numRetries":5,"minDelayTarget":2,"maxDelayTarget":2}})")
          .ok());
  REQUIRE(topic->Publish({.message = "m3"}).ok());
  f.sim.RunFor(absl::Seconds(9));
  CHECK(Fixture::Receive(*dlq).empty());
  f.sns.SetEndpointFailure(url, absl::OkStatus());
  f.sim.RunFor(absl::Seconds(1));  // the 6th try, at +10 s
  CHECK(OutboxTimes(f.sns, http).size() == 1);
  CHECK(
      ErrorName(f.sns.SetSubscriptionAttributes(
          http, "DeliveryPolicy",
          R"({"healthyRetryPolicy":{"numRetries":100,"minDelayTarget":60,"maxDelayTarget":60}})")) ==
      "InvalidParameter");  // more than 3,600 s in all
}

TEST_CASE("A topic's DeliveryPolicy is the default of its HTTP(S) subscriptions",
          "[topic][retry]") {
  Fixture f;
  auto topic = f.sns.CreateTopic("t").value();
  REQUIRE(topic
              ->SetAttribute("DeliveryPolicy",
                             R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":2,)"
                             R"("minDelayTarget":5,"maxDelayTarget":5}}})")
              .ok());
  CHECK(ErrorName(topic->SetAttribute(
            "DeliveryPolicy", R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":-1}}})")) ==
        "InvalidParameter");
  const std::string url = "http://example.com/";
  const std::string sub = f.sns.Subscribe(topic->arn(), "http", url).value();
  REQUIRE(f.sns.ConfirmSubscription(topic->arn(), f.sns.Outbox(sub).value().at(0).token).ok());
  f.sns.SetEndpointFailure(url, absl::UnavailableError("down"));
  REQUIRE(topic->Publish({.message = "m"}).ok());
  f.sim.RunFor(absl::Seconds(9));
  f.sns.SetEndpointFailure(url, absl::OkStatus());
  f.sim.RunUntilIdle();  // the 3rd and last try at +10 s
  auto times = OutboxTimes(f.sns, sub);
  REQUIRE(times.size() == 1);
  CHECK(times[0] == f.sim.Now());
  CHECK(f.sns.SubscriptionMetrics(sub).value()["NumberOfNotificationsDelivered"] == 1);
}

TEST_CASE("A topic handle outlives its hub, and pending retries end with it", "[topic][lifetime]") {
  testing::Simulation sim;
  std::shared_ptr<Topic> topic;
  {
    Hub hub(sim.environment());
    topic = Sns(hub).CreateTopic("t").value();
    auto sink = std::make_shared<FlakySink>(hub, "down", 1'000'000);
    REQUIRE(detail::AddResource(hub, sink).ok());
    REQUIRE(Sns(hub).Subscribe(topic->arn(), "sqs", sink->arn()).ok());
    REQUIRE(topic->Publish({.message = "m"}).ok());
    sim.RunFor(absl::Seconds(30));
    CHECK(sink->tries.size() > 5);
  }
  sim.RunUntilIdle();  // the retries left find the hub gone and stop
  CHECK(ErrorName(topic->Publish({.message = "m"}).status()) == "NotFound");
}

}  // namespace
}  // namespace courier
