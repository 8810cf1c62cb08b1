#include "topic/sns_records.h"

#include <absl/strings/escaping.h>
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
JsonObject ToObject(const DeliveryWaiting& r) {
  // Message attributes as three maps by name: data types, string values, binary values (base64).
  JsonObject types, strings, binaries;
  for (const auto& [name, a] : r.request.attributes) {
    types[name] = a.data_type;
    if (!a.string_value.empty()) strings[name] = a.string_value;
    if (!a.binary_value.empty()) binaries[name] = absl::Base64Escape(a.binary_value);
  }
  JsonObject o{{"op", "DeliveryWaiting"},
               {"id", static_cast<int64_t>(r.id)},
               {"subscription", r.subscription_arn},
               {"body", r.request.body},
               {"types", std::move(types)},
               {"strings", std::move(strings)},
               {"binaries", std::move(binaries)},
               {"message_id", r.message_id},
               {"subject", r.subject},
               {"tries", r.tries},
               {"due", r.due_ns}};
  if (r.request.message_group_id) o["group"] = *r.request.message_group_id;
  if (r.request.message_deduplication_id) o["dedup"] = *r.request.message_deduplication_id;
  return o;
}
JsonObject ToObject(const DeliveryEnded& r) {
  return {{"op", "DeliveryEnded"},
          {"id", static_cast<int64_t>(r.id)},
          {"subscription", r.subscription_arn}};
}

DeliveryWaiting WaitingOf(detail::RecordReader& in) {
  DeliveryWaiting w{.id = static_cast<uint64_t>(in.Int("id")),
                    .subscription_arn = in.String("subscription"),
                    .request = {},
                    .message_id = in.String("message_id"),
                    .subject = in.String("subject"),
                    .tries = static_cast<int>(in.Int("tries")),
                    .due_ns = in.Int("due")};
  w.request.body = in.String("body");
  auto strings = in.StringMap("strings"), binaries = in.StringMap("binaries");
  for (auto& [name, type] : in.StringMap("types")) {
    MessageAttribute& a = w.request.attributes[name];
    a.data_type = std::move(type);
    if (auto it = strings.find(name); it != strings.end()) a.string_value = std::move(it->second);
    if (auto it = binaries.find(name);
        it != binaries.end() && !absl::Base64Unescape(it->second, &a.binary_value)) {
      in.Fail("binaries");
    }
  }
  w.request.message_group_id = in.OptionalString("group");
  w.request.message_deduplication_id = in.OptionalString("dedup");
  return w;
}

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
  } else if (op == "DeliveryWaiting") {
    out = WaitingOf(in);
  } else if (op == "DeliveryEnded") {
    out = DeliveryEnded{static_cast<uint64_t>(in.Int("id")), in.String("subscription")};
  } else {
    return Unreadable(text, fmt::format("unknown op '{}'", op));
  }
  if (!in.bad().empty()) return Unreadable(text, fmt::format("member '{}'", in.bad()));
  return out;
}

}  // namespace courier::topic_internal
