// Topic: one SNS topic (standard or FIFO), the publish side of the in-process SNS.
//
// A topic fans each published message out to its confirmed subscriptions (sns.h creates topics
// and subscriptions): SQS queues receive SNS's JSON envelope, or the raw body when
// RawMessageDelivery is on; Functions receive SNS's event record; the protocols that leave AWS
// (http, https, email, email-json, sms, application, firehose) land in an outbox per
// subscription that a test can read. Every subscription's filter policy is matched in one pass of
// the pattern engine, over an immutable snapshot of the subscriptions that Subscribe and
// Unsubscribe build off to the side and publish with one pointer swap: Publish never waits for
// them (it copies the pointer under a reader lock held for that copy only, as RuleSet does).
// Failed deliveries are retried on the hub's clock as the SNS delivery policy of the protocol
// says, then given to the subscription's dead-letter queue; nothing is dropped silently
// (Metrics counts every outcome).
//
// Example:
//   courier::testing::Simulation sim;
//   courier::Hub hub(sim.environment());
//   auto orders = courier::Sqs(hub).CreateQueue("orders").value();
//   auto topic = courier::Sns(hub).CreateTopic("events").value();
//   courier::Sns(hub).Subscribe(topic->arn(), "sqs", orders->arn(),
//                               {{"FilterPolicy", R"({"kind":["new"]})"}});
//   topic->Publish({.message = "hello",
//                   .attributes = {{"kind", courier::MessageAttribute::String("new")}}});
//   // orders now holds {"Type" : "Notification", ..., "Message" : "hello", ...}
#ifndef COURIER_TOPIC_H_
#define COURIER_TOPIC_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/message.h"
#include "courier/resource.h"

namespace courier {

class Hub;
class SnsService;
namespace topic_internal {
struct Access;
}  // namespace topic_internal

// Attributes and tags by AWS's names, with AWS's string values.
using SnsAttributeMap = std::map<std::string, std::string, std::less<>>;

// Publish's members (spec §9). Attribute types are String, String.Array (a JSON array in
// string_value), Number and Binary, each optionally with a ".label".
struct PublishRequest {
  std::string message;
  std::optional<std::string> subject;
  // "json": `message` is a JSON object of strings with a "default" key and optional per-protocol
  // keys ("sqs", "lambda", "email", "http", ...).
  std::optional<std::string> message_structure;
  MessageAttributes attributes;
  // FIFO topics: required group id; dedup id unless ContentBasedDeduplication is on.
  std::optional<std::string> message_group_id;
  std::optional<std::string> message_deduplication_id;
};

struct PublishResult {
  MessageId message_id;
  std::string sequence_number;  // FIFO topics only: 20 digits
  friend bool operator==(const PublishResult&, const PublishResult&) = default;
};

struct PublishBatchEntry {
  std::string id;
  PublishRequest request;
};

struct PublishBatchResult {
  struct Success {
    std::string id;
    MessageId message_id;
    std::string sequence_number;
  };
  struct Failure {
    std::string id;
    std::string code;     // AWS's error name
    std::string message;  // without the name
    bool sender_fault = true;
  };
  std::vector<Success> successful;
  std::vector<Failure> failed;
};

// One message as an endpoint outside AWS would have received it (an SMS "sent", an email, an
// HTTP POST body), recorded in the subscription's outbox (SnsService::Outbox).
struct OutboxMessage {
  std::string protocol;  // "sms", "email", "http", ...
  std::string endpoint;  // phone number, address, URL, platform endpoint ARN
  // "Notification", or "SubscriptionConfirmation" for the confirmation request that a
  // subscription pending confirmation is sent (its token is in `token`).
  std::string type;
  MessageId message_id;
  std::string subject;
  // What the endpoint receives: the message text (sms, email, application), or SNS's JSON
  // envelope (http, https, email-json; the raw text with RawMessageDelivery).
  std::string body;
  std::string token;  // SubscriptionConfirmation only
  absl::Time time;    // when the endpoint received it (a retried delivery: the try that worked)
};

// Counters by their CloudWatch names: NumberOfMessagesPublished (topics only),
// NumberOfNotificationsDelivered, NumberOfNotificationsFailed, NumberOfNotificationsFilteredOut,
// NumberOfNotificationsRedrivenToDlq, NumberOfNotificationsFailedToRedriveToDlq.
using SnsMetrics = std::map<std::string, int64_t, std::less<>>;

class Topic final : public MessageSink {
 public:
  ~Topic() override;

  bool fifo() const;

  // Publishes one message to every confirmed subscription whose filter policy matches.
  // InvalidParameter (empty or too long message, bad subject, bad MessageStructure, FIFO ids),
  // ParameterValueInvalid (bad attributes), NotFound once the topic is deleted. A FIFO duplicate
  // within the 5-minute window answers the first publish's id and sequence number and is not
  // delivered again. Thread-safe; takes no lock against Subscribe/Unsubscribe.
  absl::StatusOr<PublishResult> Publish(PublishRequest request);
  // Up to 10 entries with distinct ids (1-80 of [A-Za-z0-9_-]), at most the size limit in
  // total; each entry succeeds or fails on its own (EmptyBatchRequest,
  // TooManyEntriesInBatchRequest, BatchEntryIdsNotDistinct, InvalidBatchEntryId,
  // BatchRequestTooLong fail the whole call). Thread-safe.
  absl::StatusOr<PublishBatchResult> PublishBatch(std::vector<PublishBatchEntry> entries);

  // Subscribes a queue or a Function of this hub: SnsService::Subscribe with the protocol its
  // ARN names (sqs, lambda; InvalidParameter for another kind of sink). Returns the
  // subscription's ARN. Thread-safe.
  //   topic->Subscribe(*orders, {{"FilterPolicy", R"({"kind":["new"]})"}});
  absl::StatusOr<std::string> Subscribe(const MessageSink& endpoint,
                                        const SnsAttributeMap& attributes = {});

  // GetTopicAttributes: every attribute AWS returns, with the subscription counters.
  absl::StatusOr<SnsAttributeMap> GetAttributes() const;
  // SetTopicAttributes for one attribute; InvalidParameter for a name that cannot be set or a
  // value that is not valid. Thread-safe.
  absl::Status SetAttribute(std::string_view name, std::string_view value);

  // The topic's counters, summed over its subscriptions (also the deleted ones). Thread-safe.
  SnsMetrics Metrics() const;

  // MessageSink: a Publish of the body and attributes (with the group and dedup ids), so a
  // topic can be an EventBridge target or a Step Functions task's destination.
  absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) override;

  struct State;  // defined and used inside the SNS module only

 private:
  friend class SnsService;
  friend struct topic_internal::Access;
  Topic(Hub& hub, std::string name, std::string arn, bool fifo);
  // Publish, without waiting for the records of its deliveries (Publish waits once for all).
  absl::StatusOr<PublishResult> PublishAndFanOut(PublishRequest request);

  Hub& hub_;
  std::unique_ptr<State> state_;
};

}  // namespace courier

#endif  // COURIER_TOPIC_H_
