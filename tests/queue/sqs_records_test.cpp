// The SQS records' file format (sqs_records.h, docs/storage.md "File format"): message records are
// binary and decode to what was encoded, field for field; queue records stay JSON; records the
// previous version wrote (all JSON) still decode and a hub recovers from them as from binary
// ones; a record of a newer format, kind or field, or one cut short, fails with DataLoss.
#include "queue/sqs_records.h"

#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/storage.h"
#include "recording_hub.h"

namespace courier::queue_internal {
namespace {

using Side = testing_support::RecordingSide;

const std::string kArn = "arn:aws:sqs:us-east-1:000000000000:q";

MessageStored Plain() {
  MessageStored r{.arn = kArn, .place = {3, 70000, uint64_t{1} << 40}};
  r.message_id = "0b03b4f1-c00f-41fc-8931-585157092a92";
  r.body = "hello";
  r.sent_ns = r.enqueued_ns = 1796594269350003432;
  return r;
}

MessageStored Full() {
  MessageStored r = Plain();
  r.body = std::string("a\0b\xff", 4) + std::string(300, 'x');  // longer than a one-byte length
  r.body_md5 = detail::Md5(r.body);
  r.attributes["n"] = MessageAttribute::Number("7");
  r.attributes["b"] = MessageAttribute::Binary(std::string("\0\1\2", 3));
  r.trace_header = "Root=1-5759e988-bd862e3fe1be46a994272793";
  r.group_id = "g";
  r.dedup_id = "d1";
  r.dead_letter_source_arn = kArn + "-source";
  r.enqueued_ns = r.sent_ns - 5;  // a FIFO queue's move back: enqueued before sent
  r.visible_at_ns = r.sent_ns + 1000;
  r.queued_ns = -1;
  r.receives = 4000000000u;
  r.first_receive_ns = r.sent_ns + 7;
  return r;
}

// The record, decoded from its encoding: what the encoding and the old JSON writer make of it
// must not change (the JSON form names every field but body_md5, compared apart).
void RoundTrips(const SqsRecord& record) {
  const std::string bytes = EncodeSqsRecord(record);
  absl::StatusOr<SqsRecord> back = DecodeSqsRecord(bytes);
  REQUIRE(back.ok());
  CHECK(back->index() == record.index());
  CHECK(EncodeSqsRecord(*back) == bytes);
  CHECK(EncodeSqsRecordAsJson(*back) == EncodeSqsRecordAsJson(record));
  if (const auto* stored = std::get_if<MessageStored>(&record)) {
    CHECK(std::get<MessageStored>(*back).body_md5 == stored->body_md5);
  }
}

TEST_CASE("Message records are binary and decode to what was encoded", "[queue][records]") {
  MessageStored no_md5 = Plain();
  no_md5.md5 = false;
  const std::vector<SqsRecord> records = {
      Plain(),
      Full(),
      no_md5,
      MessageReceived{kArn, {1, 2, 3}, 2, 10, 20, 5},  // until before received: visible again
      MessageReceived{kArn, {15, 0, UINT64_MAX}, 1, INT64_MIN, INT64_MAX, INT64_MIN},
      MessageRemoved{kArn, {0, 0, 0}},
      DedupAdmitted{kArn, std::string(64, 'k'), uint64_t{1} << 63 | 5, 123},
  };
  for (const SqsRecord& r : records) {
    INFO(EncodeSqsRecordAsJson(r));
    CHECK(EncodeSqsRecord(r)[0] == '\x01');
    RoundTrips(r);
  }
  // Far smaller than the JSON of the same message.
  CHECK(EncodeSqsRecord(Plain()).size() * 2 < EncodeSqsRecordAsJson(Plain()).size());
}

TEST_CASE("Decoding into one record leaves nothing of the one before", "[queue][records]") {
  SqsRecord into;
  REQUIRE(DecodeSqsRecord(EncodeSqsRecord(Full()), into).ok());
  REQUIRE(DecodeSqsRecord(EncodeSqsRecord(Plain()), into).ok());
  CHECK(EncodeSqsRecord(into) == EncodeSqsRecord(Plain()));
  MessageStored text = Full();
  text.body = "text";  // JSON records hold UTF-8 only (binary ones any bytes)
  REQUIRE(DecodeSqsRecord(EncodeSqsRecordAsJson(text), into).ok());
  CHECK(EncodeSqsRecordAsJson(into) == EncodeSqsRecordAsJson(text));
}

TEST_CASE("Queue records stay JSON", "[queue][records]") {
  const std::vector<SqsRecord> records = {
      QueueCreated{.arn = kArn, .name = "q", .attributes = {{"DelaySeconds", "0"}}},
      QueueChanged{kArn, {{"VisibilityTimeout", "5"}}, 9},
      QueueTagged{kArn, {{"team", "a"}}},
      QueuePurged{kArn, 1},
      QueueDeleted{kArn, 2},
  };
  for (const SqsRecord& r : records) {
    const std::string text = EncodeSqsRecord(r);
    CHECK(text == EncodeSqsRecordAsJson(r));
    REQUIRE(DecodeSqsRecord(text).ok());
    CHECK(EncodeSqsRecord(*DecodeSqsRecord(text)) == text);
  }
}

TEST_CASE("Records of the previous version, all JSON, still decode", "[queue][records]") {
  // As the previous version wrote them (taken from a file it wrote).
  const std::string stored =
      R"({"op":"Store","arn":"arn:aws:sqs:us-east-1:000000000000:stored","shard":0,"slot":0,)"
      R"("stamp":0,"id":"0b03b4f1-c00f-41fc-8931-585157092a92","body":"bbbb","md5":true,)"
      R"("sent":1796594269350003432,"enqueued":1796594269350003432,)"
      R"("visible_at":1796594269350003432,"receives":0,"first_receive":0})";
  absl::StatusOr<SqsRecord> r = DecodeSqsRecord(stored);
  REQUIRE(r.ok());
  const MessageStored& m = std::get<MessageStored>(*r);
  CHECK(m.body == "bbbb");
  CHECK(m.md5);
  CHECK_FALSE(m.body_md5.has_value());  // recovery computes it
  CHECK(m.visible_at_ns == 1796594269350003432);
  CHECK(EncodeSqsRecordAsJson(*r) == stored);
  const std::string received =
      R"({"op":"Receive","arn":"arn:aws:sqs:us-east-1:000000000000:stored","shard":0,"slot":0,)"
      R"("stamp":0,"receives":1,"first_receive":5,"received":5,"until":30000000005})";
  REQUIRE(DecodeSqsRecord(received).ok());
  CHECK(EncodeSqsRecordAsJson(*DecodeSqsRecord(received)) == received);
}

TEST_CASE("A record of a newer format, kind or field fails with DataLoss", "[queue][records]") {
  const std::string plain = EncodeSqsRecord(Plain());
  auto fails = [](std::string_view bytes, std::string_view why) {
    absl::StatusOr<SqsRecord> r = DecodeSqsRecord(bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(r.status().message()), Catch::Contains(std::string(why)));
  };
  fails(std::string("\x02") + plain.substr(1), "format 2: written by a newer build?");
  fails(std::string("\x01\x09", 2), "unknown kind 9");
  fails(plain + std::string("\x7f\x00", 2), "unknown field 127");
  fails(EncodeSqsRecord(MessageRemoved{kArn, {}}) + std::string("\x01\x00", 2), "unknown field 1");
  fails("", "empty");
  fails(std::string("\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 13), "cut short");
  // Every cut of a record either fails or, when it ends between optional fields, decodes; none
  // reads past the end.
  const std::string full = EncodeSqsRecord(Full());
  size_t decoded = 0;
  for (size_t n = 0; n < full.size(); ++n) {
    absl::StatusOr<SqsRecord> r = DecodeSqsRecord(std::string_view(full).substr(0, n));
    if (r.ok()) {
      ++decoded;
    } else {
      CHECK(r.status().code() == absl::StatusCode::kDataLoss);
    }
  }
  CHECK(decoded < 10);  // one per optional field at most
}

// What a queue holds, message by message (received until none is left, in flight for an hour): a
// standard queue's sorted (its order is best effort), a FIFO queue's as received.
template <typename Q>
std::string Contents(Q& q, bool sorted) {
  std::vector<std::string> lines;
  for (;;) {
    auto got = q.ReceiveMessage({.max_number_of_messages = 10,
                                 .visibility_timeout = absl::Hours(1),
                                 .message_system_attribute_names = {"All"},
                                 .message_attribute_names = {"All"}});
    REQUIRE(got.ok());
    if (got->empty()) break;
    for (const Message& m : *got) {
      lines.push_back(fmt::format("{} {} {} {} {} {}", m.message_id.view(), m.body,
                                  m.md5_of_body.view(), m.md5_of_message_attributes.view(),
                                  m.attributes.at("ApproximateReceiveCount"),
                                  m.attributes.at("SentTimestamp")));
    }
  }
  if (sorted) std::sort(lines.begin(), lines.end());
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  return text;
}
std::string Contents(Hub& hub, std::string_view name, bool fifo) {
  if (fifo) return Contents(*Sqs(hub).GetFifoQueue(name).value(), false);
  return Contents(*Sqs(hub).GetQueue(name).value(), true);
}

TEST_CASE("A hub recovers from the previous version's JSON records as from binary ones",
          "[queue][records][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side a(log);
  auto q = Sqs(a.hub).CreateQueue("orders").value();
  auto f = Sqs(a.hub).CreateFifoQueue("jobs.fifo", {.content_based_deduplication = true}).value();
  for (int i = 0; i < 20; ++i) {
    REQUIRE(q->SendMessage({.body = "m" + std::to_string(i),
                            .attributes = {{"n", MessageAttribute::Number(std::to_string(i))}}})
                .ok());
    REQUIRE(f->SendMessage(
                 {.body = "f" + std::to_string(i), .message_group_id = "g" + std::to_string(i % 3)})
                .ok());
  }
  REQUIRE(q->SendMessageNoMd5({.body = "no digest"}).ok());
  auto got = q->ReceiveMessage({.max_number_of_messages = 5});
  REQUIRE(got.ok());
  REQUIRE(q->DeleteMessage((*got)[0].receipt_handle).ok());
  auto fgot = f->ReceiveMessage({.max_number_of_messages = 4});
  REQUIRE(fgot.ok());
  REQUIRE(f->DeleteMessage((*fgot)[0].receipt_handle).ok());
  a.sim.clock().Advance(absl::Seconds(40));  // the undeleted ones are visible again

  // The same records as the previous version would have written them.
  auto old = std::make_shared<RecordingStorage>();
  size_t binary = 0;
  for (const std::string& r : log->Records(kSqsLog)) {
    if (r[0] == '\x01') ++binary;
    const std::string json = EncodeSqsRecordAsJson(DecodeSqsRecord(r).value());
    REQUIRE(old->Append(kSqsLog, std::span<const std::string>(&json, 1)).ok());
  }
  CHECK(binary > 40);

  Side from_binary(log->Copy(), a.sim.Now());
  Side from_json(old, a.sim.Now());
  REQUIRE(from_binary.hub.Recover().ok());
  REQUIRE(from_json.hub.Recover().ok());
  for (const auto& [name, fifo] : {std::pair{"orders", false}, std::pair{"jobs.fifo", true}}) {
    INFO(name);
    const std::string original = Contents(a.hub, name, fifo);
    CHECK(!original.empty());
    CHECK(Contents(from_binary.hub, name, fifo) == original);
    CHECK(Contents(from_json.hub, name, fifo) == original);
  }
}

}  // namespace
}  // namespace courier::queue_internal
