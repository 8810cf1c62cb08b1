#include "queue/queue_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <set>

#include "courier/detail/digest.h"
#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/sqs_queue.h"
#include "courier/status.h"
#include "queue/extended_payload.h"
#include "queue/message_checks.h"

namespace courier {
namespace queue_internal {

absl::Status InvalidAttributeName(std::string_view message) {
  return AwsError("InvalidAttributeName", message);
}

absl::Status QueueDoesNotExist() {
  return AwsError("QueueDoesNotExist", "The specified queue does not exist.");
}

absl::Status ReceiptHandleIsInvalid(std::string_view handle) {
  return AwsErrorF("ReceiptHandleIsInvalid",
                   "The input receipt handle \"{}\" is not a valid receipt handle.", handle);
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

namespace {

absl::Status InvalidAttributeValue(std::string_view message) {
  return AwsError("InvalidAttributeValue", message);
}

std::string Seconds(absl::Duration d) { return std::to_string(absl::ToInt64Seconds(d)); }

bool WholeSeconds(absl::Duration d) { return d == absl::Trunc(d, absl::Seconds(1)); }

const std::set<std::string, std::less<>> kFifoOnly = {"FifoQueue", "ContentBasedDeduplication",
                                                      "DeduplicationScope", "FifoThroughputLimit"};

}  // namespace
}  // namespace queue_internal

QueueAttributeMap QueueAttributes::ToMap() const {
  QueueAttributeMap m = other;
  auto secs = [&](const char* name, const std::optional<absl::Duration>& d) {
    if (d) m[name] = queue_internal::Seconds(*d);
  };
  auto flag = [&](const char* name, const std::optional<bool>& b) {
    if (b) m[name] = *b ? "true" : "false";
  };
  secs("DelaySeconds", delay);
  if (maximum_message_size) m["MaximumMessageSize"] = std::to_string(*maximum_message_size);
  secs("MessageRetentionPeriod", message_retention_period);
  secs("ReceiveMessageWaitTimeSeconds", receive_message_wait_time);
  secs("VisibilityTimeout", visibility_timeout);
  if (redrive_policy) m["RedrivePolicy"] = *redrive_policy;
  if (redrive_allow_policy) m["RedriveAllowPolicy"] = *redrive_allow_policy;
  flag("SqsManagedSseEnabled", sqs_managed_sse_enabled);
  flag("FifoQueue", fifo_queue);
  flag("ContentBasedDeduplication", content_based_deduplication);
  if (deduplication_scope) m["DeduplicationScope"] = *deduplication_scope;
  if (fifo_throughput_limit) m["FifoThroughputLimit"] = *fifo_throughput_limit;
  return m;
}

namespace queue_internal {

absl::Status CheckStandardQueueName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 80;
  for (char c : name) ok &= NameChar(c);
  if (!ok) {
    return InvalidParameterValue(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
  }
  return absl::OkStatus();
}

absl::Status ApplyQueueAttributes(Hub& hub, std::string_view self_arn,
                                  const QueueAttributeMap& attributes, bool creating, bool fifo,
                                  QueueConfig& config) {
  auto seconds = [&](std::string_view name, std::string_view value, int64_t lo, int64_t hi,
                     int64_t* out) -> absl::Status {
    std::optional<int64_t> v = ParseInt(value);
    if (!v || *v < lo || *v > hi) {
      return InvalidAttributeValue(fmt::format("Invalid value for the parameter {}.", name));
    }
    *out = *v;
    return absl::OkStatus();
  };
  auto boolean = [&](std::string_view name, std::string_view value, bool* out) -> absl::Status {
    if (value == "true" || value == "True") {
      *out = true;
    } else if (value == "false" || value == "False") {
      *out = false;
    } else {
      return InvalidAttributeValue(fmt::format("Invalid value for the parameter {}.", name));
    }
    return absl::OkStatus();
  };
  for (const auto& [name, value] : attributes) {
    int64_t v = 0;
    if (name == "DelaySeconds") {
      COURIER_RETURN_IF_ERROR(seconds(name, value, 0, 900, &v));
      config.delay = absl::Seconds(v);
    } else if (name == "MaximumMessageSize") {
      COURIER_RETURN_IF_ERROR(seconds(name, value, 1024, 1048576, &v));
      config.maximum_message_size = static_cast<size_t>(v);
    } else if (name == "MessageRetentionPeriod") {
      COURIER_RETURN_IF_ERROR(seconds(name, value, 60, 1209600, &v));
      config.retention = absl::Seconds(v);
    } else if (name == "ReceiveMessageWaitTimeSeconds") {
      COURIER_RETURN_IF_ERROR(seconds(name, value, 0, 20, &v));
      config.receive_wait = absl::Seconds(v);
    } else if (name == "VisibilityTimeout") {
      COURIER_RETURN_IF_ERROR(seconds(name, value, 0, 43200, &v));
      config.visibility = absl::Seconds(v);
    } else if (fifo && name == "FifoQueue" && !creating) {
      // Setting it to what it is changes nothing [V]; anything else is a type change.
      if (value != "true" && value != "True") {
        return InvalidAttributeValue(
            "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not "
            "supported.");
      }
    } else if (fifo && name == "FifoQueue") {
      if (value != "true" && value != "True") {
        return InvalidParameterValue(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
            "underscores, must end with .fifo suffix and be 1 to 80 in length.");
      }
    } else if (fifo && name == "ContentBasedDeduplication") {
      COURIER_RETURN_IF_ERROR(boolean(name, value, &config.content_based_deduplication));
    } else if (fifo && name == "DeduplicationScope") {
      if (value != "queue" && value != "messageGroup") {
        return InvalidAttributeValue("Invalid value for the parameter DeduplicationScope.");
      }
      config.deduplication_scope = value;
    } else if (fifo && name == "FifoThroughputLimit") {
      if (value != "perQueue" && value != "perMessageGroupId") {
        return InvalidAttributeValue("Invalid value for the parameter FifoThroughputLimit.");
      }
      config.fifo_throughput_limit = value;
    } else if (kFifoOnly.contains(name)) {
      // A standard queue knows no FifoQueue attribute, not even "false" [V].
      if (name == "DeduplicationScope" || name == "FifoThroughputLimit") {
        return InvalidAttributeName(
            fmt::format("You can specify the {} only when FifoQueue is set to true.", name));
      }
      return InvalidAttributeName(fmt::format("Unknown Attribute {}.", name));
    } else if (name == "SqsManagedSseEnabled") {
      COURIER_RETURN_IF_ERROR(boolean(name, value, &config.sqs_managed_sse));
      // One kind of server-side encryption at a time: SQS-managed replaces a KMS key.
      if (config.sqs_managed_sse) config.other.erase("KmsMasterKeyId");
    } else if (name == "RedrivePolicy") {
      if (value.empty()) {
        config.redrive_policy.clear();
        config.dead_letter_target_arn.clear();
        config.dead_letter_target.reset();
        config.max_receive_count = 0;
        continue;
      }
      auto invalid = [&](std::string_view reason) {
        return InvalidParameterValue(fmt::format(
            "Value {} for parameter RedrivePolicy is invalid. Reason: {}", value, reason));
      };
      absl::StatusOr<Json> doc = ParseJson(value);
      if (!doc.ok() || !doc->is_object()) return invalid("Redrive policy is not a valid JSON map.");
      const JsonObject& o = doc->as_object();
      const auto* target = o.if_contains("deadLetterTargetArn");
      const auto* count = o.if_contains("maxReceiveCount");
      if (target == nullptr || !target->is_string()) {
        return invalid("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.");
      }
      if (count == nullptr) {
        return invalid("Redrive policy does not contain mandatory attribute: maxReceiveCount.");
      }
      std::optional<int64_t> n;
      if (count->is_int64()) n = count->as_int64();
      if (count->is_string()) n = ParseInt(std::string(count->as_string()));
      if (!n || *n < 1 || *n > 1000) {
        return invalid("Invalid value for maxReceiveCount: must be an integer from 1 to 1000.");
      }
      const std::string arn(target->as_string());
      auto found = hub.FindResource(arn);
      if (found == nullptr) return invalid("Dead letter target does not exist.");
      auto target_queue = std::dynamic_pointer_cast<SqsQueue>(found);
      if (target_queue == nullptr || target_queue->is_fifo() != fifo) {
        return invalid("Dead-letter queue must be same type of queue as the source.");
      }
      const std::optional<QueueAttributeMap> target_attributes =
          target_queue->ConfiguredAttributes();
      if (arn == self_arn) return invalid("Dead letter target cannot be the queue itself.");
      if (auto it = target_attributes->find("RedriveAllowPolicy"); it != target_attributes->end()) {
        absl::StatusOr<Json> allow = ParseJson(it->second);
        if (allow.ok() && allow->is_object()) {
          const auto* permission = allow->as_object().if_contains("redrivePermission");
          const std::string p = permission && permission->is_string()
                                    ? std::string(permission->as_string())
                                    : "allowAll";
          bool allowed = p == "allowAll";
          if (p == "byQueue") {
            if (const auto* arns = allow->as_object().if_contains("sourceQueueArns");
                arns && arns->is_array()) {
              for (const auto& a : arns->as_array()) {
                allowed |= a.is_string() && a.as_string() == self_arn;
              }
            }
          }
          if (!allowed) {
            return invalid(fmt::format(
                "Queue {} does not allow this queue to use it as a dead-letter queue.", arn));
          }
        }
      }
      // Stored as AWS returns it: compact, maxReceiveCount a number.
      config.redrive_policy = fmt::format(R"({{"deadLetterTargetArn":{},"maxReceiveCount":{}}})",
                                          ToJsonText(Json(arn)), *n);
      config.dead_letter_target_arn = arn;
      config.dead_letter_target = found;
      config.max_receive_count = static_cast<int>(*n);
    } else if (name == "RedriveAllowPolicy") {
      if (value.empty()) {
        config.redrive_allow_policy.clear();
        continue;
      }
      auto invalid = [&](std::string_view reason) {
        return InvalidParameterValue(fmt::format(
            "Value {} for parameter RedriveAllowPolicy is invalid. Reason: {}", value, reason));
      };
      absl::StatusOr<Json> doc = ParseJson(value);
      if (!doc.ok() || !doc->is_object()) return invalid("Invalid JSON.");
      const auto* permission = doc->as_object().if_contains("redrivePermission");
      if (permission == nullptr || !permission->is_string()) {
        return invalid("Amazon SQS can't find a redrivePermission.");
      }
      const std::string p(permission->as_string());
      const auto* arns = doc->as_object().if_contains("sourceQueueArns");
      if (p == "byQueue") {
        if (arns == nullptr || !arns->is_array() || arns->as_array().empty() ||
            arns->as_array().size() > 10) {
          return invalid("byQueue needs sourceQueueArns, 1 to 10 queue ARNs.");
        }
      } else if (p == "allowAll" || p == "denyAll") {
        if (arns != nullptr) return invalid("sourceQueueArns is allowed only with byQueue.");
      } else {
        return invalid("redrivePermission must be allowAll, denyAll or byQueue.");
      }
      config.redrive_allow_policy = value;
    } else if (name == "KmsDataKeyReusePeriodSeconds") {
      COURIER_RETURN_IF_ERROR(seconds(name, value, 60, 86400, &v));
      config.other[name] = std::to_string(v);
    } else if (name == "Policy" || name == "KmsMasterKeyId") {
      if (name == "Policy" && !value.empty()) {  // a policy document is a JSON object
        absl::StatusOr<Json> doc = ParseJson(value);
        if (!doc.ok() || !doc->is_object()) {
          return InvalidAttributeValue("Invalid value for the parameter Policy.");
        }
      }
      if (value.empty()) {  // an empty value removes it
        config.other.erase(name);
      } else {
        config.other[name] = value;
      }
      if (name == "KmsMasterKeyId" && !value.empty()) {
        auto sse = attributes.find("SqsManagedSseEnabled");
        if (sse != attributes.end() && (sse->second == "true" || sse->second == "True")) {
          return InvalidAttributeName(
              "You can use one type of server-side encryption (SSE) at one time. You can either "
              "enable KMS SSE or SQS SSE.");
        }
        config.sqs_managed_sse = false;  // a KMS key turns SQS-managed encryption off [V]
      }
    } else {
      return InvalidAttributeName(fmt::format("Unknown Attribute {}.", name));
    }
  }
  // Attributes apply in name order: a KMS key set with SqsManagedSseEnabled=false stays set.
  if (config.other.contains("KmsMasterKeyId")) config.sqs_managed_sse = false;
  if (config.fifo_throughput_limit == "perMessageGroupId" &&
      config.deduplication_scope != "messageGroup") {
    return InvalidAttributeValue(
        "The perMessageGroupId value is allowed only when the value for DeduplicationScope is "
        "messageGroup.");
  }
  return absl::OkStatus();
}

QueueAttributeMap ToAttributeMap(const QueueConfig& c, bool fifo) {
  QueueAttributeMap m = c.other;
  // The data key reuse period shows only with a KMS key (300 s unless set) [V].
  if (c.other.contains("KmsMasterKeyId")) {
    m.emplace("KmsDataKeyReusePeriodSeconds", "300");
  } else {
    m.erase("KmsDataKeyReusePeriodSeconds");
  }
  m["DelaySeconds"] = Seconds(c.delay);
  m["MaximumMessageSize"] = std::to_string(c.maximum_message_size);
  m["MessageRetentionPeriod"] = Seconds(c.retention);
  m["ReceiveMessageWaitTimeSeconds"] = Seconds(c.receive_wait);
  m["VisibilityTimeout"] = Seconds(c.visibility);
  m["SqsManagedSseEnabled"] = c.sqs_managed_sse ? "true" : "false";
  if (!c.redrive_policy.empty()) m["RedrivePolicy"] = c.redrive_policy;
  if (!c.redrive_allow_policy.empty()) m["RedriveAllowPolicy"] = c.redrive_allow_policy;
  if (fifo) {
    m["FifoQueue"] = "true";
    m["ContentBasedDeduplication"] = c.content_based_deduplication ? "true" : "false";
    m["DeduplicationScope"] = c.deduplication_scope;
    m["FifoThroughputLimit"] = c.fifo_throughput_limit;
  }
  return m;
}

absl::Status RestoreQueueAttributes(Hub& hub, std::string_view self_arn,
                                    QueueAttributeMap attributes, bool fifo, QueueConfig& config) {
  std::string redrive;
  if (auto it = attributes.find("RedrivePolicy"); it != attributes.end()) {
    redrive = std::move(it->second);
    attributes.erase(it);
  }
  COURIER_RETURN_IF_ERROR(
      ApplyQueueAttributes(hub, self_arn, attributes, /*creating=*/true, fifo, config));
  if (redrive.empty()) return absl::OkStatus();
  absl::StatusOr<Json> doc = ParseJson(redrive);
  const JsonObject* o = doc.ok() ? doc->if_object() : nullptr;
  const Json* target = o ? o->if_contains("deadLetterTargetArn") : nullptr;
  const Json* count = o ? o->if_contains("maxReceiveCount") : nullptr;
  if (target == nullptr || !target->is_string() || count == nullptr || !count->is_int64()) {
    return absl::DataLossError(
        fmt::format("A recorded RedrivePolicy of {} cannot be read: {}", self_arn, redrive));
  }
  config.redrive_policy = std::move(redrive);
  config.dead_letter_target_arn = std::string(target->get_string());
  config.dead_letter_target = hub.FindResource(config.dead_letter_target_arn);
  config.max_receive_count = static_cast<int>(count->get_int64());
  return absl::OkStatus();
}

absl::Status CheckSameAttributes(const QueueAttributeMap& given, const QueueAttributeMap& parsed,
                                 const QueueAttributeMap& existing) {
  for (const auto& [key, value] : given) {
    if (key == "FifoQueue") continue;
    auto a = parsed.find(key);
    auto b = existing.find(key);
    const std::string want = a == parsed.end() ? value : a->second;
    const std::string have = b == existing.end() ? "" : b->second;
    if (want != have) {
      return AwsErrorF("QueueAlreadyExists",
                       "A queue already exists with the same name and a different value for "
                       "attribute {}",
                       key);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAttributeNamesForGet(const std::vector<std::string>& names) {
  static const std::set<std::string, std::less<>> kKnown = {"All",
                                                            "DelaySeconds",
                                                            "MaximumMessageSize",
                                                            "MessageRetentionPeriod",
                                                            "ReceiveMessageWaitTimeSeconds",
                                                            "VisibilityTimeout",
                                                            "SqsManagedSseEnabled",
                                                            "RedrivePolicy",
                                                            "RedriveAllowPolicy",
                                                            "Policy",
                                                            "KmsMasterKeyId",
                                                            "KmsDataKeyReusePeriodSeconds",
                                                            "ApproximateNumberOfMessages",
                                                            "ApproximateNumberOfMessagesNotVisible",
                                                            "ApproximateNumberOfMessagesDelayed",
                                                            "CreatedTimestamp",
                                                            "LastModifiedTimestamp",
                                                            "QueueArn"};
  // Every AWS queue attribute name is valid on either kind; one the queue lacks (FifoQueue on a
  // standard queue) is simply not returned.
  for (const auto& n : names) {
    if (kKnown.contains(n) || kFifoOnly.contains(n)) continue;
    return InvalidAttributeName(fmt::format("Unknown Attribute {}.", n));
  }
  return absl::OkStatus();
}

QueueAttributeMap SelectAttributes(const QueueAttributeMap& all,
                                   const std::vector<std::string>& names) {
  QueueAttributeMap out;
  for (const auto& n : names) {
    if (n == "All") return all;
    if (auto it = all.find(n); it != all.end()) out.insert(*it);
  }
  return out;
}

namespace {
// Unicode characters in UTF-8 text (its bytes that do not continue a character).
size_t CharacterCount(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}
// Letters, digits and white space of any script, and _ . : / = + - @ (non-ASCII characters
// pass: classifying them needs Unicode tables).
bool TagText(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !std::isalnum(u) && !std::isspace(u) &&
        std::string_view("_.:/=+-@").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}
bool ReservedTagPrefix(std::string_view text) {
  return text.size() >= 4 && (text[0] == 'a' || text[0] == 'A') &&
         (text[1] == 'w' || text[1] == 'W') && (text[2] == 's' || text[2] == 'S') && text[3] == ':';
}
}  // namespace

std::string ReplaceInvalidCharacters(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  const auto* end = p + body.size();
  while (p < end) {
    int len = *p < 0x80             ? 1
              : (*p & 0xE0) == 0xC0 ? 2
              : (*p & 0xF0) == 0xE0 ? 3
              : (*p & 0xF8) == 0xF0 ? 4
                                    : 0;
    uint32_t cp = len == 1 ? *p : len == 2 ? *p & 0x1F : len == 3 ? *p & 0x0F : *p & 0x07;
    bool ok = len > 0 && end - p >= len;
    for (int k = 1; ok && k < len; ++k) {
      ok = (p[k] & 0xC0) == 0x80;
      cp = cp << 6 | (p[k] & 0x3F);
    }
    const bool well_formed = ok;  // a whole sequence: replaced as one character
    ok = ok && !((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000));
    ok = ok && (cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF));
    if (ok) {
      out.append(reinterpret_cast<const char*>(p), len);
      p += len;
    } else {
      out += "\xEF\xBF\xBD";       // U+FFFD
      p += well_formed ? len : 1;  // else one stray byte at a time
    }
  }
  return out;
}

absl::Status CheckTags(const QueueAttributeMap& tags) {
  for (const auto& [key, value] : tags) {
    const size_t key_length = CharacterCount(key);
    if (key_length == 0 || key_length > 128 || CharacterCount(value) > 256) {
      return InvalidParameterValue(fmt::format(
          "Tag {} is invalid: keys are 1 to 128 and values 0 to 256 Unicode characters long.",
          key));
    }
    if (!TagText(key) || !TagText(value) || ReservedTagPrefix(key) || ReservedTagPrefix(value)) {
      return InvalidParameterValue(fmt::format(
          "Tag {} is invalid: keys and values are Unicode letters, digits, white space and "
          "_ . : / = + - @, and may not start with the reserved prefix aws:.",
          key));
    }
  }
  return absl::OkStatus();
}

absl::Status QueueTags::Tag(const QueueAttributeMap& tags, std::string_view queue_name) {
  COURIER_RETURN_IF_ERROR(CheckTags(tags));
  std::lock_guard lock(mu_);
  QueueAttributeMap next = tags_;
  for (const auto& [k, v] : tags) next[k] = v;
  if (next.size() > 50) {
    return InvalidParameterValue(fmt::format("Too many tags added for queue {}.", queue_name));
  }
  tags_ = std::move(next);
  RecordLocked();
  return absl::OkStatus();
}

void QueueTags::Untag(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  for (const auto& k : keys) tags_.erase(k);
  RecordLocked();
}

void QueueTags::RecordTo(std::shared_ptr<SqsLog> log, std::string arn) {
  log_ = std::move(log);
  arn_ = std::move(arn);
}

void QueueTags::Restore(QueueAttributeMap tags) {
  std::lock_guard lock(mu_);
  tags_ = std::move(tags);
}

void QueueTags::RecordLocked() const {
  if (log_ != nullptr) log_->Append(QueueTagged{arn_, tags_});
}

QueueAttributeMap QueueTags::List() const {
  std::lock_guard lock(mu_);
  return tags_;
}

bool MessageAttributeSelected(const std::vector<std::string>& selectors, std::string_view name) {
  for (const std::string& s : selectors) {
    // "prefix.*" selects the names starting with "prefix" ("Hel.*" selects "Hello") [V].
    if (s == "All" || s == "*" || s == name ||
        (s.ends_with(".*") && name.starts_with(std::string_view(s).substr(0, s.size() - 2)))) {
      return true;
    }
  }
  return false;
}

absl::Status CheckSendRequest(const SendMessageRequest& request, const QueueConfig& config) {
  COURIER_RETURN_IF_ERROR(CheckBody(request.body));
  if (!request.attributes.empty()) {
    COURIER_RETURN_IF_ERROR(CheckAttributes(request.attributes));
  }
  if (request.aws_trace_header && request.aws_trace_header->empty()) {
    return InvalidParameterValue(
        "Message (system) attribute 'AWSTraceHeader' must contain a non-empty value of type "
        "'String'.");
  }
  if (!request.attributes.empty() || request.body.size() > config.maximum_message_size) {
    COURIER_RETURN_IF_ERROR(CheckSize(request, config.maximum_message_size));
  }
  if (request.delay) {
    const absl::Duration d = *request.delay;
    if (d < absl::ZeroDuration() || d > absl::Seconds(900) || !WholeSeconds(d)) {
      return InvalidParameterValue(fmt::format(
          "Value {} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and "
          "<= 900.",
          absl::ToInt64Seconds(d)));
    }
  }
  if (request.message_group_id) {
    COURIER_RETURN_IF_ERROR(CheckFifoId("MessageGroupId", *request.message_group_id));
  }
  if (request.message_deduplication_id) {
    return InvalidParameterValue(
        "The request include parameter that is not valid for this queue type");
  }
  return absl::OkStatus();
}

absl::Status CheckReceiveRequest(int max_number_of_messages,
                                 std::optional<absl::Duration> wait_time,
                                 std::optional<absl::Duration> visibility_timeout) {
  if (max_number_of_messages < 1 || max_number_of_messages > 10) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, "
        "if provided.",
        max_number_of_messages));
  }
  if (wait_time && (*wait_time < absl::ZeroDuration() || *wait_time > absl::Seconds(20))) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if "
        "provided.",
        absl::ToInt64Seconds(*wait_time)));
  }
  if (visibility_timeout &&
      (*visibility_timeout < absl::ZeroDuration() || *visibility_timeout > absl::Seconds(43200))) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, "
        "if provided.",
        absl::ToInt64Seconds(*visibility_timeout)));
  }
  return absl::OkStatus();
}

namespace {
// A word that distinct ids rarely share: the length, and the first and last eight bytes (or all
// the bytes of a shorter id).
uint64_t IdKey(std::string_view id) {
  uint64_t key = id.size();
  if (id.size() >= 8) {
    uint64_t first, last;
    std::memcpy(&first, id.data(), 8);
    std::memcpy(&last, id.data() + id.size() - 8, 8);
    return key ^ first * 0x9E3779B97F4A7C15ULL ^ last * 0xC2B2AE3D27D4EB4FULL;
  }
  for (char c : id) key = key << 8 | static_cast<unsigned char>(c);
  return key;
}
}  // namespace

absl::Status CheckBatchIds(std::span<const std::string_view> ids, std::string_view entry_name) {
  if (ids.empty()) {
    return AwsErrorF("EmptyBatchRequest", "There should be at least one {} in the request.",
                     entry_name);
  }
  if (ids.size() > 10) {
    return AwsErrorF("TooManyEntriesInBatchRequest",
                     "Maximum number of entries per request are 10. You have sent {}.", ids.size());
  }
  std::array<uint64_t, 10> keys;
  for (size_t i = ids.size(); i < keys.size(); ++i) keys[i] = ~uint64_t{0} - i;  // padding
  bool valid = true;
  for (size_t i = 0; i < ids.size(); ++i) {
    valid &= ValidBatchEntryId(ids[i]);
    keys[i] = IdKey(ids[i]);
  }
  if (!valid) {
    return AwsError("InvalidBatchEntryId",
                    "A batch entry id can only contain alphanumeric characters, hyphens and "
                    "underscores. It can be at most 80 letters long.");
  }
  // Distinct keys mean distinct ids: compare all pairs of keys without a branch (all ten, padded
  // with distinct values, so the loop unrolls), and texts only when two keys match.
  bool same_key = false;
  for (size_t i = 1; i < keys.size(); ++i) {
    for (size_t j = 0; j < i; ++j) same_key |= keys[i] == keys[j];
  }
  for (size_t i = 1; same_key && i < ids.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (keys[i] == keys[j] && ids[i] == ids[j]) {
        return AwsErrorF("BatchEntryIdsNotDistinct", "Id {} repeated.", ids[i]);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSendBatch(const std::vector<Queue::SendBatchEntry>& entries, bool offloading) {
  std::vector<std::string_view> ids;
  size_t total = 0;
  for (const Queue::SendBatchEntry& e : entries) {
    ids.push_back(e.id);
    total += MessageSize(e.request);
  }
  COURIER_RETURN_IF_ERROR(CheckBatchIds(ids, "SendMessageBatchRequestEntry"));
  if (total > 1048576 && !offloading) {
    return AwsErrorF("BatchRequestTooLong",
                     "Batch requests cannot be longer than 1048576 bytes. You have sent {} bytes.",
                     total);
  }
  return absl::OkStatus();
}

absl::Status CheckHandleBatch(const std::vector<Queue::HandleBatchEntry>& entries,
                              std::string_view what) {
  std::array<std::string_view, 10> ids;
  const size_t n = std::min<size_t>(entries.size(), ids.size());
  for (size_t i = 0; i < n; ++i) ids[i] = entries[i].id;
  if (entries.size() > ids.size()) {  // CheckBatchIds reports the count
    std::vector<std::string_view> all(entries.size());
    return CheckBatchIds(all, what);
  }
  return CheckBatchIds(std::span<const std::string_view>(ids.data(), n), what);
}

Queue::BatchError SendBatchEntryError(const std::string& id, const absl::Status& status) {
  std::string message(ErrorMessage(status));
  constexpr std::string_view kInvalid = "One or more parameters are invalid.";
  if (message.starts_with(kInvalid)) {
    message.replace(0, kInvalid.size(), "One or more parameters cannot be validated.");
  }
  return {id, true, std::string(ErrorName(status)), std::move(message)};
}

absl::Status CheckMoveTaskDestination(Hub& hub, const std::optional<std::string>& destination,
                                      bool fifo) {
  if (!destination.has_value()) return absl::OkStatus();
  auto target = hub.FindResource(*destination);
  if (target == nullptr) {
    return ResourceNotFound(
        "The resource that you specified for the DestinationArn parameter doesn't exist.");
  }
  auto queue = std::dynamic_pointer_cast<SqsQueue>(target);
  if (queue == nullptr || queue->is_fifo() != fifo) {
    return InvalidParameterValue(
        fifo ? "The destination of a move task from a FIFO queue must be a FIFO queue."
             : "The destination of a move task from a standard queue must be a standard queue.");
  }
  return absl::OkStatus();
}

absl::Status CheckMoveTaskSource(Hub& hub, std::string_view source_arn,
                                 std::optional<int> max_per_second) {
  if (max_per_second.has_value() && (*max_per_second < 1 || *max_per_second > 500)) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between "
        "1 and 500.",
        *max_per_second));
  }
  for (const auto& r : hub.ListResources(hub.Arn("sqs", ""))) {
    auto queue = std::dynamic_pointer_cast<SqsQueue>(r);
    if (queue == nullptr) continue;
    const QueueAttributeMap attributes = queue->ConfiguredAttributes();
    auto it = attributes.find("RedrivePolicy");
    if (it == attributes.end()) continue;
    absl::StatusOr<Json> doc = ParseJson(it->second);
    if (!doc.ok() || !doc->is_object()) continue;
    const auto* target = doc->as_object().if_contains("deadLetterTargetArn");
    if (target != nullptr && target->is_string() && target->as_string() == source_arn) {
      return absl::OkStatus();
    }
  }
  return InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.");
}

ReceiptToken ReceiptTokenOf(std::string_view queue_arn, absl::Time created) {
  const detail::Md5Digest digest =
      detail::Md5(fmt::format("{}|{}", queue_arn, absl::ToUnixNanos(created)));
  const Md5Hex hex = detail::ToMd5Hex(digest);
  ReceiptToken token;
  std::memcpy(token.data(), hex.view().data(), token.size());
  return token;
}

}  // namespace queue_internal
}  // namespace courier
