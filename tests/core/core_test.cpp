#include <catch2/catch.hpp>
#include <cstdio>
#include <limits>
#include <regex>
#include <set>
#include <utility>
#include <vector>

#include "courier/detail/digest.h"
#include "courier/detail/hex.h"
#include "courier/detail/hub_registry.h"
#include "courier/detail/uuid.h"
#include "courier/executor.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/status.h"

namespace courier {
namespace {

TEST_CASE("AWS error names round-trip through absl::Status", "[status]") {
  absl::Status s = AwsErrorF(absl::StatusCode::kInvalidArgument, "ReceiptHandleIsInvalid",
                             "The input receipt handle \"{}\" is not valid.", "junk");
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(ErrorName(s) == "ReceiptHandleIsInvalid");
  REQUIRE(ErrorMessage(s) == "The input receipt handle \"junk\" is not valid.");
  REQUIRE(ErrorName(absl::OkStatus()).empty());
  REQUIRE(ErrorName(absl::InternalError("no name here: at all")).empty());
  REQUIRE(ErrorName(AwsError(absl::StatusCode::kNotFound, "AWS.SimpleQueueService.NonExistentQueue",
                             "x")) == "AWS.SimpleQueueService.NonExistentQueue");
}

TEST_CASE("Each AWS error name has one status code", "[status]") {
  using enum absl::StatusCode;
  const std::vector<std::pair<std::string, absl::StatusCode>> expected = {
      {"QueueDoesNotExist", kNotFound},
      {"AWS.SimpleQueueService.NonExistentQueue", kNotFound},
      {"ResourceNotFoundException", kNotFound},
      {"QueueAlreadyExists", kAlreadyExists},
      {"ReceiptHandleIsInvalid", kInvalidArgument},
      {"InvalidParameterValue", kInvalidArgument},
      {"MissingParameter", kInvalidArgument},
      {"TooManyEntriesInBatchRequest", kInvalidArgument},
      {"PurgeQueueInProgress", kFailedPrecondition},
      {"QueueDeletedRecently", kFailedPrecondition},
      {"OverLimit", kResourceExhausted},
      {"KmsAccessDenied", kPermissionDenied},
      {"InvalidAction", kUnimplemented},
      {"UnknownOperationException", kUnimplemented},
      {"InternalError", kInternal},
  };
  for (const auto& [name, code] : expected) {
    INFO(name);
    CHECK(AwsErrorCode(name) == code);
    CHECK(AwsError(name, "m").code() == code);
    CHECK(AwsErrorF(name, "{}", 1).code() == code);
  }
}

TEST_CASE("JSON text writes numbers as AWS's services do", "[json]") {
  auto text = [](Json v) { return ToJsonText(v); };
  CHECK(text(3) == "3");
  CHECK(text(-7) == "-7");
  CHECK(text(5.0) == "5.0");
  CHECK(text(0.5) == "0.5");
  CHECK(text(0.001) == "0.001");
  CHECK(text(9999999.5) == "9999999.5");
  CHECK(text(1767225600.0) == "1.7672256E9");  // a Step Functions creationDate
  CHECK(text(12345678.9) == "1.23456789E7");
  CHECK(text(1e-4) == "1.0E-4");
  CHECK(text(-2.5e-7) == "-2.5E-7");
  CHECK(text(1e21) == "1.0E21");
  CHECK(text(Json(std::numeric_limits<double>::infinity())) == "null");
  CHECK(text(JsonObject{{"a", JsonArray{1, "x\n\"", nullptr, true}}}) ==
        R"({"a":[1,"x\n\"",null,true]})");
}

TEST_CASE("MD5 of message attributes matches the AWS vectors", "[digest]") {
  REQUIRE(detail::Md5Of("hello") == "5d41402abc4b2a76b9719d911017c592");
  REQUIRE(detail::Sha256Hex("hello") ==
          "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  REQUIRE(detail::Md5OfMessageAttributes(
              {{"attribName1", MessageAttribute::String("attribValue 1")}}) ==
          "19e27d4e946b072f3f58da80d94fd778");
  REQUIRE(detail::Md5OfMessageAttributes(
              {{"binaryAttribute", MessageAttribute::Binary("Hello binary world!")}}) ==
          "31a92b15d92f8db860eda32aceb656c3");
  REQUIRE(detail::Md5OfMessageAttributes({}).empty());
}

TEST_CASE("UUIDs are version 4 and distinct", "[uuid]") {
  std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = detail::NewUuid();
    REQUIRE(std::regex_match(id, v4));
    seen.insert(id);
  }
  REQUIRE(seen.size() == 1000);
}

TEST_CASE("Hex words format and parse eight digits at a time", "[hex]") {
  for (uint32_t v : {0u, 1u, 9u, 10u, 15u, 16u, 0x12345678u, 0x9abcdef0u, 0xffffffffu}) {
    char text[8];
    detail::PutHex32(text, v);
    char expected[9];
    std::snprintf(expected, sizeof expected, "%08x", v);
    REQUIRE(std::string_view(text, 8) == expected);
    REQUIRE(detail::GetHex32(text) == v);
  }
  // Every byte that is not a lowercase hex digit, in every position, is refused.
  for (int pos = 0; pos < 8; ++pos) {
    for (int c = 0; c < 256; ++c) {
      char text[9] = "0a1b2c3d";
      text[pos] = static_cast<char>(c);
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      REQUIRE(detail::GetHex32(text).has_value() == hex);
    }
  }
  uint8_t bytes[3] = {0x00, 0x7f, 0xff};
  char out[6];
  detail::ToHex(bytes, 3, out);
  REQUIRE(std::string_view(out, 6) == "007fff");
  uint8_t wide[16];
  for (int i = 0; i < 16; ++i) wide[i] = static_cast<uint8_t>(i * 17 + 3);
  char fast[32], slow[32];
  detail::PutHex128(wide, fast);
  detail::ToHex(wide, 16, slow);
  REQUIRE(std::string_view(fast, 32) == std::string_view(slow, 32));
}

TEST_CASE("Sixteen hex digits parse at once", "[hex]") {
  for (uint64_t v : {0ULL, 1ULL, 0x0123456789abcdefULL, 0xfedcba9876543210ULL, ~0ULL}) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
    REQUIRE(detail::GetHex64(text) == v);
  }
  for (int pos = 0; pos < 16; ++pos) {
    for (int c = 0; c < 256; ++c) {
      char text[17] = "0a1b2c3d4e5f6789";
      text[pos] = static_cast<char>(c);
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      REQUIRE(detail::GetHex64(text).has_value() == hex);
    }
  }
}

TEST_CASE("UUIDs format and parse back", "[uuid]") {
  const detail::Uuid u{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  REQUIRE(detail::FormatUuid(u) == "01234567-89ab-cdef-fedc-ba9876543210");
  REQUIRE(detail::ParseUuid("01234567-89ab-cdef-fedc-ba9876543210") == u);
  REQUIRE_FALSE(detail::ParseUuid("01234567-89ab-cdef-fedc-ba987654321"));
  REQUIRE_FALSE(detail::ParseUuid("01234567+89ab-cdef-fedc-ba9876543210"));
  REQUIRE_FALSE(detail::ParseUuid("01234567-89ab-cdef-fedc-ba987654321G"));
  // Random ones format as printf would and parse back.
  for (int i = 0; i < 1000; ++i) {
    const detail::Uuid r{detail::RandomBits(), detail::RandomBits()};
    char expected[37];
    std::snprintf(expected, sizeof expected, "%08llx-%04llx-%04llx-%04llx-%012llx",
                  static_cast<unsigned long long>(r.hi >> 32),
                  static_cast<unsigned long long>(r.hi >> 16 & 0xffff),
                  static_cast<unsigned long long>(r.hi & 0xffff),
                  static_cast<unsigned long long>(r.lo >> 48),
                  static_cast<unsigned long long>(r.lo & 0xffffffffffffULL));
    REQUIRE(detail::FormatUuid(r) == std::string_view(expected));
    REQUIRE(detail::ParseUuid(expected) == r);
  }
}

TEST_CASE("Json parses and serializes", "[json]") {
  auto doc = ParseJson(R"({"order": 1, "items": [1, 2]})");
  REQUIRE(doc.ok());
  REQUIRE(ToJsonText(*doc) == R"({"order":1,"items":[1,2]})");
  REQUIRE_FALSE(ParseJson("{").ok());
}

TEST_CASE("ManualExecutor runs queued work, including work it submits", "[executor]") {
  ManualExecutor executor;
  int ran = 0;
  executor.Submit([&] {
    ++ran;
    executor.Submit([&] { ++ran; });
  });
  REQUIRE(executor.Pending() == 1);
  REQUIRE(executor.RunUntilIdle() == 2);
  REQUIRE(ran == 2);
}

TEST_CASE("ThreadPoolExecutor runs everything submitted before destruction", "[executor]") {
  std::atomic<int> ran{0};
  {
    ThreadPoolExecutor pool(2);
    for (int i = 0; i < 100; ++i) pool.Submit([&] { ++ran; });
  }
  REQUIRE(ran == 100);
}

class FakeSink final : public MessageSink {
 public:
  using MessageSink::MessageSink;
  absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) override {
    return SendMessageResult{.message_id = MessageId(request.body)};
  }
};

TEST_CASE("Hub names resources by ARN", "[hub]") {
  Hub hub(Environment::Deterministic());
  REQUIRE(hub.Arn("sqs", "orders") == "arn:aws:sqs:us-east-1:000000000000:orders");
  auto sink = std::make_shared<FakeSink>("orders", hub.Arn("sqs", "orders"));
  REQUIRE(detail::AddResource(hub, sink).ok());
  REQUIRE(detail::AddResource(hub, sink).code() == absl::StatusCode::kAlreadyExists);
  REQUIRE(hub.FindSink(sink->arn()) == sink);
  REQUIRE(hub.ListResources("arn:aws:sqs:").size() == 1);
  REQUIRE(hub.ListResources("arn:aws:sns:").empty());
  REQUIRE(detail::RemoveResource(hub, sink->arn()) == sink);
  REQUIRE(hub.FindResource(sink->arn()) == nullptr);
}

}  // namespace
}  // namespace courier
