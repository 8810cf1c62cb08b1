// ScheduleExpression: exact firing times of rate, cron and at expressions, in UTC and across DST
// transitions, and the expressions AWS refuses.
#include "courier/schedule.h"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "courier/status.h"

namespace courier {
namespace {

absl::Time Utc(int year, int month, int day, int hour = 0, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(year, month, day, hour, minute), absl::UTCTimeZone());
}

ScheduleExpression Compile(std::string_view expression, std::string_view zone = "UTC") {
  absl::StatusOr<ScheduleExpression> s = ScheduleExpression::Parse(expression, zone);
  INFO(expression << ": " << s.status().ToString());
  REQUIRE(s.ok());
  return *s;
}

// The first `n` firings after `t`.
std::vector<absl::Time> Firings(const ScheduleExpression& s, absl::Time t, int n) {
  std::vector<absl::Time> out;
  for (int i = 0; i < n; ++i) {
    std::optional<absl::Time> next = s.NextAfter(t);
    if (!next) break;
    out.push_back(*next);
    t = *next;
  }
  return out;
}

using Times = std::vector<absl::Time>;

TEST_CASE("rate fires every interval from its anchor", "[schedule]") {
  const absl::Time anchor = Utc(2027, 1, 1, 10, 3) + absl::Seconds(17);
  auto s = ScheduleExpression::Parse("rate(5 minutes)", "UTC", anchor);
  REQUIRE(s.ok());
  CHECK(s->is_rate());
  CHECK_FALSE(s->is_at());
  CHECK(s->text() == "rate(5 minutes)");
  const absl::Time first = Utc(2027, 1, 1, 10, 8) + absl::Seconds(17);
  CHECK(s->NextAfter(anchor) == first);
  CHECK(s->NextAfter(Utc(2026, 1, 1)) == first);
  CHECK(s->NextAfter(first) == Utc(2027, 1, 1, 10, 13) + absl::Seconds(17));
  CHECK(s->NextAfter(Utc(2027, 1, 1, 11, 0)) == Utc(2027, 1, 1, 11, 3) + absl::Seconds(17));
  CHECK(s->FiringsBetween(first, Utc(2027, 1, 1, 10, 18) + absl::Seconds(17)) ==
        Times{Utc(2027, 1, 1, 10, 8) + absl::Seconds(17),
              Utc(2027, 1, 1, 10, 13) + absl::Seconds(17)});

  auto hourly = ScheduleExpression::Parse("rate(1 hour)", "UTC", Utc(2027, 6, 1, 0, 30));
  REQUIRE(hourly.ok());
  CHECK(hourly->NextAfter(Utc(2027, 6, 1, 5, 30)) == Utc(2027, 6, 1, 6, 30));
  auto daily = ScheduleExpression::Parse("rate(2 days)", "UTC", Utc(2027, 6, 1));
  REQUIRE(daily.ok());
  CHECK(daily->NextAfter(Utc(2027, 6, 1)) == Utc(2027, 6, 3));
  CHECK(Compile("rate(1 minute)").NextAfter(Utc(2027, 6, 1, 0, 0)) == Utc(2027, 6, 1, 0, 1));
  CHECK(Compile("rate(1 day)").is_rate());
}

TEST_CASE("cron: daily, every 15 minutes, weekdays, first of the month", "[schedule]") {
  ScheduleExpression noon = Compile("cron(0 12 * * ? *)");
  CHECK(noon.is_cron());
  CHECK(noon.NextAfter(Utc(2027, 3, 10, 11, 59)) == Utc(2027, 3, 10, 12, 0));
  CHECK(noon.NextAfter(Utc(2027, 3, 10, 12, 0)) == Utc(2027, 3, 11, 12, 0));
  CHECK(noon.NextAfter(Utc(2027, 12, 31, 12, 0)) == Utc(2028, 1, 1, 12, 0));

  ScheduleExpression quarter = Compile("cron(0/15 * * * ? *)");
  CHECK(Firings(quarter, Utc(2027, 3, 10, 23, 40), 3) ==
        Times{Utc(2027, 3, 10, 23, 45), Utc(2027, 3, 11, 0, 0), Utc(2027, 3, 11, 0, 15)});
  CHECK(quarter.NextAfter(Utc(2027, 3, 10, 23, 40) + absl::Seconds(30)) ==
        Utc(2027, 3, 10, 23, 45));

  // 2027-01-01 is a Friday.
  ScheduleExpression weekdays = Compile("cron(0 18 ? * MON-FRI *)");
  CHECK(Firings(weekdays, Utc(2027, 1, 1, 12), 3) ==
        Times{Utc(2027, 1, 1, 18), Utc(2027, 1, 4, 18), Utc(2027, 1, 5, 18)});
  CHECK(Compile("cron(0 18 ? * mon-fri *)").NextAfter(Utc(2027, 1, 1, 18)) == Utc(2027, 1, 4, 18));

  ScheduleExpression monthly = Compile("cron(0 8 1 * ? *)");
  CHECK(Firings(monthly, Utc(2027, 1, 1, 8), 2) == Times{Utc(2027, 2, 1, 8), Utc(2027, 3, 1, 8)});

  CHECK(Firings(Compile("cron(10-50/20 9,17 * JAN-mar ? *)"), Utc(2027, 3, 31, 12), 4) ==
        Times{Utc(2027, 3, 31, 17, 10), Utc(2027, 3, 31, 17, 30), Utc(2027, 3, 31, 17, 50),
              Utc(2028, 1, 1, 9, 10)});
  CHECK(Compile("cron(*/5 * * * ? *)").NextAfter(Utc(2027, 1, 1, 0, 3)) == Utc(2027, 1, 1, 0, 5));
}

TEST_CASE("cron: L, LW and nW in day-of-month", "[schedule]") {
  ScheduleExpression last = Compile("cron(0 0 L * ? *)");
  CHECK(last.NextAfter(Utc(2028, 2, 1)) == Utc(2028, 2, 29));
  CHECK(last.NextAfter(Utc(2027, 2, 1)) == Utc(2027, 2, 28));
  CHECK(last.NextAfter(Utc(2027, 2, 28)) == Utc(2027, 3, 31));

  // 2027-01-31 is a Sunday, 2027-04-30 a Friday, 2027-07-31 a Saturday.
  ScheduleExpression last_weekday = Compile("cron(0 0 LW * ? *)");
  CHECK(last_weekday.NextAfter(Utc(2027, 1, 1)) == Utc(2027, 1, 29));
  CHECK(last_weekday.NextAfter(Utc(2027, 4, 1)) == Utc(2027, 4, 30));
  CHECK(last_weekday.NextAfter(Utc(2027, 7, 1)) == Utc(2027, 7, 30));

  // 2027-05-15 is a Saturday, 2027-08-15 a Sunday, 2027-06-15 a Tuesday.
  ScheduleExpression fifteenth = Compile("cron(0 9 15W * ? *)");
  CHECK(fifteenth.NextAfter(Utc(2027, 5, 1)) == Utc(2027, 5, 14, 9));
  CHECK(fifteenth.NextAfter(Utc(2027, 8, 1)) == Utc(2027, 8, 16, 9));
  CHECK(fifteenth.NextAfter(Utc(2027, 6, 1)) == Utc(2027, 6, 15, 9));

  // 2027-05-01 is a Saturday: the nearest weekday in May is Monday the 3rd.
  ScheduleExpression first = Compile("cron(0 9 1W * ? *)");
  CHECK(first.NextAfter(Utc(2027, 4, 2)) == Utc(2027, 5, 3, 9));
  CHECK(first.NextAfter(Utc(2027, 5, 3, 9)) == Utc(2027, 6, 1, 9));

  // 31W: months of 30 days or fewer have no firing.
  CHECK(Compile("cron(0 0 31W * ? *)").NextAfter(Utc(2027, 4, 1)) == Utc(2027, 5, 31));
}

TEST_CASE("cron: nL and n# in day-of-week", "[schedule]") {
  ScheduleExpression last_friday = Compile("cron(0 10 ? * 6L *)");
  CHECK(Firings(last_friday, Utc(2027, 1, 1), 2) ==
        Times{Utc(2027, 1, 29, 10), Utc(2027, 2, 26, 10)});

  ScheduleExpression first_monday = Compile("cron(0 10 ? * 2#1 *)");
  CHECK(Firings(first_monday, Utc(2027, 1, 1), 2) ==
        Times{Utc(2027, 1, 4, 10), Utc(2027, 2, 1, 10)});
  CHECK(Compile("cron(0 10 ? * MON#1 *)").NextAfter(Utc(2027, 1, 1)) == Utc(2027, 1, 4, 10));

  // Fifth Fridays of 2027: January 29, April 30, July 30, October 29, December 31.
  ScheduleExpression fifth_friday = Compile("cron(0 10 ? * 6#5 *)");
  CHECK(Firings(fifth_friday, Utc(2027, 1, 1), 5) ==
        Times{Utc(2027, 1, 29, 10), Utc(2027, 4, 30, 10), Utc(2027, 7, 30, 10),
              Utc(2027, 10, 29, 10), Utc(2027, 12, 31, 10)});

  // L alone is the last day of the week, Saturday. 2027-01-02 is a Saturday.
  CHECK(Compile("cron(0 0 ? * L *)").NextAfter(Utc(2027, 1, 1)) == Utc(2027, 1, 2));
}

TEST_CASE("cron: a year range ends, an impossible date never fires", "[schedule]") {
  ScheduleExpression years = Compile("cron(0 0 1 1 ? 2027-2028)");
  CHECK(years.NextAfter(Utc(2020, 5, 5)) == Utc(2027, 1, 1));
  CHECK(years.NextAfter(Utc(2027, 1, 1)) == Utc(2028, 1, 1));
  CHECK(years.NextAfter(Utc(2028, 1, 1)) == std::nullopt);

  // Both walk every day of the allowed months up to 2199 and still end at once.
  CHECK(Compile("cron(0 0 30 2 ? *)").NextAfter(Utc(2027, 1, 1)) == std::nullopt);
  CHECK(Compile("cron(* * 31 2,4,6,9,11 ? *)").NextAfter(Utc(1970, 1, 1)) == std::nullopt);
  CHECK(Compile("cron(0 0 ? 2 2#5 2199)").NextAfter(Utc(2027, 1, 1)) == std::nullopt);
  CHECK(Compile("cron(59 23 31 12 ? *)").NextAfter(Utc(2199, 12, 31, 23, 59)) == std::nullopt);
}

TEST_CASE("at fires once, in its time zone", "[schedule]") {
  ScheduleExpression utc = Compile("at(2027-06-01T12:30:15)");
  CHECK(utc.is_at());
  const absl::Time when = Utc(2027, 6, 1, 12, 30) + absl::Seconds(15);
  CHECK(utc.NextAfter(Utc(2027, 1, 1)) == when);
  CHECK(utc.NextAfter(when) == std::nullopt);
  CHECK(utc.FiringsBetween(when, when + absl::Seconds(1)) == Times{when});

  CHECK(Compile("at(2027-06-01T12:00:00)", "America/New_York").NextAfter(Utc(2027, 1, 1)) ==
        Utc(2027, 6, 1, 16, 0));
  // 02:30 does not exist on 2027-03-14 in New York: it fires at the jump, 03:00 EDT.
  CHECK(Compile("at(2027-03-14T02:30:00)", "America/New_York").NextAfter(Utc(2027, 1, 1)) ==
        Utc(2027, 3, 14, 7, 0));
  // 01:30 happens twice on 2027-11-07: the first, EDT.
  CHECK(Compile("at(2027-11-07T01:30:00)", "America/New_York").NextAfter(Utc(2027, 1, 1)) ==
        Utc(2027, 11, 7, 5, 30));
}

TEST_CASE("cron across DST transitions", "[schedule]") {
  // New York, 2027-03-14: 02:00 EST jumps to 03:00 EDT (07:00Z).
  ScheduleExpression spring = Compile("cron(30 2 * * ? *)", "America/New_York");
  CHECK(Firings(spring, Utc(2027, 3, 13), 3) ==
        Times{Utc(2027, 3, 13, 7, 30), Utc(2027, 3, 14, 7, 0), Utc(2027, 3, 15, 6, 30)});
  // Every minute: the skipped hour fires once, at the jump, together with 03:00 itself.
  ScheduleExpression every_minute = Compile("cron(* * * * ? *)", "America/New_York");
  CHECK(every_minute.FiringsBetween(Utc(2027, 3, 14, 6, 58), Utc(2027, 3, 14, 7, 2)) ==
        Times{Utc(2027, 3, 14, 6, 58), Utc(2027, 3, 14, 6, 59), Utc(2027, 3, 14, 7, 0),
              Utc(2027, 3, 14, 7, 1)});

  // New York, 2027-11-07: 02:00 EDT falls back to 01:00 EST; 01:30 fires at 01:30 EDT only.
  ScheduleExpression fall = Compile("cron(30 1 * * ? *)", "America/New_York");
  CHECK(Firings(fall, Utc(2027, 11, 6), 3) ==
        Times{Utc(2027, 11, 6, 5, 30), Utc(2027, 11, 7, 5, 30), Utc(2027, 11, 8, 6, 30)});
  CHECK(fall.NextAfter(Utc(2027, 11, 7, 6, 0)) == Utc(2027, 11, 8, 6, 30));
  // The repeated hour fires once: nothing between 06:00Z and 07:00Z.
  CHECK(every_minute.FiringsBetween(Utc(2027, 11, 7, 5, 58), Utc(2027, 11, 7, 7, 1)) ==
        Times{Utc(2027, 11, 7, 5, 58), Utc(2027, 11, 7, 5, 59), Utc(2027, 11, 7, 7, 0)});
  CHECK(every_minute.NextAfter(Utc(2027, 11, 7, 5, 59)) == Utc(2027, 11, 7, 7, 0));

  // London, 2027-03-28: 01:00 GMT jumps to 02:00 BST; 2027-10-31: 02:00 BST falls to 01:00 GMT.
  ScheduleExpression london = Compile("cron(30 1 * * ? *)", "Europe/London");
  CHECK(Firings(london, Utc(2027, 3, 27), 3) ==
        Times{Utc(2027, 3, 27, 1, 30), Utc(2027, 3, 28, 1, 0), Utc(2027, 3, 29, 0, 30)});
  CHECK(Firings(london, Utc(2027, 10, 30), 3) ==
        Times{Utc(2027, 10, 30, 0, 30), Utc(2027, 10, 31, 0, 30), Utc(2027, 11, 1, 1, 30)});

  // A day-of-week schedule reads the local day: 23:00 Saturday in New York is Sunday in UTC.
  CHECK(Compile("cron(0 23 ? * SAT *)", "America/New_York").NextAfter(Utc(2027, 1, 1)) ==
        Utc(2027, 1, 3, 4, 0));
}

TEST_CASE("FiringsBetween counts a year of firings", "[schedule]") {
  ScheduleExpression midnight = Compile("cron(0 0 * * ? *)");
  CHECK(midnight.FiringsBetween(Utc(2027, 1, 1), Utc(2028, 1, 1)).size() == 365);
  CHECK(midnight.FiringsBetween(Utc(2028, 1, 1), Utc(2029, 1, 1)).size() == 366);
  std::vector<absl::Time> days = midnight.FiringsBetween(Utc(2027, 1, 1), Utc(2028, 1, 1));
  REQUIRE(!days.empty());
  CHECK(days.front() == Utc(2027, 1, 1));
  CHECK(days.back() == Utc(2027, 12, 31));
  CHECK(midnight.FiringsBetween(Utc(2027, 1, 1), Utc(2028, 1, 1), 10).size() == 10);

  ScheduleExpression five = Compile("cron(0/5 * * * ? *)");
  std::vector<absl::Time> all = five.FiringsBetween(Utc(2027, 1, 1), Utc(2028, 1, 1), 200000);
  CHECK(all.size() == 105120);
  REQUIRE(!all.empty());
  CHECK(all.back() == Utc(2027, 12, 31, 23, 55));

  // New York's 2027 has one 23-hour and one 25-hour day, yet 365 local midnights.
  CHECK(Compile("cron(0 0 * * ? *)", "America/New_York")
            .FiringsBetween(Utc(2027, 1, 1, 5), Utc(2028, 1, 1, 5))
            .size() == 365);
}

TEST_CASE("malformed expressions are ValidationException", "[schedule]") {
  for (const char* expression : {"rate(1 minutes)",
                                 "rate(5 minute)",
                                 "rate(0 minutes)",
                                 "rate(-1 minutes)",
                                 "rate(5 seconds)",
                                 "rate(5minutes)",
                                 "rate(1.5 hours)",
                                 "rate()",
                                 "cron(0 12 * * *)",
                                 "cron(0 12 * * * *)",
                                 "cron(0 12 ? * ? *)",
                                 "cron(60 * * * ? *)",
                                 "cron(0 24 * * ? *)",
                                 "cron(0 0 32 * ? *)",
                                 "cron(0 0 0 * ? *)",
                                 "cron(0 0 * 13 ? *)",
                                 "cron(0 0 ? * 8 *)",
                                 "cron(0 0 ? * 0 *)",
                                 "cron(0 0 1 1 ? 1969)",
                                 "cron(0 0 1 1 ? 2200)",
                                 "cron(0 0 ? * 2#6 *)",
                                 "cron(0 0 ? * 2#0 *)",
                                 "cron(0 0 ? * MON#1,2 *)",
                                 "cron(0 0 L-2 * ? *)",
                                 "cron(0 0 L,5 * ? *)",
                                 "cron(0 0 1 JANUARY ? *)",
                                 "cron(0/0 * * * ? *)",
                                 "cron(? 0 1 * ? *)",
                                 "cron(0 0 1 * ? * *)",
                                 "at(2027-13-01T00:00:00)",
                                 "at(2027-02-30T00:00:00)",
                                 "at(2027-01-01)",
                                 "at(2027-01-01 00:00:00)",
                                 "every day",
                                 "",
                                 "cron(0 12 * * ? *"}) {
    absl::StatusOr<ScheduleExpression> s = ScheduleExpression::Parse(expression);
    INFO(expression);
    REQUIRE_FALSE(s.ok());
    CHECK(ErrorName(s.status()) == "ValidationException");
    CHECK(std::string(ErrorMessage(s.status()))
              .starts_with("Parameter ScheduleExpression is not valid."));
  }
}

TEST_CASE("an unknown time zone is refused", "[schedule]") {
  // Abseil would load the machine's own zone for "localtime" and read any file given by path.
  for (const char* zone : {"Mars/Base", "", "localtime", "/etc/localtime",
                           "../../../../etc/localtime", "America/New York"}) {
    absl::StatusOr<ScheduleExpression> s = ScheduleExpression::Parse("rate(5 minutes)", zone);
    INFO(zone);
    REQUIRE_FALSE(s.ok());
    CHECK(ErrorName(s.status()) == "ValidationException");
    CHECK(std::string(ErrorMessage(s.status())).starts_with("Invalid timezone"));
  }
  CHECK(Compile("cron(0 12 * * ? *)", "Etc/GMT+5").NextAfter(Utc(2027, 1, 1)) ==
        Utc(2027, 1, 1, 17, 0));
  CHECK(ScheduleExpression::Parse("cron(0 12 * * ? *)", "Europe/Paris").ok());
}

}  // namespace
}  // namespace courier
