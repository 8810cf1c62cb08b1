// Subscription attributes (subscription.h): each settable attribute's check, and the map
// GetSubscriptionAttributes answers.
#include "topic/subscription.h"

#include <fmt/format.h>

#include "courier/json.h"
#include "courier/status.h"

namespace courier::topic_internal {
namespace {

absl::Status Invalid(bool subscribe_call, std::string_view name, std::string_view reason) {
  if (subscribe_call) {
    return AwsErrorF("InvalidParameter", "Invalid parameter: Attributes Reason: {}", reason);
  }
  return AwsErrorF("InvalidParameter", "Invalid parameter: {}: {}", name, reason);
}

bool IsSqsArn(std::string_view arn) { return arn.starts_with("arn:aws:sqs:"); }

// The JSON object `text`, or nullptr.
std::optional<JsonObject> ObjectOf(std::string_view text) {
  auto v = ParseJson(text);
  if (!v.ok() || !v->is_object()) return std::nullopt;
  return v->get_object();
}

std::optional<int> IntMember(const JsonObject& o, std::string_view key) {
  const Json* v = o.if_contains(key);
  if (v == nullptr || !v->is_int64()) return std::nullopt;
  return static_cast<int>(v->get_int64());
}

// An HTTP(S) subscription's healthyRetryPolicy (SNS's delivery policy JSON).
absl::Status ApplyHttpDeliveryPolicy(Subscription& s, const JsonObject& policy,
                                     bool subscribe_call) {
  absl::StatusOr<RetryPolicy> r = ParseHttpRetryPolicy(policy.if_contains("healthyRetryPolicy"));
  if (!r.ok()) return Invalid(subscribe_call, "DeliveryPolicy", std::string(r.status().message()));
  s.retry = *r;
  return absl::OkStatus();
}

absl::Status CompilePolicy(Subscription& s, std::string_view text, FilterPolicyScope scope,
                           bool subscribe_call) {
  if (text.empty()) {
    s.filter_policy.reset();
    return absl::OkStatus();
  }
  COURIER_ASSIGN_OR_RETURN(FilterPolicy policy,
                           FilterPolicy::Compile(text, scope, {.subscribe_call = subscribe_call}));
  s.filter_policy = std::move(policy);
  return absl::OkStatus();
}

FilterPolicyScope ScopeOf(const Subscription& s) {
  auto it = s.attributes.find("FilterPolicyScope");
  return it != s.attributes.end() && it->second == "MessageBody"
             ? FilterPolicyScope::kMessageBody
             : FilterPolicyScope::kMessageAttributes;
}

}  // namespace

absl::StatusOr<RetryPolicy> ParseHttpRetryPolicy(const Json* healthy) {
  RetryPolicy r = RetryPolicy::ForHttp();
  if (healthy == nullptr || healthy->is_null()) return r;
  if (!healthy->is_object())
    return absl::InvalidArgumentError("healthyRetryPolicy must be an object");
  const JsonObject& h = healthy->get_object();
  const int retries = IntMember(h, "numRetries").value_or(3);
  const int no_delay = IntMember(h, "numNoDelayRetries").value_or(0);
  const int min_tries = IntMember(h, "numMinDelayRetries").value_or(0);
  const int max_tries = IntMember(h, "numMaxDelayRetries").value_or(0);
  const int min_delay = IntMember(h, "minDelayTarget").value_or(20);
  const int max_delay = IntMember(h, "maxDelayTarget").value_or(20);
  if (retries < 0 || retries > 100 || no_delay < 0 || min_tries < 0 || max_tries < 0 ||
      no_delay + min_tries + max_tries > retries) {
    return absl::InvalidArgumentError("numRetries is out of range");
  }
  if (min_delay < 1 || max_delay > 3600 || min_delay > max_delay) {
    return absl::InvalidArgumentError("delay targets are out of range");
  }
  r.no_delay_tries = 1 + no_delay;  // the first try, then the retries without delay
  r.min_delay_tries = min_tries;
  r.min_delay = absl::Seconds(min_delay);
  r.backoff_tries = retries - no_delay - min_tries - max_tries;
  r.max_delay = absl::Seconds(max_delay);
  r.max_delay_tries = max_tries;
  if (const Json* f = h.if_contains("backoffFunction"); f && f->is_string()) {
    const std::string_view name = f->get_string();
    if (name != "linear" && name != "arithmetic" && name != "geometric" && name != "exponential") {
      return absl::InvalidArgumentError("backoffFunction is not valid");
    }
    r.backoff_function = std::string(name);
  }
  absl::Duration total;
  for (int n = 2; n <= r.total_tries(); ++n) total += *r.DelayBefore(n);
  if (total > absl::Seconds(3600)) {
    return absl::InvalidArgumentError("the total retry time is more than 3600 seconds");
  }
  return r;
}

std::optional<RetryPolicy> TopicHttpRetryPolicy(std::string_view delivery_policy) {
  std::optional<JsonObject> policy = ObjectOf(delivery_policy);
  const Json* http = policy ? policy->if_contains("http") : nullptr;
  if (http == nullptr || !http->is_object()) return std::nullopt;
  const Json* healthy = http->get_object().if_contains("defaultHealthyRetryPolicy");
  if (healthy == nullptr) return std::nullopt;
  absl::StatusOr<RetryPolicy> r = ParseHttpRetryPolicy(healthy);
  if (!r.ok()) return std::nullopt;
  return *r;
}

std::string DefaultDeliveryPolicy() {
  return R"({"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,)"
         R"("numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,)"
         R"("backoffFunction":"linear"},"disableSubscriptionOverrides":false,)"
         R"("defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}})";
}

absl::StatusOr<ReplayWindow> ParseReplayPolicy(std::string_view policy) {
  std::optional<JsonObject> p = ObjectOf(policy);
  if (!p) return absl::InvalidArgumentError("ReplayPolicy must be a JSON object");
  const Json* type = p->if_contains("PointType");
  if (type == nullptr || !type->is_string() || type->get_string() != "Timestamp") {
    return absl::InvalidArgumentError("PointType must be Timestamp");
  }
  auto time = [&](std::string_view key, absl::Time* out) {
    const Json* v = p->if_contains(key);
    std::string error;
    return v != nullptr && v->is_string() &&
           absl::ParseTime(absl::RFC3339_full, std::string(v->get_string()), out, &error);
  };
  ReplayWindow w;
  if (!time("StartingPoint", &w.start)) {
    return absl::InvalidArgumentError("StartingPoint must be an ISO-8601 timestamp");
  }
  if (p->contains("EndingPoint")) {
    if (!time("EndingPoint", &w.end)) {
      return absl::InvalidArgumentError("EndingPoint must be an ISO-8601 timestamp");
    }
    if (w.end < w.start) {
      return absl::InvalidArgumentError("EndingPoint must not be before StartingPoint");
    }
  }
  return w;
}

absl::Status ApplySubscriptionAttribute(Subscription& s, std::string_view name,
                                        std::string_view value, bool subscribe_call) {
  const std::string key(name);
  if (name == "RawMessageDelivery") {
    if (value != "true" && value != "false") {
      return Invalid(subscribe_call, name,
                     fmt::format("Invalid value [{}]. Must be true or false.", value));
    }
    if (s.protocol != "sqs" && s.protocol != "http" && s.protocol != "https" &&
        s.protocol != "firehose") {
      return Invalid(
          subscribe_call, name,
          fmt::format("Delivery protocol [{}] does not support raw message delivery.", s.protocol));
    }
    s.raw = value == "true";
  } else if (name == "FilterPolicy") {
    COURIER_RETURN_IF_ERROR(CompilePolicy(s, value, ScopeOf(s), subscribe_call));
    if (value.empty()) {
      s.attributes.erase(key);
      return absl::OkStatus();
    }
  } else if (name == "FilterPolicyScope") {
    absl::StatusOr<FilterPolicyScope> scope = ParseFilterPolicyScope(value);
    if (!scope.ok()) {
      return Invalid(
          subscribe_call, name,
          fmt::format("Invalid value [{}]. Please use either MessageBody or MessageAttributes",
                      value));
    }
    if (auto it = s.attributes.find("FilterPolicy"); it != s.attributes.end()) {
      COURIER_RETURN_IF_ERROR(CompilePolicy(s, it->second, *scope, subscribe_call));
    }
  } else if (name == "RedrivePolicy") {
    if (value.empty()) {
      s.dead_letter_arn.clear();
      s.attributes.erase(key);
      return absl::OkStatus();
    }
    std::optional<JsonObject> policy = ObjectOf(value);
    const Json* arn = policy ? policy->if_contains("deadLetterTargetArn") : nullptr;
    if (arn == nullptr || !arn->is_string()) {
      return Invalid(subscribe_call, name, "deadLetterTargetArn is missing");
    }
    const std::string_view target = arn->get_string();
    if (!IsSqsArn(target)) {
      return Invalid(subscribe_call, name, "deadLetterTargetArn is an invalid arn");
    }
    if (s.fifo_topic && !target.ends_with(".fifo")) {
      return Invalid(subscribe_call, name,
                     "must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.");
    }
    if (!s.fifo_topic && target.ends_with(".fifo")) {
      return Invalid(subscribe_call, name,
                     "must use a standard queue as DLQ for a standard Subscription.");
    }
    s.dead_letter_arn = std::string(target);
  } else if (name == "DeliveryPolicy") {
    std::optional<JsonObject> policy = ObjectOf(value);
    if (!policy) return Invalid(subscribe_call, name, "DeliveryPolicy must be a JSON object");
    if (s.protocol == "http" || s.protocol == "https") {
      COURIER_RETURN_IF_ERROR(ApplyHttpDeliveryPolicy(s, *policy, subscribe_call));
    }
  } else if (name == "ReplayPolicy") {
    if (!s.fifo_topic) {
      return Invalid(subscribe_call, name, "ReplayPolicy can only be set for FIFO topics");
    }
    absl::StatusOr<ReplayWindow> window = ParseReplayPolicy(value);
    if (!window.ok()) return Invalid(subscribe_call, name, std::string(window.status().message()));
    s.replay = *window;
  } else if (name == "SubscriptionRoleArn") {
    if (!value.starts_with("arn:aws:iam::")) {
      return Invalid(subscribe_call, name, "SubscriptionRoleArn is an invalid arn");
    }
  } else {
    return subscribe_call ? Invalid(true, name, fmt::format("Unknown attribute: {}", name))
                          : AwsError("InvalidParameter", "Invalid parameter: AttributeName");
  }
  s.attributes[key] = std::string(value);
  return absl::OkStatus();
}

SnsAttributeMap DescribeSubscription(const Subscription& s) {
  SnsAttributeMap m = s.attributes;
  m["SubscriptionArn"] = s.arn;
  m["TopicArn"] = s.topic_arn;
  m["Protocol"] = s.protocol;
  m["Endpoint"] = s.endpoint;
  m["Owner"] = s.owner;
  m["ConfirmationWasAuthenticated"] = s.confirmed ? "true" : "false";
  m["PendingConfirmation"] = s.confirmed ? "false" : "true";
  m["RawMessageDelivery"] = s.raw ? "true" : "false";
  m["SubscriptionPrincipal"] = fmt::format("arn:aws:iam::{}:root", s.owner);
  if (m.contains("FilterPolicy") && !m.contains("FilterPolicyScope")) {
    m["FilterPolicyScope"] = "MessageAttributes";
  }
  if (s.replay) m["ReplayStatus"] = "Completed";  // a replay runs when its policy is set
  auto policy = s.attributes.find("DeliveryPolicy");
  m["EffectiveDeliveryPolicy"] =
      policy != s.attributes.end() ? policy->second : DefaultDeliveryPolicy();
  return m;
}

}  // namespace courier::topic_internal
