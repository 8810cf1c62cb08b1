// Topic (topic.h): attributes, the subscription snapshot, and Publish — its checks, the FIFO
// deduplication window and sequence, one pass of the filter automata, and the copy each
// matching subscription receives (SNS's JSON envelope, the raw message, a Lambda event record).
#include "courier/topic.h"

#include <absl/strings/escaping.h>
#include <absl/strings/numbers.h>
#include <absl/time/clock.h>
#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <set>
#include <utility>

#include "courier/detail/digest.h"
#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/key_provider.h"
#include "courier/sns.h"
#include "courier/status.h"
#include "topic/subscription.h"
#include "topic/topic_state.h"

namespace courier {

using topic_internal::Delivery;
using topic_internal::InvalidParameter;
using topic_internal::Quoted;
using topic_internal::Snapshot;
using topic_internal::Subscription;
using topic_internal::Timestamp;

namespace topic_internal {

absl::Status InvalidParameter(std::string_view message) {
  return AwsErrorF("InvalidParameter", "Invalid parameter: {}", message);
}

std::string Quoted(std::string_view s) { return boost::json::serialize(Json(s)); }

std::string Timestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string Signature(std::string_view to_sign) {
  const std::string digest = absl::HexStringToBytes(detail::Sha256Hex(to_sign));
  std::string bytes;
  while (bytes.size() < 256) bytes += digest;
  return absl::Base64Escape(bytes.substr(0, 256));
}

std::string SigningCertUrl(std::string_view region) {
  return fmt::format("https://sns.{}.amazonaws.com/SimpleNotificationService-{}.pem", region,
                     detail::Md5Of(region).view());
}

namespace {
// An ArchivePolicy's MessageRetentionPeriod, 1-365 days ("30" or 30); zero for {} (off).
absl::StatusOr<absl::Duration> ArchiveRetention(std::string_view policy) {
  auto v = ParseJson(policy);
  if (!v.ok() || !v->is_object()) return absl::InvalidArgumentError("ArchivePolicy must be JSON");
  const Json* days = v->get_object().if_contains("MessageRetentionPeriod");
  if (days == nullptr) return absl::ZeroDuration();  // {}: archiving off
  int64_t n = 0;
  if (days->is_string()) {
    if (!absl::SimpleAtoi(std::string(days->get_string()), &n)) n = 0;
  } else if (days->is_int64()) {
    n = days->get_int64();
  }
  if (n < 1 || n > 365) {
    return absl::InvalidArgumentError("MessageRetentionPeriod must be from 1 to 365 days");
  }
  return absl::Hours(24 * n);
}
}  // namespace

absl::Status CheckTopicAttribute(bool fifo, std::string_view name, std::string_view value,
                                 bool creating) {
  auto invalid = [&](std::string_view reason) {
    return AwsErrorF("InvalidParameter", "Invalid parameter: {}{}", name, reason);
  };
  auto json_object = [&] {
    auto v = ParseJson(value);
    return v.ok() && v->is_object();
  };
  if (name == "DisplayName" || name == "KmsMasterKeyId") return absl::OkStatus();
  if (name == "Policy") return json_object() ? absl::OkStatus() : invalid("");
  if (name == "DeliveryPolicy") {
    auto v = ParseJson(value);
    if (!v.ok() || !v->is_object()) return invalid("");
    const Json* http = v->get_object().if_contains("http");
    if (http != nullptr && http->is_object()) {
      auto r = ParseHttpRetryPolicy(http->get_object().if_contains("defaultHealthyRetryPolicy"));
      if (!r.ok()) return invalid(fmt::format(": {}", std::string(r.status().message())));
    }
    return absl::OkStatus();
  }
  if (name == "SignatureVersion") {
    return value == "1" || value == "2" ? absl::OkStatus() : invalid("");
  }
  if (name == "TracingConfig") {
    return value == "PassThrough" || value == "Active" ? absl::OkStatus() : invalid("");
  }
  if (name == "FifoTopic") {
    if (!creating) return AwsError("InvalidParameter", "Invalid parameter: AttributeName");
    return value == "true" || value == "false" ? absl::OkStatus() : invalid("");
  }
  if (name == "ContentBasedDeduplication" || name == "FifoThroughputScope" ||
      name == "ArchivePolicy") {
    if (!fifo) {
      return invalid(fmt::format(" Reason: {} can only be set for FIFO topics", name));
    }
    if (name == "ContentBasedDeduplication") {
      return value == "true" || value == "false" ? absl::OkStatus() : invalid("");
    }
    if (name == "FifoThroughputScope") {
      return value == "Topic" || value == "MessageGroup" ? absl::OkStatus() : invalid("");
    }
    absl::StatusOr<absl::Duration> retention = ArchiveRetention(value);
    return retention.ok()
               ? absl::OkStatus()
               : invalid(fmt::format(" Reason: {}", std::string(retention.status().message())));
  }
  return AwsError("InvalidParameter", creating ? "Invalid parameter: Attributes Reason: Unknown "
                                                 "attribute"
                                               : "Invalid parameter: AttributeName");
}

}  // namespace topic_internal

namespace {

absl::Status TopicNotFound() { return AwsError("NotFound", "Topic does not exist"); }

// Publish to a topic with KmsMasterKeyId: the key must be usable, or the call fails with SNS's
// name for the provider's error. (Topics keep no message bodies in storage: nothing is sealed.)
absl::Status CheckTopicKey(Hub& hub, const std::string& key_id) {
  absl::StatusOr<std::string> key = KeyProviderOf(hub.environment())->ResolveKey(key_id);
  if (key.ok()) return absl::OkStatus();
  const std::optional<KeyError> error = KeyErrorOf(key.status());
  std::string_view name = "KMSAccessDenied";
  switch (error.value_or(KeyError::kAccessDenied)) {
    case KeyError::kNotFound:
      name = "KMSNotFound";
      break;
    case KeyError::kDisabled:
      name = "KMSDisabled";
      break;
    case KeyError::kInvalidState:
    case KeyError::kInvalidKeyUsage:
    case KeyError::kInvalidCiphertext:
      name = "KMSInvalidState";
      break;
    case KeyError::kOptInRequired:
      name = "KMSOptInRequired";
      break;
    case KeyError::kThrottled:
      name = "KMSThrottling";
      break;
    case KeyError::kAccessDenied:
      break;
  }
  return AwsError(
      name, error ? std::string(ErrorMessage(key.status())) : std::string(key.status().message()));
}

// SNS's "Type"/"Value" form of one attribute (Binary values base64-encoded).
std::pair<std::string, std::string> TypeAndValue(const MessageAttribute& a) {
  return {a.data_type, a.is_binary() ? absl::Base64Escape(a.binary_value) : a.string_value};
}

// ---- Checks -------------------------------------------------------------------------------------

bool ValidAttributeName(std::string_view name) {
  if (name.empty() || name.size() > 256 || name.front() == '.' || name.back() == '.') return false;
  if (name.find("..") != std::string_view::npos) return false;
  auto starts = [&](std::string_view prefix) {
    if (name.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(name[i])) != prefix[i]) return false;
    }
    return true;
  };
  if (starts("aws.") || starts("amazon.")) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// A decimal number as a Number attribute holds it: [+-]digits[.digits][e[+-]digits], with
// digits on at least one side of the point.
bool IsDecimalNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t n = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    n += digits();
  }
  if (n == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

absl::Status CheckAttributes(const MessageAttributes& attributes) {
  for (const auto& [name, a] : attributes) {
    if (!ValidAttributeName(name)) {
      return AwsErrorF("ParameterValueInvalid", "Invalid attribute name: {}", name);
    }
    const std::string_view base = a.base_type();
    if (base != "String" && base != "Number" && base != "Binary") {
      return AwsErrorF("ParameterValueInvalid",
                       "The message attribute '{}' has an invalid message attribute type, the set "
                       "of supported type prefixes is Binary, Number, and String.",
                       name);
    }
    if (a.value().empty()) {
      return AwsErrorF("ParameterValueInvalid",
                       "The message attribute '{}' must contain non-empty message attribute value "
                       "for message attribute type '{}'.",
                       name, base);
    }
    if (base == "Number") {
      if (!IsDecimalNumber(a.string_value)) {
        return AwsErrorF("ParameterValueInvalid",
                         "Could not cast message attribute '{}' value to number.", name);
      }
    }
    if (a.data_type == "String.Array") {
      auto v = ParseJson(a.string_value);
      bool ok = v.ok() && v->is_array();
      if (ok) {
        for (const Json& e : v->get_array()) ok = ok && !e.is_object() && !e.is_array();
      }
      if (!ok) {
        return AwsErrorF("ParameterValueInvalid",
                         "The message attribute '{}' with type 'String.Array' has an invalid "
                         "value: it must be a JSON array of strings, numbers, true, false or null.",
                         name);
      }
    }
  }
  return absl::OkStatus();
}

size_t PublishSize(const PublishRequest& r) {
  size_t n = r.message.size();
  for (const auto& [name, a] : r.attributes)
    n += name.size() + a.data_type.size() + a.value().size();
  return n;
}

absl::Status CheckSubject(std::string_view subject) {
  bool ok = !subject.empty() && subject.size() <= 100 &&
            std::isgraph(static_cast<unsigned char>(subject.front()));
  for (char c : subject) ok = ok && (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  return ok ? absl::OkStatus() : InvalidParameter("Subject");
}

// 1-128 characters: letters, digits and punctuation.
bool ValidFifoId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isgraph(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// ---- The message each protocol receives ---------------------------------------------------------

// The published message, by protocol: MessageStructure=json gives each protocol its own text.
class Messages {
 public:
  // `r` must outlive the result (its message is not copied).
  static absl::StatusOr<Messages> Of(const PublishRequest& r) {
    Messages m;
    m.default_ = r.message;
    if (!r.message_structure) return m;
    if (*r.message_structure != "json") return InvalidParameter("MessageStructure");
    auto parsed = ParseJson(r.message);
    if (!parsed.ok() || !parsed->is_object()) {
      return InvalidParameter("Message Structure - JSON message body failed to parse");
    }
    for (const auto& [key, value] : parsed->get_object()) {
      if (!value.is_string()) {
        return InvalidParameter("Message Structure - JSON message body failed to parse");
      }
      m.by_protocol_.emplace(std::string(key), std::string(value.get_string()));
    }
    auto it = m.by_protocol_.find("default");
    if (it == m.by_protocol_.end()) {
      return InvalidParameter("Message Structure - No default entry in JSON message body");
    }
    m.default_ = it->second;  // the map's nodes do not move when `m` does
    return m;
  }
  std::string_view For(std::string_view protocol) const {
    if (by_protocol_.empty()) return default_;
    auto it = by_protocol_.find(protocol);
    return it != by_protocol_.end() ? std::string_view(it->second) : default_;
  }

 private:
  std::string_view default_;
  std::map<std::string, std::string, std::less<>> by_protocol_;
};

// The parts of SNS's JSON envelope that every subscription of one publish shares: all of it but
// the subscription ARN inside UnsubscribeURL. Field order, spacing and names as SNS writes them.
struct Envelope {
  std::string head, tail;
  std::string For(std::string_view subscription_arn) const {
    std::string out;
    out.reserve(head.size() + subscription_arn.size() + tail.size());
    out.append(head).append(subscription_arn).append(tail);
    return out;
  }
};

// What one publish needs to write its copies, computed once and only if a copy needs it.
struct Publication {
  const Hub& hub;
  std::string_view topic_arn;
  bool fifo;
  std::string_view signature_version;
  const PublishRequest& request;
  const Messages& messages;
  MessageId message_id;
  std::string sequence_number;
  std::string dedup_id;
  absl::Time time;
  mutable std::string timestamp_;  // Timestamp(time), made when a copy first needs it
  bool replayed = false;           // a copy from the archive (ReplayPolicy)

  const std::string& timestamp() const {
    if (timestamp_.empty()) timestamp_ = Timestamp(time);
    return timestamp_;
  }
  // The topic's default retry policy for HTTP(S), if its DeliveryPolicy has one.
  const topic_internal::RetryPolicy* http_retry = nullptr;
  // Envelopes by the text of their Message.
  std::map<std::string_view, Envelope, std::less<>> envelopes;

  std::string Region() const { return hub.environment().region; }

  std::string Signature(std::string_view message) const {
    std::string to_sign = fmt::format("Message\n{}\nMessageId\n{}\n", message, message_id.view());
    if (request.subject) to_sign += fmt::format("Subject\n{}\n", *request.subject);
    to_sign +=
        fmt::format("Timestamp\n{}\nTopicArn\n{}\nType\nNotification\n", timestamp(), topic_arn);
    return topic_internal::Signature(to_sign);
  }

  std::string SigningCertUrl() const { return topic_internal::SigningCertUrl(Region()); }

  std::string UnsubscribeUrlPrefix() const {
    return fmt::format("https://sns.{}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=",
                       Region());
  }

  const Envelope& EnvelopeFor(std::string_view message) {
    auto it = envelopes.find(message);
    if (it != envelopes.end()) return it->second;
    Envelope e;
    std::string& h = e.head;
    h = "{\n  \"Type\" : \"Notification\",\n";
    h += fmt::format("  \"MessageId\" : \"{}\",\n", message_id.view());
    if (fifo) h += fmt::format("  \"SequenceNumber\" : \"{}\",\n", sequence_number);
    h += fmt::format("  \"TopicArn\" : {},\n", Quoted(topic_arn));
    if (request.subject) h += fmt::format("  \"Subject\" : {},\n", Quoted(*request.subject));
    h += fmt::format("  \"Message\" : {},\n", Quoted(message));
    h += fmt::format("  \"Timestamp\" : \"{}\",\n", timestamp());
    if (replayed) h += "  \"Replayed\" : true,\n";
    if (!fifo) {
      h += fmt::format("  \"SignatureVersion\" : \"{}\",\n", signature_version);
      h += fmt::format("  \"Signature\" : \"{}\",\n", Signature(message));
      h += fmt::format("  \"SigningCertURL\" : \"{}\",\n", SigningCertUrl());
    }
    h += fmt::format("  \"UnsubscribeURL\" : \"{}", UnsubscribeUrlPrefix());
    std::string& t = e.tail;
    t = "\"";
    if (!request.attributes.empty()) {
      t += ",\n  \"MessageAttributes\" : {";
      bool first = true;
      for (const auto& [name, a] : request.attributes) {
        auto [type, value] = TypeAndValue(a);
        t += fmt::format("{}\n    {} : {{\"Type\":{},\"Value\":{}}}", first ? "" : ",",
                         Quoted(name), Quoted(type), Quoted(value));
        first = false;
      }
      t += "\n  }";
    }
    t += "\n}";
    return envelopes.emplace(message, std::move(e)).first->second;
  }

  // The event a Function receives: {"Records":[{"EventSource":"aws:sns", ..., "Sns":{...}}]}.
  std::string LambdaEvent(const Subscription& sub) const {
    const std::string_view message = messages.For("lambda");
    JsonObject sns;
    sns["Type"] = "Notification";
    sns["MessageId"] = message_id.view();
    if (fifo) sns["SequenceNumber"] = sequence_number;
    sns["TopicArn"] = topic_arn;
    sns["Subject"] = request.subject ? Json(*request.subject) : Json(nullptr);
    sns["Message"] = message;
    sns["Timestamp"] = timestamp();
    if (!fifo) {
      sns["SignatureVersion"] = signature_version;
      sns["Signature"] = Signature(message);
      sns["SigningCertUrl"] = SigningCertUrl();
    }
    sns["UnsubscribeUrl"] = UnsubscribeUrlPrefix() + sub.arn;
    JsonObject attributes;
    for (const auto& [name, a] : request.attributes) {
      auto [type, value] = TypeAndValue(a);
      attributes[name] = JsonObject{{"Type", type}, {"Value", value}};
    }
    sns["MessageAttributes"] = std::move(attributes);
    JsonObject record{{"EventSource", "aws:sns"},
                      {"EventVersion", "1.0"},
                      {"EventSubscriptionArn", sub.arn},
                      {"Sns", std::move(sns)}};
    return ToJsonText(JsonObject{{"Records", JsonArray{std::move(record)}}});
  }

  // The copy `sub` receives.
  Delivery For(const std::shared_ptr<const Subscription>& sub,
               const std::shared_ptr<const topic_internal::DeliveryContext>& context) {
    Delivery d{.sub = sub, .context = context};
    if (http_retry && (sub->protocol == "http" || sub->protocol == "https") &&
        !sub->attributes.contains("DeliveryPolicy")) {
      d.retry = http_retry;
    }
    d.message_id = message_id;
    if (request.subject) d.subject = *request.subject;
    const std::string& protocol = sub->protocol;
    const std::string_view message = messages.For(protocol);
    if (protocol == "sqs") {
      d.request = SqsRequest(*sub);
      if (TooManyRawAttributes(*sub)) {
        d.client_error = InvalidParameterValue(
            "A raw message delivered to SQS can carry at most 10 message attributes.");
        d.dead_letter_request.emplace();
        d.dead_letter_request->body = EnvelopeFor(message).For(sub->arn);
      }
    } else if (protocol == "lambda") {
      d.request.body = LambdaEvent(*sub);
    } else if (protocol == "sms" || protocol == "email" || protocol == "application" || sub->raw) {
      d.request.body = message;
    } else {
      d.request.body = EnvelopeFor(message).For(sub->arn);
    }
    if (fifo && request.message_group_id) d.group = *request.message_group_id;
    return d;
  }

  // What the queue of an SQS subscription receives: the message as is with its attributes (raw
  // delivery) or in SNS's envelope, and the FIFO ids where the queue takes them.
  SendMessageRequest SqsRequest(const Subscription& sub) {
    SendMessageRequest r;
    const std::string_view message = messages.For("sqs");
    if (sub.raw) {
      r.body = message;
      r.attributes = request.attributes;
    } else {
      r.body = EnvelopeFor(message).For(sub.arn);
    }
    const bool fifo_queue = sub.endpoint.ends_with(".fifo");
    if (fifo_queue || !fifo) r.message_group_id = request.message_group_id;
    if (fifo_queue) r.message_deduplication_id = dedup_id;
    return r;
  }
  // A raw message for SQS carries its attributes as SQS's, which are at most 10.
  bool TooManyRawAttributes(const Subscription& sub) const {
    return sub.raw && request.attributes.size() > 10;
  }
  // Whether the copy for `sub` can go straight to its queue (TryAtOnce), before a Delivery is
  // made: a FIFO topic's copies keep their group's order through StartDelivery.
  bool TriesAtOnce(const Subscription& sub) const {
    return sub.protocol == "sqs" && !fifo && !TooManyRawAttributes(sub);
  }
};

std::string DefaultPolicy(std::string_view arn, std::string_view account) {
  return fmt::format(
      R"({{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{{"Sid":)"
      R"("__default_statement_ID","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":[)"
      R"("SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission",)"
      R"("SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe",)"
      R"("SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"{}","Condition":{{)"
      R"("StringEquals":{{"AWS:SourceOwner":"{}"}}}}}}]}})",
      arn, account);
}

}  // namespace

// ---- Snapshot -----------------------------------------------------------------------------------

void Topic::State::RebuildSnapshot() {
  auto next = std::make_shared<Snapshot>();
  next->subscriptions = subscriptions;
  std::vector<std::pair<std::string, RuleSet::Rule>> by_attributes, by_body;
  for (size_t i = 0; i < subscriptions.size(); ++i) {
    const Subscription& s = *subscriptions[i];
    if (!s.confirmed) continue;
    if (!s.filter_policy) {
      next->unfiltered.push_back(&s);
    } else if (s.filter_policy->scope() == FilterPolicyScope::kMessageBody) {
      by_body.emplace_back(std::to_string(i), *s.filter_policy);
    } else {
      by_attributes.emplace_back(std::to_string(i), *s.filter_policy);
    }
  }
  // One automaton per scope; its rule indexes map back to the subscriptions.
  auto compile = [&](std::vector<std::pair<std::string, RuleSet::Rule>> rules,
                     RuleSet::Snapshot& view, std::vector<const Subscription*>& subs) {
    if (rules.empty()) return;
    RuleSet set;
    set.Update(std::move(rules));
    view = set.snapshot();
    subs.resize(view.size());
    for (size_t r = 0; r < view.size(); ++r) {
      subs[r] = subscriptions[std::stoul(view.name(r))].get();
    }
  };
  compile(std::move(by_attributes), next->attribute_rules, next->attribute_subs);
  compile(std::move(by_body), next->body_rules, next->body_subs);
  auto get = [&](std::string_view name) -> std::string {
    auto it = attributes.find(name);
    return it == attributes.end() ? std::string() : it->second;
  };
  next->content_based_dedup = get("ContentBasedDeduplication") == "true";
  next->dedup_per_group = get("FifoThroughputScope") == "MessageGroup";
  if (std::string v = get("SignatureVersion"); !v.empty()) next->signature_version = v;
  next->kms_master_key_id = get("KmsMasterKeyId");
  if (std::string v = get("DeliveryPolicy"); !v.empty()) {
    next->http_retry = topic_internal::TopicHttpRetryPolicy(v);
  }
  if (std::string v = get("ArchivePolicy"); !v.empty()) {
    next->archive_retention = topic_internal::ArchiveRetention(v).value_or(absl::ZeroDuration());
  }
  if (next->archive_retention <= absl::ZeroDuration()) {
    archive_since = absl::InfiniteFuture();
  } else if (archive_since == absl::InfiniteFuture()) {
    archive_since = context->hub->clock().Now();
  }
  snapshot.Store(std::move(next));
}

// ---- Topic --------------------------------------------------------------------------------------

Topic::Topic(Hub& hub, std::string name, std::string arn, bool fifo)
    : MessageSink(std::move(name), std::move(arn)), hub_(hub), state_(std::make_unique<State>()) {
  state_->fifo = fifo;
}

Topic::~Topic() = default;

bool Topic::fifo() const { return state_->fifo; }

absl::Time Topic::State::BeginningArchiveTime() const {
  const absl::Duration retention = LoadSnapshot()->archive_retention;
  if (archive_since == absl::InfiniteFuture()) return archive_since;
  return std::max(archive_since, context->hub->clock().Now() - retention);
}

absl::StatusOr<SnsAttributeMap> Topic::GetAttributes() const {
  if (deleted()) return TopicNotFound();
  const std::string& account = hub_.environment().account;
  SnsAttributeMap m;
  int64_t confirmed = 0, pending = 0;
  {
    std::lock_guard lock(state_->mu);
    m = state_->attributes;
    for (const auto& s : state_->subscriptions) ++(s->confirmed ? confirmed : pending);
    m["SubscriptionsDeleted"] = std::to_string(state_->subscriptions_deleted);
  }
  m["TopicArn"] = arn();
  m["Owner"] = account;
  if (!m.contains("Policy")) m["Policy"] = DefaultPolicy(arn(), account);
  if (!m.contains("DisplayName")) m["DisplayName"] = "";
  m["SubscriptionsConfirmed"] = std::to_string(confirmed);
  m["SubscriptionsPending"] = std::to_string(pending);
  auto delivery = m.find("DeliveryPolicy");
  m["EffectiveDeliveryPolicy"] =
      delivery != m.end() ? delivery->second : topic_internal::DefaultDeliveryPolicy();
  if (fifo()) {
    std::lock_guard lock(state_->mu);
    if (const absl::Time t = state_->BeginningArchiveTime(); t != absl::InfiniteFuture()) {
      m["BeginningArchiveTime"] = topic_internal::Timestamp(t);
    }
  }
  if (fifo()) {
    m["FifoTopic"] = "true";
    if (!m.contains("ContentBasedDeduplication")) m["ContentBasedDeduplication"] = "false";
    if (!m.contains("FifoThroughputScope")) m["FifoThroughputScope"] = "Topic";
  } else {
    m.erase("FifoTopic");
  }
  return m;
}

absl::Status Topic::SetAttribute(std::string_view name, std::string_view value) {
  if (deleted()) return TopicNotFound();
  COURIER_RETURN_IF_ERROR(topic_internal::CheckTopicAttribute(fifo(), name, value, false));
  {
    std::lock_guard lock(state_->mu);
    state_->attributes[std::string(name)] = std::string(value);
    state_->RebuildSnapshot();
    if (state_->log != nullptr) {
      state_->log->Append(
          topic_internal::TopicAttributeSet{arn(), std::string(name), std::string(value)});
    }
  }
  return detail::Durable(absl::OkStatus());
}

SnsMetrics Topic::Metrics() const {
  const topic_internal::Counters& c = *state_->counters;
  const int64_t published = c.published.load(std::memory_order_relaxed);
  SnsMetrics m;
  int64_t filtered = 0;
  {
    std::lock_guard lock(state_->mu);
    auto r = state_->retired.find("NumberOfNotificationsFilteredOut");
    if (r != state_->retired.end()) filtered = r->second;
    for (const auto& s : state_->subscriptions) {
      const int64_t seen = published - s->state->published_at_start;
      filtered +=
          std::max<int64_t>(0, seen - s->state->counters.matched.load(std::memory_order_relaxed));
    }
  }
  m["NumberOfMessagesPublished"] = published;
  m["NumberOfNotificationsDelivered"] = c.delivered.load(std::memory_order_relaxed);
  m["NumberOfNotificationsFailed"] = c.failed.load(std::memory_order_relaxed);
  m["NumberOfNotificationsFilteredOut"] = filtered;
  m["NumberOfNotificationsRedrivenToDlq"] = c.redriven.load(std::memory_order_relaxed);
  m["NumberOfNotificationsFailedToRedriveToDlq"] =
      c.failed_to_redrive.load(std::memory_order_relaxed);
  return m;
}

absl::StatusOr<PublishResult> Topic::Publish(PublishRequest request) {
  // A message delivered to several durable queues waits for one commit, not one per queue.
  detail::DeferredAwaits deferred;
  absl::StatusOr<PublishResult> result = PublishAndFanOut(std::move(request));
  if (absl::Status kept = deferred.Await(); !kept.ok() && result.ok()) result = std::move(kept);
  return result;
}

absl::StatusOr<PublishResult> Topic::PublishAndFanOut(PublishRequest request) {
  if (deleted()) return TopicNotFound();
  State& st = *state_;
  // ---- Checks, in SNS's order.
  if (request.message.empty()) return InvalidParameter("Empty message");
  if (PublishSize(request) > st.max_message_bytes->load(std::memory_order_relaxed)) {
    return InvalidParameter("Message too long");
  }
  if (request.subject) COURIER_RETURN_IF_ERROR(CheckSubject(*request.subject));
  COURIER_ASSIGN_OR_RETURN(Messages messages, Messages::Of(request));
  COURIER_RETURN_IF_ERROR(CheckAttributes(request.attributes));
  std::shared_ptr<const Snapshot> snap = st.LoadSnapshot();
  std::string dedup_id;
  if (fifo()) {
    if (!request.message_group_id) {
      return InvalidParameter("The MessageGroupId parameter is required for FIFO topics");
    }
    if (!ValidFifoId(*request.message_group_id)) {
      return InvalidParameter(
          "MessageGroupId Reason: The MessageGroupId must be 1-128 letters, digits or "
          "punctuation");
    }
    if (request.message_deduplication_id) {
      if (!ValidFifoId(*request.message_deduplication_id)) {
        return InvalidParameter(
            "MessageDeduplicationId Reason: The MessageDeduplicationId must be 1-128 letters, "
            "digits or punctuation");
      }
      dedup_id = *request.message_deduplication_id;
    } else if (snap->content_based_dedup) {
      dedup_id = detail::Sha256Hex(request.message);
    } else {
      return InvalidParameter(
          "The topic should either have ContentBasedDeduplication enabled or "
          "MessageDeduplicationId provided explicitly");
    }
  } else if (request.message_deduplication_id) {
    return InvalidParameter(
        "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter "
        "that is not valid for this topic type");
  }

  if (!snap->kms_master_key_id.empty()) {
    COURIER_RETURN_IF_ERROR(CheckTopicKey(hub_, snap->kms_master_key_id));
  }

  Publication p{.hub = hub_,
                .topic_arn = arn(),
                .fifo = fifo(),
                .signature_version = snap->signature_version,
                .request = request,
                .messages = messages,
                .message_id = detail::FormatUuid(detail::NewRandomUuid()),
                .sequence_number = {},
                .dedup_id = std::move(dedup_id),
                .time = hub_.clock().Now(),
                .timestamp_ = {},
                .http_retry = snap->http_retry ? &*snap->http_retry : nullptr,
                .envelopes = {}};
  const std::shared_ptr<const topic_internal::DeliveryContext>& context = st.context;

  // ---- Fan-out: the unfiltered subscriptions, then one pass per scope's automaton.
  auto fan_out = [&] {
    st.counters->published.fetch_add(1, std::memory_order_relaxed);
    auto deliver = [&](const Subscription* s) {
      s->state->counters.matched.fetch_add(1, std::memory_order_relaxed);
      absl::Status failure;
      if (p.TriesAtOnce(*s) && topic_internal::TryAtOnce(*s, *context, p.SqsRequest(*s), failure)) {
        return;
      }
      // The snapshot owns the subscription; the delivery keeps it alive for its retries.
      std::shared_ptr<const Subscription> owned(snap, s);
      Delivery d = p.For(owned, context);
      if (!failure.ok()) return topic_internal::AfterFailedTry(std::move(d), failure);
      topic_internal::StartDelivery(std::move(d));
    };
    for (const Subscription* s : snap->unfiltered) deliver(s);
    if (!snap->attribute_subs.empty()) {
      const std::string match = AttributesToMatchJson(request.attributes);
      snap->attribute_rules.ForEachMatch(match,
                                         [&](size_t r) { deliver(snap->attribute_subs[r]); });
    }
    if (!snap->body_subs.empty()) {
      // Body scope needs a JSON object body; a malformed one matches nothing.
      const std::string_view body = messages.For("default");
      auto parsed = ParseJson(body);
      if (parsed.ok() && parsed->is_object()) {
        snap->body_rules.ForEachMatch(body, [&](size_t r) { deliver(snap->body_subs[r]); });
      }
    }
  };

  if (!fifo()) {
    fan_out();
    return PublishResult{.message_id = p.message_id, .sequence_number = {}};
  }
  // FIFO: deduplication, sequence and the start of every delivery in one order.
  std::lock_guard lock(st.fifo_mu);
  const absl::Time now = p.time;
  while (!st.dedup_expiry.empty() && st.dedup_expiry.front().first <= now) {
    auto it = st.dedup.find(st.dedup_expiry.front().second);
    if (it != st.dedup.end() && it->second.expires <= now) st.dedup.erase(it);
    st.dedup_expiry.pop_front();
  }
  std::string key =
      snap->dedup_per_group ? *request.message_group_id + '\0' + p.dedup_id : p.dedup_id;
  if (auto it = st.dedup.find(key); it != st.dedup.end()) return it->second.result;
  p.sequence_number = fmt::format("{:020d}", 10000000000000000000ull + ++st.sequence);
  PublishResult result{.message_id = p.message_id, .sequence_number = p.sequence_number};
  const absl::Time expires = now + absl::Minutes(5);
  st.dedup.emplace(key, State::Sent{.result = result, .expires = expires});
  st.dedup_expiry.emplace_back(expires, std::move(key));
  fan_out();
  if (snap->archive_retention > absl::ZeroDuration()) {
    while (!st.archive.empty() && st.archive.front().time + snap->archive_retention <= now) {
      st.archive.pop_front();
    }
    st.archive.push_back({.time = now,
                          .request = std::move(request),
                          .message_id = p.message_id,
                          .sequence_number = p.sequence_number,
                          .dedup_id = p.dedup_id});
  } else {
    st.archive.clear();
  }
  return result;
}

absl::StatusOr<PublishBatchResult> Topic::PublishBatch(std::vector<PublishBatchEntry> entries) {
  if (deleted()) return TopicNotFound();
  if (entries.empty()) {
    return AwsError("EmptyBatchRequest", "The batch request doesn't contain any entries");
  }
  if (entries.size() > 10) {
    return AwsError("TooManyEntriesInBatchRequest",
                    "The batch request contains more entries than permissible");
  }
  std::set<std::string_view> ids;
  size_t total = 0;
  for (const PublishBatchEntry& e : entries) {
    bool valid = !e.id.empty() && e.id.size() <= 80;
    for (char c : e.id)
      valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    if (!valid) {
      return AwsError("InvalidBatchEntryId",
                      "The Id of a batch entry in a batch request doesn't abide by the "
                      "specification");
    }
    if (!ids.insert(e.id).second) {
      return AwsError("BatchEntryIdsNotDistinct",
                      "Two or more batch entries in the request have the same Id");
    }
    total += PublishSize(e.request);
  }
  if (total > state_->max_message_bytes->load(std::memory_order_relaxed)) {
    return AwsError("BatchRequestTooLong",
                    "The length of all the batch messages put together is more than the limit");
  }
  PublishBatchResult out;
  detail::DeferredAwaits deferred;  // one wait for every entry's deliveries
  for (PublishBatchEntry& e : entries) {
    absl::StatusOr<PublishResult> r = Publish(std::move(e.request));
    if (r.ok()) {
      out.successful.push_back(
          {.id = e.id, .message_id = r->message_id, .sequence_number = r->sequence_number});
    } else {
      out.failed.push_back({.id = e.id,
                            .code = std::string(ErrorName(r.status())),
                            .message = std::string(ErrorMessage(r.status())),
                            .sender_fault = r.status().code() != absl::StatusCode::kInternal});
    }
  }
  COURIER_RETURN_IF_ERROR(deferred.Await());
  return out;
}

absl::StatusOr<std::string> Topic::Subscribe(const MessageSink& endpoint,
                                             const SnsAttributeMap& attributes) {
  const std::string& target = endpoint.arn();
  std::string_view protocol;
  if (target.starts_with("arn:aws:sqs:")) protocol = "sqs";
  if (target.starts_with("arn:aws:lambda:")) protocol = "lambda";
  if (protocol.empty()) {
    return InvalidParameter(
        fmt::format("Endpoint Reason: {} is not a queue or a function", target));
  }
  return Sns(hub_).Subscribe(arn(), protocol, target, attributes);
}

absl::StatusOr<SendMessageResult> Topic::SendMessage(SendMessageRequest request) {
  COURIER_ASSIGN_OR_RETURN(
      PublishResult r,
      Publish({.message = std::move(request.body),
               .attributes = std::move(request.attributes),
               .message_group_id = std::move(request.message_group_id),
               .message_deduplication_id = std::move(request.message_deduplication_id)}));
  SendMessageResult out;
  out.message_id = r.message_id;
  out.sequence_number.assign(r.sequence_number);
  return out;
}

// ---- Replay -------------------------------------------------------------------------------------

namespace topic_internal {

absl::Status Access::CheckReplay(const Topic& topic, const ReplayWindow& window) {
  Topic::State& st = *topic.state_;
  std::lock_guard lock(st.mu);
  const absl::Time beginning = st.BeginningArchiveTime();
  if (beginning == absl::InfiniteFuture()) {
    return InvalidParameter("ReplayPolicy: the topic has no ArchivePolicy");
  }
  if (window.start < beginning) {
    return InvalidParameter(
        fmt::format("ReplayPolicy: StartingPoint is before the topic's BeginningArchiveTime {}",
                    Timestamp(beginning)));
  }
  return absl::OkStatus();
}

void Access::Replay(Topic& topic, const std::shared_ptr<const Subscription>& sub) {
  if (!sub->replay || !sub->confirmed) return;
  Topic::State& st = *topic.state_;
  std::shared_ptr<const Snapshot> snap = st.LoadSnapshot();
  // Under the FIFO lock: the replayed copies start before any later publish's.
  std::lock_guard lock(st.fifo_mu);
  for (const Archived& a : st.archive) {
    if (a.time < sub->replay->start || a.time > sub->replay->end) continue;
    absl::StatusOr<Messages> messages = Messages::Of(a.request);
    if (!messages.ok()) continue;  // it was checked when it was published
    if (sub->filter_policy &&
        !sub->filter_policy->Matches(messages->For("default"), a.request.attributes)) {
      continue;
    }
    Publication p{.hub = topic.hub_,
                  .topic_arn = topic.arn(),
                  .fifo = true,
                  .signature_version = snap->signature_version,
                  .request = a.request,
                  .messages = *messages,
                  .message_id = a.message_id,
                  .sequence_number = a.sequence_number,
                  .dedup_id = a.dedup_id,
                  .time = a.time,
                  .timestamp_ = {},
                  .replayed = true,
                  .http_retry = nullptr,
                  .envelopes = {}};
    StartDelivery(p.For(sub, st.context));
  }
}

}  // namespace topic_internal

}  // namespace courier
