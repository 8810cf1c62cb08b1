// Publish against Subscribe, Unsubscribe and SetSubscriptionAttributes on other threads: the
// subscription snapshot is replaced atomically, so a publish sees the old or the new list, never
// a torn one, and a subscription present throughout gets every message exactly once.
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/topic.h"

namespace courier {
namespace {

TEST_CASE("Publish on two threads while subscriptions change", "[topic][threads]") {
  Hub hub(Environment::Deterministic());
  auto topic = Sns(hub).CreateTopic("t").value();
  auto stable = Sqs(hub).CreateQueue("stable").value();
  auto filtered = Sqs(hub).CreateQueue("filtered").value();
  REQUIRE(Sns(hub)
              .Subscribe(topic->arn(), "sqs", stable->arn(), {{"RawMessageDelivery", "true"}})
              .ok());
  const std::string filtered_sub = Sns(hub)
                                       .Subscribe(topic->arn(), "sqs", filtered->arn(),
                                                  {{"RawMessageDelivery", "true"},
                                                   {"FilterPolicy", R"({"n":[{"exists":true}]})"}})
                                       .value();
  std::vector<std::shared_ptr<Queue>> churn;
  for (int i = 0; i < 8; ++i)
    churn.push_back(Sqs(hub).CreateQueue("c" + std::to_string(i)).value());

  constexpr int kPerThread = 2000;
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};  // Catch2's assertions are not thread-safe: counted here
  auto expect = [&](bool ok) {
    if (!ok) errors.fetch_add(1);
  };
  std::thread changer([&] {
    int round = 0;
    while (!done.load()) {
      auto& q = churn[round % churn.size()];
      auto sub = Sns(hub).Subscribe(topic->arn(), "sqs", q->arn(),
                                    {{"FilterPolicy", R"({"n":[{"numeric":[">",10]}]})"}});
      expect(sub.ok());
      // Same attributes each time: the filter of the stable-but-filtered subscription flips.
      expect(Sns(hub)
                 .SetSubscriptionAttributes(
                     filtered_sub, "FilterPolicy",
                     round % 2 ? R"({"n":[{"exists":true}]})" : R"({"n":[{"numeric":[">=",0]}]})")
                 .ok());
      if (sub.ok()) expect(Sns(hub).Unsubscribe(*sub).ok());
      ++round;
    }
  });
  std::vector<std::thread> publishers;
  for (int t = 0; t < 2; ++t) {
    publishers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r =
            topic->Publish({.message = std::to_string(t * kPerThread + i),
                            .attributes = {{"n", MessageAttribute::Number(std::to_string(i))}}});
        expect(r.ok());
      }
    });
  }
  for (auto& p : publishers) p.join();
  done = true;
  changer.join();
  CHECK(errors.load() == 0);

  auto count = [](Queue& q) {
    std::vector<bool> seen(2 * kPerThread);
    size_t n = 0;
    for (auto got = q.ReceiveMessage({.max_number_of_messages = 10}).value(); !got.empty();
         got = q.ReceiveMessage({.max_number_of_messages = 10}).value()) {
      for (auto& m : got) {
        const int id = std::stoi(m.body);
        CHECK(!seen[id]);  // no duplicates
        seen[id] = true;
        ++n;
        REQUIRE(q.DeleteMessage(m.receipt_handle).ok());
      }
    }
    return n;
  };
  CHECK(count(*stable) == 2 * kPerThread);
  CHECK(count(*filtered) == 2 * kPerThread);  // both of its policies match every message
  CHECK(topic->Metrics()["NumberOfMessagesPublished"] == 2 * kPerThread);
}

}  // namespace
}  // namespace courier
