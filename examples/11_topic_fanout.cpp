// Fan-out with filter policies: one publish, a copy for each queue whose policy matches,
// matched in one pass however many subscriptions there are.
#include <cassert>
#include <string>

#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"
#include "courier/topic.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  courier::SnsService& sns = courier::Sns(hub);
  //! [fanout]
  auto orders = sns.CreateTopic("orders").value();
  auto audit = courier::Sqs(hub).CreateQueue("audit").value();        // everything
  auto shipping = courier::Sqs(hub).CreateQueue("shipping").value();  // paid orders only
  auto big = courier::Sqs(hub).CreateQueue("big").value();            // amount > 100, in the body
  orders->Subscribe(*audit).value();  // the same as sns.Subscribe(orders->arn(), "sqs", ...)
  sns.Subscribe(orders->arn(), "sqs", shipping->arn(),
                {{"FilterPolicy", R"({"status":["paid"]})"}, {"RawMessageDelivery", "true"}})
      .value();
  sns.Subscribe(orders->arn(), "sqs", big->arn(),
                {{"FilterPolicy", R"({"amount":[{"numeric":[">",100]}]})"},
                 {"FilterPolicyScope", "MessageBody"},
                 {"RawMessageDelivery", "true"}})
      .value();

  orders
      ->Publish({.message = R"({"id":1,"amount":250})",
                 .attributes = {{"status", courier::MessageAttribute::String("paid")}}})
      .value();
  orders
      ->Publish({.message = R"({"id":2,"amount":20})",
                 .attributes = {{"status", courier::MessageAttribute::String("new")}}})
      .value();
  //! [fanout]

  // audit gets SNS's JSON envelope of both; the others the raw body of their match.
  auto a = audit->ReceiveMessage({.max_number_of_messages = 10}).value();
  assert(a.size() == 2);
  assert(courier::ParseJson(a[0].body)->at("Type").as_string() == "Notification");
  auto s = shipping->ReceiveMessage({.max_number_of_messages = 10}).value();
  assert(s.size() == 1 && s[0].body == R"({"id":1,"amount":250})");
  auto b = big->ReceiveMessage({.max_number_of_messages = 10}).value();
  assert(b.size() == 1 && b[0].body == R"({"id":1,"amount":250})");
  assert(orders->Metrics()["NumberOfNotificationsFilteredOut"] == 2);
  return 0;
}
