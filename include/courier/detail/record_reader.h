// RecordReader: reads the members of one JSON mutation record (courier/storage.h), keeping the
// first member that is missing or of the wrong type, so that a decoder reads every member it
// needs and then reports one problem. Not API.
//
// Example:
//   detail::RecordReader in(object);
//   std::string arn = in.String("arn");
//   int64_t at = in.Int("at");
//   if (!in.bad().empty()) return DataLoss(... in.bad() ...);
#ifndef COURIER_DETAIL_RECORD_READER_H_
#define COURIER_DETAIL_RECORD_READER_H_

#include <absl/status/status.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "courier/json.h"

namespace courier::detail {

class RecordReader {
 public:
  explicit RecordReader(const JsonObject& o) : o_(o) {}
  std::string String(std::string_view key);
  std::optional<std::string> OptionalString(std::string_view key);
  bool Bool(std::string_view key, bool otherwise);
  int64_t Int(std::string_view key);
  uint64_t Uint(std::string_view key);
  uint32_t Uint32(std::string_view key);
  // An object of strings.
  std::map<std::string, std::string, std::less<>> StringMap(std::string_view key);
  // The member as it is, or null (JSON null) when absent.
  Json Value(std::string_view key) const;
  // Marks `key` as the problem (if none was found before).
  void Fail(std::string_view key) {
    if (bad_.empty()) bad_ = std::string(key);
  }
  // The first member that could not be read; empty if none.
  const std::string& bad() const { return bad_; }

 private:
  const JsonObject& o_;
  std::string bad_;
};

// A map of strings as a record's JSON member: what RecordReader::StringMap reads back.
template <typename Map>
Json StringMapJson(const Map& map) {
  JsonObject o;
  for (const auto& [k, v] : map) o[k] = v;
  return o;
}

// DataLoss for a record that `reader` (a service's decoder, named as in "An SQS record") cannot
// read, with `why` and the start of its text.
absl::Status UnreadableRecord(std::string_view reader, std::string_view text, std::string_view why);

}  // namespace courier::detail

#endif  // COURIER_DETAIL_RECORD_READER_H_
