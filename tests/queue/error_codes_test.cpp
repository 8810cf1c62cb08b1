// An AWS error has one status code whichever queue kind, or the operation table, raises it.
#include <catch2/catch.hpp>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/service.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

TEST_CASE("PurgeQueueInProgress and QueueDoesNotExist have one code on both kinds",
          "[queue][status]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto standard = Sqs(hub).CreateQueue("q").value();
  auto fifo = Sqs(hub).CreateFifoQueue("q.fifo").value();
  REQUIRE(standard->PurgeQueue().ok());
  REQUIRE(fifo->PurgeQueue().ok());
  const absl::Status a = standard->PurgeQueue();
  const absl::Status b = fifo->PurgeQueue();
  CHECK(ErrorName(a) == "PurgeQueueInProgress");
  CHECK(ErrorName(b) == "PurgeQueueInProgress");
  CHECK(a.code() == b.code());
  CHECK(a.code() == AwsErrorCode("PurgeQueueInProgress"));
  auto invoked = Invoke(hub, "sqs", "PurgeQueue", ParseJson(R"({"QueueUrl":"q"})").value());
  CHECK(invoked.status().code() == a.code());

  REQUIRE(Sqs(hub).DeleteQueue("q").ok());
  REQUIRE(Sqs(hub).DeleteQueue("q.fifo").ok());
  CHECK(standard->PurgeQueue().code() == absl::StatusCode::kNotFound);
  CHECK(fifo->PurgeQueue().code() == absl::StatusCode::kNotFound);
  CHECK(Sqs(hub).GetQueue("q").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("An unknown operation is InvalidAction with one code, linked service or not",
          "[queue][status]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto unknown = Invoke(hub, "sqs", "Nope", Json(JsonObject()));
  auto unlinked = Invoke(hub, "nope", "Nope", Json(JsonObject()));
  CHECK(ErrorName(unknown.status()) == "InvalidAction");
  CHECK(ErrorName(unlinked.status()) == "InvalidAction");
  CHECK(unknown.status().code() == unlinked.status().code());
}

}  // namespace
}  // namespace courier
