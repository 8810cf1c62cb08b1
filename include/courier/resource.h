// Resource: anything the Hub names with an ARN; MessageSink: any resource that accepts a message
// (Queue, FifoQueue, and later Topic, EventBus, Function), so components wire to each other by
// ARN without knowing each other's types.
#ifndef COURIER_RESOURCE_H_
#define COURIER_RESOURCE_H_

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

class MessageSink : public Resource {
 public:
  using Resource::Resource;
  // Accepts one message with the resource's own rules (an SQS SendMessage, an SNS Publish...).
  virtual absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) = 0;
};

}  // namespace courier

#endif  // COURIER_RESOURCE_H_
