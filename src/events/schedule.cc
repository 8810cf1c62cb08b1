#include "courier/schedule.h"

#include <absl/strings/ascii.h>
#include <absl/time/civil_time.h>

#include <array>
#include <bitset>
#include <string>
#include <utility>

#include "courier/status.h"

namespace courier {
namespace schedule_internal {

inline constexpr int kFirstYear = 1970;
inline constexpr int kLastYear = 2199;

// How the day fields choose days: exactly one of day-of-month and day-of-week is '?', so one rule.
enum class DayRule {
  kDaysOfMonth,         // days_of_month bits
  kLastDayOfMonth,      // L
  kLastWeekdayOfMonth,  // LW
  kNearestWeekday,      // nW: the weekday nearest day n, inside the month
  kDaysOfWeek,          // days_of_week bits
  kLastInMonth,         // nL: the last weekday n of the month
  kNthInMonth,          // n#k: the k-th weekday n of the month
};

struct CronFields {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bit d is day d (1-31)
  std::bitset<13> months;         // bit m is month m (1-12)
  std::bitset<8> days_of_week;    // bit w is AWS weekday w (1 = Sunday ... 7 = Saturday)
  std::bitset<kLastYear - kFirstYear + 1> years;  // bit i is year kFirstYear + i
  DayRule day_rule = DayRule::kDaysOfMonth;
  int rule_day = 0;      // n of nW
  int rule_weekday = 0;  // n of nL and n#k
  int rule_ordinal = 0;  // k of n#k
};

enum class Kind { kRate, kCron, kAt };

struct Compiled {
  Kind kind = Kind::kCron;
  std::string text;
  absl::TimeZone zone;
  absl::Duration interval;  // rate
  absl::Time anchor;        // rate
  absl::Time at;            // at
  CronFields cron;
};

}  // namespace schedule_internal

using schedule_internal::Compiled;
using schedule_internal::CronFields;
using schedule_internal::DayRule;
using schedule_internal::kFirstYear;
using schedule_internal::Kind;
using schedule_internal::kLastYear;

namespace {

absl::Status Invalid(std::string_view reason) {
  return AwsErrorF("ValidationException", "Parameter ScheduleExpression is not valid. {}", reason);
}

// ---------------------------------------------------------------------------------------------
// Parsing

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"SUN", "MON", "TUE", "WED",
                                                           "THU", "FRI", "SAT"};

struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  const std::string_view* names = nullptr;  // names[i] stands for min + i
  size_t name_count = 0;
};

constexpr FieldSpec kMinuteSpec{"minutes", 0, 59};
constexpr FieldSpec kHourSpec{"hours", 0, 23};
constexpr FieldSpec kDayOfMonthSpec{"day-of-month", 1, 31};
constexpr FieldSpec kMonthSpec{"month", 1, 12, kMonthNames.data(), kMonthNames.size()};
constexpr FieldSpec kDayOfWeekSpec{"day-of-week", 1, 7, kWeekdayNames.data(), kWeekdayNames.size()};
constexpr FieldSpec kYearSpec{"year", kFirstYear, kLastYear};

// (Debian's Abseil has its own string_view, so its string helpers do not take std's.)
bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A decimal number of at most 9 digits, which cannot overflow.
bool ParseDecimal(std::string_view s, int* out) {
  if (!AllDigits(s) || s.size() > 9) return false;
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  *out = value;
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (absl::ascii_toupper(static_cast<unsigned char>(a[i])) !=
        absl::ascii_toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The pieces of `s` between `separator`s; runs of separators give no empty pieces when
// `skip_empty`.
std::vector<std::string_view> Split(std::string_view s, char separator, bool skip_empty) {
  std::vector<std::string_view> pieces;
  for (;;) {
    size_t end = s.find(separator);
    std::string_view piece = s.substr(0, end);
    if (!piece.empty() || !skip_empty) pieces.push_back(piece);
    if (end == std::string_view::npos) return pieces;
    s.remove_prefix(end + 1);
  }
}

absl::StatusOr<int> ParseValue(std::string_view token, const FieldSpec& spec) {
  if (AllDigits(token)) {
    int value = 0;
    if (ParseDecimal(token, &value) && value >= spec.min && value <= spec.max) {
      return value;
    }
    return Invalid(fmt::format("The {} field takes values {}-{}, not {}.", spec.name, spec.min,
                               spec.max, token));
  }
  for (size_t i = 0; i < spec.name_count; ++i) {
    if (EqualsIgnoreCase(token, spec.names[i])) return spec.min + static_cast<int>(i);
  }
  return Invalid(fmt::format("The {} field has an invalid value {}.", spec.name, token));
}

// One comma-separated list of values, ranges (a-b), wildcards (*) and steps (*/n, a/n, a-b/n).
absl::Status ParseList(std::string_view field, const FieldSpec& spec, std::vector<int>* values) {
  for (std::string_view item : Split(field, ',', false)) {
    std::string_view base = item;
    int step = 1;
    bool stepped = false;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      base = item.substr(0, slash);
      std::string_view step_text = item.substr(slash + 1);
      if (!ParseDecimal(step_text, &step) || step < 1) {
        return Invalid(fmt::format("The {} field has an invalid step in {}.", spec.name, item));
      }
      stepped = true;
    }
    int first = spec.min;
    int last = spec.max;
    if (base != "*") {
      if (size_t dash = base.find('-'); dash != std::string_view::npos) {
        COURIER_ASSIGN_OR_RETURN(first, ParseValue(base.substr(0, dash), spec));
        COURIER_ASSIGN_OR_RETURN(last, ParseValue(base.substr(dash + 1), spec));
        if (first > last) {
          return Invalid(fmt::format("The {} field has a range that ends before it starts: {}.",
                                     spec.name, base));
        }
      } else {
        COURIER_ASSIGN_OR_RETURN(first, ParseValue(base, spec));
        last = stepped ? spec.max : first;  // a/n counts from a to the end
      }
    }
    for (int v = first; v <= last; v += step) values->push_back(v);
  }
  return absl::OkStatus();
}

template <size_t N>
absl::Status ParseBits(std::string_view field, const FieldSpec& spec, std::bitset<N>* bits,
                       int offset = 0) {
  std::vector<int> values;
  COURIER_RETURN_IF_ERROR(ParseList(field, spec, &values));
  for (int v : values) bits->set(static_cast<size_t>(v - offset));
  return absl::OkStatus();
}

absl::Status ParseDayOfMonth(std::string_view field, CronFields* cron) {
  if (field == "L") {
    cron->day_rule = DayRule::kLastDayOfMonth;
  } else if (field == "LW") {
    cron->day_rule = DayRule::kLastWeekdayOfMonth;
  } else if (field.size() > 1 && field.back() == 'W' &&
             AllDigits(field.substr(0, field.size() - 1))) {
    COURIER_ASSIGN_OR_RETURN(cron->rule_day,
                             ParseValue(field.substr(0, field.size() - 1), kDayOfMonthSpec));
    cron->day_rule = DayRule::kNearestWeekday;
  } else if (field.find_first_of("LW") != std::string_view::npos) {
    return Invalid(fmt::format("The day-of-month field takes L, LW or nW alone, not {}.", field));
  } else {
    cron->day_rule = DayRule::kDaysOfMonth;
    return ParseBits(field, kDayOfMonthSpec, &cron->days_of_month);
  }
  return absl::OkStatus();
}

absl::Status ParseDayOfWeek(std::string_view field, CronFields* cron) {
  if (size_t hash = field.find('#'); hash != std::string_view::npos) {
    if (field.find(',') != std::string_view::npos) {
      return Invalid("The day-of-week field allows only one # expression.");
    }
    COURIER_ASSIGN_OR_RETURN(cron->rule_weekday, ParseValue(field.substr(0, hash), kDayOfWeekSpec));
    std::string_view ordinal = field.substr(hash + 1);
    if (ordinal.size() != 1 || ordinal[0] < '1' || ordinal[0] > '5') {
      return Invalid(fmt::format("The day-of-week field takes n#1 to n#5, not {}.", field));
    }
    cron->rule_ordinal = ordinal[0] - '0';
    cron->day_rule = DayRule::kNthInMonth;
    return absl::OkStatus();
  }
  cron->day_rule = DayRule::kDaysOfWeek;
  if (field == "L") {  // the last day of the week: Saturday
    cron->days_of_week.set(7);
    return absl::OkStatus();
  }
  if (field.size() > 1 && field.back() == 'L') {
    std::string_view weekday = field.substr(0, field.size() - 1);
    if (weekday.find_first_of(",-/*") != std::string_view::npos) {
      return Invalid(fmt::format("The day-of-week field takes nL alone, not {}.", field));
    }
    COURIER_ASSIGN_OR_RETURN(cron->rule_weekday, ParseValue(weekday, kDayOfWeekSpec));
    cron->day_rule = DayRule::kLastInMonth;
    return absl::OkStatus();
  }
  return ParseBits(field, kDayOfWeekSpec, &cron->days_of_week);
}

absl::StatusOr<CronFields> ParseCron(std::string_view body) {
  std::vector<std::string_view> fields = Split(body, ' ', true);
  if (fields.size() != 6) {
    return Invalid(fmt::format("A cron expression has 6 fields, not {}.", fields.size()));
  }
  const std::string_view day_of_month = fields[2];
  const std::string_view day_of_week = fields[4];
  if ((day_of_month == "?") == (day_of_week == "?")) {
    return Invalid("Exactly one of the day-of-month and day-of-week fields must be ?.");
  }
  for (std::string_view field : {fields[0], fields[1], fields[3], fields[5]}) {
    if (field.find('?') != std::string_view::npos) {
      return Invalid("Only the day-of-month and day-of-week fields take ?.");
    }
  }
  CronFields cron;
  COURIER_RETURN_IF_ERROR(ParseBits(fields[0], kMinuteSpec, &cron.minutes));
  COURIER_RETURN_IF_ERROR(ParseBits(fields[1], kHourSpec, &cron.hours));
  COURIER_RETURN_IF_ERROR(ParseBits(fields[3], kMonthSpec, &cron.months));
  COURIER_RETURN_IF_ERROR(ParseBits(fields[5], kYearSpec, &cron.years, kFirstYear));
  if (day_of_month != "?") {
    COURIER_RETURN_IF_ERROR(ParseDayOfMonth(day_of_month, &cron));
  } else {
    COURIER_RETURN_IF_ERROR(ParseDayOfWeek(day_of_week, &cron));
  }
  return cron;
}

absl::StatusOr<absl::Duration> ParseRate(std::string_view body) {
  size_t space = body.find(' ');
  if (space == std::string_view::npos) {
    return Invalid("A rate is rate(value unit), e.g. rate(5 minutes).");
  }
  std::string_view value_text = body.substr(0, space);
  std::string_view unit = body.substr(space);
  while (unit.starts_with(' ')) unit.remove_prefix(1);
  int value = 0;
  if (!ParseDecimal(value_text, &value) || value < 1) {
    return Invalid("The rate value must be a positive integer.");
  }
  absl::Duration unit_length;
  std::string_view singular = unit;
  if (unit.ends_with('s')) singular.remove_suffix(1);
  if (singular == "minute") {
    unit_length = absl::Minutes(1);
  } else if (singular == "hour") {
    unit_length = absl::Hours(1);
  } else if (singular == "day") {
    unit_length = absl::Hours(24);
  } else {
    return Invalid("The rate unit must be minute(s), hour(s) or day(s).");
  }
  const bool plural = singular.size() != unit.size();
  if (plural != (value != 1)) {
    return Invalid(value == 1 ? "A rate of 1 takes a singular unit, e.g. rate(1 minute)."
                              : "A rate above 1 takes a plural unit, e.g. rate(5 minutes).");
  }
  return value * unit_length;
}

absl::StatusOr<absl::CivilSecond> ParseAt(std::string_view body) {
  // yyyy-mm-ddThh:mm:ss
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  bool shaped = body.size() == kShape.size();
  for (size_t i = 0; shaped && i < body.size(); ++i) {
    shaped = kShape[i] == 'd' ? absl::ascii_isdigit(static_cast<unsigned char>(body[i]))
                              : body[i] == kShape[i];
  }
  if (!shaped) return Invalid("A one-time schedule is at(yyyy-mm-ddThh:mm:ss).");
  auto number = [&](size_t pos, size_t len) {
    int v = 0;
    ParseDecimal(body.substr(pos, len), &v);
    return v;
  };
  const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  absl::CivilSecond civil(year, month, day, hour, minute, second);
  // Civil time normalizes out-of-range fields (month 13 becomes January): refuse those instead.
  if (civil.year() != year || civil.month() != month || civil.day() != day ||
      civil.hour() != hour || civil.minute() != minute || civil.second() != second) {
    return Invalid(fmt::format("{} is not a valid date and time.", body));
  }
  return civil;
}

// "name(body)" -> body when `text` has that form.
std::optional<std::string_view> Body(std::string_view text, std::string_view name) {
  if (text.size() < name.size() + 2 || !text.starts_with(name) || text[name.size()] != '(' ||
      text.back() != ')') {
    return std::nullopt;
  }
  return text.substr(name.size() + 1, text.size() - name.size() - 2);
}

// True for the shape of an IANA zone name ("America/New_York", "Etc/GMT+5"). Abseil would also
// load "localtime" and file paths, which depend on the machine, so those are refused first.
bool IsZoneName(std::string_view name) {
  if (name.empty() || name == "localtime" || name.front() == '/' ||
      name.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' &&
        c != '+') {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

// The instant a local time stands for, under the DST rule of the header.
absl::Time Resolve(absl::CivilSecond local, const absl::TimeZone& zone) {
  const absl::TimeZone::TimeInfo info = zone.At(local);
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

// AWS weekday numbering: 1 = Sunday ... 7 = Saturday.
int AwsWeekday(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::sunday:
      return 1;
    case absl::Weekday::monday:
      return 2;
    case absl::Weekday::tuesday:
      return 3;
    case absl::Weekday::wednesday:
      return 4;
    case absl::Weekday::thursday:
      return 5;
    case absl::Weekday::friday:
      return 6;
    case absl::Weekday::saturday:
      return 7;
  }
  return 0;
}

int DaysInMonth(absl::CivilDay day) {
  return static_cast<int>(absl::CivilDay(absl::CivilMonth(day) + 1) -
                          absl::CivilDay(absl::CivilMonth(day)));
}

// The weekday (Monday-Friday) nearest `target` in its month: a Saturday moves back to Friday
// and a Sunday on to Monday, unless that would leave the month.
int NearestWeekday(absl::CivilDay month_start, int target, int days_in_month) {
  const int weekday = AwsWeekday(month_start + (target - 1));
  if (weekday == 7) return target == 1 ? target + 2 : target - 1;
  if (weekday == 1) return target == days_in_month ? target - 2 : target + 1;
  return target;
}

bool DayMatches(const CronFields& cron, absl::CivilDay day) {
  const int dom = day.day();
  switch (cron.day_rule) {
    case DayRule::kDaysOfMonth:
      return cron.days_of_month.test(static_cast<size_t>(dom));
    case DayRule::kLastDayOfMonth:
      return dom == DaysInMonth(day);
    case DayRule::kLastWeekdayOfMonth: {
      const int last = DaysInMonth(day);
      return dom == NearestWeekday(absl::CivilDay(absl::CivilMonth(day)), last, last);
    }
    case DayRule::kNearestWeekday: {
      const int last = DaysInMonth(day);
      // A month shorter than the target day has no firing.
      return cron.rule_day <= last &&
             dom == NearestWeekday(absl::CivilDay(absl::CivilMonth(day)), cron.rule_day, last);
    }
    case DayRule::kDaysOfWeek:
      return cron.days_of_week.test(static_cast<size_t>(AwsWeekday(day)));
    case DayRule::kLastInMonth:
      return AwsWeekday(day) == cron.rule_weekday && dom + 7 > DaysInMonth(day);
    case DayRule::kNthInMonth:
      return AwsWeekday(day) == cron.rule_weekday && (dom - 1) / 7 + 1 == cron.rule_ordinal;
  }
  return false;
}

// The first set bit at or after `from`, or -1.
template <size_t N>
int NextBit(const std::bitset<N>& bits, int from) {
  for (int i = from; i < static_cast<int>(N); ++i) {
    if (bits.test(static_cast<size_t>(i))) return i;
  }
  return -1;
}

// The first local minute at or after `start` that the cron matches. Each step skips a whole
// year, month, day or hour that cannot match, so even a cron that never fires ends quickly at
// kLastYear.
std::optional<absl::CivilMinute> FirstMatchFrom(const CronFields& cron, absl::CivilMinute c) {
  if (c.year() < kFirstYear) c = absl::CivilMinute(kFirstYear, 1, 1, 0, 0);
  while (c.year() <= kLastYear) {
    const int year_index = static_cast<int>(c.year() - kFirstYear);
    if (!cron.years.test(static_cast<size_t>(year_index))) {
      const int next = NextBit(cron.years, year_index + 1);
      if (next < 0) return std::nullopt;
      c = absl::CivilMinute(kFirstYear + next, 1, 1, 0, 0);
      continue;
    }
    if (!cron.months.test(static_cast<size_t>(c.month()))) {
      c = absl::CivilMinute(absl::CivilMonth(c) + 1);
      continue;
    }
    if (!DayMatches(cron, absl::CivilDay(c))) {
      c = absl::CivilMinute(absl::CivilDay(c) + 1);
      continue;
    }
    const int hour = NextBit(cron.hours, c.hour());
    if (hour < 0) {
      c = absl::CivilMinute(absl::CivilDay(c) + 1);
      continue;
    }
    if (hour != c.hour()) {
      c = absl::CivilMinute(c.year(), c.month(), c.day(), hour, 0);
    }
    const int minute = NextBit(cron.minutes, c.minute());
    if (minute < 0) {
      c = absl::CivilMinute(absl::CivilHour(c) + 1);
      continue;
    }
    return absl::CivilMinute(c.year(), c.month(), c.day(), c.hour(), minute);
  }
  return std::nullopt;
}

// The first firing after `t`, or at `t` too when `inclusive`.
std::optional<absl::Time> Next(const Compiled& s, absl::Time t, bool inclusive) {
  auto after = [&](absl::Time x) { return x > t || (inclusive && x == t); };
  switch (s.kind) {
    case Kind::kAt:
      if (after(s.at)) return s.at;
      return std::nullopt;
    case Kind::kRate: {
      absl::Time first = s.anchor + s.interval;
      if (after(first)) return first;
      absl::Duration remainder;
      const int64_t k = absl::IDivDuration(t - s.anchor, s.interval, &remainder);
      absl::Time candidate = s.anchor + k * s.interval;  // <= t
      if (!after(candidate)) candidate += s.interval;
      if (candidate == absl::InfiniteFuture()) return std::nullopt;
      return candidate;
    }
    case Kind::kCron: {
      if (t == absl::InfiniteFuture()) return std::nullopt;
      // Resolve never maps a minute before t's own local minute past t, so start there.
      absl::CivilMinute c = absl::ToCivilMinute(t, s.zone);
      for (;;) {
        std::optional<absl::CivilMinute> match = FirstMatchFrom(s.cron, c);
        if (!match) return std::nullopt;
        const absl::Time firing = Resolve(absl::CivilSecond(*match), s.zone);
        // Minutes in a DST gap share their instant and a repeated hour maps to its first pass:
        // both can land at or before t, so look further.
        if (after(firing)) return firing;
        c = *match + 1;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

ScheduleExpression::ScheduleExpression(std::shared_ptr<const Compiled> compiled)
    : compiled_(std::move(compiled)) {}

absl::StatusOr<ScheduleExpression> ScheduleExpression::Parse(std::string_view expression,
                                                             std::string_view time_zone) {
  return Parse(expression, time_zone, absl::UnixEpoch());
}

absl::StatusOr<ScheduleExpression> ScheduleExpression::Parse(std::string_view expression,
                                                             std::string_view time_zone,
                                                             absl::Time anchor) {
  auto compiled = std::make_shared<Compiled>();
  compiled->text = std::string(expression);
  if (!IsZoneName(time_zone) || !absl::LoadTimeZone(std::string(time_zone), &compiled->zone)) {
    return AwsErrorF("ValidationException", "Invalid timezone {}.", time_zone);
  }
  if (std::optional<std::string_view> body = Body(expression, "rate")) {
    compiled->kind = Kind::kRate;
    COURIER_ASSIGN_OR_RETURN(compiled->interval, ParseRate(*body));
    compiled->anchor = anchor;
  } else if (std::optional<std::string_view> body = Body(expression, "cron")) {
    compiled->kind = Kind::kCron;
    COURIER_ASSIGN_OR_RETURN(compiled->cron, ParseCron(*body));
  } else if (std::optional<std::string_view> body = Body(expression, "at")) {
    compiled->kind = Kind::kAt;
    COURIER_ASSIGN_OR_RETURN(absl::CivilSecond local, ParseAt(*body));
    compiled->at = Resolve(local, compiled->zone);
  } else {
    return Invalid("It must be rate(...), cron(...) or at(...).");
  }
  return ScheduleExpression(std::move(compiled));
}

std::optional<absl::Time> ScheduleExpression::NextAfter(absl::Time t) const {
  return Next(*compiled_, t, /*inclusive=*/false);
}

std::vector<absl::Time> ScheduleExpression::FiringsBetween(absl::Time from, absl::Time to,
                                                           size_t limit) const {
  std::vector<absl::Time> firings;
  for (std::optional<absl::Time> t = Next(*compiled_, from, /*inclusive=*/true);
       t && *t < to && firings.size() < limit; t = Next(*compiled_, *t, /*inclusive=*/false)) {
    firings.push_back(*t);
  }
  return firings;
}

bool ScheduleExpression::is_rate() const { return compiled_->kind == Kind::kRate; }
bool ScheduleExpression::is_at() const { return compiled_->kind == Kind::kAt; }
bool ScheduleExpression::is_cron() const { return compiled_->kind == Kind::kCron; }
std::string_view ScheduleExpression::text() const { return compiled_->text; }

}  // namespace courier
