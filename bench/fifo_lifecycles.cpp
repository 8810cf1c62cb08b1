// A fixed workload for counting instructions: FIFO lifecycles as fifo_queue_bench's one-thread
// case (SendMessage x10 with an explicit MessageDeduplicationId, MD5OfMessageBody computed on
// every send -> ReceiveMessage(10) into a reused vector -> DeleteMessageBatch) of 100-byte
// bodies, groups assigned round-robin. Every deduplication id stays in the window, which grows
// through the run as in SQS. Wall-clock figures move with the machine's load; instruction counts
// do not:
//
//   valgrind --tool=callgrind bench/fifo_lifecycles [groups=100] [rounds=10000]
//   callgrind_annotate --inclusive=yes callgrind.out.<pid>
//
// Divide by 10 * rounds for instructions per message.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"

int main(int argc, char** argv) {
  const int groups_n = argc > 1 ? std::atoi(argv[1]) : 100;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 10000;
  const std::string body(100, 'x');
  courier::Hub hub(courier::Environment::Default());
  auto queue = courier::FifoQueue::Create(hub, "lifecycles.fifo").value();
  std::vector<std::string> groups;
  for (int i = 0; i < groups_n; ++i) groups.push_back("group-" + std::to_string(i));
  std::vector<courier::Message> got;
  std::vector<courier::Queue::HandleBatchEntry> entries;
  uint64_t next = 0;
  long done = 0;
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < 10; ++i) {
      const uint64_t id = next++;
      auto sent = queue->SendMessage({.body = body,
                                      .message_group_id = groups[id % groups.size()],
                                      .message_deduplication_id = std::to_string(id)});
      if (!sent.ok()) return 1;
    }
    if (!queue->ReceiveMessage({.max_number_of_messages = 10}, got).ok()) return 1;
    if (got.empty()) continue;
    entries.resize(got.size());
    for (size_t i = 0; i < got.size(); ++i) {
      entries[i].id.assign(1, static_cast<char>('0' + i));
      entries[i].receipt_handle = got[i].receipt_handle;
    }
    auto deleted = queue->DeleteMessageBatch(entries);
    if (!deleted.ok() || !deleted->failed.empty()) return 1;
    done += static_cast<long>(got.size());
  }
  std::printf("%ld\n", done);
  return 0;
}
