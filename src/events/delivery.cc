// Delivery of one event to one target (bus_state.h): the try, the retries on the hub's clock
// within the target's RetryPolicy, the dead-letter queue with the attributes EventBridge adds,
// and the counters.
#include <fmt/format.h>

#include <algorithm>

#include "courier/hub.h"
#include "courier/status.h"
#include "events/bus_state.h"

namespace courier::events_internal {
namespace {

void Try(const DeliveryView& d);

// EventBridge's ERROR_CODE for a target's failure, and whether it is worth a retry: a missing
// resource, a refused permission or a request the target rejects fails the same way again.
struct Failure {
  std::string_view code;
  bool retriable;
};

Failure Classify(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return {"NO_RESOURCE", false};
    case absl::StatusCode::kPermissionDenied:
      return {"NO_PERMISSIONS", false};
    case absl::StatusCode::kAlreadyExists:
      return {"RESOURCE_ALREADY_EXISTS", false};
    case absl::StatusCode::kInvalidArgument:
      return {"SDK_CLIENT_ERROR", false};
    case absl::StatusCode::kResourceExhausted:
      return {"THROTTLING", true};
    case absl::StatusCode::kDeadlineExceeded:
      return {"TIMEOUT", true};
    default:
      return {"INTERNAL_ERROR", true};
  }
}

// The wait before retry `n` (1, 2, ...): exponential from 1 s, at most 5 minutes, with a jitter
// of up to half the wait taken from the event and the try, so a test's clock sees the same
// times on every run.
absl::Duration Backoff(const Delivery& d, int n) {
  const double base = std::min(300.0, static_cast<double>(int64_t{1} << std::min(n - 1, 9)));
  const uint64_t h = StableHash(d.target->spec.id + *d.event, n);
  const double jitter = static_cast<double>(h % 1000) / 1000.0;  // [0, 1)
  return absl::Milliseconds(std::llround(base * (1.0 - 0.5 * jitter) * 1000));
}

void GiveUp(Delivery& d, const absl::Status& status, std::string_view exhausted) {
  if (d.retry_id != 0) d.target->journal->Ended(d.retry_id, d.rule->arn);
  TargetCounters& c = *d.target->counters;
  c.invocations.fetch_add(1, std::memory_order_relaxed);
  c.failed.fetch_add(1, std::memory_order_relaxed);
  if (!d.target->spec.dead_letter_arn) return;
  std::shared_ptr<MessageSink> dlq = d.hub->FindSink(*d.target->spec.dead_letter_arn);
  bool sent = false;
  if (dlq != nullptr) {
    std::string message(status.message());
    if (std::string_view name = ErrorName(status); !name.empty()) {
      message.erase(0, std::min(message.size(), name.size() + 2));  // "<name>: "
    }
    SendMessageRequest request{.body = *d.event};
    request.attributes = {
        {"ERROR_CODE", MessageAttribute::String(std::string(Classify(status).code))},
        {"ERROR_MESSAGE", MessageAttribute::String(message.empty() ? "unknown" : message)},
        {"RULE_ARN", MessageAttribute::String(d.rule->arn)},
        {"TARGET_ARN", MessageAttribute::String(d.target->spec.arn)},
        {"RETRY_ATTEMPTS", MessageAttribute::Number(std::to_string(d.attempts - 1))},
    };
    if (!exhausted.empty()) {
      request.attributes["EXHAUSTED_RETRY_CONDITION"] =
          MessageAttribute::String(std::string(exhausted));
    }
    sent = dlq->SendMessage(std::move(request)).ok();
  }
  (sent ? c.sent_to_dlq : c.failed_to_dlq).fetch_add(1, std::memory_order_relaxed);
}

void Failed(Delivery d, const absl::Status& status) {
  if (!Classify(status).retriable) return GiveUp(d, status, "");
  const int retries = d.attempts - 1;
  if (retries >= d.target->retry.maximum_retry_attempts) {
    return GiveUp(d, status, "MaximumRetryAttempts");
  }
  Clock& clock = d.hub->clock();
  const absl::Duration wait = Backoff(d, d.attempts);
  if (clock.Now() + wait - d.ingested > d.target->retry.maximum_event_age) {
    return GiveUp(d, status, "MaximumEventAgeInSeconds");
  }
  d.target->counters->retries.fetch_add(1, std::memory_order_relaxed);
  const absl::Time due = clock.Now() + wait;
  if (d.target->journal != nullptr) d.target->journal->Waiting(d, due, status);
  clock.ScheduleAt(due, [d = std::move(d)] { Try(View(d)); });
}

// The end of try number `attempts`.
void Done(const DeliveryView& d, int attempts, const absl::StatusOr<SendMessageResult>& r) {
  if (r.ok()) {
    d.target->counters->invocations.fetch_add(1, std::memory_order_relaxed);
    if (d.retry_id != 0) d.target->journal->Ended(d.retry_id, d.rule->arn);
  } else {
    Failed(Own(d, attempts), r.status());
  }
}

std::string_view AccountOf(std::string_view arn) {
  // arn:aws:service:region:account:...
  size_t at = 0;
  for (int i = 0; i < 4 && at != std::string_view::npos; ++i) at = arn.find(':', at + 1);
  if (at == std::string_view::npos) return {};
  std::string_view rest = arn.substr(at + 1);
  return rest.substr(0, rest.find(':'));
}

void Try(const DeliveryView& d) {
  if (!d.alive->load(std::memory_order_acquire)) return;  // the hub is gone
  const int attempts = d.attempts + 1;
  const CompiledTarget& target = *d.target;
  std::shared_ptr<MessageSink> sink = target.sink.lock();
  const bool bus = target.spec.arn.starts_with("arn:aws:events:");
  if (sink == nullptr || sink->deleted()) {
    sink = bus ? FindBusAnywhere(*d.hub, target.spec.arn) : d.hub->FindSink(target.spec.arn);
  }
  if (sink == nullptr) {
    return Failed(Own(d, attempts), AwsErrorF("ResourceNotFoundException",
                                              "The target {} does not exist.", target.spec.arn));
  }
  if (bus && AccountOf(target.spec.arn) != d.hub->environment().account &&
      !AllowsPutEventsFrom(*sink, d.hub->environment().account)) {
    return Failed(Own(d, attempts),
                  AwsErrorF("AccessDeniedException",
                            "The event bus {} does not allow events from account {}.",
                            target.spec.arn, d.hub->environment().account));
  }
  SendMessageRequest request{.body = *d.body};
  request.message_group_id = target.spec.message_group_id;
  if (sink->completes_at_once()) {
    return Done(d, attempts, sink->DeliverNow(std::move(request)));
  }
  sink->Deliver(std::move(request),
                [owned = Own(d, attempts)](const absl::StatusOr<SendMessageResult>& r) {
                  Done(View(owned), owned.attempts, r);
                });
}

}  // namespace

void Deliver(const DeliveryView& d) { Try(d); }

void ResumeRetry(Delivery d, absl::Time due, absl::Status last_failure) {
  Clock& clock = d.hub->clock();
  clock.ScheduleAt(due, [d = std::move(d), last_failure = std::move(last_failure)]() mutable {
    if (!d.alive->load(std::memory_order_acquire)) return;
    // The hub was down past the event's age: EventBridge would have tried no more.
    if (d.hub->clock().Now() - d.ingested > d.target->retry.maximum_event_age) {
      return GiveUp(d, last_failure, "MaximumEventAgeInSeconds");
    }
    Try(View(d));
  });
}

}  // namespace courier::events_internal
