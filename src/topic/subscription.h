// Subscription attributes: the checks Subscribe and SetSubscriptionAttributes share, and the
// attribute map GetSubscriptionAttributes answers.
#ifndef COURIER_TOPIC_SUBSCRIPTION_H_
#define COURIER_TOPIC_SUBSCRIPTION_H_

#include <absl/status/status.h>

#include <string_view>

#include "courier/topic.h"
#include "topic/topic_state.h"

namespace courier::topic_internal {

// Sets one attribute of `s` (its typed fields and `s.attributes`), or fails with AWS's
// InvalidParameter: "Invalid parameter: Attributes Reason: ..." from Subscribe
// (`subscribe_call`), "Invalid parameter: <Name>: ..." from SetSubscriptionAttributes.
absl::Status ApplySubscriptionAttribute(Subscription& s, std::string_view name,
                                        std::string_view value, bool subscribe_call);

// GetSubscriptionAttributes' answer.
SnsAttributeMap DescribeSubscription(const Subscription& s);

// AWS's default EffectiveDeliveryPolicy of topics and subscriptions.
std::string DefaultDeliveryPolicy();

}  // namespace courier::topic_internal

#endif  // COURIER_TOPIC_SUBSCRIPTION_H_
