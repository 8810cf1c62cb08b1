#include "topic/sns_records.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "courier/detail/record_reader.h"
#include "courier/json.h"

namespace courier::topic_internal {
namespace {

JsonObject ToObject(const TopicCreated& r) {
  return {{"op", "CreateTopic"},
          {"name", r.name},
          {"attributes", detail::StringMapJson(r.attributes)},
          {"tags", detail::StringMapJson(r.tags)}};
}
JsonObject ToObject(const TopicAttributeSet& r) {
  return {{"op", "SetTopicAttributes"}, {"arn", r.arn}, {"name", r.name}, {"value", r.value}};
}
JsonObject ToObject(const TopicTagged& r) {
  return {{"op", "Tags"}, {"arn", r.arn}, {"tags", detail::StringMapJson(r.tags)}};
}
JsonObject ToObject(const TopicDeleted& r) { return {{"op", "DeleteTopic"}, {"arn", r.arn}}; }
JsonObject ToObject(const Subscribed& r) {
  return {{"op", "Subscribe"},      {"arn", r.arn},
          {"topic", r.topic_arn},   {"protocol", r.protocol},
          {"endpoint", r.endpoint}, {"attributes", detail::StringMapJson(r.attributes)},
          {"token", r.token},       {"confirmed", r.confirmed}};
}
JsonObject ToObject(const SubscriptionConfirmed& r) {
  return {{"op", "ConfirmSubscription"}, {"arn", r.arn}};
}
JsonObject ToObject(const SubscriptionAttributeSet& r) {
  return {
      {"op", "SetSubscriptionAttributes"}, {"arn", r.arn}, {"name", r.name}, {"value", r.value}};
}
JsonObject ToObject(const Unsubscribed& r) { return {{"op", "Unsubscribe"}, {"arn", r.arn}}; }

absl::Status Unreadable(std::string_view text, std::string_view why) {
  return detail::UnreadableRecord("An SNS", text, why);
}

}  // namespace

std::string EncodeSnsRecord(const SnsRecord& record) {
  return std::visit([](const auto& r) { return ToJsonText(ToObject(r)); }, record);
}

absl::StatusOr<SnsRecord> DecodeSnsRecord(std::string_view text) {
  absl::StatusOr<Json> parsed = ParseJson(text);
  if (!parsed.ok() || !parsed->is_object()) return Unreadable(text, "not a JSON object");
  detail::RecordReader in(parsed->get_object());
  const std::string op = in.String("op");
  SnsRecord out;
  if (op == "CreateTopic") {
    out = TopicCreated{in.String("name"), in.StringMap("attributes"), in.StringMap("tags")};
  } else if (op == "SetTopicAttributes") {
    out = TopicAttributeSet{in.String("arn"), in.String("name"), in.String("value")};
  } else if (op == "Tags") {
    out = TopicTagged{in.String("arn"), in.StringMap("tags")};
  } else if (op == "DeleteTopic") {
    out = TopicDeleted{in.String("arn")};
  } else if (op == "Subscribe") {
    out = Subscribed{.arn = in.String("arn"),
                     .topic_arn = in.String("topic"),
                     .protocol = in.String("protocol"),
                     .endpoint = in.String("endpoint"),
                     .attributes = in.StringMap("attributes"),
                     .token = in.String("token"),
                     .confirmed = in.Bool("confirmed", false)};
  } else if (op == "ConfirmSubscription") {
    out = SubscriptionConfirmed{in.String("arn")};
  } else if (op == "SetSubscriptionAttributes") {
    out = SubscriptionAttributeSet{in.String("arn"), in.String("name"), in.String("value")};
  } else if (op == "Unsubscribe") {
    out = Unsubscribed{in.String("arn")};
  } else {
    return Unreadable(text, fmt::format("unknown op '{}'", op));
  }
  if (!in.bad().empty()) return Unreadable(text, fmt::format("member '{}'", in.bad()));
  return out;
}

}  // namespace courier::topic_internal
