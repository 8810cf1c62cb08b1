// A hub rebuilt from the records its SNS service left in a RecordingStorage (Hub::Recover) has
// the same topics, attributes and tags, and the same subscriptions under the same ARNs, pending
// or confirmed, with their attributes; a pending one confirms with the token the first hub sent,
// and a publish on the rebuilt topic reaches the rebuilt queue through its filter policy.
#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/storage.h"
#include "courier/topic.h"
#include "recording_hub.h"

namespace courier {
namespace {

using Side = testing_support::RecordingSide;

std::string TokenOf(SnsService& sns, const std::string& subscription) {
  std::vector<OutboxMessage> sent = sns.Outbox(subscription).value();
  REQUIRE(sent.size() == 1);
  return sent[0].token;
}

std::vector<std::string> SubscriptionArns(SnsService& sns, const std::string& topic) {
  const std::vector<SubscriptionSummary> listed = sns.ListSubscriptionsByTopic(topic).value();
  std::vector<std::string> out;
  for (const SubscriptionSummary& s : listed) out.push_back(s.subscription_arn);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("Topics and subscriptions come back from the SNS records", "[topic][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  SnsService& sns = Sns(first.hub);
  auto inbox = Sqs(first.hub).CreateQueue("inbox").value();
  auto other = Sqs(first.hub).CreateQueue("other").value();
  auto orders = sns.CreateTopic("orders", {{"DisplayName", "Orders"}}, {{"team", "a"}}).value();
  REQUIRE(orders->SetAttribute("DisplayName", "Orders 2").ok());
  REQUIRE(sns.AddPermission(orders->arn(), "let-b", {"111122223333"}, {"Publish"}).ok());
  const std::string queue_sub =
      sns.Subscribe(orders->arn(), "sqs", inbox->arn(),
                    {{"RawMessageDelivery", "true"}, {"FilterPolicy", R"({"kind":["big"]})"}})
          .value();
  REQUIRE(sns.SetSubscriptionAttributes(queue_sub, "FilterPolicy", R"({"kind":["small"]})").ok());
  const std::string pending = sns.Subscribe(orders->arn(), "email", "a@example.com", {}).value();
  const std::string confirmed = sns.Subscribe(orders->arn(), "email", "b@example.com", {}).value();
  REQUIRE(sns.ConfirmSubscription(orders->arn(), TokenOf(sns, confirmed)).ok());
  const std::string dropped = sns.Subscribe(orders->arn(), "sqs", other->arn(), {}).value();
  REQUIRE(sns.Unsubscribe(dropped).ok());
  REQUIRE(sns.TagResource(orders->arn(), {{"env", "test"}}).ok());
  REQUIRE(sns.UntagResource(orders->arn(), {"team"}).ok());
  auto gone = sns.CreateTopic("gone", {}, {}).value();
  REQUIRE(sns.DeleteTopic(gone->arn()).ok());
  const std::string pending_token = TokenOf(sns, pending);

  Side second(log->Copy());
  REQUIRE(second.hub.Recover().ok());
  SnsService& again = Sns(second.hub);
  CHECK(again.ListTopics() == std::vector<std::string>{orders->arn()});
  auto topic = again.GetTopic("orders").value();
  SnsAttributeMap attributes = topic->GetAttributes().value();
  CHECK(attributes.at("DisplayName") == "Orders 2");
  CHECK(attributes.at("Policy") == orders->GetAttributes().value().at("Policy"));
  CHECK(again.ListTagsForResource(orders->arn()).value() == SnsAttributeMap{{"env", "test"}});

  // The same list as the first hub's (where a pending one shows as PendingConfirmation).
  CHECK(SubscriptionArns(again, orders->arn()) == SubscriptionArns(sns, orders->arn()));
  CHECK(SubscriptionArns(again, orders->arn()).size() == 3);
  CHECK(again.GetSubscriptionAttributes(pending).value().at("PendingConfirmation") == "true");
  CHECK(again.GetSubscriptionAttributes(confirmed).value().at("PendingConfirmation") == "false");
  SnsAttributeMap queue_attributes = again.GetSubscriptionAttributes(queue_sub).value();
  CHECK(queue_attributes.at("RawMessageDelivery") == "true");
  CHECK(queue_attributes.at("FilterPolicy") == R"({"kind":["small"]})");
  // The token the first hub sent still confirms.
  CHECK(again.ConfirmSubscription(orders->arn(), pending_token).value() == pending);

  // Deliveries go to the recovered queue, through the changed filter policy.
  for (const char* kind : {"big", "small"}) {
    REQUIRE(topic
                ->Publish({.message = std::string(kind) + " one",
                           .attributes = {{"kind", MessageAttribute::String(kind)}}})
                .ok());
  }
  auto got =
      Sqs(second.hub).GetQueue("inbox").value()->ReceiveMessage({.max_number_of_messages = 10});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].body == "small one");
}

TEST_CASE("A hub on storage that keeps nothing records no topic", "[topic][recovery]") {
  Side side(std::make_shared<MemoryStorage>());
  REQUIRE(Sns(side.hub).CreateTopic("t", {}, {}).ok());
  REQUIRE(side.hub.Recover().ok());
  CHECK(Sns(side.hub).ListTopics().size() == 1);
}

}  // namespace
}  // namespace courier
