// The SNS service's mutation records (courier/storage.h): what a recovered hub needs to have its
// topics and subscriptions back. Each record is written under the lock that orders its change
// and replayed through the same operation that made it (SnsService::Recover), so a record holds
// the operation's arguments plus what the operation chose by chance: a subscription's ARN and
// confirmation token.
//
// Not recorded (a recovered hub starts them afresh): a FIFO topic's sequence numbers,
// deduplication window and message archive, counters, outboxes, platform applications and
// endpoints, SMS settings and opt-outs, data protection policies.
#ifndef COURIER_SRC_TOPIC_SNS_RECORDS_H_
#define COURIER_SRC_TOPIC_SNS_RECORDS_H_

#include <absl/status/statusor.h>

#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "courier/detail/record_log.h"
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

using SnsRecord =
    std::variant<TopicCreated, TopicAttributeSet, TopicTagged, TopicDeleted, Subscribed,
                 SubscriptionConfirmed, SubscriptionAttributeSet, Unsubscribed>;

std::string EncodeSnsRecord(const SnsRecord& record);
// DataLoss for text that is not a record this version wrote.
absl::StatusOr<SnsRecord> DecodeSnsRecord(std::string_view text);

// The hub's SNS log; nullptr when its storage keeps no records.
using SnsLog = detail::TypedLog<SnsRecord, EncodeSnsRecord>;

}  // namespace courier::topic_internal

#endif  // COURIER_SRC_TOPIC_SNS_RECORDS_H_
