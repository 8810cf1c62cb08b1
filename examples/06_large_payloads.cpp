// Large payloads, as SQS's extended client does them: a body above 256 KiB goes to a blob store,
// the queue carries a pointer, the receive returns the original, the delete removes the blob.
#include <cassert>
#include <cstdio>
#include <string>

#include "courier/blob_store.h"
#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto blobs = std::make_shared<courier::MemoryBlobStore>();
  auto reports = courier::FifoQueue::Create(
                     hub, "reports.fifo", {{"ContentBasedDeduplication", "true"}},
                     {.large_payloads =
                          courier::LargePayloadOptions{.store = blobs, .bucket = "reports-blobs"}})
                     .value();

  std::string report(64 << 20, '.');  // 64 MiB: 64 times SQS's largest message
  report.replace(0, 7, "REPORT:");
  assert(reports->SendMessage({.body = report, .message_group_id = "daily"}).ok());
  assert(blobs->Count() == 1);

  auto got = reports->ReceiveMessage({}).value();
  assert(got.size() == 1 && got[0].body == report);
  // The handle carries the pointer, in the extended client's form.
  const std::string_view handle = got[0].receipt_handle.value();
  assert(handle.starts_with("-..s3BucketName..-reports-blobs-..s3BucketName..--..s3Key..-"));
  std::printf("received %zu bytes; handle %.70s...\n", got[0].body.size(), handle.data());

  assert(reports->DeleteMessage(got[0].receipt_handle).ok());
  assert(blobs->Count() == 0);  // deleting the message deleted the blob
  return 0;
}
