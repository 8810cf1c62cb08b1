// Long polling (spec §3), one loop for both queue kinds: a receive with nothing to return waits
// on the environment's clock until a message can be received or the wait ends. Sends notify the
// queue's WakeSignal; messages that become visible when a delay or a visibility timeout ends
// notify it through a clock timer at the earliest such moment. Waiting is not locking: the
// poller holds no lock while it sleeps.
#ifndef COURIER_QUEUE_LONG_POLL_H_
#define COURIER_QUEUE_LONG_POLL_H_

#include <absl/functional/function_ref.h>
#include <absl/time/time.h>

#include <memory>
#include <optional>

#include "courier/clock.h"

namespace courier::queue_internal {

// Calls `try_receive` whenever something may have changed, until it returns true (then true) or
// the clock reaches `deadline` (then false). `next_event(now)`: the earliest moment after `now`
// when a message may become receivable without a send (nullopt: none known).
bool LongPoll(Clock& clock, absl::Time deadline, const std::shared_ptr<WakeSignal>& signal,
              absl::FunctionRef<bool()> try_receive,
              absl::FunctionRef<std::optional<absl::Time>(absl::Time now)> next_event);

}  // namespace courier::queue_internal

#endif  // COURIER_QUEUE_LONG_POLL_H_
