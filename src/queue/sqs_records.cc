#include "queue/sqs_records.h"

#include <absl/strings/escaping.h>
#include <fmt/format.h>

#include <boost/json.hpp>
#include <cstring>
#include <iterator>

#include "courier/detail/binary_record.h"
#include "courier/detail/record_reader.h"
#include "courier/json.h"
#include "courier/status.h"
#include "queue/move_tasks.h"
#include "queue/sqs_operations.h"

namespace courier::queue_internal {
namespace {

// ---- writing ----

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
               {"attributes", detail::StringMapJson(r.attributes)},
               {"created", r.created_ns}};
  if (r.fifo) o["id_keys"] = JsonArray{r.id_keys[0], r.id_keys[1], r.id_keys[2]};
  return o;
}
JsonObject ToObject(const QueueChanged& r) {
  return {{"op", "SetQueueAttributes"},
          {"arn", r.arn},
          {"attributes", detail::StringMapJson(r.attributes)},
          {"modified", r.modified_ns}};
}
JsonObject ToObject(const QueueTagged& r) {
  return {{"op", "Tags"}, {"arn", r.arn}, {"tags", detail::StringMapJson(r.tags)}};
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

// A binary record is shown as hex, its start at least.
absl::Status Unreadable(std::string_view text, std::string_view why) {
  if (text.empty() || text[0] == '{') return detail::UnreadableRecord("An SQS", text, why);
  std::string hex;
  for (char c : text.substr(0, 64)) {
    fmt::format_to(std::back_inserter(hex), "{:02x}", static_cast<uint8_t>(c));
  }
  if (text.size() > 64) hex += "...";
  return detail::UnreadableRecord("An SQS", hex, why);
}

// ---- binary message records (docs/storage.md, "File format") ----
//
// [format byte][kind byte][the kind's fixed fields][optional fields]. Strings are a varint length
// and the bytes; unsigned numbers varints; times and other signed numbers zigzag varints, some as
// the difference from a time before them. An optional field is a varint tag, a varint length and
// that many bytes, so that one more field is one more tag; a tag this build does not know is a
// record of a newer build, and fails as such rather than be dropped.

// Byte 0 of a binary record. JSON records (all that a file of format 1 holds) start with '{'.
constexpr uint8_t kBinaryFormat = 1;

enum class Kind : uint8_t { kStored = 1, kReceived = 2, kRemoved = 3, kDedup = 4 };

// MessageStored's optional fields, each written only when it differs from its default.
enum StoredTag : uint8_t {
  kNoMd5 = 1,       // empty: md5 is false
  kBodyMd5 = 2,     // the 16 bytes of body_md5
  kAttributes = 3,  // a count, then per attribute: name, data_type, string_value, binary_value
  kTrace = 4,       // trace_header
  kGroup = 5,       // group_id
  kDedupId = 6,     // dedup_id
  kSource = 7,      // dead_letter_source_arn
  kVisibleAt = 8,   // visible_at_ns
  kQueued = 9,      // queued_ns
  kSealed = 10,     // sealed: an encrypted queue's body and attributes (message_sealing.h)
};

// a - b and back, wrapping: well defined for any two values.
uint64_t Delta(int64_t a, int64_t b) {
  return detail::ZigZag(static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)));
}
int64_t Undelta(uint64_t delta, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(detail::UnZigZag(delta)) +
                              static_cast<uint64_t>(b));
}

void PutHead(detail::BinaryRecordWriter& out, Kind kind, std::string_view arn,
             const MessagePlace& p) {
  out.Byte(kBinaryFormat);
  out.Byte(static_cast<uint8_t>(kind));
  out.String(arn);
  out.Varint(p.shard);
  out.Varint(p.slot);
  out.Varint(p.stamp);
}
void PutField(detail::BinaryRecordWriter& out, StoredTag tag, std::string_view value) {
  out.Varint(tag);
  out.String(value);
}
void PutField(detail::BinaryRecordWriter& out, StoredTag tag, int64_t value) {
  out.Varint(tag);
  out.Varint(detail::VarintSize(detail::ZigZag(value)));
  out.SignedVarint(value);
}

// Room for the fixed fields besides the strings, and for an optional field besides its value.
constexpr size_t kHeadBytes = 2 + 3 * detail::kMaxVarintBytes;
constexpr size_t kFieldBytes = 2 * detail::kMaxVarintBytes;

std::string Encode(const MessageStored& r) {
  size_t size = kHeadBytes + r.arn.size() + r.message_id.size() + r.body.size() +
                6 * detail::kMaxVarintBytes + 10 * kFieldBytes + r.dedup_id.size() +
                r.dead_letter_source_arn.size() + r.sealed.size() + 16;
  if (r.trace_header) size += r.trace_header->size();
  if (r.group_id) size += r.group_id->size();
  for (const auto& [name, a] : r.attributes) {
    size += 4 * detail::kMaxVarintBytes + name.size() + a.data_type.size() + a.string_value.size() +
            a.binary_value.size();
  }
  std::string bytes;
  bytes.reserve(size);
  detail::BinaryRecordWriter out(bytes);
  PutHead(out, Kind::kStored, r.arn, r.place);
  out.String(r.message_id);
  out.String(r.body);
  out.SignedVarint(r.sent_ns);
  out.Varint(Delta(r.enqueued_ns, r.sent_ns));
  out.Varint(r.receives);
  out.SignedVarint(r.first_receive_ns);
  if (!r.md5) PutField(out, kNoMd5, std::string_view());
  // A sealed body's digest stays out: beside the ciphertext it would tell equal bodies apart.
  if (r.md5 && r.body_md5 && r.sealed.empty()) {
    PutField(out, kBodyMd5,
             std::string_view(reinterpret_cast<const char*>(r.body_md5->data()), 16));
  }
  if (!r.attributes.empty()) {
    std::string list;
    detail::BinaryRecordWriter a(list);
    a.Varint(r.attributes.size());
    for (const auto& [name, value] : r.attributes) {
      a.String(name);
      a.String(value.data_type);
      a.String(value.string_value);
      a.String(value.binary_value);
    }
    PutField(out, kAttributes, list);
  }
  if (r.trace_header) PutField(out, kTrace, *r.trace_header);
  if (r.group_id) PutField(out, kGroup, *r.group_id);
  if (!r.dedup_id.empty()) PutField(out, kDedupId, r.dedup_id);
  if (!r.dead_letter_source_arn.empty()) PutField(out, kSource, r.dead_letter_source_arn);
  if (r.visible_at_ns != 0) PutField(out, kVisibleAt, r.visible_at_ns);
  if (r.queued_ns != 0) PutField(out, kQueued, r.queued_ns);
  if (!r.sealed.empty()) PutField(out, kSealed, r.sealed);
  return bytes;
}
std::string Encode(const MessageReceived& r) {
  std::string bytes;
  bytes.reserve(kHeadBytes + r.arn.size() + 4 * detail::kMaxVarintBytes);
  detail::BinaryRecordWriter out(bytes);
  PutHead(out, Kind::kReceived, r.arn, r.place);
  out.Varint(r.receives);
  out.SignedVarint(r.first_receive_ns);
  out.SignedVarint(r.received_ns);
  out.Varint(Delta(r.until_ns, r.received_ns));
  return bytes;
}
std::string Encode(const MessageRemoved& r) {
  std::string bytes;
  bytes.reserve(kHeadBytes + r.arn.size());
  detail::BinaryRecordWriter out(bytes);
  PutHead(out, Kind::kRemoved, r.arn, r.place);
  return bytes;
}
std::string Encode(const DedupAdmitted& r) {
  std::string bytes;
  bytes.reserve(2 + 4 * detail::kMaxVarintBytes + r.arn.size() + r.key.size());
  detail::BinaryRecordWriter out(bytes);
  out.Byte(kBinaryFormat);
  out.Byte(static_cast<uint8_t>(Kind::kDedup));
  out.String(r.arn);
  out.String(r.key);
  out.Varint(r.value);
  out.SignedVarint(r.at_ns);
  return bytes;
}
// The queues' records stay JSON.
template <typename R>
std::string Encode(const R& r) {
  return ToJsonText(ToObject(r));
}

MessagePlace PlaceOf(detail::BinaryRecordReader& in) {
  MessagePlace p;
  p.shard = in.Varint32();
  p.slot = in.Varint32();
  p.stamp = in.Varint();
  return p;
}

absl::Status UnknownField(std::string_view bytes, uint64_t tag) {
  return Unreadable(bytes, fmt::format("unknown field {}: written by a newer build?", tag));
}

// The optional fields of a stored message, up to the record's end.
absl::Status ReadStoredFields(std::string_view bytes, detail::BinaryRecordReader& in,
                              MessageStored& r) {
  while (!in.at_end()) {
    const uint64_t tag = in.Varint();
    const std::string_view value = in.String();
    if (!in.ok()) break;
    detail::BinaryRecordReader field(value);
    switch (tag) {
      case kNoMd5:
        r.md5 = false;
        break;
      case kBodyMd5:
        if (value.size() != 16) field.Fail();
        if (field.ok()) std::memcpy(r.body_md5.emplace().data(), value.data(), 16);
        break;
      case kAttributes: {
        const uint64_t n = field.Varint();
        for (uint64_t i = 0; i < n && field.ok(); ++i) {
          const std::string_view name = field.String();
          MessageAttribute a;
          a.data_type = field.String();
          a.string_value = field.String();
          a.binary_value = field.String();
          if (field.ok()) r.attributes.emplace(name, std::move(a));
        }
        if (!field.at_end()) field.Fail();
        break;
      }
      case kTrace:
        r.trace_header.emplace(value);
        break;
      case kGroup:
        r.group_id.emplace(value);
        break;
      case kDedupId:
        r.dedup_id = value;
        break;
      case kSource:
        r.dead_letter_source_arn = value;
        break;
      case kSealed:
        r.sealed = value;
        break;
      case kVisibleAt:
      case kQueued:
        (tag == kVisibleAt ? r.visible_at_ns : r.queued_ns) = field.SignedVarint();
        if (!field.at_end()) field.Fail();
        break;
      default:
        return UnknownField(bytes, tag);
    }
    if (!field.ok()) return Unreadable(bytes, fmt::format("field {}", tag));
  }
  return in.ok() ? absl::OkStatus() : Unreadable(bytes, "cut short");
}

// A fresh record of type R in `out`, keeping the memory of the ARN it held if it was one already
// (message records of one queue name the same ARN).
template <typename R>
R& Fresh(SqsRecord& out) {
  R* r = std::get_if<R>(&out);
  if (r == nullptr) return out.emplace<R>();
  std::string arn = std::move(r->arn);
  *r = R();
  r->arn = std::move(arn);
  return *r;
}

// A record this build's binary format wrote.
absl::Status DecodeBinary(std::string_view bytes, SqsRecord& out) {
  detail::BinaryRecordReader in(bytes);
  in.Byte();  // the format, checked by the caller
  const uint8_t kind = in.Byte();
  switch (static_cast<Kind>(kind)) {
    case Kind::kStored: {
      MessageStored& r = Fresh<MessageStored>(out);
      r.arn = in.String();
      r.place = PlaceOf(in);
      r.message_id = in.String();
      r.body = in.String();
      r.sent_ns = in.SignedVarint();
      r.enqueued_ns = Undelta(in.Varint(), r.sent_ns);
      r.receives = in.Varint32();
      r.first_receive_ns = in.SignedVarint();
      if (!in.ok()) return Unreadable(bytes, "cut short");
      return ReadStoredFields(bytes, in, r);
    }
    case Kind::kReceived: {
      MessageReceived& r = Fresh<MessageReceived>(out);
      r.arn = in.String();
      r.place = PlaceOf(in);
      r.receives = in.Varint32();
      r.first_receive_ns = in.SignedVarint();
      r.received_ns = in.SignedVarint();
      r.until_ns = Undelta(in.Varint(), r.received_ns);
      break;
    }
    case Kind::kRemoved: {
      MessageRemoved& r = Fresh<MessageRemoved>(out);
      r.arn = in.String();
      r.place = PlaceOf(in);
      break;
    }
    case Kind::kDedup: {
      DedupAdmitted& r = Fresh<DedupAdmitted>(out);
      r.arn = in.String();
      r.key = in.String();
      r.value = in.Varint();
      r.at_ns = in.SignedVarint();
      break;
    }
    default:
      return Unreadable(bytes, fmt::format("unknown kind {}: written by a newer build?", kind));
  }
  if (!in.ok()) return Unreadable(bytes, "cut short");
  // These kinds have no optional field yet: anything after their fields is a newer build's.
  if (!in.at_end()) return UnknownField(bytes, detail::BinaryRecordReader(in).Varint());
  return absl::OkStatus();
}

}  // namespace

std::string EncodeSqsRecord(const SqsRecord& record) {
  return std::visit([](const auto& r) { return Encode(r); }, record);
}

std::string EncodeSqsRecordAsJson(const SqsRecord& record) {
  return std::visit([](const auto& r) { return ToJsonText(ToObject(r)); }, record);
}

absl::StatusOr<SqsRecord> DecodeSqsRecord(std::string_view bytes) {
  SqsRecord out;
  COURIER_RETURN_IF_ERROR(DecodeSqsRecord(bytes, out));
  return out;
}

absl::Status DecodeSqsRecord(std::string_view text, SqsRecord& out) {
  if (text.empty()) return Unreadable(text, "empty");
  if (text[0] != '{') {
    const auto format = static_cast<uint8_t>(text[0]);
    if (format == kBinaryFormat) return DecodeBinary(text, out);
    return Unreadable(text, fmt::format("format {}: written by a newer build? This one reads "
                                        "JSON records and binary format {}",
                                        format, kBinaryFormat));
  }
  absl::StatusOr<Json> parsed = ParseJson(text);
  if (!parsed.ok() || !parsed->is_object()) return Unreadable(text, "not a JSON object");
  const JsonObject& o = parsed->get_object();
  detail::RecordReader in(o);
  const std::string op = in.String("op");
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
  return absl::OkStatus();
}

}  // namespace courier::queue_internal
