// Protocols that leave AWS (sms, email, http...) land in an outbox a test can read: here an SMS
// "sent" through a subscription, and one published straight to a phone number.
#include <cassert>

#include "courier/hub.h"
#include "courier/sns.h"
#include "courier/testing/simulation.h"
#include "courier/topic.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  courier::SnsService& sns = courier::Sns(hub);
  //! [sms]
  auto topic = sns.CreateTopic("logins").value();
  const std::string sub = sns.Subscribe(topic->arn(), "sms", "+15555550100").value();
  topic->Publish({.message = "New sign-in to your account"}).value();
  auto sent = sns.Outbox(sub).value();
  assert(sent.size() == 1 && sent[0].endpoint == "+15555550100");
  assert(sent[0].body == "New sign-in to your account");

  // Publish with PhoneNumber: no topic, the same kind of outbox.
  sns.Publish({.phone_number = "+15555550199", .request = {.message = "Your code is 4711"}})
      .value();
  assert(sns.Outbox("+15555550199").value()[0].body == "Your code is 4711");
  //! [sms]
  return 0;
}
