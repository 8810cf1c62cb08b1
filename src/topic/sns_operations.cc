// The SNS operation table (sns_operations.h): each AWS operation reads its request members,
// calls the typed API and writes AWS's response shape. The typed API checks values; this file
// checks shapes only (a member missing, or of the wrong JSON type).
#include "topic/sns_operations.h"

#include <absl/strings/escaping.h>
#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "courier/hub.h"
#include "courier/sns.h"
#include "courier/status.h"
#include "courier/topic.h"

namespace courier::topic_internal {
namespace {

// ---- Request members ----------------------------------------------------------------------------

absl::Status Invalid(std::string_view name) {
  return AwsErrorF("InvalidParameter", "Invalid parameter: {}", name);
}

const Json* Member(const JsonObject& o, std::string_view name) {
  const Json* v = o.if_contains(name);
  return v == nullptr || v->is_null() ? nullptr : v;
}

absl::StatusOr<std::optional<std::string>> OptionalString(const JsonObject& o,
                                                          std::string_view name) {
  const Json* v = Member(o, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) return Invalid(name);
  return std::string(v->get_string());
}

absl::StatusOr<std::string> RequiredString(const JsonObject& o, std::string_view name) {
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> v, OptionalString(o, name));
  if (!v) return Invalid(name);
  return *std::move(v);
}

// A TopicArn member: an SNS ARN (the typed API also takes names; AWS's requests do not).
absl::StatusOr<std::string> TopicArnOf(const JsonObject& o) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(o, "TopicArn"));
  if (!arn.starts_with("arn:aws:sns:")) return Invalid("TopicArn");
  return arn;
}

absl::StatusOr<bool> OptionalBool(const JsonObject& o, std::string_view name) {
  const Json* v = Member(o, name);
  if (v == nullptr) return false;
  if (v->is_bool()) return v->get_bool();
  if (v->is_string() && (v->get_string() == "true" || v->get_string() == "false")) {
    return v->get_string() == "true";
  }
  return Invalid(name);
}

absl::StatusOr<SnsAttributeMap> StringMapOf(const JsonObject& o, std::string_view name) {
  SnsAttributeMap out;
  const Json* v = Member(o, name);
  if (v == nullptr) return out;
  if (!v->is_object()) return Invalid(name);
  for (const auto& [key, value] : v->get_object()) {
    if (!value.is_string()) return Invalid(name);
    out[std::string(key)] = std::string(value.get_string());
  }
  return out;
}

// [{"Key": k, "Value": v}, ...]
absl::StatusOr<SnsAttributeMap> TagsOf(const JsonObject& o, std::string_view name) {
  SnsAttributeMap out;
  const Json* v = Member(o, name);
  if (v == nullptr) return out;
  if (!v->is_array()) return Invalid(name);
  for (const Json& tag : v->get_array()) {
    const JsonObject* t = tag.if_object();
    if (t == nullptr) return Invalid(name);
    COURIER_ASSIGN_OR_RETURN(std::string key, RequiredString(*t, "Key"));
    COURIER_ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(*t, "Value"));
    out[key] = value.value_or("");
  }
  return out;
}

Json ToJson(const SnsAttributeMap& map) {
  JsonObject o;
  for (const auto& [k, v] : map) o[k] = v;
  return o;
}

Json TagsToJson(const SnsAttributeMap& tags) {
  JsonArray a;
  for (const auto& [k, v] : tags) a.push_back(JsonObject{{"Key", k}, {"Value", v}});
  return a;
}

// {"Name": {"DataType": "String", "StringValue": "v"}} or {"BinaryValue": "<base64>"}.
absl::StatusOr<MessageAttributes> MessageAttributesOf(const JsonObject& o) {
  MessageAttributes out;
  const Json* v = Member(o, "MessageAttributes");
  if (v == nullptr) return out;
  if (!v->is_object()) return Invalid("MessageAttributes");
  for (const auto& [key, value] : v->get_object()) {
    const JsonObject* fields = value.if_object();
    if (fields == nullptr) return Invalid("MessageAttributes");
    MessageAttribute a;
    COURIER_ASSIGN_OR_RETURN(auto type, OptionalString(*fields, "DataType"));
    if (!type) {
      return AwsErrorF("ParameterValueInvalid",
                       "The message attribute '{}' must contain non-empty message attribute type.",
                       std::string_view(key));
    }
    a.data_type = *std::move(type);
    COURIER_ASSIGN_OR_RETURN(auto text, OptionalString(*fields, "StringValue"));
    COURIER_ASSIGN_OR_RETURN(auto base64, OptionalString(*fields, "BinaryValue"));
    if (text) a.string_value = *std::move(text);
    if (base64 && !absl::Base64Unescape(*base64, &a.binary_value)) {
      return Invalid("MessageAttributes");
    }
    out[std::string(key)] = std::move(a);
  }
  return out;
}

// Publish's members, also a PublishBatch entry's.
absl::StatusOr<PublishRequest> PublishRequestOf(const JsonObject& o) {
  PublishRequest r;
  COURIER_ASSIGN_OR_RETURN(auto message, OptionalString(o, "Message"));
  if (!message) return Invalid("Message");  // AWS: a missing Message is a bad parameter
  r.message = *std::move(message);
  COURIER_ASSIGN_OR_RETURN(r.subject, OptionalString(o, "Subject"));
  COURIER_ASSIGN_OR_RETURN(r.message_structure, OptionalString(o, "MessageStructure"));
  COURIER_ASSIGN_OR_RETURN(r.attributes, MessageAttributesOf(o));
  COURIER_ASSIGN_OR_RETURN(r.message_group_id, OptionalString(o, "MessageGroupId"));
  COURIER_ASSIGN_OR_RETURN(r.message_deduplication_id, OptionalString(o, "MessageDeduplicationId"));
  return r;
}

Json ToJson(const PublishResult& r) {
  JsonObject o{{"MessageId", r.message_id.view()}};
  if (!r.sequence_number.empty()) o["SequenceNumber"] = r.sequence_number;
  return o;
}

// One page of `items`, 100 at most, after the token (the offset, base64'd); `key` is the
// list's member name, `token_name` the token's (ListPhoneNumbersOptedOut spells it nextToken).
absl::StatusOr<Json> Page(JsonArray items, const JsonObject& request, std::string_view key,
                          std::string_view token_name = "NextToken") {
  constexpr size_t kPage = 100;
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> token, OptionalString(request, token_name));
  size_t begin = 0;
  if (token) {
    std::string text;
    if (!absl::Base64Unescape(*token, &text) || text.empty() ||
        text.find_first_not_of("0123456789") != std::string::npos || text.size() > 9) {
      return Invalid(token_name);
    }
    begin = std::stoul(text);
  }
  JsonObject out;
  JsonArray page;
  for (size_t i = begin; i < items.size() && i < begin + kPage; ++i) page.push_back(items[i]);
  out[key] = std::move(page);
  if (begin + kPage < items.size())
    out[token_name] = absl::Base64Escape(std::to_string(begin + kPage));
  return out;
}

absl::StatusOr<Json> Empty(const absl::Status& status) {
  if (!status.ok()) return status;
  return JsonObject();
}

// ---- Operations ---------------------------------------------------------------------------------

using Handler = absl::StatusOr<Json> (*)(Hub&, const JsonObject&, const Caller&);

absl::StatusOr<Json> CreateTopic(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, StringMapOf(r, "Attributes"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap tags, TagsOf(r, "Tags"));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic,
                           Sns(hub).CreateTopic(name, attributes, tags));
  return JsonObject{{"TopicArn", topic->arn()}};
}

absl::StatusOr<Json> DeleteTopic(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, TopicArnOf(r));
  return Empty(Sns(hub).DeleteTopic(arn));
}

absl::StatusOr<Json> GetTopicAttributes(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, TopicArnOf(r));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, Sns(hub).GetTopic(arn));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, topic->GetAttributes());
  return JsonObject{{"Attributes", ToJson(attributes)}};
}

absl::StatusOr<Json> SetTopicAttributes(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, TopicArnOf(r));
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "AttributeName"));
  COURIER_ASSIGN_OR_RETURN(auto value, OptionalString(r, "AttributeValue"));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, Sns(hub).GetTopic(arn));
  return Empty(topic->SetAttribute(name, value.value_or("")));
}

absl::StatusOr<Json> ListTopics(Hub& hub, const JsonObject& r, const Caller&) {
  JsonArray topics;
  for (const std::string& arn : Sns(hub).ListTopics()) {
    topics.push_back(JsonObject{{"TopicArn", arn}});
  }
  return Page(std::move(topics), r, "Topics");
}

absl::StatusOr<Json> Subscribe(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string topic, TopicArnOf(r));
  COURIER_ASSIGN_OR_RETURN(std::string protocol, RequiredString(r, "Protocol"));
  COURIER_ASSIGN_OR_RETURN(auto endpoint, OptionalString(r, "Endpoint"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, StringMapOf(r, "Attributes"));
  COURIER_ASSIGN_OR_RETURN(bool return_arn, OptionalBool(r, "ReturnSubscriptionArn"));
  COURIER_ASSIGN_OR_RETURN(std::string arn,
                           Sns(hub).Subscribe(topic, protocol, endpoint.value_or(""), attributes));
  if (!return_arn) {
    auto described = Sns(hub).GetSubscriptionAttributes(arn);
    if (described.ok() && described->at("PendingConfirmation") == "true") {
      return JsonObject{{"SubscriptionArn", "pending confirmation"}};
    }
  }
  return JsonObject{{"SubscriptionArn", arn}};
}

absl::StatusOr<Json> ConfirmSubscription(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string topic, TopicArnOf(r));
  COURIER_ASSIGN_OR_RETURN(std::string token, RequiredString(r, "Token"));
  COURIER_ASSIGN_OR_RETURN(std::string arn, Sns(hub).ConfirmSubscription(topic, token));
  return JsonObject{{"SubscriptionArn", arn}};
}

absl::StatusOr<Json> Unsubscribe(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "SubscriptionArn"));
  return Empty(Sns(hub).Unsubscribe(arn));
}

JsonArray ToJson(const std::vector<SubscriptionSummary>& subs) {
  JsonArray a;
  for (const SubscriptionSummary& s : subs) {
    a.push_back(JsonObject{{"SubscriptionArn", s.subscription_arn},
                           {"Owner", s.owner},
                           {"Protocol", s.protocol},
                           {"Endpoint", s.endpoint},
                           {"TopicArn", s.topic_arn}});
  }
  return a;
}

absl::StatusOr<Json> ListSubscriptions(Hub& hub, const JsonObject& r, const Caller&) {
  return Page(ToJson(Sns(hub).ListSubscriptions()), r, "Subscriptions");
}

absl::StatusOr<Json> ListSubscriptionsByTopic(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string topic, TopicArnOf(r));
  COURIER_ASSIGN_OR_RETURN(auto subs, Sns(hub).ListSubscriptionsByTopic(topic));
  return Page(ToJson(subs), r, "Subscriptions");
}

absl::StatusOr<Json> GetSubscriptionAttributes(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "SubscriptionArn"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, Sns(hub).GetSubscriptionAttributes(arn));
  return JsonObject{{"Attributes", ToJson(attributes)}};
}

absl::StatusOr<Json> SetSubscriptionAttributes(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "SubscriptionArn"));
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "AttributeName"));
  COURIER_ASSIGN_OR_RETURN(auto value, OptionalString(r, "AttributeValue"));
  return Empty(Sns(hub).SetSubscriptionAttributes(arn, name, value.value_or("")));
}

absl::StatusOr<Json> Publish(Hub& hub, const JsonObject& r, const Caller&) {
  SnsPublishRequest p;
  COURIER_ASSIGN_OR_RETURN(auto topic, OptionalString(r, "TopicArn"));
  if (topic && !topic->starts_with("arn:aws:sns:")) return Invalid("TopicArn");
  COURIER_ASSIGN_OR_RETURN(auto target, OptionalString(r, "TargetArn"));
  COURIER_ASSIGN_OR_RETURN(auto phone, OptionalString(r, "PhoneNumber"));
  p.topic_arn = topic.value_or("");
  p.target_arn = target.value_or("");
  p.phone_number = phone.value_or("");
  COURIER_ASSIGN_OR_RETURN(p.request, PublishRequestOf(r));
  COURIER_ASSIGN_OR_RETURN(PublishResult result, Sns(hub).Publish(p));
  return ToJson(result);
}

absl::StatusOr<Json> PublishBatch(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, TopicArnOf(r));
  const Json* list = Member(r, "PublishBatchRequestEntries");
  if (list == nullptr || !list->is_array()) return Invalid("PublishBatchRequestEntries");
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, Sns(hub).GetTopic(arn));
  std::vector<PublishBatchEntry> entries;
  for (const Json& e : list->get_array()) {
    const JsonObject* o = e.if_object();
    if (o == nullptr) return Invalid("PublishBatchRequestEntries");
    PublishBatchEntry entry;
    COURIER_ASSIGN_OR_RETURN(entry.id, RequiredString(*o, "Id"));
    COURIER_ASSIGN_OR_RETURN(entry.request, PublishRequestOf(*o));
    entries.push_back(std::move(entry));
  }
  COURIER_ASSIGN_OR_RETURN(PublishBatchResult result, topic->PublishBatch(std::move(entries)));
  JsonArray ok, failed;
  for (const auto& s : result.successful) {
    JsonObject o{{"Id", s.id}, {"MessageId", s.message_id.view()}};
    if (!s.sequence_number.empty()) o["SequenceNumber"] = s.sequence_number;
    ok.push_back(std::move(o));
  }
  for (const auto& f : result.failed) {
    failed.push_back(JsonObject{
        {"Id", f.id}, {"Code", f.code}, {"Message", f.message}, {"SenderFault", f.sender_fault}});
  }
  return JsonObject{{"Successful", std::move(ok)}, {"Failed", std::move(failed)}};
}

absl::StatusOr<Json> TagResource(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceArn"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap tags, TagsOf(r, "Tags"));
  return Empty(Sns(hub).TagResource(arn, tags));
}

absl::StatusOr<Json> UntagResource(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceArn"));
  const Json* keys = Member(r, "TagKeys");
  if (keys == nullptr || !keys->is_array()) return Invalid("TagKeys");
  std::vector<std::string> names;
  for (const Json& k : keys->get_array()) {
    if (!k.is_string()) return Invalid("TagKeys");
    names.emplace_back(k.get_string());
  }
  return Empty(Sns(hub).UntagResource(arn, names));
}

absl::StatusOr<Json> ListTagsForResource(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceArn"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap tags, Sns(hub).ListTagsForResource(arn));
  return JsonObject{{"Tags", TagsToJson(tags)}};
}

// Strings of the list `name` (required).
absl::StatusOr<std::vector<std::string>> StringsOf(const JsonObject& o, std::string_view name) {
  const Json* v = Member(o, name);
  if (v == nullptr || !v->is_array()) return Invalid(name);
  std::vector<std::string> out;
  for (const Json& s : v->get_array()) {
    if (!s.is_string()) return Invalid(name);
    out.emplace_back(s.get_string());
  }
  return out;
}

absl::StatusOr<Json> AddPermission(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, TopicArnOf(r));
  COURIER_ASSIGN_OR_RETURN(std::string label, RequiredString(r, "Label"));
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> accounts, StringsOf(r, "AWSAccountId"));
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> actions, StringsOf(r, "ActionName"));
  return Empty(Sns(hub).AddPermission(arn, label, accounts, actions));
}

absl::StatusOr<Json> RemovePermission(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, TopicArnOf(r));
  COURIER_ASSIGN_OR_RETURN(std::string label, RequiredString(r, "Label"));
  return Empty(Sns(hub).RemovePermission(arn, label));
}

absl::StatusOr<Json> PutDataProtectionPolicy(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceArn"));
  COURIER_ASSIGN_OR_RETURN(std::string policy, RequiredString(r, "DataProtectionPolicy"));
  return Empty(Sns(hub).PutDataProtectionPolicy(arn, policy));
}

absl::StatusOr<Json> GetDataProtectionPolicy(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceArn"));
  COURIER_ASSIGN_OR_RETURN(std::string policy, Sns(hub).GetDataProtectionPolicy(arn));
  JsonObject out;
  if (!policy.empty()) out["DataProtectionPolicy"] = policy;
  return out;
}

absl::StatusOr<Json> SetSMSAttributes(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, StringMapOf(r, "attributes"));
  return Empty(Sns(hub).SetSmsAttributes(attributes));
}

absl::StatusOr<Json> GetSMSAttributes(Hub& hub, const JsonObject& r, const Caller&) {
  std::vector<std::string> names;
  if (Member(r, "attributes") != nullptr) {
    COURIER_ASSIGN_OR_RETURN(names, StringsOf(r, "attributes"));
  }
  return JsonObject{{"attributes", ToJson(Sns(hub).GetSmsAttributes(names))}};
}

absl::StatusOr<Json> CheckIfPhoneNumberIsOptedOut(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string phone, RequiredString(r, "phoneNumber"));
  COURIER_ASSIGN_OR_RETURN(bool out, Sns(hub).IsPhoneNumberOptedOut(phone));
  return JsonObject{{"isOptedOut", out}};
}

absl::StatusOr<Json> ListPhoneNumbersOptedOut(Hub& hub, const JsonObject& r, const Caller&) {
  JsonArray numbers;
  for (const std::string& n : Sns(hub).ListPhoneNumbersOptedOut()) numbers.push_back(Json(n));
  return Page(std::move(numbers), r, "phoneNumbers", "nextToken");
}

absl::StatusOr<Json> OptInPhoneNumber(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string phone, RequiredString(r, "phoneNumber"));
  return Empty(Sns(hub).OptInPhoneNumber(phone));
}

// ---- Mobile push and the SMS sandbox

JsonArray Resources(const std::vector<PlatformResource>& list, std::string_view arn_key) {
  JsonArray out;
  for (const PlatformResource& r : list) {
    out.push_back(JsonObject{{arn_key, r.arn}, {"Attributes", ToJson(r.attributes)}});
  }
  return out;
}

absl::StatusOr<Json> CreatePlatformApplication(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name"));
  COURIER_ASSIGN_OR_RETURN(std::string platform, RequiredString(r, "Platform"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, StringMapOf(r, "Attributes"));
  COURIER_ASSIGN_OR_RETURN(std::string arn,
                           Sns(hub).CreatePlatformApplication(name, platform, attributes));
  return JsonObject{{"PlatformApplicationArn", arn}};
}

absl::StatusOr<Json> GetPlatformApplicationAttributes(Hub& hub, const JsonObject& r,
                                                      const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "PlatformApplicationArn"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap a, Sns(hub).GetPlatformApplicationAttributes(arn));
  return JsonObject{{"Attributes", ToJson(a)}};
}

absl::StatusOr<Json> SetPlatformApplicationAttributes(Hub& hub, const JsonObject& r,
                                                      const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "PlatformApplicationArn"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, StringMapOf(r, "Attributes"));
  return Empty(Sns(hub).SetPlatformApplicationAttributes(arn, attributes));
}

absl::StatusOr<Json> ListPlatformApplications(Hub& hub, const JsonObject& r, const Caller&) {
  return Page(Resources(Sns(hub).ListPlatformApplications(), "PlatformApplicationArn"), r,
              "PlatformApplications");
}

absl::StatusOr<Json> DeletePlatformApplication(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "PlatformApplicationArn"));
  return Empty(Sns(hub).DeletePlatformApplication(arn));
}

absl::StatusOr<Json> CreatePlatformEndpoint(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string app, RequiredString(r, "PlatformApplicationArn"));
  COURIER_ASSIGN_OR_RETURN(std::string token, RequiredString(r, "Token"));
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> data, OptionalString(r, "CustomUserData"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, StringMapOf(r, "Attributes"));
  COURIER_ASSIGN_OR_RETURN(
      std::string arn, Sns(hub).CreatePlatformEndpoint(app, token, data.value_or(""), attributes));
  return JsonObject{{"EndpointArn", arn}};
}

absl::StatusOr<Json> GetEndpointAttributes(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "EndpointArn"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap a, Sns(hub).GetEndpointAttributes(arn));
  return JsonObject{{"Attributes", ToJson(a)}};
}

absl::StatusOr<Json> SetEndpointAttributes(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "EndpointArn"));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, StringMapOf(r, "Attributes"));
  return Empty(Sns(hub).SetEndpointAttributes(arn, attributes));
}

absl::StatusOr<Json> ListEndpointsByPlatformApplication(Hub& hub, const JsonObject& r,
                                                        const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string app, RequiredString(r, "PlatformApplicationArn"));
  COURIER_ASSIGN_OR_RETURN(std::vector<PlatformResource> list,
                           Sns(hub).ListEndpointsByPlatformApplication(app));
  return Page(Resources(list, "EndpointArn"), r, "Endpoints");
}

absl::StatusOr<Json> DeleteEndpoint(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "EndpointArn"));
  return Empty(Sns(hub).DeleteEndpoint(arn));
}

absl::StatusOr<Json> GetSMSSandboxAccountStatus(Hub&, const JsonObject&, const Caller&) {
  return JsonObject{{"IsInSandbox", false}};
}

absl::StatusOr<Json> CreateSMSSandboxPhoneNumber(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string phone, RequiredString(r, "PhoneNumber"));
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> language, OptionalString(r, "LanguageCode"));
  return Empty(Sns(hub).CreateSmsSandboxPhoneNumber(phone, language.value_or("")));
}

absl::StatusOr<Json> VerifySMSSandboxPhoneNumber(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string phone, RequiredString(r, "PhoneNumber"));
  COURIER_ASSIGN_OR_RETURN(std::string code, RequiredString(r, "OneTimePassword"));
  return Empty(Sns(hub).VerifySmsSandboxPhoneNumber(phone, code));
}

absl::StatusOr<Json> DeleteSMSSandboxPhoneNumber(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string phone, RequiredString(r, "PhoneNumber"));
  return Empty(Sns(hub).DeleteSmsSandboxPhoneNumber(phone));
}

absl::StatusOr<Json> ListSMSSandboxPhoneNumbers(Hub& hub, const JsonObject& r, const Caller&) {
  JsonArray numbers;
  for (const SandboxPhoneNumber& n : Sns(hub).ListSmsSandboxPhoneNumbers()) {
    numbers.push_back(JsonObject{{"PhoneNumber", n.phone_number}, {"Status", n.status}});
  }
  return Page(std::move(numbers), r, "PhoneNumbers");
}

// courier has no origination numbers of its own (no toll-free or 10DLC numbers to send from).
absl::StatusOr<Json> ListOriginationNumbers(Hub&, const JsonObject&, const Caller&) {
  return JsonObject{{"PhoneNumbers", JsonArray()}};
}

// Every operation of AWS's SNS API.
const std::map<std::string_view, Handler>& Operations() {
  static const auto* table = new std::map<std::string_view, Handler>{
      {"AddPermission", AddPermission},
      {"CreatePlatformApplication", CreatePlatformApplication},
      {"CreatePlatformEndpoint", CreatePlatformEndpoint},
      {"CreateSMSSandboxPhoneNumber", CreateSMSSandboxPhoneNumber},
      {"DeleteEndpoint", DeleteEndpoint},
      {"DeletePlatformApplication", DeletePlatformApplication},
      {"DeleteSMSSandboxPhoneNumber", DeleteSMSSandboxPhoneNumber},
      {"GetEndpointAttributes", GetEndpointAttributes},
      {"GetPlatformApplicationAttributes", GetPlatformApplicationAttributes},
      {"GetSMSSandboxAccountStatus", GetSMSSandboxAccountStatus},
      {"ListEndpointsByPlatformApplication", ListEndpointsByPlatformApplication},
      {"ListOriginationNumbers", ListOriginationNumbers},
      {"ListPlatformApplications", ListPlatformApplications},
      {"ListSMSSandboxPhoneNumbers", ListSMSSandboxPhoneNumbers},
      {"SetEndpointAttributes", SetEndpointAttributes},
      {"SetPlatformApplicationAttributes", SetPlatformApplicationAttributes},
      {"VerifySMSSandboxPhoneNumber", VerifySMSSandboxPhoneNumber},
      {"CheckIfPhoneNumberIsOptedOut", CheckIfPhoneNumberIsOptedOut},
      {"ConfirmSubscription", ConfirmSubscription},
      {"CreateTopic", CreateTopic},
      {"DeleteTopic", DeleteTopic},
      {"GetDataProtectionPolicy", GetDataProtectionPolicy},
      {"GetSMSAttributes", GetSMSAttributes},
      {"GetSubscriptionAttributes", GetSubscriptionAttributes},
      {"GetTopicAttributes", GetTopicAttributes},
      {"ListSubscriptions", ListSubscriptions},
      {"ListSubscriptionsByTopic", ListSubscriptionsByTopic},
      {"ListTagsForResource", ListTagsForResource},
      {"ListPhoneNumbersOptedOut", ListPhoneNumbersOptedOut},
      {"ListTopics", ListTopics},
      {"OptInPhoneNumber", OptInPhoneNumber},
      {"Publish", Publish},
      {"PublishBatch", PublishBatch},
      {"PutDataProtectionPolicy", PutDataProtectionPolicy},
      {"RemovePermission", RemovePermission},
      {"SetSMSAttributes", SetSMSAttributes},
      {"SetSubscriptionAttributes", SetSubscriptionAttributes},
      {"SetTopicAttributes", SetTopicAttributes},
      {"Subscribe", Subscribe},
      {"TagResource", TagResource},
      {"Unsubscribe", Unsubscribe},
      {"UntagResource", UntagResource},
  };
  return *table;
}

}  // namespace

absl::StatusOr<Json> InvokeSns(Hub& hub, std::string_view operation, const Json& request,
                               const Caller& caller) {
  auto it = Operations().find(operation);
  if (it == Operations().end()) {
    return AwsErrorF("InvalidAction", "The action {} is not valid for this endpoint.", operation);
  }
  static const JsonObject kNoMembers;
  if (request.is_null()) return it->second(hub, kNoMembers, caller);
  if (!request.is_object()) {
    return Invalid("The request must be a JSON object of the operation's members.");
  }
  return it->second(hub, request.get_object(), caller);
}

}  // namespace courier::topic_internal
