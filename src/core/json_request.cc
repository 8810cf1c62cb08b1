#include "courier/detail/json_request.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "courier/status.h"

namespace courier::detail {

absl::Status InvalidMember(std::string_view value, std::string_view name,
                           std::string_view constraint) {
  return AwsErrorF("ValidationException",
                   "1 validation error detected: Value {} at '{}' failed to satisfy constraint: {}",
                   value, name, constraint);
}

absl::Status MissingMember(std::string_view name) {
  return InvalidMember("null", name, "Member must not be null");
}

absl::Status WrongType(std::string_view name, std::string_view type) {
  return AwsErrorF("SerializationException", "The value of member '{}' must be {}", name, type);
}

const Json* Member(const JsonObject& o, std::string_view name) {
  const Json* v = o.if_contains(name);
  return v == nullptr || v->is_null() ? nullptr : v;
}

absl::StatusOr<std::optional<std::string>> OptionalString(const JsonObject& o,
                                                          std::string_view name, size_t max,
                                                          size_t min) {
  const Json* v = Member(o, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) return WrongType(name, "a string");
  std::string s(v->get_string());
  if (s.size() < min) {
    return InvalidMember(fmt::format("'{}'", s), name,
                         fmt::format("Member must have length greater than or equal to {}", min));
  }
  if (s.size() > max) {
    return InvalidMember(fmt::format("'{}'", s.substr(0, 64)), name,
                         fmt::format("Member must have length less than or equal to {}", max));
  }
  return s;
}

absl::StatusOr<std::string> RequiredString(const JsonObject& o, std::string_view name, size_t max) {
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> v, OptionalString(o, name, max));
  if (!v) return MissingMember(name);
  return *std::move(v);
}

absl::StatusOr<std::optional<bool>> OptionalBool(const JsonObject& o, std::string_view name) {
  const Json* v = Member(o, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) return WrongType(name, "a boolean");
  return v->get_bool();
}

absl::StatusOr<std::optional<int64_t>> OptionalInt(const JsonObject& o, std::string_view name,
                                                   int64_t min, int64_t max) {
  const Json* v = Member(o, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_int64() && !v->is_uint64()) return WrongType(name, "an integer");
  if (v->is_uint64() || v->get_int64() > max) {
    return InvalidMember(ToJsonText(*v), name,
                         fmt::format("Member must have value less than or equal to {}", max));
  }
  if (v->get_int64() < min) {
    return InvalidMember(ToJsonText(*v), name,
                         fmt::format("Member must have value greater than or equal to {}", min));
  }
  return v->get_int64();
}

absl::StatusOr<std::optional<std::string>> OptionalEnum(
    const JsonObject& o, std::string_view name, const std::vector<std::string_view>& values) {
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> v,
                           OptionalString(o, name, std::numeric_limits<size_t>::max(), 0));
  if (v && std::find(values.begin(), values.end(), *v) == values.end()) {
    return InvalidMember(
        fmt::format("'{}'", *v), name,
        fmt::format("Member must satisfy enum value set: [{}]", fmt::join(values, ", ")));
  }
  return v;
}

absl::StatusOr<std::vector<std::string>> StringList(const JsonObject& o, std::string_view name) {
  std::vector<std::string> out;
  const Json* v = Member(o, name);
  if (v == nullptr) return out;
  if (!v->is_array()) return WrongType(name, "a list of strings");
  for (const Json& item : v->get_array()) {
    if (!item.is_string()) return WrongType(name, "a list of strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

absl::StatusOr<std::optional<absl::Time>> OptionalTimestamp(const JsonObject& o,
                                                            std::string_view name) {
  const Json* v = Member(o, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) return WrongType(name, "a timestamp (epoch seconds)");
  const double seconds = v->to_number<double>();
  return absl::FromUnixMillis(static_cast<int64_t>(std::llround(seconds * 1000)));
}

Json EpochSeconds(absl::Time t) {
  return Json(static_cast<double>(absl::ToUnixMillis(t)) / 1000.0);
}

}  // namespace courier::detail
