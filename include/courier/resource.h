// Resource: anything the Hub names with an ARN; MessageSink: any resource that accepts a message
// (Queue, FifoQueue, Function, StateMachine, and later Topic and EventBus), so components wire to
// each other by ARN without knowing each other's types.
#ifndef COURIER_RESOURCE_H_
#define COURIER_RESOURCE_H_

#include <absl/functional/any_invocable.h>
#include <absl/status/statusor.h>

#include <atomic>
#include <string>

#include "courier/message.h"

namespace courier {

class Resource {
 public:
  Resource(std::string name, std::string arn) : name_(std::move(name)), arn_(std::move(arn)) {}
  virtual ~Resource() = default;
  // Resources hold atomics and are shared by handle: neither copyable nor movable.
  Resource(const Resource&) = delete;
  Resource& operator=(const Resource&) = delete;

  const std::string& name() const { return name_; }
  const std::string& arn() const { return arn_; }

  // Set by the Hub when it deletes the resource: a caller may still hold it, and then every call
  // fails as the service answers for one that does not exist. Thread-safe.
  void MarkDeleted() { deleted_.store(true, std::memory_order_relaxed); }
  bool deleted() const { return deleted_.load(std::memory_order_relaxed); }

 private:
  std::string name_;
  std::string arn_;
  std::atomic<bool> deleted_{false};
};

// How one delivery went, reported exactly once, from any thread: the sink's answer, or why it
// did not take the message (the sender's retry policy decides what a failure means).
using DeliveryCallback = absl::AnyInvocable<void(absl::StatusOr<SendMessageResult>) &&>;

class MessageSink : public Resource {
 public:
  using Resource::Resource;
  // Accepts one message with the resource's own rules (an SQS SendMessage, an SNS Publish...).
  virtual absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) = 0;
  // The same with a completion, which a sink whose work ends later (a Function's invocation)
  // calls when it ends: maybe before Deliver returns, maybe on another thread. Topics and buses
  // deliver through it, so that one retry and dead-letter policy serves every kind of target.
  // The default completes with SendMessage's answer at once.
  virtual void Deliver(SendMessageRequest request, DeliveryCallback done) {
    std::move(done)(SendMessage(std::move(request)));
  }
  // Whether Deliver completes before it returns, on the caller's thread, as the default does: a
  // sender may then call SendMessage instead and save making a completion. A sink that
  // overrides Deliver to complete later says false.
  virtual bool completes_at_once() const { return true; }
  // Deliver for a sink that completes at once, its answer returned: what topics and buses call.
  // A delivery reads only the outcome and the message id, so a queue may skip hashing the body
  // here (its receivers still get MD5OfBody). The default is SendMessage.
  virtual absl::StatusOr<SendMessageResult> DeliverNow(SendMessageRequest request) {
    return SendMessage(std::move(request));
  }
};

}  // namespace courier

#endif  // COURIER_RESOURCE_H_
