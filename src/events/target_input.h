// Placeholder until the target-input branch lands: the whole event, or Input.
#ifndef COURIER_EVENTS_TARGET_INPUT_H_
#define COURIER_EVENTS_TARGET_INPUT_H_

#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "courier/json.h"

namespace courier::events_internal {

class TargetInput {
 public:
  struct Spec {
    std::optional<std::string> input, input_path;
    std::optional<std::map<std::string, std::string>> input_paths_map;
    std::optional<std::string> input_template;
  };
  static absl::StatusOr<TargetInput> Compile(const Spec& spec) {
    TargetInput t;
    t.input_ = spec.input;
    return t;
  }
  struct Context {
    std::string_view rule_arn, rule_name;
    absl::Time ingestion_time;
  };
  bool needs_document() const { return false; }
  std::string Render(const Json&, std::string_view event_text, const Context&) const {
    return input_ ? *input_ : std::string(event_text);
  }

 private:
  std::optional<std::string> input_;
};

}  // namespace courier::events_internal

#endif  // COURIER_EVENTS_TARGET_INPUT_H_
