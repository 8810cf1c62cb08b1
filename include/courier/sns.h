// Sns: the SNS control plane of a hub — topics, subscriptions, tags, and publishing to topics,
// phone numbers and platform endpoints — as AWS's SNS API names these operations (spec §9-10).
//
// Each Hub has one SnsService (the SNS module registers it; see service.h); `courier::Sns(hub)`
// reaches it, and `courier::Invoke(hub, "sns", ...)` answers AWS's operation table over it.
// Subscriptions to SQS queues and Functions of the same hub are confirmed at once; http, https,
// email and email-json ones wait for ConfirmSubscription with the token their outbox received.
//
// Example:
//   courier::SnsService& sns = courier::Sns(hub);
//   auto topic = sns.CreateTopic("orders.fifo", {{"FifoTopic", "true"}}).value();
//   auto sub = sns.Subscribe(topic->arn(), "sqs", queue->arn(),
//                            {{"RawMessageDelivery", "true"}}).value();
//   sns.Publish({.phone_number = "+15555550100", .request = {.message = "your code is 1234"}});
//   sns.Outbox("+15555550100").value()[0].body == "your code is 1234";
#ifndef COURIER_SNS_H_
#define COURIER_SNS_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/topic.h"

namespace courier {

class Hub;
class SnsOperations;

// A subscription as ListSubscriptions describes it. `subscription_arn` is "PendingConfirmation"
// while a confirmation is awaited, as AWS lists it.
struct SubscriptionSummary {
  std::string subscription_arn;
  std::string owner;
  std::string protocol;
  std::string endpoint;
  std::string topic_arn;
};

// Where a Publish goes: exactly one of a topic, a target (a topic or a platform endpoint ARN) or
// a phone number.
struct SnsPublishRequest {
  std::string topic_arn;
  std::string target_arn;
  std::string phone_number;
  PublishRequest request;
};

// A platform application or endpoint as the List operations give it.
struct PlatformResource {
  std::string arn;
  SnsAttributeMap attributes;
};

// A phone number of the account's SMS sandbox: Pending until verified with its one-time code.
struct SandboxPhoneNumber {
  std::string phone_number;
  std::string status;  // Pending, Verified
};

// SNS's quotas (spec §9), enforced by CreateTopic, Subscribe and SetSubscriptionAttributes.
// AWS raises some on request; so can a program (a benchmark of 1,000 filtered subscribers).
struct SnsQuotas {
  size_t standard_topics = 100'000;  // per hub (an account and region): TopicLimitExceeded
  size_t fifo_topics = 1'000;
  size_t subscriptions_per_fifo_topic = 100;  // SubscriptionLimitExceeded
  size_t filter_policies_per_topic = 200;     // FilterPolicyLimitExceeded
};

class SnsService {
 public:
  ~SnsService();
  SnsService(const SnsService&) = delete;
  SnsService& operator=(const SnsService&) = delete;

  // arn:aws:sns:<region>:<account>:<name>. A name is 1-256 of [A-Za-z0-9_-], plus ".fifo" for a
  // FIFO topic, which also needs FifoTopic=true. Idempotent with the same attributes and tags,
  // InvalidParameter otherwise. Thread-safe.
  absl::StatusOr<std::shared_ptr<Topic>> CreateTopic(std::string_view name,
                                                     const SnsAttributeMap& attributes = {},
                                                     const SnsAttributeMap& tags = {});
  // Deletes the topic and its subscriptions; deleting a topic that does not exist succeeds, as in
  // AWS. Thread-safe.
  absl::Status DeleteTopic(std::string_view topic_arn);
  // By name or ARN; NotFound if none.
  absl::StatusOr<std::shared_ptr<Topic>> GetTopic(std::string_view name_or_arn) const;
  // Every topic's ARN, in ARN order.
  std::vector<std::string> ListTopics() const;

  // Subscribes `endpoint` over `protocol` (http, https, email, email-json, sms, sqs,
  // application, lambda, firehose) with Subscribe's attributes (DeliveryPolicy, FilterPolicy,
  // FilterPolicyScope, RawMessageDelivery, RedrivePolicy, SubscriptionRoleArn). Returns the
  // subscription's ARN (also while it is pending confirmation). Idempotent with the same
  // attributes; InvalidParameter otherwise. Thread-safe.
  absl::StatusOr<std::string> Subscribe(std::string_view topic_arn, std::string_view protocol,
                                        std::string_view endpoint,
                                        const SnsAttributeMap& attributes = {});
  // Confirms a pending subscription with the token its endpoint received; returns its ARN.
  absl::StatusOr<std::string> ConfirmSubscription(std::string_view topic_arn,
                                                  std::string_view token);
  // NotFound if there is no such subscription. Thread-safe.
  absl::Status Unsubscribe(std::string_view subscription_arn);
  // Every subscription of every topic, in topic order, then subscription order.
  std::vector<SubscriptionSummary> ListSubscriptions() const;
  absl::StatusOr<std::vector<SubscriptionSummary>> ListSubscriptionsByTopic(
      std::string_view topic_arn) const;
  absl::StatusOr<SnsAttributeMap> GetSubscriptionAttributes(
      std::string_view subscription_arn) const;
  // One of RawMessageDelivery, FilterPolicy, FilterPolicyScope, RedrivePolicy, DeliveryPolicy,
  // SubscriptionRoleArn, ReplayPolicy (FIFO topics: the archive's window is delivered again
  // before this returns); the policy errors read "Invalid parameter: FilterPolicy: ...".
  absl::Status SetSubscriptionAttributes(std::string_view subscription_arn, std::string_view name,
                                         std::string_view value);

  // Publish to a topic, a platform endpoint or a phone number (the last two land in the
  // endpoint's outbox). Thread-safe.
  absl::StatusOr<PublishResult> Publish(const SnsPublishRequest& request);

  // What a subscription of a protocol that leaves AWS received, in order, by subscription ARN;
  // or what was published straight to a phone number or platform endpoint, by that number or
  // ARN. NotFound for a subscription that does not exist. Thread-safe.
  absl::StatusOr<std::vector<OutboxMessage>> Outbox(
      std::string_view subscription_or_endpoint) const;
  // Makes deliveries to an endpoint outside AWS (a URL, address, phone number or platform
  // endpoint ARN) fail with `status` until it is set to OK: a server error (Unavailable,
  // Internal...) is retried as the protocol's delivery policy says, a client error
  // (InvalidArgument, NotFound, PermissionDenied) is not. For tests of retries and DLQs.
  // Thread-safe.
  void SetEndpointFailure(std::string_view endpoint, absl::Status status);

  // A subscription's counters (see SnsMetrics). Thread-safe.
  absl::StatusOr<SnsMetrics> SubscriptionMetrics(std::string_view subscription_arn) const;

  // Tags of a topic (ResourceNotFound for another ARN); at most 50 per topic.
  absl::Status TagResource(std::string_view arn, const SnsAttributeMap& tags);
  absl::Status UntagResource(std::string_view arn, const std::vector<std::string>& keys);
  absl::StatusOr<SnsAttributeMap> ListTagsForResource(std::string_view arn) const;

  // Adds statement `label` to the topic's Policy: `accounts` (12-digit ids) may call `actions`
  // (SNS action names: Publish, Subscribe, ...). InvalidParameter if the label is taken or a
  // list is empty. Policies are stored, not evaluated yet. Thread-safe.
  absl::Status AddPermission(std::string_view topic_arn, std::string_view label,
                             const std::vector<std::string>& accounts,
                             const std::vector<std::string>& actions);
  // Removes statement `label` from the topic's Policy; InvalidParameter if it has none.
  absl::Status RemovePermission(std::string_view topic_arn, std::string_view label);
  // A topic's data protection policy (JSON), stored as given and not applied; an empty text
  // when it has none. NotFound for a topic that does not exist. Thread-safe.
  absl::Status PutDataProtectionPolicy(std::string_view topic_arn, std::string_view policy);
  absl::StatusOr<std::string> GetDataProtectionPolicy(std::string_view topic_arn) const;

  // The account's SMS settings: DefaultSMSType (Promotional, Transactional), MonthlySpendLimit,
  // DefaultSenderID, DeliveryStatusIAMRole, DeliveryStatusSuccessSamplingRate (0-100),
  // UsageReportS3Bucket. Stored; InvalidParameter for another name or a bad value.
  absl::Status SetSmsAttributes(const SnsAttributeMap& attributes);
  // The named settings that are set (all of them when `names` is empty).
  SnsAttributeMap GetSmsAttributes(const std::vector<std::string>& names) const;
  // Phone numbers that answered STOP: a publish to one is accepted and not sent (it does not
  // reach the number's outbox) until OptInPhoneNumber. OptOutPhoneNumber is the recipient's
  // side, for tests. InvalidParameter for a number that is not E.164. Thread-safe.
  absl::Status OptOutPhoneNumber(std::string_view phone_number);
  absl::Status OptInPhoneNumber(std::string_view phone_number);
  absl::StatusOr<bool> IsPhoneNumberOptedOut(std::string_view phone_number) const;
  std::vector<std::string> ListPhoneNumbersOptedOut() const;  // in order

  // Mobile push. A platform application (ADM, APNS, APNS_SANDBOX, APNS_VOIP,
  // APNS_VOIP_SANDBOX, BAIDU, GCM, MACOS, MACOS_SANDBOX, MPNS, WNS) needs a PlatformCredential;
  // its ARN is arn:aws:sns:<region>:<account>:app/<platform>/<name>. Credentials are stored,
  // never answered back. Endpoints (one per device token, arn:...:endpoint/<platform>/<name>/
  // <id>) receive Publish with TargetArn in their outbox; a disabled one refuses it with
  // EndpointDisabled. NotFound for an application or endpoint that does not exist; deleting
  // one that does not exist succeeds, as in AWS. Thread-safe.
  absl::StatusOr<std::string> CreatePlatformApplication(std::string_view name,
                                                        std::string_view platform,
                                                        const SnsAttributeMap& attributes);
  absl::StatusOr<SnsAttributeMap> GetPlatformApplicationAttributes(std::string_view arn) const;
  absl::Status SetPlatformApplicationAttributes(std::string_view arn,
                                                const SnsAttributeMap& attributes);
  std::vector<PlatformResource> ListPlatformApplications() const;  // in ARN order
  absl::Status DeletePlatformApplication(std::string_view arn);    // and its endpoints
  // Idempotent for a token with the same data and attributes; InvalidParameter otherwise.
  absl::StatusOr<std::string> CreatePlatformEndpoint(std::string_view application_arn,
                                                     std::string_view token,
                                                     std::string_view custom_user_data,
                                                     const SnsAttributeMap& attributes);
  absl::StatusOr<SnsAttributeMap> GetEndpointAttributes(std::string_view arn) const;
  absl::Status SetEndpointAttributes(std::string_view arn, const SnsAttributeMap& attributes);
  absl::StatusOr<std::vector<PlatformResource>> ListEndpointsByPlatformApplication(
      std::string_view application_arn) const;
  absl::Status DeleteEndpoint(std::string_view arn);

  // The SMS sandbox. courier's accounts are not in it (GetSMSSandboxAccountStatus answers
  // false), but its phone numbers work as AWS's do: adding one sends a 6-digit code to the
  // number's outbox, and verifying with that code makes it Verified. Thread-safe.
  absl::Status CreateSmsSandboxPhoneNumber(std::string_view phone_number,
                                           std::string_view language_code);
  absl::Status VerifySmsSandboxPhoneNumber(std::string_view phone_number,
                                           std::string_view one_time_password);
  absl::Status DeleteSmsSandboxPhoneNumber(std::string_view phone_number);
  std::vector<SandboxPhoneNumber> ListSmsSandboxPhoneNumbers() const;  // in order

  // Publish's size limit (message and attributes): 262,144 bytes, as SNS documents it. A
  // larger one (SNS's newer 1 MiB, spec §9 [?]) applies to later publishes. Thread-safe.
  void SetMaxMessageBytes(size_t bytes);
  size_t max_message_bytes() const;
  // Later calls are checked against `quotas`. Thread-safe.
  void SetQuotas(const SnsQuotas& quotas);
  SnsQuotas quotas() const;

  struct State;  // defined and used inside the SNS module only

 private:
  friend class SnsOperations;  // creates the hub's instance, and recovers it
  explicit SnsService(Hub& hub);
  // Replays the hub's SNS log (Hub::Recover): its topics and subscriptions come back.
  absl::Status Recover();

  Hub& hub_;
  std::unique_ptr<State> state_;
};

// The hub's SNS control plane.
SnsService& Sns(Hub& hub);

}  // namespace courier

#endif  // COURIER_SNS_H_
