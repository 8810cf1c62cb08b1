#include "courier/json.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace courier {

absl::StatusOr<Json> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 1024;
  Json value =
      boost::json::parse(boost::json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) {
    return absl::InvalidArgumentError(fmt::format("invalid JSON: {}", ec.message()));
  }
  return value;
}

std::string ToJsonText(const Json& value) { return boost::json::serialize(value); }

}  // namespace courier
