#include "queue/long_poll.h"

namespace courier::queue_internal {

bool LongPoll(Clock& clock, absl::Time deadline, const std::shared_ptr<WakeSignal>& signal,
              absl::FunctionRef<bool()> try_receive,
              absl::FunctionRef<std::optional<absl::Time>(absl::Time now)> next_event) {
  std::optional<Clock::TimerId> timer;
  absl::Time timer_at;
  const bool received = clock.WaitUntil(deadline, *signal, [&] {
    if (try_receive()) return true;
    // One timer at the next event before the deadline: re-armed when an earlier event appears,
    // or when it fired and what it woke for went to another receiver. (A stale event, already
    // past, arms nothing: it would only wake this loop again at once.)
    const absl::Time now = clock.Now();
    const std::optional<absl::Time> next = next_event(now);
    if (next && now < *next && *next < deadline &&
        (!timer || *next < timer_at || timer_at <= now)) {
      if (timer) clock.Cancel(*timer);
      timer_at = *next;
      timer = clock.ScheduleAt(*next, [signal] { signal->Notify(); });
    }
    return false;
  });
  if (timer) clock.Cancel(*timer);
  return received;
}

}  // namespace courier::queue_internal
