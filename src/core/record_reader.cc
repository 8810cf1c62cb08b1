#include "courier/detail/record_reader.h"

#include <fmt/format.h>

namespace courier::detail {

std::string RecordReader::String(std::string_view key) {
  const Json* v = o_.if_contains(key);
  if (v != nullptr && v->is_string()) return std::string(v->get_string());
  Fail(key);
  return {};
}

std::optional<std::string> RecordReader::OptionalString(std::string_view key) {
  const Json* v = o_.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  Fail(key);
  return std::nullopt;
}

bool RecordReader::Bool(std::string_view key, bool otherwise) {
  const Json* v = o_.if_contains(key);
  if (v == nullptr) return otherwise;
  if (v->is_bool()) return v->get_bool();
  Fail(key);
  return otherwise;
}

int64_t RecordReader::Int(std::string_view key) {
  const Json* v = o_.if_contains(key);
  if (v != nullptr && v->is_int64()) return v->get_int64();
  if (v != nullptr && v->is_uint64() && v->get_uint64() <= INT64_MAX) {
    return static_cast<int64_t>(v->get_uint64());
  }
  Fail(key);
  return 0;
}

uint64_t RecordReader::Uint(std::string_view key) {
  const Json* v = o_.if_contains(key);
  if (v != nullptr && v->is_uint64()) return v->get_uint64();
  if (v != nullptr && v->is_int64() && v->get_int64() >= 0) {
    return static_cast<uint64_t>(v->get_int64());
  }
  Fail(key);
  return 0;
}

uint32_t RecordReader::Uint32(std::string_view key) {
  const uint64_t v = Uint(key);
  if (v > UINT32_MAX) Fail(key);
  return static_cast<uint32_t>(v);
}

std::map<std::string, std::string, std::less<>> RecordReader::StringMap(std::string_view key) {
  std::map<std::string, std::string, std::less<>> out;
  const Json* v = o_.if_contains(key);
  if (v == nullptr || !v->is_object()) {
    Fail(key);
    return out;
  }
  for (const auto& [k, value] : v->get_object()) {
    if (!value.is_string()) {
      Fail(key);
      return out;
    }
    out[std::string(k)] = std::string(value.get_string());
  }
  return out;
}

Json RecordReader::Value(std::string_view key) const {
  const Json* v = o_.if_contains(key);
  return v == nullptr ? Json() : *v;
}

absl::Status UnreadableRecord(std::string_view reader, std::string_view text,
                              std::string_view why) {
  return absl::DataLossError(
      fmt::format("{} record cannot be read ({}): {}", reader, why, text.substr(0, 200)));
}

}  // namespace courier::detail
