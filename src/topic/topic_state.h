// The inside of a Topic: its subscriptions (immutable, in a snapshot replaced whole), their
// counters and outboxes (which outlive attribute changes), the FIFO deduplication window and
// sequence, and the delivery of one message to one subscription with retries.
#ifndef COURIER_TOPIC_TOPIC_STATE_H_
#define COURIER_TOPIC_TOPIC_STATE_H_

#include <absl/time/time.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "courier/detail/snapshot_cell.h"
#include "courier/message.h"
#include "courier/pattern.h"
#include "courier/resource.h"
#include "courier/topic.h"
#include "topic/retry_journal.h"
#include "topic/sns_records.h"

namespace courier {

class Hub;

namespace topic_internal {

struct Counters {
  std::atomic<int64_t> published{0};  // topics only
  std::atomic<int64_t> matched{0};    // subscriptions: messages that passed the filter
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> redriven{0};
  std::atomic<int64_t> failed_to_redrive{0};
};

// When the tries of one delivery happen: try 1 at once, then a delay before each next try,
// until none is left (SNS's delivery policy, four phases).
struct RetryPolicy {
  int no_delay_tries = 3;  // the first try is one of these
  int min_delay_tries = 2;
  absl::Duration min_delay = absl::Seconds(1);
  int backoff_tries = 10;
  absl::Duration max_delay = absl::Seconds(20);
  int max_delay_tries = 100000;
  // "linear", "arithmetic", "geometric" or "exponential": how the backoff phase goes from
  // min_delay to max_delay.
  std::string backoff_function = "exponential";

  int total_tries() const {
    return no_delay_tries + min_delay_tries + backoff_tries + max_delay_tries;
  }
  // The delay before try `n` (n >= 2); nullopt when there is no try `n`.
  std::optional<absl::Duration> DelayBefore(int n) const;

  // SQS and Lambda: 3 at once, 2 at 1 s, 10 backing off from 1 to 20 s, 100,000 at 20 s
  // (100,015 tries over 23 days).
  static RetryPolicy ForSqsAndLambda() { return {}; }
  // SMTP, SMS and mobile push: none at once, 2 at 10 s, 10 backing off from 10 to 600 s, 38 at
  // 600 s (50 tries over more than 6 hours).
  static RetryPolicy ForCustomerEndpoints() {
    return {.no_delay_tries = 0,
            .min_delay_tries = 2,
            .min_delay = absl::Seconds(10),
            .backoff_tries = 10,
            .max_delay = absl::Seconds(600),
            .max_delay_tries = 38};
  }
  // HTTP(S) by default: 3 retries 20 s apart.
  static RetryPolicy ForHttp();
};

struct OutboxState {
  std::mutex mu;
  std::vector<OutboxMessage> messages;
  void Add(OutboxMessage m) {
    std::lock_guard lock(mu);
    messages.push_back(std::move(m));
  }
  std::vector<OutboxMessage> Read() {
    std::lock_guard lock(mu);
    return messages;
  }
};

struct Subscription;

// Endpoints outside AWS that refuse deliveries: made to fail by a test
// (SnsService::SetEndpointFailure), or phone numbers that answered STOP (a client error: not
// retried).
struct EndpointFailures {
  std::atomic<bool> any{false};  // some endpoint fails or some number opted out
  std::mutex mu;
  std::map<std::string, absl::Status, std::less<>> failing;
  std::set<std::string, std::less<>> opted_out;
  absl::Status For(std::string_view endpoint) {
    if (!any.load(std::memory_order_acquire)) return absl::OkStatus();
    std::lock_guard lock(mu);
    if (opted_out.contains(endpoint)) {
      return absl::PermissionDeniedError("OptedOut: the phone number has opted out");
    }
    auto it = failing.find(endpoint);
    return it == failing.end() ? absl::OkStatus() : it->second;
  }
};

// The hub, and whether the SNS service is still there (its timers may outlive it).
struct DeliveryContext {
  Hub* hub = nullptr;
  std::shared_ptr<std::atomic<bool>> alive;
  std::shared_ptr<Counters> topic_counters;
  std::shared_ptr<EndpointFailures> endpoints;
  // Where deliveries waiting for a retry are recorded; null: they are not (no log, FIFO topic).
  std::shared_ptr<RetryJournal> journal;
};

// One message on its way to one subscription.
struct Delivery {
  std::shared_ptr<const Subscription> sub;
  std::shared_ptr<const DeliveryContext> context;  // the topic's, shared by its deliveries
  SendMessageRequest request;                      // what the sink receives
  std::string group;                               // FIFO topics: the group to keep in order
  MessageId message_id;                            // for outboxes
  std::string subject;
  int tries = 0;
  // The subscription's retry policy, or the topic's default for HTTP(S).
  const RetryPolicy* retry = nullptr;
  // A client-side failure found before the first try (more than 10 raw attributes): not
  // retried; the message goes to the DLQ at once.
  std::optional<absl::Status> client_error;
  // What the dead-letter queue receives instead of `request` when the queue cannot take that
  // (the envelope, with all its attributes inside, for a raw message with more than 10).
  std::optional<SendMessageRequest> dead_letter_request;
  uint64_t retry_id = 0;  // its RetryJournal id once a retry of it is recorded; 0: none
};

// What stays with a subscription across attribute changes.
struct SubscriptionState {
  Counters counters;
  // Set by Unsubscribe and DeleteTopic: deliveries still waiting for a retry stop there.
  std::atomic<bool> removed{false};
  // Topic's `published` when the subscription was created: filtered out = seen - matched.
  int64_t published_at_start = 0;
  OutboxState outbox;
  // FIFO topics: per message group, the deliveries waiting behind the one in progress (a group
  // present in the map has one in progress), so that each group stays in order at this
  // subscriber, also while it is failing.
  std::mutex order_mu;
  std::map<std::string, std::deque<Delivery>, std::less<>> in_progress;
};

// The published messages a replay chooses from (when they were published: StartingPoint <= t
// <= EndingPoint).
struct ReplayWindow {
  absl::Time start;
  absl::Time end = absl::InfiniteFuture();
};

// A FIFO topic's archived message (ArchivePolicy): what a replay delivers again, with the
// MessageId, SequenceNumber and Timestamp of the original.
struct Archived {
  absl::Time time;
  PublishRequest request;
  MessageId message_id;
  std::string sequence_number;
  std::string dedup_id;
};

// One subscription's configuration: immutable; a change makes a new one sharing `state`.
struct Subscription {
  std::string arn;
  std::string topic_arn;
  std::string protocol;
  std::string endpoint;
  std::string owner;
  bool fifo_topic = false;
  bool confirmed = true;
  std::string token;  // confirmation token while pending
  // The attributes set by Subscribe and SetSubscriptionAttributes, as given.
  SnsAttributeMap attributes;
  std::optional<FilterPolicy> filter_policy;
  bool raw = false;
  std::string dead_letter_arn;
  RetryPolicy retry;
  // The endpoint's sink when it subscribed, so that a delivery need not look it up in the hub's
  // registry (under its mutex); a queue created or re-created later is looked up there.
  std::weak_ptr<MessageSink> sink;
  std::optional<ReplayWindow> replay;  // its ReplayPolicy (FIFO topics)
  std::shared_ptr<SubscriptionState> state = std::make_shared<SubscriptionState>();
};

// What Publish reads: the subscriptions and the topic settings it needs, replaced as a whole.
struct Snapshot {
  std::vector<std::shared_ptr<const Subscription>> subscriptions;  // creation order
  std::vector<const Subscription*> unfiltered;                     // confirmed, no policy
  // One automaton for the attribute-scope policies, one for the body-scope ones; the rule
  // index -> its subscription.
  RuleSet::Snapshot attribute_rules, body_rules;
  std::vector<const Subscription*> attribute_subs, body_subs;
  bool content_based_dedup = false;
  bool dedup_per_group = false;  // FifoThroughputScope=MessageGroup
  std::string signature_version = "1";
  std::string kms_master_key_id;  // checked by every Publish when set
  // The topic DeliveryPolicy's http.defaultHealthyRetryPolicy: for HTTP(S) subscriptions
  // without a DeliveryPolicy of their own.
  std::optional<RetryPolicy> http_retry;
  // FIFO topics: how long the archive keeps a message (ArchivePolicy's MessageRetentionPeriod);
  // zero: no archive.
  absl::Duration archive_retention = absl::ZeroDuration();
};

// The first try of a message to an SQS subscription, made at once on this thread when the
// queue takes messages synchronously, before any Delivery is made. True when it was delivered;
// false when StartDelivery must take the message: the queue is not at hand (`failure` stays
// OK), or it refused the message (`failure` says why, and the try counts: see AfterFailedTry).
bool TryAtOnce(const Subscription& sub, const DeliveryContext& context, SendMessageRequest request,
               absl::Status& failure);
// Goes on with `d` after a failed first try (TryAtOnce): its retries or dead-letter queue.
void AfterFailedTry(Delivery d, const absl::Status& failure);

// Sends `d` through the subscription (a queue or Function found by ARN, or the outbox), with
// the subscription's retries and dead-letter queue; keeps FIFO groups in order.
void StartDelivery(Delivery d);

// SNS's InvalidParameter error: "Invalid parameter: <message>".
absl::Status InvalidParameter(std::string_view message);

// Whether a sink's failure is the client's (not retried): the queue is gone, the message
// breaks its rules, access is denied.
bool IsClientError(const absl::Status& status);

// The Signature field of what SNS signs (`to_sign`, in SNS's canonical form): 256 bytes in
// base64, the size and form of SNS's RSA signature, derived from the SHA-256 of `to_sign`
// (courier holds no key).
std::string Signature(std::string_view to_sign);
// https://sns.<region>.amazonaws.com/SimpleNotificationService-<32 hex>.pem
std::string SigningCertUrl(std::string_view region);
// A JSON string literal, as SNS escapes one.
std::string Quoted(std::string_view s);
// AWS's timestamp form: 2026-01-01T00:00:00.000Z.
std::string Timestamp(absl::Time t);

// A topic attribute's check (SetTopicAttributes, or CreateTopic when `creating`).
absl::Status CheckTopicAttribute(bool fifo, std::string_view name, std::string_view value,
                                 bool creating);

}  // namespace topic_internal

struct Topic::State {
  std::shared_ptr<topic_internal::Counters> counters = std::make_shared<topic_internal::Counters>();
  std::shared_ptr<std::atomic<bool>> alive;
  std::shared_ptr<topic_internal::EndpointFailures> endpoints;
  // The hub, `alive`, `counters` and `endpoints` together, for the deliveries to share.
  std::shared_ptr<const topic_internal::DeliveryContext> context;

  // Control plane (attributes, tags, the subscription list); Publish never takes it. Its
  // changes are recorded in `log` (nullptr when the storage keeps nothing) under it.
  mutable std::mutex mu;
  std::shared_ptr<topic_internal::SnsLog> log;
  SnsAttributeMap attributes;  // settable ones, as set
  SnsAttributeMap tags;
  std::string data_protection_policy;  // as put, not applied
  int64_t subscriptions_deleted = 0;
  std::vector<std::shared_ptr<const topic_internal::Subscription>> subscriptions;  // under mu
  // What Publish reads, without a lock; replaced whole by RebuildSnapshot.
  std::shared_ptr<const topic_internal::Snapshot> LoadSnapshot() const { return snapshot.Load(); }
  detail::SnapshotCell<topic_internal::Snapshot> snapshot;
  // Counters of unsubscribed subscriptions, still part of the topic's metrics.
  SnsMetrics retired;

  // FIFO topics: deduplication window and sequence, taken by Publish (only there).
  std::mutex fifo_mu;
  struct Sent {
    PublishResult result;
    absl::Time expires;
  };
  std::map<std::string, Sent, std::less<>> dedup;  // key: [group + '\0' +] dedup id
  std::deque<std::pair<absl::Time, std::string>> dedup_expiry;
  uint64_t sequence = 0;
  std::deque<topic_internal::Archived> archive;  // oldest first
  // When the archive began (ArchivePolicy set); InfiniteFuture without one. Under mu.
  absl::Time archive_since = absl::InfiniteFuture();
  // BeginningArchiveTime: the earliest time a replay can start from. Under mu.
  absl::Time BeginningArchiveTime() const;

  bool fifo = false;
  // Publish's size limit, shared with (and set through) the SNS service.
  std::shared_ptr<std::atomic<size_t>> max_message_bytes;
  // Rebuilds `snapshot` from `subscriptions` and `attributes`; call under mu.
  void RebuildSnapshot();
};

namespace topic_internal {
// The SNS module's way inside a Topic.
struct Access {
  static Topic::State& Of(const Topic& topic) { return *topic.state_; }
  // Whether `window` can be replayed from the topic's archive (InvalidParameter if not).
  static absl::Status CheckReplay(const Topic& topic, const ReplayWindow& window);
  // Delivers again to `sub` the archived messages of its ReplayPolicy that its filter policy
  // accepts, in their order, marked as replayed.
  static void Replay(Topic& topic, const std::shared_ptr<const Subscription>& sub);
};
}  // namespace topic_internal

}  // namespace courier

#endif  // COURIER_TOPIC_TOPIC_STATE_H_
