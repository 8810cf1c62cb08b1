// Subscription attributes: the checks Subscribe and SetSubscriptionAttributes share, and the
// attribute map GetSubscriptionAttributes answers.
#ifndef COURIER_TOPIC_SUBSCRIPTION_H_
#define COURIER_TOPIC_SUBSCRIPTION_H_

#include <absl/status/status.h>

#include <optional>
#include <string_view>

#include "courier/json.h"
#include "courier/topic.h"
#include "topic/topic_state.h"

namespace courier::topic_internal {

// Sets one attribute of `s` (its typed fields and `s.attributes`), or fails with AWS's
// InvalidParameter: "Invalid parameter: Attributes Reason: ..." from Subscribe
// (`subscribe_call`), "Invalid parameter: <Name>: ..." from SetSubscriptionAttributes.
absl::Status ApplySubscriptionAttribute(Subscription& s, std::string_view name,
                                        std::string_view value, bool subscribe_call);

// A ReplayPolicy: {"PointType":"Timestamp","StartingPoint":"<ISO-8601>"[,"EndingPoint":...]}.
absl::StatusOr<ReplayWindow> ParseReplayPolicy(std::string_view policy);

// GetSubscriptionAttributes' answer.
SnsAttributeMap DescribeSubscription(const Subscription& s);

// An HTTP(S) healthyRetryPolicy ({"numRetries":3,"minDelayTarget":20,...}; null: SNS's default
// of 3 retries 20 s apart), or why it is not valid (at most 100 retries, delays of 1-3,600 s, at
// most 3,600 s in all).
absl::StatusOr<RetryPolicy> ParseHttpRetryPolicy(const Json* healthy);
// The http.defaultHealthyRetryPolicy of a topic's DeliveryPolicy, if it has a valid one.
std::optional<RetryPolicy> TopicHttpRetryPolicy(std::string_view delivery_policy);

// AWS's default EffectiveDeliveryPolicy of topics and subscriptions.
std::string DefaultDeliveryPolicy();

}  // namespace courier::topic_internal

#endif  // COURIER_TOPIC_SUBSCRIPTION_H_
