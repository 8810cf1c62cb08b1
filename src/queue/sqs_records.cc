#include "queue/sqs_records.h"

#include <absl/strings/escaping.h>
#include <fmt/format.h>

#include <boost/json.hpp>

#include "courier/detail/record_reader.h"
#include "courier/json.h"
#include "courier/status.h"
#include "queue/move_tasks.h"
#include "queue/sqs_operations.h"

namespace courier::queue_internal {
namespace {

// ---- writing ----

Json MapJson(const QueueAttributeMap& map) {
  JsonObject o;
  for (const auto& [k, v] : map) o[k] = v;
  return o;
}

void PutPlace(JsonObject& o, std::string_view arn, const MessagePlace& p) {
  o["arn"] = arn;
  o["shard"] = p.shard;
  o["slot"] = p.slot;
  o["stamp"] = p.stamp;
}

JsonObject ToObject(const QueueCreated& r) {
  JsonObject o{{"op", "CreateQueue"},
               {"arn", r.arn},
               {"name", r.name},
               {"fifo", r.fifo},
               {"attributes", MapJson(r.attributes)},
               {"created", r.created_ns}};
  if (r.fifo) o["id_keys"] = JsonArray{r.id_keys[0], r.id_keys[1], r.id_keys[2]};
  return o;
}
JsonObject ToObject(const QueueChanged& r) {
  return {{"op", "SetQueueAttributes"},
          {"arn", r.arn},
          {"attributes", MapJson(r.attributes)},
          {"modified", r.modified_ns}};
}
JsonObject ToObject(const QueueTagged& r) {
  return {{"op", "Tags"}, {"arn", r.arn}, {"tags", MapJson(r.tags)}};
}
JsonObject ToObject(const QueuePurged& r) {
  return {{"op", "PurgeQueue"}, {"arn", r.arn}, {"at", r.at_ns}};
}
JsonObject ToObject(const QueueDeleted& r) {
  return {{"op", "DeleteQueue"}, {"arn", r.arn}, {"at", r.at_ns}};
}
JsonObject ToObject(const MessageStored& r) {
  JsonObject o{{"op", "Store"}};
  PutPlace(o, r.arn, r.place);
  o["id"] = r.message_id;
  o["body"] = r.body;
  o["md5"] = r.md5;
  if (!r.attributes.empty()) o["attributes"] = MessageAttributesJson(r.attributes);
  if (r.trace_header) o["trace"] = *r.trace_header;
  if (r.group_id) o["group"] = *r.group_id;
  if (!r.dedup_id.empty()) o["dedup"] = r.dedup_id;
  if (!r.dead_letter_source_arn.empty()) o["source"] = r.dead_letter_source_arn;
  o["sent"] = r.sent_ns;
  o["enqueued"] = r.enqueued_ns;
  if (r.visible_at_ns != 0) o["visible_at"] = r.visible_at_ns;
  if (r.queued_ns != 0) o["queued"] = r.queued_ns;
  o["receives"] = r.receives;
  o["first_receive"] = r.first_receive_ns;
  if (!r.sealed.empty()) o["sealed"] = absl::Base64Escape(r.sealed);
  return o;
}
JsonObject ToObject(const MessageReceived& r) {
  JsonObject o{{"op", "Receive"}};
  PutPlace(o, r.arn, r.place);
  o["receives"] = r.receives;
  o["first_receive"] = r.first_receive_ns;
  o["received"] = r.received_ns;
  o["until"] = r.until_ns;
  return o;
}
JsonObject ToObject(const MessageRemoved& r) {
  JsonObject o{{"op", "Remove"}};
  PutPlace(o, r.arn, r.place);
  return o;
}
JsonObject ToObject(const MoveTaskSaved& r) {
  const MoveTask& t = r.task;
  return {{"op", "MoveTask"},
          {"arn", r.arn},
          {"id", r.id},
          {"status", MoveTaskStatusName(t.status)},
          {"destination", t.destination_arn},
          {"rate", t.max_number_of_messages_per_second},
          {"moved", t.approximate_number_of_messages_moved},
          {"to_move", t.approximate_number_of_messages_to_move},
          {"failure", t.failure_reason},
          {"started", absl::ToUnixNanos(t.started_timestamp)}};
}
JsonObject ToObject(const DedupAdmitted& r) {
  return {{"op", "Dedup"}, {"arn", r.arn}, {"key", r.key}, {"value", r.value}, {"at", r.at_ns}};
}

// ---- reading ----

MessageAttributes AttributesOf(const JsonObject& o, detail::RecordReader& in,
                               std::string_view key) {
  absl::StatusOr<MessageAttributes> a = MessageAttributesOf(o, key);
  if (a.ok()) return *std::move(a);
  in.Fail(key);
  return {};
}
MessagePlace PlaceOf(detail::RecordReader& in) {
  return {in.Uint32("shard"), in.Uint32("slot"), in.Uint("stamp")};
}

absl::Status Unreadable(std::string_view text, std::string_view why) {
  return detail::UnreadableRecord("An SQS", text, why);
}

}  // namespace

std::string EncodeSqsRecord(const SqsRecord& record) {
  return std::visit([](const auto& r) { return ToJsonText(ToObject(r)); }, record);
}

absl::StatusOr<SqsRecord> DecodeSqsRecord(std::string_view text) {
  absl::StatusOr<Json> parsed = ParseJson(text);
  if (!parsed.ok() || !parsed->is_object()) return Unreadable(text, "not a JSON object");
  const JsonObject& o = parsed->get_object();
  detail::RecordReader in(o);
  const std::string op = in.String("op");
  SqsRecord out;
  if (op == "CreateQueue") {
    QueueCreated r{.arn = in.String("arn"),
                   .name = in.String("name"),
                   .fifo = in.Bool("fifo", false),
                   .attributes = in.StringMap("attributes"),
                   .created_ns = in.Int("created")};
    if (r.fifo) {
      const Json* keys = o.if_contains("id_keys");
      if (keys == nullptr || !keys->is_array() || keys->get_array().size() != 3) {
        return Unreadable(text, "id_keys");
      }
      for (size_t i = 0; i < 3; ++i) {
        const Json& k = keys->get_array()[i];
        if (!k.is_uint64() && !k.is_int64()) return Unreadable(text, "id_keys");
        r.id_keys[i] = k.to_number<uint64_t>();
      }
    }
    out = std::move(r);
  } else if (op == "SetQueueAttributes") {
    out = QueueChanged{in.String("arn"), in.StringMap("attributes"), in.Int("modified")};
  } else if (op == "Tags") {
    out = QueueTagged{in.String("arn"), in.StringMap("tags")};
  } else if (op == "PurgeQueue") {
    out = QueuePurged{in.String("arn"), in.Int("at")};
  } else if (op == "DeleteQueue") {
    out = QueueDeleted{in.String("arn"), in.Int("at")};
  } else if (op == "Store") {
    MessageStored r;
    r.arn = in.String("arn");
    r.place = PlaceOf(in);
    r.message_id = in.String("id");
    r.body = in.String("body");
    r.md5 = in.Bool("md5", true);
    if (o.contains("attributes")) r.attributes = AttributesOf(o, in, "attributes");
    r.trace_header = in.OptionalString("trace");
    r.group_id = in.OptionalString("group");
    r.dedup_id = in.OptionalString("dedup").value_or("");
    r.dead_letter_source_arn = in.OptionalString("source").value_or("");
    r.sent_ns = in.Int("sent");
    r.enqueued_ns = in.Int("enqueued");
    if (o.contains("visible_at")) r.visible_at_ns = in.Int("visible_at");
    if (o.contains("queued")) r.queued_ns = in.Int("queued");
    r.receives = in.Uint32("receives");
    r.first_receive_ns = in.Int("first_receive");
    if (std::optional<std::string> sealed = in.OptionalString("sealed");
        sealed && !absl::Base64Unescape(*sealed, &r.sealed)) {
      return Unreadable(text, "member 'sealed'");
    }
    out = std::move(r);
  } else if (op == "Receive") {
    MessageReceived r;
    r.arn = in.String("arn");
    r.place = PlaceOf(in);
    r.receives = in.Uint32("receives");
    r.first_receive_ns = in.Int("first_receive");
    r.received_ns = in.Int("received");
    r.until_ns = in.Int("until");
    out = std::move(r);
  } else if (op == "Remove") {
    out = MessageRemoved{in.String("arn"), PlaceOf(in)};
  } else if (op == "Dedup") {
    out = DedupAdmitted{in.String("arn"), in.String("key"), in.Uint("value"), in.Int("at")};
  } else if (op == "MoveTask") {
    MoveTaskSaved r{.arn = in.String("arn"), .id = in.Uint("id"), .task = {}};
    MoveTask& t = r.task;
    const std::string status = in.String("status");
    std::optional<MoveTaskStatus> parsed = MoveTaskStatusOf(status);
    if (!parsed) in.Fail("status");
    t.status = parsed.value_or(MoveTaskStatus::kFailed);
    t.source_arn = r.arn;
    t.destination_arn = in.String("destination");
    t.max_number_of_messages_per_second = static_cast<int>(in.Int("rate"));
    t.approximate_number_of_messages_moved = in.Int("moved");
    t.approximate_number_of_messages_to_move = in.Int("to_move");
    t.failure_reason = in.String("failure");
    t.started_timestamp = absl::FromUnixNanos(in.Int("started"));
    out = std::move(r);
  } else {
    return Unreadable(text, fmt::format("unknown op '{}'", op));
  }
  if (!in.bad().empty()) return Unreadable(text, fmt::format("member '{}'", in.bad()));
  return out;
}

}  // namespace courier::queue_internal
