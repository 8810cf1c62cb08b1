// PurgeQueue's rule for both queue kinds: one purge of a queue every 60 seconds.
#ifndef COURIER_QUEUE_PURGE_LIMIT_H_
#define COURIER_QUEUE_PURGE_LIMIT_H_

#include <absl/status/status.h>
#include <absl/time/time.h>

#include <mutex>
#include <string_view>

#include "courier/status.h"

namespace courier::queue_internal {

class PurgeLimit {
 public:
  // OK, and the purge counts from `now`; PurgeQueueInProgress within 60 s of the last one.
  // Thread-safe.
  absl::Status Begin(std::string_view queue_name, absl::Time now) {
    std::lock_guard lock(mu_);
    if (now < last_ + absl::Seconds(60)) {
      return AwsErrorF("PurgeQueueInProgress",
                       "Only one PurgeQueue operation on {} is allowed every 60 seconds.",
                       queue_name);
    }
    last_ = now;
    return absl::OkStatus();
  }

 private:
  std::mutex mu_;
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace courier::queue_internal

#endif  // COURIER_QUEUE_PURGE_LIMIT_H_
