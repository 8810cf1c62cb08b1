// The SNS service's own state (SnsService::State): what is not a topic's. Shared by the files
// of the SNS module (sns_service.cc, platform.cc) and no one else.
#ifndef COURIER_TOPIC_SNS_STATE_H_
#define COURIER_TOPIC_SNS_STATE_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "courier/sns.h"
#include "topic/sns_records.h"
#include "topic/topic_state.h"

namespace courier {

namespace topic_internal {

// A mobile push application and its endpoints (platform.cc).
struct PlatformApplication {
  std::string name, platform;
  SnsAttributeMap attributes;
};
struct PlatformEndpoint {
  std::string application_arn;
  SnsAttributeMap attributes;  // Token, Enabled, CustomUserData
};
struct SandboxNumber {
  std::string status;  // Pending, Verified
  std::string code;    // the one-time password sent to it
};

}  // namespace topic_internal

struct SnsService::State {
  // Serializes CreateTopic and DeleteTopic (the hub's registry is the source of truth).
  std::mutex mu;
  std::shared_ptr<std::atomic<bool>> alive = std::make_shared<std::atomic<bool>>(true);
  std::shared_ptr<std::atomic<size_t>> max_message_bytes =
      std::make_shared<std::atomic<size_t>>(262144);
  std::shared_ptr<topic_internal::EndpointFailures> endpoints =
      std::make_shared<topic_internal::EndpointFailures>();
  SnsQuotas quotas;  // under mu
  // Where topics and subscriptions are recorded; nullptr when the storage keeps nothing.
  std::shared_ptr<topic_internal::SnsLog> log;
  std::shared_ptr<topic_internal::RetryJournal> journal;  // null with `log`
  // Publishes straight to a phone number or a platform endpoint, by that number or ARN.
  mutable std::mutex outbox_mu;
  std::map<std::string, std::vector<OutboxMessage>, std::less<>> direct;
  SnsAttributeMap sms_attributes;  // the account's SMS settings, under outbox_mu
  // Mobile push and the SMS sandbox, by ARN or number. Under outbox_mu.
  std::map<std::string, topic_internal::PlatformApplication, std::less<>> applications;
  std::map<std::string, topic_internal::PlatformEndpoint, std::less<>> endpoint_registry;
  std::map<std::string, topic_internal::SandboxNumber, std::less<>> sandbox;
};

}  // namespace courier

#endif  // COURIER_TOPIC_SNS_STATE_H_
