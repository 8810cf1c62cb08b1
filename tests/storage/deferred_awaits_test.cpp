// An operation made of many changes waits for their records once (detail::DeferredAwaits): a
// visibility batch, a publish to several durable subscribers, PutEvents to several durable
// targets each wait for one commit, not one per entry or delivery; and each still returns only
// once its records are kept.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/storage.h"
#include "courier/topic.h"
#include "recording_hub.h"

namespace courier {
namespace {

// A RecordingStorage that counts the waits for records (Await with something to wait for).
class CountingStorage final : public Storage {
 public:
  bool durable() const override { return true; }
  bool keeps_records() const override { return true; }
  uint64_t Submit(std::string_view log, std::span<const std::string> records) override {
    (void)inner_.Append(log, records);
    return ++submitted_;
  }
  absl::Status Await(uint64_t, uint64_t last) override {
    if (last != 0) ++awaits;
    return absl::OkStatus();
  }
  absl::Status Replay(std::string_view log,
                      absl::FunctionRef<void(std::string_view)> visit) override {
    return inner_.Replay(log, visit);
  }
  int awaits = 0;

 private:
  RecordingStorage inner_;
  uint64_t submitted_ = 0;
};

struct Fixture {
  std::shared_ptr<CountingStorage> storage = std::make_shared<CountingStorage>();
  testing_support::RecordingSide side{storage};
  Hub& hub = side.hub;
};

TEST_CASE("A visibility batch waits for its records once", "[storage]") {
  const bool fifo = GENERATE(false, true);
  Fixture f;
  std::shared_ptr<SqsQueue> q;
  if (fifo) {
    q = Sqs(f.hub).CreateFifoQueue("q.fifo", {.content_based_deduplication = true}).value();
  } else {
    q = Sqs(f.hub).CreateQueue("q").value();
  }
  std::vector<HandleBatchEntry> entries;
  for (int i = 0; i < 10; ++i) {
    SendMessageRequest send{.body = "m" + std::to_string(i)};
    if (fifo) send.message_group_id = "g" + std::to_string(i);
    REQUIRE(q->SendMessage(send).ok());
  }
  const std::vector<Message> received =
      q->ReceiveMessage({.max_number_of_messages = 10, .wait_time = absl::ZeroDuration()}).value();
  for (const Message& m : received) {
    entries.push_back({.id = "e" + std::to_string(entries.size()),
                       .receipt_handle = m.receipt_handle,
                       .visibility_timeout = absl::Seconds(60)});
  }
  REQUIRE(entries.size() == 10);
  const int before = f.storage->awaits;
  auto result = q->ChangeMessageVisibilityBatch(entries).value();
  CHECK(result.successful.size() == 10);
  CHECK(f.storage->awaits - before == 1);
  // A single change still waits for its own record.
  REQUIRE(q->ChangeMessageVisibility(entries[0].receipt_handle, absl::Seconds(30)).ok());
  CHECK(f.storage->awaits - before == 2);
}

TEST_CASE("A publish to several durable queues waits once", "[storage]") {
  Fixture f;
  auto topic = Sns(f.hub).CreateTopic("news", {}, {}).value();
  std::vector<std::shared_ptr<Queue>> queues;
  for (int i = 0; i < 3; ++i) {
    queues.push_back(Sqs(f.hub).CreateQueue("q" + std::to_string(i)).value());
    REQUIRE(Sns(f.hub).Subscribe(topic->arn(), "sqs", queues.back()->arn(), {}).ok());
  }
  const int before = f.storage->awaits;
  REQUIRE(topic->Publish({.message = "hello"}).ok());
  CHECK(f.storage->awaits - before == 1);
  for (auto& q : queues) {
    CHECK(q->ReceiveMessage({.wait_time = absl::ZeroDuration()}).value().size() == 1);
  }
  const int batch_before = f.storage->awaits;
  std::vector<PublishBatchEntry> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back({.id = "b" + std::to_string(i), .request = {.message = "m"}});
  }
  CHECK(topic->PublishBatch(std::move(batch)).value().successful.size() == 5);
  CHECK(f.storage->awaits - batch_before == 1);
}

TEST_CASE("PutEvents to several durable targets waits once", "[storage]") {
  Fixture f;
  auto bus = Events(f.hub).GetEventBus("default").value();
  std::vector<Target> targets;
  std::vector<std::shared_ptr<Queue>> queues;
  for (int i = 0; i < 3; ++i) {
    queues.push_back(Sqs(f.hub).CreateQueue("q" + std::to_string(i)).value());
    targets.push_back({.id = "t" + std::to_string(i), .arn = queues.back()->arn()});
  }
  REQUIRE(bus->PutRule("all", {.event_pattern = R"({"source":["shop"]})"}).ok());
  REQUIRE(bus->PutTargets("all", targets).ok());
  const int before = f.storage->awaits;
  REQUIRE(Events(f.hub)
              .PutEvents({{.source = "shop", .detail_type = "x", .detail = "{}"},
                          {.source = "shop", .detail_type = "y", .detail = "{}"}})
              .value()
              .failed_entry_count == 0);
  CHECK(f.storage->awaits - before == 1);
  for (auto& q : queues) {
    CHECK(q->ReceiveMessage({.max_number_of_messages = 10, .wait_time = absl::ZeroDuration()})
              .value()
              .size() == 2);
  }
}

}  // namespace
}  // namespace courier
