// A fixed workload for counting instructions: 100,000 standard-queue lifecycles (SendMessage x10
// -> ReceiveMessage(10) into a reused vector -> DeleteMessageBatch) of 100-byte bodies, the same
// loop as queue_bench's one-thread case. Wall-clock figures move with the machine's load;
// instruction counts do not:
//
//   valgrind --tool=callgrind bench/queue_lifecycles [md5]
//   callgrind_annotate --inclusive=yes callgrind.out.<pid>
//
// Divide by 1,000,000 for instructions per message.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"

int main(int argc, char** argv) {
  const bool md5 = argc > 1 && std::strcmp(argv[1], "md5") == 0;
  const std::string body(100, 'x');
  courier::Hub hub(courier::Environment::Default());
  auto queue = Sqs(hub).CreateQueue("lifecycles").value();
  std::vector<courier::Message> got;
  std::vector<courier::Queue::HandleBatchEntry> entries;
  long deleted = 0;
  for (int round = 0; round < 100000; ++round) {
    for (int i = 0; i < 10; ++i) {
      auto sent =
          md5 ? queue->SendMessage({.body = body}) : queue->SendMessageNoMd5({.body = body});
      if (!sent.ok()) return 1;
    }
    for (int n = 0; n < 10; n += static_cast<int>(got.size())) {
      if (!queue->ReceiveMessage({.max_number_of_messages = 10 - n, .md5_of_body = md5}, got)
               .ok()) {
        return 1;
      }
      entries.resize(got.size());
      for (size_t i = 0; i < got.size(); ++i) {
        entries[i].id.assign(1, static_cast<char>('0' + i));
        entries[i].receipt_handle = got[i].receipt_handle;
      }
      deleted += static_cast<long>(queue->DeleteMessageBatch(entries)->successful.size());
    }
  }
  std::printf("%ld messages sent, received and deleted\n", deleted);
  return deleted == 1000000 ? 0 : 1;
}
