// The SNS service's mutation records (courier/storage.h): what a recovered hub needs to have its
// topics and subscriptions back. Each record is written under the lock that orders its change
// and replayed through the same operation that made it (SnsService::Recover), so a record holds
// the operation's arguments plus what the operation chose by chance: a subscription's ARN and
// confirmation token.
//
// A delivery of a standard topic that failed and waits for a retry is recorded
// (DeliveryWaiting, again at each failed retry) until it ends (DeliveryEnded), so that a
// recovered hub tries it again at the time it was due.
//
// Not recorded (a recovered hub starts them afresh): a FIFO topic's deliveries waiting for a
// retry (and those behind them in their group), a FIFO topic's sequence numbers,
// deduplication window and message archive, counters, outboxes, platform applications and
// endpoints, SMS settings and opt-outs, data protection policies.
#ifndef COURIER_SRC_TOPIC_SNS_RECORDS_H_
#define COURIER_SRC_TOPIC_SNS_RECORDS_H_

#include <absl/status/statusor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "courier/detail/record_log.h"
#include "courier/message.h"
#include "courier/topic.h"

namespace courier::topic_internal {

// The name of the SNS service's log in the hub's Storage.
inline constexpr std::string_view kSnsLog = "sns";

struct TopicCreated {
  std::string name;
  SnsAttributeMap attributes, tags;
};
struct TopicAttributeSet {
  std::string arn, name, value;
};
struct TopicTagged {  // the topic's whole tag set after a TagResource or UntagResource
  std::string arn;
  SnsAttributeMap tags;
};
struct TopicDeleted {
  std::string arn;
};
struct Subscribed {
  std::string arn, topic_arn, protocol, endpoint;
  SnsAttributeMap attributes;  // as given to Subscribe
  std::string token;           // empty when none was needed
  bool confirmed = false;
};
struct SubscriptionConfirmed {
  std::string arn;
};
struct SubscriptionAttributeSet {
  std::string arn, name, value;
};
struct Unsubscribed {
  std::string arn;
};

// Keyed by (subscription_arn, id): the last record of a key wins.
struct DeliveryWaiting {
  uint64_t id = 0;
  std::string subscription_arn;
  SendMessageRequest request;  // what the endpoint receives: body, attributes, FIFO ids
  std::string message_id, subject;
  int tries = 0;
  int64_t due_ns = 0;
};
struct DeliveryEnded {  // delivered, given to the dead-letter queue, or dropped
  uint64_t id = 0;
  std::string subscription_arn;
};

using SnsRecord = std::variant<TopicCreated, TopicAttributeSet, TopicTagged, TopicDeleted,
                               Subscribed, SubscriptionConfirmed, SubscriptionAttributeSet,
                               Unsubscribed, DeliveryWaiting, DeliveryEnded>;

std::string EncodeSnsRecord(const SnsRecord& record);
// DataLoss for text that is not a record this version wrote.
absl::StatusOr<SnsRecord> DecodeSnsRecord(std::string_view text);

// The hub's SNS log; nullptr when its storage keeps no records.
using SnsLog = detail::TypedLog<SnsRecord, EncodeSnsRecord>;

}  // namespace courier::topic_internal

#endif  // COURIER_SRC_TOPIC_SNS_RECORDS_H_
