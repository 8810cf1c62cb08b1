// JSON helpers of the states component: AWS-style equality, sizes and timestamps (the text is
// courier::ToJsonText).
#ifndef COURIER_SRC_STATES_JSON_UTIL_H_
#define COURIER_SRC_STATES_JSON_UTIL_H_

#include <absl/time/time.h>

#include <optional>
#include <string>
#include <string_view>

#include "courier/json.h"

namespace courier::states_internal {

// Deep equality where numbers compare by value (1 == 1.0), object key order is irrelevant.
bool JsonEquals(const Json& a, const Json& b);

// True when the compact text of `value` is longer than `limit` bytes; stops early.
bool JsonLargerThan(const Json& value, size_t limit);

// A number as a double (callers check is_number()).
double AsDouble(const Json& v);
// An integral number (1, 1.0) as int64; nullopt for anything else.
std::optional<int64_t> AsInteger(const Json& v);

// RFC 3339 with 'T' and an offset or 'Z' (fractional seconds allowed); nullopt if malformed.
std::optional<absl::Time> ParseTimestamp(std::string_view text);
// 2026-01-01T00:00:00.000Z
std::string FormatTimestamp(absl::Time t);

// The type name AWS uses in messages ("string", "number", ...).
std::string_view JsonTypeName(const Json& v);

}  // namespace courier::states_internal

#endif  // COURIER_SRC_STATES_JSON_UTIL_H_
