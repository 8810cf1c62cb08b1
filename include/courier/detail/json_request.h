// Request members of AWS's JSON protocol (awsJson1.0/1.1: Step Functions, EventBridge), read as
// those services check them: a missing required member is a ValidationException ("1 validation
// error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"),
// a member of the wrong JSON type a SerializationException. A JSON null counts as absent.
// Not API: the services' operation tables share it.
//
// Example:
//   COURIER_ASSIGN_OR_RETURN(std::string name, detail::RequiredString(request, "Name", 64));
//   COURIER_ASSIGN_OR_RETURN(std::optional<bool> force, detail::OptionalBool(request, "Force"));
#ifndef COURIER_DETAIL_JSON_REQUEST_H_
#define COURIER_DETAIL_JSON_REQUEST_H_

#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/json.h"

namespace courier::detail {

// "1 validation error detected: Value <value> at '<name>' failed to satisfy constraint: ...".
absl::Status InvalidMember(std::string_view value, std::string_view name,
                           std::string_view constraint);
absl::Status MissingMember(std::string_view name);
absl::Status WrongType(std::string_view name, std::string_view type);

// The member, or nullptr when absent or null.
const Json* Member(const JsonObject& o, std::string_view name);

// A string of `min` to `max` characters; nullopt when absent.
absl::StatusOr<std::optional<std::string>> OptionalString(
    const JsonObject& o, std::string_view name, size_t max = std::numeric_limits<size_t>::max(),
    size_t min = 1);
absl::StatusOr<std::string> RequiredString(const JsonObject& o, std::string_view name,
                                           size_t max = std::numeric_limits<size_t>::max());
absl::StatusOr<std::optional<bool>> OptionalBool(const JsonObject& o, std::string_view name);
// An integer in [min, max]; nullopt when absent.
absl::StatusOr<std::optional<int64_t>> OptionalInt(const JsonObject& o, std::string_view name,
                                                   int64_t min, int64_t max);
// One of `values` (an enum of AWS's model); nullopt when absent.
absl::StatusOr<std::optional<std::string>> OptionalEnum(
    const JsonObject& o, std::string_view name, const std::vector<std::string_view>& values);
// An array of strings; empty when absent.
absl::StatusOr<std::vector<std::string>> StringList(const JsonObject& o, std::string_view name);
// A timestamp: epoch seconds (a number, milliseconds as the fraction); nullopt when absent.
absl::StatusOr<std::optional<absl::Time>> OptionalTimestamp(const JsonObject& o,
                                                            std::string_view name);

// A timestamp as the JSON protocol writes it: epoch seconds, milliseconds as the fraction.
Json EpochSeconds(absl::Time t);

}  // namespace courier::detail

#endif  // COURIER_DETAIL_JSON_REQUEST_H_
