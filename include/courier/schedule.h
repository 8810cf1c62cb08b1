// EventBridge schedule expressions: rate(...), cron(...) and at(...), compiled once and asked
// for their firing times. Pure computation: no clock, no threads.
//
// Cron and at are read in the local time of the schedule's IANA time zone.
// DST rule: a local time skipped by a spring-forward fires once at the transition instant; a
// local time repeated by a fall-back fires once, at its first occurrence.
//
// Example:
//   auto daily = courier::ScheduleExpression::Parse("cron(0 12 * * ? *)", "Europe/Paris");
//   std::optional<absl::Time> next = daily->NextAfter(absl::Now());  // the next 12:00 in Paris
//
//   auto every5 = courier::ScheduleExpression::Parse("rate(5 minutes)", "UTC", created_at);
//   // every5 fires at created_at + 5 min, + 10 min, ...
#ifndef COURIER_SCHEDULE_H_
#define COURIER_SCHEDULE_H_

#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace courier {

namespace schedule_internal {
struct Compiled;
}  // namespace schedule_internal

// A compiled schedule expression. Immutable; copies share the compiled form. Thread-safe.
class ScheduleExpression {
 public:
  // Compiles `expression` for `time_zone` (an IANA name). A malformed expression is
  // ValidationException "Parameter ScheduleExpression is not valid. <reason>"; an unknown zone
  // is ValidationException "Invalid timezone ...". A rate counts from the Unix epoch.
  static absl::StatusOr<ScheduleExpression> Parse(std::string_view expression,
                                                  std::string_view time_zone = "UTC");
  // The same, a rate counting from `anchor` (the rule's creation): it fires at anchor + k *
  // interval for k >= 1. Cron and at ignore the anchor.
  static absl::StatusOr<ScheduleExpression> Parse(std::string_view expression,
                                                  std::string_view time_zone, absl::Time anchor);

  // The first firing strictly after `t`; nullopt when there is none (an at() in the past, a cron
  // whose years are exhausted or that never matches, which is known by year 2199).
  std::optional<absl::Time> NextAfter(absl::Time t) const;

  // The firings in [from, to), in order, at most `limit` of them.
  std::vector<absl::Time> FiringsBetween(absl::Time from, absl::Time to,
                                         size_t limit = 100000) const;

  bool is_rate() const;
  bool is_at() const;
  bool is_cron() const;
  // The expression as given to Parse.
  std::string_view text() const;

 private:
  explicit ScheduleExpression(std::shared_ptr<const schedule_internal::Compiled> compiled);
  std::shared_ptr<const schedule_internal::Compiled> compiled_;
};

}  // namespace courier

#endif  // COURIER_SCHEDULE_H_
