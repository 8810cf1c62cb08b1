// What a target receives of an event: the whole event, a constant `Input`, the value an
// `InputPath` selects, or an `InputTransformer`'s template filled from the event (spec §9).
// Compiled once at PutTargets; rendering never fails.
#ifndef COURIER_EVENTS_TARGET_INPUT_H_
#define COURIER_EVENTS_TARGET_INPUT_H_

#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <map>
#include <memory>
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
  // ValidationException (as EventBridge words it) for invalid JSON in Input, a bad path, more
  // than 100 paths, a reserved or malformed variable name, or a template that is not valid.
  static absl::StatusOr<TargetInput> Compile(const Spec& spec);

  // The values Render takes besides the event: the predefined `<aws.events.*>` variables.
  struct Context {
    std::string_view rule_arn, rule_name;
    absl::Time ingestion_time;
  };
  // Whether Render reads the parsed event (a path or a template); otherwise it may be Json().
  bool needs_document() const;
  // Whether Render gives the event's text unchanged (no Input, InputPath or transformer).
  bool is_whole_event() const { return compiled_ == nullptr; }
  std::string Render(const Json& event, std::string_view event_text, const Context& context) const;

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;  // null: the whole event
};

}  // namespace courier::events_internal

#endif  // COURIER_EVENTS_TARGET_INPUT_H_
