// Delivery of one message to one subscription: the try, the retries on the hub's clock as the
// subscription's delivery policy says, the dead-letter queue when it gives up, the counters,
// and the per-group order of FIFO topics (topic_state.h).
#include <cmath>
#include <deque>
#include <utility>

#include "courier/hub.h"
#include "courier/status.h"
#include "topic/topic_state.h"

namespace courier::topic_internal {
namespace {

bool LeavesAws(std::string_view protocol) { return protocol != "sqs" && protocol != "lambda"; }

void Try(Delivery d);

// The subscription's queue or Function: the one it found when it subscribed while that stays,
// else whatever the hub now has under its endpoint's ARN.
std::shared_ptr<MessageSink> SinkOf(const Subscription& sub, const DeliveryContext& context) {
  std::shared_ptr<MessageSink> sink = sub.sink.lock();
  if (sink != nullptr && !sink->deleted()) return sink;
  return context.hub->FindSink(sub.endpoint);
}

// Tries `d` after the delivery that held its group back. When that one completed inside a try
// on this thread (a synchronous sink), `d` waits in a per-thread list that the outermost call
// works through, so a long backlog is drained in a loop, not a recursion as deep as the backlog.
void TryNext(Delivery d) {
  thread_local std::deque<Delivery>* draining = nullptr;
  if (draining != nullptr) {
    draining->push_back(std::move(d));
    return;
  }
  std::deque<Delivery> queue;
  draining = &queue;
  Try(std::move(d));
  while (!queue.empty()) {
    Delivery next = std::move(queue.front());
    queue.pop_front();
    Try(std::move(next));
  }
  draining = nullptr;
}

// The next delivery of the group, if one waits behind `d`.
void Finished(Delivery& d) {
  if (d.group.empty()) return;
  SubscriptionState& s = *d.sub->state;
  std::optional<Delivery> next;
  {
    std::lock_guard lock(s.order_mu);
    auto it = s.in_progress.find(d.group);
    if (it == s.in_progress.end()) return;
    if (it->second.empty()) {
      s.in_progress.erase(it);
    } else {
      next.emplace(std::move(it->second.front()));
      it->second.pop_front();
    }
  }
  if (next) TryNext(*std::move(next));
}

void CountDelivered(const Subscription& sub, const DeliveryContext& context) {
  sub.state->counters.delivered.fetch_add(1, std::memory_order_relaxed);
  context.topic_counters->delivered.fetch_add(1, std::memory_order_relaxed);
}

// The end of a delivery whose retry was recorded.
void Ended(const Delivery& d) {
  if (d.retry_id != 0) d.context->journal->Ended(d.retry_id, d.sub->arn);
}

void Succeeded(Delivery& d) {
  Ended(d);
  CountDelivered(*d.sub, *d.context);
  Finished(d);
}

// No more tries: the dead-letter queue gets the message, if there is one.
void GiveUp(Delivery& d) {
  Ended(d);
  Counters& sub = d.sub->state->counters;
  Counters& topic = *d.context->topic_counters;
  sub.failed.fetch_add(1, std::memory_order_relaxed);
  topic.failed.fetch_add(1, std::memory_order_relaxed);
  if (!d.sub->dead_letter_arn.empty()) {
    std::shared_ptr<MessageSink> dlq = d.context->hub->FindSink(d.sub->dead_letter_arn);
    bool moved = false;
    if (dlq != nullptr) {
      SendMessageRequest request = d.dead_letter_request ? *d.dead_letter_request : d.request;
      if (!dlq->arn().ends_with(".fifo")) {
        request.message_group_id.reset();
        request.message_deduplication_id.reset();
      }
      moved = dlq->SendMessage(std::move(request)).ok();
    }
    (moved ? sub.redriven : sub.failed_to_redrive).fetch_add(1, std::memory_order_relaxed);
    (moved ? topic.redriven : topic.failed_to_redrive).fetch_add(1, std::memory_order_relaxed);
  }
  Finished(d);
}

void Failed(Delivery d, const absl::Status& status) {
  if (IsClientError(status)) return GiveUp(d);
  const RetryPolicy& retry = d.retry != nullptr ? *d.retry : d.sub->retry;
  std::optional<absl::Duration> delay = retry.DelayBefore(d.tries + 1);
  if (!delay) return GiveUp(d);
  if (*delay <= absl::ZeroDuration()) return Try(std::move(d));
  Clock& clock = d.context->hub->clock();
  const absl::Time due = clock.Now() + *delay;
  if (d.context->journal != nullptr && d.group.empty()) d.context->journal->Waiting(d, due);
  clock.ScheduleAt(due, [d = std::move(d)]() mutable { Try(std::move(d)); });
}

void Try(Delivery d) {
  if (!d.context->alive->load(std::memory_order_acquire)) return;  // the hub is gone
  const Subscription& sub = *d.sub;
  if (sub.state->removed.load(std::memory_order_acquire)) {
    // Unsubscribed (or its topic deleted) while this waited: no endpoint to try any more.
    Ended(d);
    sub.state->counters.failed.fetch_add(1, std::memory_order_relaxed);
    d.context->topic_counters->failed.fetch_add(1, std::memory_order_relaxed);
    return Finished(d);
  }
  ++d.tries;
  if (d.client_error) return GiveUp(d);
  if (LeavesAws(sub.protocol)) {
    // A recording endpoint: the message is "sent" when it is in the outbox, unless a test
    // made the endpoint fail.
    if (absl::Status down = d.context->endpoints->For(sub.endpoint); !down.ok()) {
      return Failed(std::move(d), down);
    }
    sub.state->outbox.Add({.protocol = sub.protocol,
                           .endpoint = sub.endpoint,
                           .type = "Notification",
                           .message_id = d.message_id,
                           .subject = d.subject,
                           .body = d.request.body,
                           .time = d.context->hub->clock().Now()});
    return Succeeded(d);
  }
  std::shared_ptr<MessageSink> sink = SinkOf(sub, *d.context);
  if (sink == nullptr) {
    // A queue deleted since it subscribed: a client error.
    return Failed(std::move(d), AwsError("NotFound", "The endpoint does not exist."));
  }
  SendMessageRequest request = d.request;
  sink->Deliver(std::move(request),
                [d = std::move(d)](absl::StatusOr<SendMessageResult> r) mutable {
                  if (r.ok()) {
                    Succeeded(d);
                  } else {
                    Failed(std::move(d), r.status());
                  }
                });
}

}  // namespace

std::optional<absl::Duration> RetryPolicy::DelayBefore(int n) const {
  if (n <= no_delay_tries) return absl::ZeroDuration();
  n -= no_delay_tries;
  if (n <= min_delay_tries) return min_delay;
  n -= min_delay_tries;
  if (n <= backoff_tries) {
    // Try n of the backoff phase goes from min_delay (the first) to max_delay (the last).
    const double lo = absl::ToDoubleSeconds(min_delay), hi = absl::ToDoubleSeconds(max_delay);
    const double f = backoff_tries == 1 ? 1.0 : static_cast<double>(n - 1) / (backoff_tries - 1);
    double seconds = lo + (hi - lo) * f;  // linear, arithmetic
    if ((backoff_function == "exponential" || backoff_function == "geometric") && lo > 0) {
      seconds = lo * std::pow(hi / lo, f);
    }
    return absl::Milliseconds(std::llround(seconds * 1000));
  }
  n -= backoff_tries;
  if (n <= max_delay_tries) return max_delay;
  return std::nullopt;
}

RetryPolicy RetryPolicy::ForHttp() {
  return {.no_delay_tries = 1,
          .min_delay_tries = 0,
          .min_delay = absl::Seconds(20),
          .backoff_tries = 3,
          .max_delay = absl::Seconds(20),
          .max_delay_tries = 0,
          .backoff_function = "linear"};
}

bool IsClientError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
      return true;
    default:
      return false;
  }
}

bool TryAtOnce(const Subscription& sub, const DeliveryContext& context, SendMessageRequest request,
               absl::Status& failure) {
  if (sub.state->removed.load(std::memory_order_acquire)) return false;
  std::shared_ptr<MessageSink> sink = SinkOf(sub, context);
  if (sink == nullptr || !sink->completes_at_once()) return false;
  absl::StatusOr<SendMessageResult> sent = sink->DeliverNow(std::move(request));
  if (!sent.ok()) {
    failure = sent.status();
    return false;
  }
  CountDelivered(sub, context);
  return true;
}

void AfterFailedTry(Delivery d, const absl::Status& failure) {
  d.tries = 1;
  Failed(std::move(d), failure);
}

void ResumeRetry(Delivery d, absl::Time due) {
  Clock& clock = d.context->hub->clock();
  clock.ScheduleAt(due, [d = std::move(d)]() mutable { Try(std::move(d)); });
}

void StartDelivery(Delivery d) {
  if (!d.group.empty()) {
    SubscriptionState& s = *d.sub->state;
    std::lock_guard lock(s.order_mu);
    auto [it, first] = s.in_progress.try_emplace(d.group);
    if (!first) {
      // Behind the group's delivery in progress (maybe waiting for a retry).
      it->second.push_back(std::move(d));
      return;
    }
  }
  Try(std::move(d));
}

}  // namespace courier::topic_internal
