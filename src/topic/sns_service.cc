// The SNS service (sns.h): topics as hub resources, their subscriptions, tags, publishing to
// phone numbers and platform endpoints, and the registration of the "sns" operation table.
#include <absl/strings/escaping.h>
#include <absl/strings/numbers.h>
#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "courier/detail/hub_registry.h"
#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "courier/service.h"
#include "courier/sns.h"
#include "courier/status.h"
#include "topic/sns_operations.h"
#include "topic/sns_state.h"
#include "topic/subscription.h"
#include "topic/topic_state.h"

namespace courier {

using topic_internal::InvalidParameter;
using topic_internal::Subscription;

namespace {

constexpr std::string_view kProtocols[] = {"http", "https",       "email",  "email-json", "sms",
                                           "sqs",  "application", "lambda", "firehose"};

absl::Status SubscriptionNotFound() { return AwsError("NotFound", "Subscription does not exist"); }

bool ValidTopicName(std::string_view name, bool fifo) {
  if (fifo) {
    if (!name.ends_with(".fifo")) return false;
    name.remove_suffix(5);
  }
  if (name.empty() || name.size() > (fifo ? 251u : 256u)) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// The topic ARN of a subscription ARN (<topic arn>:<id>).
std::string_view TopicOf(std::string_view subscription_arn) {
  const size_t colon = subscription_arn.rfind(':');
  return colon == std::string_view::npos ? std::string_view() : subscription_arn.substr(0, colon);
}

absl::Status CheckEndpoint(std::string_view protocol, std::string_view endpoint) {
  auto bad = [&](std::string_view what) {
    return InvalidParameter(fmt::format("{} Reason: {}", "Endpoint", what));
  };
  if (protocol == "sqs") {
    if (!endpoint.starts_with("arn:aws:sqs:")) return bad("SQS endpoint ARN");
  } else if (protocol == "lambda") {
    if (!endpoint.starts_with("arn:aws:lambda:")) return bad("Lambda endpoint ARN");
  } else if (protocol == "http") {
    if (!endpoint.starts_with("http://")) return bad("Endpoint must match the specified protocol");
  } else if (protocol == "https") {
    if (!endpoint.starts_with("https://")) {
      return bad("Endpoint must match the specified protocol");
    }
  } else if (protocol == "email" || protocol == "email-json") {
    const size_t at = endpoint.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == endpoint.size()) {
      return bad("Email address");
    }
  } else if (protocol == "sms") {
    std::string_view digits = endpoint;
    if (digits.starts_with('+')) digits.remove_prefix(1);
    if (digits.empty() || digits.size() > 15 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(c); })) {
      return bad("SMS endpoint phone number");
    }
  } else if (protocol == "application") {
    if (!endpoint.starts_with("arn:aws:sns:")) return bad("Application endpoint ARN");
  } else if (protocol == "firehose") {
    if (!endpoint.starts_with("arn:aws:firehose:")) return bad("Firehose endpoint ARN");
  }
  return absl::OkStatus();
}

// The account of an ARN (arn:aws:<service>:<region>:<account>:...), or "".
std::string_view AccountOf(std::string_view arn) {
  size_t at = 0;
  for (int colon = 0; colon < 4; ++colon) {
    at = arn.find(':', at);
    if (at == std::string_view::npos) return {};
    ++at;
  }
  const size_t end = arn.find(':', at);
  return end == std::string_view::npos ? std::string_view() : arn.substr(at, end - at);
}

// Whether the endpoint must confirm before it receives notifications: http, https, email and
// email-json always; a queue or function only when another account owns it.
bool NeedsConfirmation(std::string_view protocol, std::string_view endpoint,
                       std::string_view account) {
  if (protocol == "sqs" || protocol == "lambda") return AccountOf(endpoint) != account;
  return protocol == "http" || protocol == "https" || protocol == "email" ||
         protocol == "email-json";
}

std::string Token() {
  // 128 hex digits, as long as SNS's tokens.
  std::string t;
  for (int i = 0; i < 4; ++i) {
    detail::Uuid u = detail::NewRandomUuid();
    t += fmt::format("{:016x}{:016x}", u.hi, u.lo);
  }
  return t;
}

// Whether every attribute a repeated Subscribe gives is as the subscription has it (an attribute
// left out of the call is no difference; a default given explicitly is none either).
bool SameAttributes(const Subscription& s, const SnsAttributeMap& given) {
  static const SnsAttributeMap kDefaults = {{"RawMessageDelivery", "false"},
                                            {"FilterPolicyScope", "MessageAttributes"}};
  for (const auto& [k, v] : given) {
    auto it = s.attributes.find(k);
    std::string_view have;
    if (it != s.attributes.end()) {
      have = it->second;
    } else if (auto d = kDefaults.find(k); d != kDefaults.end()) {
      have = d->second;
    }
    if (have != v) return false;
  }
  return true;
}

SubscriptionSummary Summary(const Subscription& s) {
  return {.subscription_arn = s.confirmed ? s.arn : "PendingConfirmation",
          .owner = s.owner,
          .protocol = s.protocol,
          .endpoint = s.endpoint,
          .topic_arn = s.topic_arn};
}

absl::Status CheckTags(const SnsAttributeMap& tags) {
  if (tags.size() > 50) {
    return AwsError("TagLimitExceeded",
                    "Could not complete request: tag quota of per resource exceeded");
  }
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > 128 || v.size() > 256) {
      return AwsError("InvalidParameter", "Invalid parameter: Tags Reason: tag key or value");
    }
  }
  return absl::OkStatus();
}

}  // namespace

// ---- Registration -------------------------------------------------------------------------------

class SnsOperations final : public Service {
 public:
  explicit SnsOperations(Hub& hub) : hub_(hub), sns_(hub) {}
  std::string_view name() const override { return "sns"; }
  absl::StatusOr<Json> Invoke(std::string_view operation, const Json& request,
                              const Caller& caller) override {
    return topic_internal::InvokeSns(hub_, operation, request, caller);
  }
  void Shutdown() override {
    sns_.state_->alive->store(false, std::memory_order_release);
    if (sns_.state_->log != nullptr) sns_.state_->log->log().Close();
  }
  absl::Status Recover() override { return sns_.Recover(); }
  SnsService& typed() { return sns_; }

 private:
  Hub& hub_;
  SnsService sns_;
};

namespace {
const ServiceRegistrar kRegistrar("sns", [](Hub& hub) -> std::unique_ptr<Service> {
  return std::make_unique<SnsOperations>(hub);
});
}  // namespace
COURIER_SERVICE_ANCHOR(sns);

SnsService& Sns(Hub& hub) { return static_cast<SnsOperations*>(hub.FindService("sns"))->typed(); }

SnsService::SnsService(Hub& hub) : hub_(hub), state_(std::make_unique<State>()) {
  if (auto log =
          detail::RecordLog::For(hub.environment().storage, std::string(topic_internal::kSnsLog))) {
    state_->log = std::make_shared<topic_internal::SnsLog>(std::move(log));
    state_->journal = std::make_shared<topic_internal::RetryJournal>(state_->log);
  }
}
SnsService::~SnsService() = default;

// ---- Permissions, data protection, SMS ----------------------------------------------------------

absl::Status SnsService::AddPermission(std::string_view topic_arn, std::string_view label,
                                       const std::vector<std::string>& accounts,
                                       const std::vector<std::string>& actions) {
  if (label.empty() || label.size() > 100 || !std::all_of(label.begin(), label.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      })) {
    return InvalidParameter("Label");
  }
  if (accounts.empty()) return InvalidParameter("AWSAccountId");
  if (actions.empty()) return InvalidParameter("ActionName");
  JsonArray principals, allowed;
  for (const std::string& a : accounts) {
    if (a.size() != 12 ||
        !std::all_of(a.begin(), a.end(), [](unsigned char c) { return std::isdigit(c); })) {
      return InvalidParameter("AWSAccountId");
    }
    principals.push_back(Json(fmt::format("arn:aws:iam::{}:root", a)));
  }
  for (const std::string& a : actions) {
    if (a.empty() ||
        !std::all_of(a.begin(), a.end(), [](unsigned char c) { return std::isalpha(c); })) {
      return InvalidParameter("ActionName");
    }
    allowed.push_back(Json("SNS:" + a));
  }
  std::lock_guard lock(state_->mu);  // one policy change at a time
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, GetTopic(topic_arn));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, topic->GetAttributes());
  auto policy = ParseJson(attributes["Policy"]);
  if (!policy.ok() || !policy->is_object()) return InvalidParameter("Policy");
  Json& statements = policy->get_object()["Statement"];
  if (!statements.is_array()) statements = JsonArray();
  for (const Json& st : statements.get_array()) {
    const Json* sid = st.is_object() ? st.get_object().if_contains("Sid") : nullptr;
    if (sid != nullptr && sid->is_string() && sid->get_string() == label) {
      return InvalidParameter("Statement already exists");
    }
  }
  JsonObject statement{
      {"Sid", std::string(label)},
      {"Effect", "Allow"},
      {"Principal",
       JsonObject{{"AWS", principals.size() == 1 ? principals[0] : Json(std::move(principals))}}},
      {"Action", allowed.size() == 1 ? allowed[0] : Json(std::move(allowed))},
      {"Resource", topic->arn()}};
  statements.get_array().push_back(std::move(statement));
  return topic->SetAttribute("Policy", ToJsonText(*policy));
}

absl::Status SnsService::RemovePermission(std::string_view topic_arn, std::string_view label) {
  std::lock_guard lock(state_->mu);
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, GetTopic(topic_arn));
  COURIER_ASSIGN_OR_RETURN(SnsAttributeMap attributes, topic->GetAttributes());
  auto policy = ParseJson(attributes["Policy"]);
  Json* statements =
      policy.ok() && policy->is_object() ? policy->get_object().if_contains("Statement") : nullptr;
  if (statements == nullptr || !statements->is_array()) return InvalidParameter("Label");
  JsonArray& list = statements->get_array();
  const size_t before = list.size();
  list.erase(std::remove_if(
                 list.begin(), list.end(),
                 [&](const Json& st) {
                   const Json* sid = st.is_object() ? st.get_object().if_contains("Sid") : nullptr;
                   return sid != nullptr && sid->is_string() && sid->get_string() == label;
                 }),
             list.end());
  if (list.size() == before) {
    return InvalidParameter(fmt::format("Label: no statement has the label {}", label));
  }
  return topic->SetAttribute("Policy", ToJsonText(*policy));
}

absl::Status SnsService::PutDataProtectionPolicy(std::string_view topic_arn,
                                                 std::string_view policy) {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, GetTopic(topic_arn));
  auto parsed = ParseJson(policy);
  if (!parsed.ok() || !parsed->is_object()) return InvalidParameter("DataProtectionPolicy");
  std::lock_guard lock(topic->state_->mu);
  topic->state_->data_protection_policy = std::string(policy);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SnsService::GetDataProtectionPolicy(std::string_view topic_arn) const {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, GetTopic(topic_arn));
  std::lock_guard lock(topic->state_->mu);
  return topic->state_->data_protection_policy;
}

absl::Status SnsService::SetSmsAttributes(const SnsAttributeMap& attributes) {
  for (const auto& [name, value] : attributes) {
    bool ok = true;
    int64_t n = 0;
    if (name == "DefaultSMSType") {
      ok = value == "Promotional" || value == "Transactional";
    } else if (name == "MonthlySpendLimit") {
      ok = absl::SimpleAtoi(value, &n) && n >= 0;
    } else if (name == "DeliveryStatusSuccessSamplingRate") {
      ok = absl::SimpleAtoi(value, &n) && n >= 0 && n <= 100;
    } else if (name == "DeliveryStatusIAMRole") {
      ok = value.empty() || value.starts_with("arn:aws:iam::");
    } else if (name == "DefaultSenderID") {
      ok = value.size() <= 11;
    } else if (name != "UsageReportS3Bucket") {
      return InvalidParameter(fmt::format("attributes: unknown attribute {}", name));
    }
    if (!ok) return InvalidParameter(fmt::format("{}", name));
  }
  std::lock_guard lock(state_->outbox_mu);
  for (const auto& [name, value] : attributes) state_->sms_attributes[name] = value;
  return absl::OkStatus();
}

SnsAttributeMap SnsService::GetSmsAttributes(const std::vector<std::string>& names) const {
  std::lock_guard lock(state_->outbox_mu);
  if (names.empty()) return state_->sms_attributes;
  SnsAttributeMap out;
  for (const std::string& n : names) {
    auto it = state_->sms_attributes.find(n);
    if (it != state_->sms_attributes.end()) out.insert(*it);
  }
  return out;
}

absl::Status SnsService::OptOutPhoneNumber(std::string_view phone_number) {
  COURIER_RETURN_IF_ERROR(CheckEndpoint("sms", phone_number));
  topic_internal::EndpointFailures& e = *state_->endpoints;
  std::lock_guard lock(e.mu);
  e.opted_out.emplace(phone_number);
  e.any.store(true, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status SnsService::OptInPhoneNumber(std::string_view phone_number) {
  COURIER_RETURN_IF_ERROR(CheckEndpoint("sms", phone_number));
  topic_internal::EndpointFailures& e = *state_->endpoints;
  std::lock_guard lock(e.mu);
  if (auto it = e.opted_out.find(phone_number); it != e.opted_out.end()) e.opted_out.erase(it);
  e.any.store(!e.failing.empty() || !e.opted_out.empty(), std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<bool> SnsService::IsPhoneNumberOptedOut(std::string_view phone_number) const {
  COURIER_RETURN_IF_ERROR(CheckEndpoint("sms", phone_number));
  topic_internal::EndpointFailures& e = *state_->endpoints;
  std::lock_guard lock(e.mu);
  return e.opted_out.contains(phone_number);
}

std::vector<std::string> SnsService::ListPhoneNumbersOptedOut() const {
  topic_internal::EndpointFailures& e = *state_->endpoints;
  std::lock_guard lock(e.mu);
  return {e.opted_out.begin(), e.opted_out.end()};
}

void SnsService::SetMaxMessageBytes(size_t bytes) {
  state_->max_message_bytes->store(bytes, std::memory_order_relaxed);
}
size_t SnsService::max_message_bytes() const {
  return state_->max_message_bytes->load(std::memory_order_relaxed);
}

void SnsService::SetQuotas(const SnsQuotas& quotas) {
  std::lock_guard lock(state_->mu);
  state_->quotas = quotas;
}

SnsQuotas SnsService::quotas() const {
  std::lock_guard lock(state_->mu);
  return state_->quotas;
}

namespace {

size_t FilterPolicies(const std::vector<std::shared_ptr<const Subscription>>& subs) {
  size_t n = 0;
  for (const auto& s : subs) n += s->filter_policy.has_value();
  return n;
}

absl::Status FilterPolicyLimit(size_t limit) {
  return AwsErrorF("FilterPolicyLimitExceeded",
                   "Filter policy limit exceeded: a topic has at most {} filter policies", limit);
}

}  // namespace

// ---- Topics -------------------------------------------------------------------------------------

absl::StatusOr<std::shared_ptr<Topic>> SnsService::CreateTopic(std::string_view name,
                                                               const SnsAttributeMap& attributes,
                                                               const SnsAttributeMap& tags) {
  auto fifo_attr = attributes.find("FifoTopic");
  const bool fifo = fifo_attr != attributes.end() && fifo_attr->second == "true";
  if (!ValidTopicName(name, fifo)) {
    if (fifo) {
      return InvalidParameter(
          "Fifo Topic names must end with .fifo and must be made up of only uppercase and "
          "lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and "
          "256 characters long.");
    }
    return InvalidParameter("Topic Name");
  }
  for (const auto& [k, v] : attributes) {
    COURIER_RETURN_IF_ERROR(topic_internal::CheckTopicAttribute(fifo, k, v, true));
  }
  COURIER_RETURN_IF_ERROR(CheckTags(tags));
  std::unique_lock lock(state_->mu);
  const std::string arn = hub_.Arn("sns", name);
  if (auto existing = std::dynamic_pointer_cast<Topic>(hub_.FindResource(arn))) {
    // Idempotent when every given attribute and tag is as the topic has it.
    std::lock_guard topic_lock(existing->state_->mu);
    for (const auto& [k, v] : attributes) {
      if (k == "FifoTopic") continue;
      auto it = existing->state_->attributes.find(k);
      if (it == existing->state_->attributes.end() || it->second != v) {
        return InvalidParameter(
            "Attributes Reason: Topic already exists with different attributes");
      }
    }
    if (!tags.empty() && tags != existing->state_->tags) {
      return InvalidParameter("Tags Reason: Topic already exists with different tags");
    }
    return existing;
  }
  size_t same_kind = 0;
  for (const std::string& other : ListTopics()) same_kind += other.ends_with(".fifo") == fifo;
  const size_t topic_limit = fifo ? state_->quotas.fifo_topics : state_->quotas.standard_topics;
  if (same_kind >= topic_limit) {
    return AwsErrorF("TopicLimitExceeded", "Topic limit exceeded: at most {} {} topics",
                     topic_limit, fifo ? "FIFO" : "standard");
  }
  std::shared_ptr<Topic> topic(new Topic(hub_, std::string(name), arn, fifo));
  Topic::State& st = *topic->state_;
  st.alive = state_->alive;
  st.max_message_bytes = state_->max_message_bytes;
  st.endpoints = state_->endpoints;
  st.context = std::make_shared<const topic_internal::DeliveryContext>(
      topic_internal::DeliveryContext{.hub = &hub_,
                                      .alive = st.alive,
                                      .topic_counters = st.counters,
                                      .endpoints = st.endpoints,
                                      .journal = fifo ? nullptr : state_->journal});
  for (const auto& [k, v] : attributes) {
    if (k != "FifoTopic") st.attributes[k] = v;
  }
  st.tags = tags;
  st.log = state_->log;
  {
    std::lock_guard topic_lock(st.mu);
    st.RebuildSnapshot();
  }
  COURIER_RETURN_IF_ERROR(detail::AddResource(hub_, topic));
  if (state_->log != nullptr) {
    state_->log->Append(topic_internal::TopicCreated{std::string(name), attributes, tags});
  }
  lock.unlock();
  COURIER_RETURN_IF_ERROR(detail::AwaitRecords());
  return topic;
}

absl::Status SnsService::DeleteTopic(std::string_view topic_arn) {
  {
    std::lock_guard lock(state_->mu);
    auto topic = std::dynamic_pointer_cast<Topic>(hub_.FindResource(topic_arn));
    if (topic == nullptr) return absl::OkStatus();  // as AWS: deleting a missing topic succeeds
    detail::RemoveResource(hub_, topic_arn);
    topic->MarkDeleted();
    std::lock_guard topic_lock(topic->state_->mu);
    for (const auto& s : topic->state_->subscriptions) {
      s->state->removed.store(true, std::memory_order_release);
    }
    topic->state_->subscriptions.clear();
    topic->state_->RebuildSnapshot();
    if (state_->log != nullptr) {
      state_->log->Append(topic_internal::TopicDeleted{std::string(topic_arn)});
    }
  }
  return detail::Durable(absl::OkStatus());
}

absl::StatusOr<std::shared_ptr<Topic>> SnsService::GetTopic(std::string_view name_or_arn) const {
  const std::string arn =
      name_or_arn.starts_with("arn:") ? std::string(name_or_arn) : hub_.Arn("sns", name_or_arn);
  auto topic = std::dynamic_pointer_cast<Topic>(hub_.FindResource(arn));
  if (topic == nullptr) return AwsError("NotFound", "Topic does not exist");
  return topic;
}

std::vector<std::string> SnsService::ListTopics() const {
  std::vector<std::string> arns;
  for (const auto& r : hub_.ListResources(hub_.Arn("sns", ""))) {
    if (dynamic_cast<const Topic*>(r.get()) != nullptr) arns.push_back(r->arn());
  }
  return arns;
}

// ---- Subscriptions ------------------------------------------------------------------------------

absl::StatusOr<std::string> SnsService::Subscribe(std::string_view topic_arn,
                                                  std::string_view protocol,
                                                  std::string_view endpoint,
                                                  const SnsAttributeMap& attributes) {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, GetTopic(topic_arn));
  if (std::find(std::begin(kProtocols), std::end(kProtocols), protocol) == std::end(kProtocols)) {
    return InvalidParameter(
        fmt::format("Amazon SNS does not support this protocol string: {}", protocol));
  }
  if (endpoint.empty()) return InvalidParameter("Endpoint");
  COURIER_RETURN_IF_ERROR(CheckEndpoint(protocol, endpoint));
  const bool fifo = topic->fifo();
  if (fifo && protocol != "sqs") {
    return InvalidParameter(fmt::format("Invalid protocol type: {}", protocol));
  }
  if (!fifo && protocol == "sqs" && endpoint.ends_with(".fifo")) {
    return InvalidParameter(
        "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard "
        "SNS topics");
  }
  auto s = std::make_shared<Subscription>();
  s->topic_arn = topic->arn();
  s->protocol = std::string(protocol);
  s->endpoint = std::string(endpoint);
  s->owner = hub_.environment().account;
  s->fifo_topic = fifo;
  if (protocol == "sqs" || protocol == "lambda") s->sink = hub_.FindSink(endpoint);
  if (protocol == "http" || protocol == "https") {
    s->retry = topic_internal::RetryPolicy::ForHttp();
  } else if (protocol == "sqs" || protocol == "lambda" || protocol == "firehose") {
    s->retry = topic_internal::RetryPolicy::ForSqsAndLambda();
  } else {
    s->retry = topic_internal::RetryPolicy::ForCustomerEndpoints();
  }
  // The scope first: the policy compiles for it.
  if (auto scope = attributes.find("FilterPolicyScope"); scope != attributes.end()) {
    COURIER_RETURN_IF_ERROR(
        topic_internal::ApplySubscriptionAttribute(*s, scope->first, scope->second, true));
  }
  for (const auto& [k, v] : attributes) {
    if (k == "FilterPolicyScope") continue;
    COURIER_RETURN_IF_ERROR(topic_internal::ApplySubscriptionAttribute(*s, k, v, true));
  }
  if (s->replay) {
    COURIER_RETURN_IF_ERROR(topic_internal::Access::CheckReplay(*topic, *s->replay));
  }
  const SnsQuotas limits = quotas();  // before the topic's lock: the service's comes first
  Topic::State& st = *topic->state_;
  std::unique_lock lock(st.mu);
  for (const auto& existing : st.subscriptions) {
    if (existing->protocol == protocol && existing->endpoint == endpoint) {
      if (!SameAttributes(*existing, attributes)) {
        return InvalidParameter(
            "Attributes Reason: Subscription already exists with different attributes");
      }
      return existing->arn;
    }
  }
  if (fifo && st.subscriptions.size() >= limits.subscriptions_per_fifo_topic) {
    return AwsErrorF("SubscriptionLimitExceeded",
                     "Subscription limit exceeded: a FIFO topic has at most {} subscriptions",
                     limits.subscriptions_per_fifo_topic);
  }
  if (s->filter_policy && FilterPolicies(st.subscriptions) >= limits.filter_policies_per_topic) {
    return FilterPolicyLimit(limits.filter_policies_per_topic);
  }
  s->arn = fmt::format("{}:{}", topic->arn(), detail::NewUuid());
  s->confirmed = !NeedsConfirmation(protocol, endpoint, hub_.environment().account);
  s->state->published_at_start = st.counters->published.load(std::memory_order_relaxed);
  if (!s->confirmed) {
    s->token = Token();
    const std::string region = hub_.environment().region;
    const std::string url =
        fmt::format("https://sns.{}.amazonaws.com/?Action=ConfirmSubscription&TopicArn={}&Token={}",
                    region, topic->arn(), s->token);
    const MessageId id(detail::NewUuid());
    const absl::Time now = hub_.clock().Now();
    const std::string text = fmt::format(
        "You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the "
        "SubscribeURL included in this message.",
        topic->arn());
    // email gets the text; http, https and email-json SNS's JSON, as SNS writes it.
    std::string body = fmt::format("{}\n{}", text, url);
    if (protocol != "email") {
      using topic_internal::Quoted;
      const std::string timestamp = topic_internal::Timestamp(now);
      const std::string to_sign = fmt::format(
          "Message\n{}\nMessageId\n{}\nSubscribeURL\n{}\nTimestamp\n{}\nToken\n{}\nTopicArn\n{}"
          "\nType\nSubscriptionConfirmation\n",
          text, id.view(), url, timestamp, s->token, topic->arn());
      body = fmt::format(
          "{{\n  \"Type\" : \"SubscriptionConfirmation\",\n  \"MessageId\" : \"{}\",\n"
          "  \"Token\" : \"{}\",\n  \"TopicArn\" : {},\n  \"Message\" : {},\n"
          "  \"SubscribeURL\" : {},\n  \"Timestamp\" : \"{}\",\n  \"SignatureVersion\" : \"1\",\n"
          "  \"Signature\" : \"{}\",\n  \"SigningCertURL\" : \"{}\"\n}}",
          id.view(), s->token, Quoted(topic->arn()), Quoted(text), Quoted(url), timestamp,
          topic_internal::Signature(to_sign), topic_internal::SigningCertUrl(region));
    }
    s->state->outbox.Add({.protocol = s->protocol,
                          .endpoint = s->endpoint,
                          .type = "SubscriptionConfirmation",
                          .message_id = id,
                          .subject = {},
                          .body = std::move(body),
                          .token = s->token,
                          .time = now});
  }
  st.subscriptions.push_back(s);
  st.RebuildSnapshot();
  if (st.log != nullptr) {
    st.log->Append(topic_internal::Subscribed{.arn = s->arn,
                                              .topic_arn = topic->arn(),
                                              .protocol = s->protocol,
                                              .endpoint = s->endpoint,
                                              .attributes = attributes,
                                              .token = s->token,
                                              .confirmed = s->confirmed});
  }
  lock.unlock();  // a replay takes the topic's FIFO lock, never under this one
  topic_internal::Access::Replay(*topic, s);
  COURIER_RETURN_IF_ERROR(detail::AwaitRecords());
  return s->arn;
}

absl::StatusOr<std::string> SnsService::ConfirmSubscription(std::string_view topic_arn,
                                                            std::string_view token) {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, GetTopic(topic_arn));
  Topic::State& st = *topic->state_;
  std::string arn;
  {
    std::lock_guard lock(st.mu);
    for (auto& s : st.subscriptions) {
      if (s->token != token || token.empty()) continue;
      if (!s->confirmed) {
        auto confirmed = std::make_shared<Subscription>(*s);
        confirmed->confirmed = true;
        // Messages published while it was pending were not for it: not filtered out either.
        confirmed->state->published_at_start =
            st.counters->published.load(std::memory_order_relaxed);
        s = std::move(confirmed);
        st.RebuildSnapshot();
        if (st.log != nullptr) st.log->Append(topic_internal::SubscriptionConfirmed{s->arn});
      }
      arn = s->arn;
      break;
    }
  }
  if (arn.empty()) return InvalidParameter("Token");
  COURIER_RETURN_IF_ERROR(detail::AwaitRecords());
  return arn;
}

absl::Status SnsService::Unsubscribe(std::string_view subscription_arn) {
  auto topic = GetTopic(TopicOf(subscription_arn));
  if (!topic.ok()) return SubscriptionNotFound();
  Topic::State& st = topic_internal::Access::Of(**topic);
  std::unique_lock lock(st.mu);
  auto it = std::find_if(st.subscriptions.begin(), st.subscriptions.end(),
                         [&](const auto& s) { return s->arn == subscription_arn; });
  if (it == st.subscriptions.end()) return SubscriptionNotFound();
  // Its filtered-out count stays in the topic's metrics.
  const auto& c = (*it)->state->counters;
  const int64_t seen =
      st.counters->published.load(std::memory_order_relaxed) - (*it)->state->published_at_start;
  st.retired["NumberOfNotificationsFilteredOut"] +=
      std::max<int64_t>(0, seen - c.matched.load(std::memory_order_relaxed));
  (*it)->state->removed.store(true, std::memory_order_release);
  st.subscriptions.erase(it);
  ++st.subscriptions_deleted;
  st.RebuildSnapshot();
  if (st.log != nullptr) {
    st.log->Append(topic_internal::Unsubscribed{std::string(subscription_arn)});
  }
  lock.unlock();
  return detail::Durable(absl::OkStatus());
}

std::vector<SubscriptionSummary> SnsService::ListSubscriptions() const {
  std::vector<SubscriptionSummary> out;
  for (const std::string& arn : ListTopics()) {
    auto subs = ListSubscriptionsByTopic(arn);
    if (subs.ok()) out.insert(out.end(), subs->begin(), subs->end());
  }
  return out;
}

absl::StatusOr<std::vector<SubscriptionSummary>> SnsService::ListSubscriptionsByTopic(
    std::string_view topic_arn) const {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, GetTopic(topic_arn));
  std::lock_guard lock(topic_internal::Access::Of(*topic).mu);
  std::vector<SubscriptionSummary> out;
  for (const auto& s : topic->state_->subscriptions) out.push_back(Summary(*s));
  return out;
}

namespace {

// The subscription `arn` of its topic, under the topic's lock.
template <typename Fn>
auto WithSubscription(const SnsService& sns, std::string_view arn, Fn&& fn)
    -> decltype(fn(std::declval<Topic::State&>(),
                   std::declval<std::shared_ptr<const Subscription>&>())) {
  auto topic = sns.GetTopic(TopicOf(arn));
  if (!topic.ok()) return SubscriptionNotFound();
  Topic::State& st = topic_internal::Access::Of(**topic);
  std::lock_guard lock(st.mu);
  for (auto& s : st.subscriptions) {
    if (s->arn == arn) return fn(st, s);
  }
  return SubscriptionNotFound();
}

}  // namespace

absl::StatusOr<SnsAttributeMap> SnsService::GetSubscriptionAttributes(
    std::string_view subscription_arn) const {
  return WithSubscription(
      *this, subscription_arn,
      [](Topic::State&, std::shared_ptr<const Subscription>& s) -> absl::StatusOr<SnsAttributeMap> {
        return topic_internal::DescribeSubscription(*s);
      });
}

absl::Status SnsService::SetSubscriptionAttributes(std::string_view subscription_arn,
                                                   std::string_view name, std::string_view value) {
  const size_t limit = quotas().filter_policies_per_topic;  // before the topic's lock
  std::shared_ptr<Topic> topic;
  if (name == "ReplayPolicy") {  // checked against the archive before the topic's lock
    absl::StatusOr<topic_internal::ReplayWindow> window = topic_internal::ParseReplayPolicy(value);
    auto found = GetTopic(TopicOf(subscription_arn));
    if (window.ok() && found.ok() && (*found)->fifo()) {
      COURIER_RETURN_IF_ERROR(topic_internal::Access::CheckReplay(**found, *window));
      topic = *std::move(found);
    }
  }
  std::shared_ptr<const Subscription> changed;
  COURIER_RETURN_IF_ERROR(WithSubscription(
      *this, subscription_arn, [&](Topic::State& st, std::shared_ptr<const Subscription>& s) {
        auto next = std::make_shared<Subscription>(*s);
        COURIER_RETURN_IF_ERROR(
            topic_internal::ApplySubscriptionAttribute(*next, name, value, false));
        if (next->filter_policy && !s->filter_policy && FilterPolicies(st.subscriptions) >= limit) {
          return FilterPolicyLimit(limit);
        }
        s = std::move(next);
        changed = s;
        st.RebuildSnapshot();
        if (st.log != nullptr) {
          st.log->Append(topic_internal::SubscriptionAttributeSet{
              std::string(subscription_arn), std::string(name), std::string(value)});
        }
        return absl::OkStatus();
      }));
  if (topic != nullptr) topic_internal::Access::Replay(*topic, changed);
  return detail::Durable(absl::OkStatus());
}

absl::StatusOr<std::vector<OutboxMessage>> SnsService::Outbox(
    std::string_view subscription_or_endpoint) const {
  {
    std::lock_guard lock(state_->outbox_mu);
    auto it = state_->direct.find(subscription_or_endpoint);
    if (it != state_->direct.end()) return it->second;
  }
  return WithSubscription(
      *this, subscription_or_endpoint,
      [](Topic::State&, std::shared_ptr<const Subscription>& s)
          -> absl::StatusOr<std::vector<OutboxMessage>> { return s->state->outbox.Read(); });
}

absl::StatusOr<SnsMetrics> SnsService::SubscriptionMetrics(
    std::string_view subscription_arn) const {
  return WithSubscription(
      *this, subscription_arn,
      [](Topic::State& st, std::shared_ptr<const Subscription>& s) -> absl::StatusOr<SnsMetrics> {
        const auto& c = s->state->counters;
        const int64_t seen =
            st.counters->published.load(std::memory_order_relaxed) - s->state->published_at_start;
        const int64_t matched = c.matched.load(std::memory_order_relaxed);
        return SnsMetrics{
            {"NumberOfNotificationsDelivered", c.delivered.load(std::memory_order_relaxed)},
            {"NumberOfNotificationsFailed", c.failed.load(std::memory_order_relaxed)},
            {"NumberOfNotificationsFilteredOut", std::max<int64_t>(0, seen - matched)},
            {"NumberOfNotificationsRedrivenToDlq", c.redriven.load(std::memory_order_relaxed)},
            {"NumberOfNotificationsFailedToRedriveToDlq",
             c.failed_to_redrive.load(std::memory_order_relaxed)}};
      });
}

// ---- Publish ------------------------------------------------------------------------------------

absl::StatusOr<PublishResult> SnsService::Publish(const SnsPublishRequest& request) {
  const int targets =
      !request.topic_arn.empty() + !request.target_arn.empty() + !request.phone_number.empty();
  if (targets == 0) {
    return InvalidParameter("Request is missing parameter: TopicArn or TargetArn or PhoneNumber");
  }
  if (targets > 1) {
    return InvalidParameter("Only one of TopicArn, TargetArn or PhoneNumber may be given");
  }
  std::string_view arn = !request.topic_arn.empty() ? request.topic_arn : request.target_arn;
  if (!arn.empty() && arn.find(":endpoint/") == std::string_view::npos) {
    COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, GetTopic(arn));
    return topic->Publish(request.request);
  }
  // A phone number or a platform endpoint: the message is "sent" into the endpoint's outbox.
  const PublishRequest& r = request.request;
  if (r.message.empty()) return InvalidParameter("Empty message");
  if (r.message.size() > max_message_bytes()) return InvalidParameter("Message too long");
  std::string protocol = "application", endpoint(arn);
  {
    std::lock_guard lock(state_->outbox_mu);
    auto registered = state_->endpoint_registry.find(arn);
    if (registered != state_->endpoint_registry.end() &&
        registered->second.attributes.contains("Enabled") &&
        registered->second.attributes.at("Enabled") == "false") {
      return AwsError("EndpointDisabled", "Endpoint is disabled");
    }
  }
  if (arn.empty()) {
    protocol = "sms";
    endpoint = request.phone_number;
    COURIER_RETURN_IF_ERROR(CheckEndpoint("sms", endpoint));
  }
  const bool opted_out = protocol == "sms" && IsPhoneNumberOptedOut(endpoint).value_or(false);
  std::string body = r.message;
  if (r.message_structure) {
    auto parsed = ParseJson(r.message);
    const Json* v =
        parsed.ok() && parsed->is_object() ? parsed->get_object().if_contains("default") : nullptr;
    if (v == nullptr || !v->is_string()) {
      return InvalidParameter("Message Structure - No default entry in JSON message body");
    }
    const Json* own = parsed->get_object().if_contains(protocol);
    body = std::string((own && own->is_string() ? own : v)->get_string());
  }
  PublishResult result{.message_id = MessageId(detail::NewUuid()), .sequence_number = {}};
  if (opted_out) return result;  // accepted, not sent: the number answered STOP
  std::lock_guard lock(state_->outbox_mu);
  state_->direct[endpoint].push_back({.protocol = protocol,
                                      .endpoint = endpoint,
                                      .type = "Notification",
                                      .message_id = result.message_id,
                                      .subject = r.subject.value_or(""),
                                      .body = std::move(body),
                                      .token = {},
                                      .time = hub_.clock().Now()});
  return result;
}

void SnsService::SetEndpointFailure(std::string_view endpoint, absl::Status status) {
  topic_internal::EndpointFailures& f = *state_->endpoints;
  std::lock_guard lock(f.mu);
  if (status.ok()) {
    f.failing.erase(std::string(endpoint));
  } else {
    f.failing[std::string(endpoint)] = std::move(status);
  }
  f.any.store(!f.failing.empty() || !f.opted_out.empty(), std::memory_order_release);
}

// ---- Tags ---------------------------------------------------------------------------------------

namespace {

absl::StatusOr<std::shared_ptr<Topic>> Tagged(const SnsService& sns, std::string_view arn) {
  auto topic = sns.GetTopic(arn);
  if (!topic.ok() || !arn.starts_with("arn:")) {
    return AwsError("ResourceNotFound", "Resource does not exist");
  }
  return topic;
}

// Under the topic's lock: its tags as they are now.
void RecordTags(Topic& topic) {
  const Topic::State& st = topic_internal::Access::Of(topic);
  if (st.log != nullptr) st.log->Append(topic_internal::TopicTagged{topic.arn(), st.tags});
}

}  // namespace

absl::Status SnsService::TagResource(std::string_view arn, const SnsAttributeMap& tags) {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, Tagged(*this, arn));
  COURIER_RETURN_IF_ERROR(CheckTags(tags));
  {
    std::lock_guard lock(topic_internal::Access::Of(*topic).mu);
    SnsAttributeMap next = topic_internal::Access::Of(*topic).tags;
    for (const auto& [k, v] : tags) next[k] = v;
    if (next.size() > 50) {
      return AwsError("TagLimitExceeded",
                      "Could not complete request: tag quota of per resource exceeded");
    }
    topic_internal::Access::Of(*topic).tags = std::move(next);
    RecordTags(*topic);
  }
  return detail::Durable(absl::OkStatus());
}

absl::Status SnsService::UntagResource(std::string_view arn, const std::vector<std::string>& keys) {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, Tagged(*this, arn));
  {
    std::lock_guard lock(topic_internal::Access::Of(*topic).mu);
    for (const std::string& k : keys) topic_internal::Access::Of(*topic).tags.erase(k);
    RecordTags(*topic);
  }
  return detail::Durable(absl::OkStatus());
}

absl::StatusOr<SnsAttributeMap> SnsService::ListTagsForResource(std::string_view arn) const {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, Tagged(*this, arn));
  std::lock_guard lock(topic_internal::Access::Of(*topic).mu);
  return topic_internal::Access::Of(*topic).tags;
}

}  // namespace courier

// ---- Recovery (Hub::Recover) -------------------------------------------------------------------

namespace courier {
namespace {

// A ReplayPolicy was carried out when it was set: replaying the record must not deliver the
// archive again (nor find it: the archive is not recorded).
SnsAttributeMap WithoutReplay(SnsAttributeMap attributes) {
  attributes.erase("ReplayPolicy");
  return attributes;
}

absl::Status Unapplied(std::string_view what, std::string_view arn, const absl::Status& why) {
  return absl::DataLossError(
      fmt::format("An SNS record cannot {} {}: {}", what, arn, std::string(why.message())));
}

}  // namespace

namespace {
// A delivery recovered from its DeliveryWaiting record, armed again on this hub's clock.
void ResumeRetry(const SnsService& sns, SnsService::State& state, Hub& hub,
                 topic_internal::DeliveryWaiting&& w) {
  using namespace topic_internal;  // NOLINT: the delivery's parts
  Delivery d{.sub = nullptr,
             .context = nullptr,
             .request = std::move(w.request),
             .group = {},
             .message_id = MessageId(w.message_id),
             .subject = std::move(w.subject),
             .tries = w.tries,
             .retry = nullptr,
             .client_error = std::nullopt,
             .dead_letter_request = std::nullopt,
             .retry_id = w.id};
  if (absl::StatusOr<std::shared_ptr<Topic>> topic = sns.GetTopic(TopicOf(w.subscription_arn));
      topic.ok()) {
    Topic::State& st = Access::Of(**topic);
    d.context = st.context;
    std::shared_ptr<const Snapshot> snap = st.LoadSnapshot();
    for (const auto& s : snap->subscriptions) {
      if (s->arn != w.subscription_arn) continue;
      // As Publish makes it: the snapshot owns the subscription and the topic's HTTP policy.
      d.sub = std::shared_ptr<const Subscription>(snap, s.get());
      if (snap->http_retry && (s->protocol == "http" || s->protocol == "https") &&
          !s->attributes.contains("DeliveryPolicy")) {
        d.retry = &*snap->http_retry;
      }
    }
  }
  if (d.context == nullptr) {
    d.context = std::make_shared<const DeliveryContext>(
        DeliveryContext{.hub = &hub,
                        .alive = state.alive,
                        .topic_counters = std::make_shared<Counters>(),
                        .endpoints = state.endpoints,
                        .journal = state.journal});
  }
  if (d.sub == nullptr) {
    // Unsubscribed (or its topic deleted) before the restart: the retry ends as one waiting in
    // memory does then, counted as failed.
    auto gone = std::make_shared<Subscription>();
    gone->arn = w.subscription_arn;
    gone->topic_arn = TopicOf(w.subscription_arn);
    gone->state->removed.store(true, std::memory_order_relaxed);
    d.sub = std::move(gone);
  }
  topic_internal::ResumeRetry(std::move(d), absl::FromUnixNanos(w.due_ns));
}
}  // namespace

absl::Status SnsService::Recover() {
  if (state_->log == nullptr) return absl::OkStatus();
  auto apply = [&](topic_internal::SnsRecord record) -> absl::Status {
    using namespace topic_internal;  // NOLINT: the record types
    if (auto* r = std::get_if<TopicCreated>(&record)) {
      absl::StatusOr<std::shared_ptr<Topic>> topic = CreateTopic(r->name, r->attributes, r->tags);
      return topic.ok() ? absl::OkStatus() : Unapplied("create", r->name, topic.status());
    }
    if (auto* r = std::get_if<TopicDeleted>(&record)) return DeleteTopic(r->arn);
    if (auto* r = std::get_if<TopicAttributeSet>(&record)) {
      absl::StatusOr<std::shared_ptr<Topic>> topic = GetTopic(r->arn);
      if (!topic.ok()) return absl::OkStatus();  // deleted meanwhile
      absl::Status st = (*topic)->SetAttribute(r->name, r->value);
      return st.ok() ? st : Unapplied("set an attribute of", r->arn, st);
    }
    if (auto* r = std::get_if<TopicTagged>(&record)) {
      absl::StatusOr<std::shared_ptr<Topic>> topic = GetTopic(r->arn);
      if (!topic.ok()) return absl::OkStatus();
      Topic::State& st = Access::Of(**topic);
      std::lock_guard lock(st.mu);
      st.tags = r->tags;
      return absl::OkStatus();
    }
    if (auto* r = std::get_if<Subscribed>(&record)) {
      absl::StatusOr<std::string> made =
          Subscribe(r->topic_arn, r->protocol, r->endpoint, WithoutReplay(r->attributes));
      if (!made.ok()) return Unapplied("subscribe to", r->topic_arn, made.status());
      // The subscription as it was: its ARN and token, and confirmed or not.
      Topic::State& st = Access::Of(**GetTopic(r->topic_arn));
      std::lock_guard lock(st.mu);
      for (auto& s : st.subscriptions) {
        if (s->arn != *made) continue;
        auto restored = std::make_shared<Subscription>(*s);
        restored->arn = r->arn;
        restored->token = r->token;
        restored->confirmed = r->confirmed;
        restored->state = std::make_shared<SubscriptionState>();  // no outbox from this replay
        restored->state->published_at_start = s->state->published_at_start;
        s = std::move(restored);
        st.RebuildSnapshot();
        break;
      }
      return absl::OkStatus();
    }
    if (auto* r = std::get_if<SubscriptionConfirmed>(&record)) {
      absl::StatusOr<std::shared_ptr<Topic>> topic = GetTopic(TopicOf(r->arn));
      if (!topic.ok()) return absl::OkStatus();
      std::string token;
      {
        std::lock_guard lock(Access::Of(**topic).mu);
        for (const auto& s : Access::Of(**topic).subscriptions) {
          if (s->arn == r->arn) token = s->token;
        }
      }
      if (token.empty()) return absl::OkStatus();  // unsubscribed meanwhile
      absl::StatusOr<std::string> confirmed = ConfirmSubscription((*topic)->arn(), token);
      return confirmed.ok() ? absl::OkStatus() : Unapplied("confirm", r->arn, confirmed.status());
    }
    if (auto* r = std::get_if<SubscriptionAttributeSet>(&record)) {
      if (r->name == "ReplayPolicy") return absl::OkStatus();
      absl::Status st = SetSubscriptionAttributes(r->arn, r->name, r->value);
      return st.ok() || ErrorName(st) == "NotFound" ? absl::OkStatus()
                                                    : Unapplied("set an attribute of", r->arn, st);
    }
    if (auto* r = std::get_if<Unsubscribed>(&record)) {
      absl::Status st = Unsubscribe(r->arn);
      return st.ok() || ErrorName(st) == "NotFound" ? absl::OkStatus()
                                                    : Unapplied("unsubscribe", r->arn, st);
    }
    return absl::OkStatus();
  };
  // The deliveries still waiting for a retry, by (subscription ARN, id).
  std::map<std::pair<std::string, uint64_t>, topic_internal::DeliveryWaiting> waiting;
  COURIER_RETURN_IF_ERROR(state_->log->log().Replay([&](std::string_view text) -> absl::Status {
    COURIER_ASSIGN_OR_RETURN(topic_internal::SnsRecord record,
                             topic_internal::DecodeSnsRecord(text));
    if (auto* r = std::get_if<topic_internal::DeliveryWaiting>(&record)) {
      state_->journal->KeepAbove(r->id);
      waiting[{r->subscription_arn, r->id}] = std::move(*r);
      return absl::OkStatus();
    }
    if (auto* r = std::get_if<topic_internal::DeliveryEnded>(&record)) {
      waiting.erase({r->subscription_arn, r->id});
      return absl::OkStatus();
    }
    return apply(std::move(record));
  }));
  for (auto& [key, w] : waiting) ResumeRetry(*this, *state_, hub_, std::move(w));
  return absl::OkStatus();
}

}  // namespace courier
