// courier::Json: the one JSON value type of the public API (Boost.JSON's value).
//
// Documents that are built or changed (state machine data, SNS envelopes, definitions) are Json.
// Hot paths that only read JSON (event matching) use the pattern engine's own lexer and never
// build one.
//
// Example:
//   absl::StatusOr<courier::Json> doc = courier::ParseJson(R"({"order": 1})");
//   std::string text = courier::ToJsonText(*doc);   // {"order":1}
#ifndef COURIER_JSON_H_
#define COURIER_JSON_H_

#include <absl/status/statusor.h>

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace courier {

using Json = boost::json::value;
using JsonObject = boost::json::object;
using JsonArray = boost::json::array;

// Parses JSON text; a syntax error is InvalidArgument with the parser's reason and offset.
absl::StatusOr<Json> ParseJson(std::string_view text);

// Compact JSON text with numbers as AWS writes them: integers as integers, a whole double with
// one decimal (5.0, not 5E0), other doubles in their shortest form, non-finite ones as null.
std::string ToJsonText(const Json& value);
void AppendJsonText(const Json& value, std::string& out);
void AppendJsonNumber(const Json& number, std::string& out);

}  // namespace courier

#endif  // COURIER_JSON_H_
