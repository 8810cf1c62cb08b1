// Compiled JSONPath (Jayway syntax, as Step Functions uses): parsed once into segments, then
// evaluated against documents without re-parsing.
#ifndef COURIER_SRC_STATES_JSONPATH_H_
#define COURIER_SRC_STATES_JSONPATH_H_

#include <absl/status/statusor.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/json.h"

namespace courier::states_internal {

struct FilterExpr;

class JsonPath {
 public:
  // `$` = the state's input, `$$` = the context object, `$name` = a workflow variable,
  // `@` = the current node (inside filters only).
  enum class Root { kInput, kContext, kVariable, kCurrent };

  struct Segment {
    enum Kind { kField, kIndex, kSlice, kWildcard, kDeepField, kDeepWildcard, kFilter, kUnion };
    Kind kind = kField;
    std::string name;   // kField, kDeepField
    int64_t index = 0;  // kIndex
    std::optional<int64_t> start, end;
    int64_t step = 1;                // kSlice
    std::vector<std::string> names;  // kUnion (fields)
    std::vector<int64_t> indices;    // kUnion (indices)
    std::shared_ptr<const FilterExpr> filter;
  };

  // Parses `text`; InvalidArgument with the reason when it is not a valid path.
  static absl::StatusOr<JsonPath> Parse(std::string_view text);

  const std::string& text() const { return text_; }
  Root root() const { return root_; }
  const std::string& variable() const { return variable_; }
  // Definite paths (only fields and indices) select at most one value.
  bool definite() const { return definite_; }
  bool is_root() const { return segments_.empty(); }
  const std::vector<Segment>& segments() const { return segments_; }

  // For a definite path: the selected value inside `doc`, or nullptr.
  const Json* Find(const Json& doc) const;
  // Definite: a copy of the value (nullopt if none). Indefinite: an array of the matches.
  std::optional<Json> Evaluate(const Json& doc) const;
  // Writes `value` at this reference path inside `doc`, creating missing objects. False when
  // the path crosses a value that is not an object (or an index out of range).
  bool Write(Json& doc, Json value) const;

 private:
  std::string text_;
  Root root_ = Root::kInput;
  std::string variable_;
  bool definite_ = true;
  std::vector<Segment> segments_;
};

}  // namespace courier::states_internal

#endif  // COURIER_SRC_STATES_JSONPATH_H_
