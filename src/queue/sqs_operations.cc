// The SQS operation table (sqs_operations.h): each AWS operation reads its request members,
// calls the typed API and writes AWS's response shape. The typed API does every check of
// values; this file checks shapes only (a member missing, or of the wrong JSON type).
#include "queue/sqs_operations.h"

#include <absl/strings/escaping.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/sqs_queue.h"
#include "courier/status.h"
#include "queue/queue_config.h"

namespace courier::queue_internal {
namespace {

using StringMap = QueueAttributeMap;

// ---- Request members ----------------------------------------------------------------------------

absl::Status MissingParameter(std::string_view name) {
  return AwsErrorF("MissingParameter", "The request must contain the parameter {}.", name);
}

absl::Status WrongType(std::string_view name, std::string_view type) {
  return InvalidParameterValue(
      fmt::format("Value for parameter {} is invalid. Reason: must be {}.", name, type));
}

const Json* Member(const JsonObject& o, std::string_view name) {
  const Json* v = o.if_contains(name);
  return v == nullptr || v->is_null() ? nullptr : v;
}

absl::StatusOr<std::optional<std::string>> OptionalString(const JsonObject& o,
                                                          std::string_view name) {
  const Json* v = Member(o, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) return WrongType(name, "a string");
  return std::string(v->get_string());
}

// `path`: the member's name in errors, when it is not `name` itself (an entry's member).
absl::StatusOr<std::string> RequiredString(const JsonObject& o, std::string_view name,
                                           std::string_view path = {}) {
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> v, OptionalString(o, name));
  if (!v) return MissingParameter(path.empty() ? name : path);
  return *std::move(v);
}

// An integer member, clamped to int's range: the typed API's range checks then report it.
absl::StatusOr<std::optional<int>> OptionalInt(const JsonObject& o, std::string_view name) {
  const Json* v = Member(o, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_int64() && !v->is_uint64()) return WrongType(name, "an integer");
  constexpr int64_t kMin = std::numeric_limits<int>::min(), kMax = std::numeric_limits<int>::max();
  const int64_t n = v->is_uint64() ? kMax : std::clamp(v->get_int64(), kMin, kMax);
  return static_cast<int>(n);
}

absl::StatusOr<int> RequiredInt(const JsonObject& o, std::string_view name) {
  COURIER_ASSIGN_OR_RETURN(std::optional<int> v, OptionalInt(o, name));
  if (!v) return MissingParameter(name);
  return *v;
}

absl::StatusOr<const JsonArray*> OptionalArray(const JsonObject& o, std::string_view name) {
  const Json* v = Member(o, name);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) return WrongType(name, "a list");
  return &v->get_array();
}

absl::StatusOr<const JsonArray*> RequiredArray(const JsonObject& o, std::string_view name) {
  COURIER_ASSIGN_OR_RETURN(const JsonArray* v, OptionalArray(o, name));
  if (v == nullptr) return MissingParameter(name);
  return v;
}

// A list of strings; absent is empty.
absl::StatusOr<std::vector<std::string>> StringList(const JsonObject& o, std::string_view name) {
  COURIER_ASSIGN_OR_RETURN(const JsonArray* list, OptionalArray(o, name));
  std::vector<std::string> out;
  if (list == nullptr) return out;
  for (const Json& v : *list) {
    if (!v.is_string()) return WrongType(name, "a list of strings");
    out.emplace_back(v.get_string());
  }
  return out;
}

// A map of strings to strings (Attributes, Tags); absent is empty.
absl::StatusOr<StringMap> StringMapOf(const JsonObject& o, std::string_view name) {
  StringMap out;
  const Json* v = Member(o, name);
  if (v == nullptr) return out;
  if (!v->is_object()) return WrongType(name, "a map of strings");
  for (const auto& [key, value] : v->get_object()) {
    if (!value.is_string()) return WrongType(name, "a map of strings");
    out[std::string(key)] = std::string(value.get_string());
  }
  return out;
}

absl::StatusOr<const JsonObject*> ObjectOf(const Json& v, std::string_view name) {
  if (!v.is_object()) return WrongType(name, "a structure");
  return &v.get_object();
}

// ---- Response values ----------------------------------------------------------------------------

Json ToJson(const StringMap& map) {
  JsonObject o;
  for (const auto& [k, v] : map) o[k] = v;
  return o;
}

Json ToJson(const std::vector<std::string>& list) {
  JsonArray a;
  for (const auto& s : list) a.emplace_back(s);
  return a;
}

Json ToJson(const MessageAttributes& attributes);  // below, with its inverse

// Adds `value` under `key` unless it is empty: AWS leaves out members that have no value.
template <typename T>
void PutIfAny(JsonObject& o, std::string_view key, const T& value) {
  if (!value.empty()) o[key] = ToJson(value);
}

void PutIfAny(JsonObject& o, std::string_view key, std::string_view value) {
  if (!value.empty()) o[key] = value;
}

}  // namespace

// ---- Message attributes: the one conversion each way --------------------------------------------

// {"Name": {"DataType": "String", "StringValue": "v"}} or {"BinaryValue": "<base64>"}. The typed
// API checks names, types and values; here only the shape and the base64.
absl::StatusOr<MessageAttributes> MessageAttributesOf(const JsonObject& o, std::string_view name) {
  MessageAttributes out;
  const Json* v = Member(o, name);
  if (v == nullptr) return out;
  if (!v->is_object()) return WrongType(name, "a map of message attribute values");
  for (const auto& [key, value] : v->get_object()) {
    const std::string member = fmt::format("{}.{}", name, std::string_view(key));
    COURIER_ASSIGN_OR_RETURN(const JsonObject* fields, ObjectOf(value, member));
    MessageAttribute a;
    COURIER_ASSIGN_OR_RETURN(a.data_type,
                             RequiredString(*fields, "DataType", member + ".DataType"));
    COURIER_ASSIGN_OR_RETURN(auto text, OptionalString(*fields, "StringValue"));
    COURIER_ASSIGN_OR_RETURN(auto base64, OptionalString(*fields, "BinaryValue"));
    if (text) a.string_value = *std::move(text);
    if (base64 && !absl::Base64Unescape(*base64, &a.binary_value)) {
      return InvalidParameterValue(fmt::format(
          "Value for parameter {}.BinaryValue is invalid. Reason: must be base64.", member));
    }
    out[std::string(key)] = std::move(a);
  }
  return out;
}

Json MessageAttributesJson(const MessageAttributes& attributes) {
  JsonObject o;
  for (const auto& [name, a] : attributes) {
    JsonObject value{{"DataType", a.data_type}};
    if (a.is_binary()) {
      value["BinaryValue"] = absl::Base64Escape(a.binary_value);
    } else {
      value["StringValue"] = a.string_value;
    }
    o[name] = std::move(value);
  }
  return o;
}

namespace {

Json ToJson(const MessageAttributes& attributes) { return MessageAttributesJson(attributes); }

// ---- Messages -----------------------------------------------------------------------------------

// SendMessage's members, also a SendMessageBatch entry's.
absl::StatusOr<SendMessageRequest> SendRequestOf(const JsonObject& o) {
  SendMessageRequest r;
  COURIER_ASSIGN_OR_RETURN(r.body, RequiredString(o, "MessageBody"));
  COURIER_ASSIGN_OR_RETURN(r.attributes, MessageAttributesOf(o, "MessageAttributes"));
  COURIER_ASSIGN_OR_RETURN(MessageAttributes system,
                           MessageAttributesOf(o, "MessageSystemAttributes"));
  for (auto& [name, a] : system) {
    // AWSTraceHeader is the one system attribute a sender may set (spec §2).
    if (name != "AWSTraceHeader" || a.data_type != "String") {
      return InvalidParameterValue(
          fmt::format("Message system attribute name '{}' is invalid.", name));
    }
    r.aws_trace_header = std::move(a.string_value);
  }
  COURIER_ASSIGN_OR_RETURN(std::optional<int> delay, OptionalInt(o, "DelaySeconds"));
  if (delay) r.delay = absl::Seconds(*delay);
  COURIER_ASSIGN_OR_RETURN(r.message_group_id, OptionalString(o, "MessageGroupId"));
  COURIER_ASSIGN_OR_RETURN(r.message_deduplication_id, OptionalString(o, "MessageDeduplicationId"));
  return r;
}

JsonObject ToJson(const SendMessageResult& sent) {
  JsonObject o{{"MessageId", sent.message_id.view()}};
  PutIfAny(o, "MD5OfMessageBody", sent.md5_of_message_body.view());
  PutIfAny(o, "MD5OfMessageAttributes", sent.md5_of_message_attributes.view());
  PutIfAny(o, "MD5OfMessageSystemAttributes", sent.md5_of_message_system_attributes.view());
  PutIfAny(o, "SequenceNumber", sent.sequence_number.view());
  return o;
}

Json ToJson(const Message& m) {
  JsonObject o{{"MessageId", m.message_id.view()},
               {"ReceiptHandle", m.receipt_handle.value()},
               {"MD5OfBody", m.md5_of_body.view()},
               {"Body", m.body}};
  PutIfAny(o, "Attributes", m.attributes);
  PutIfAny(o, "MD5OfMessageAttributes", m.md5_of_message_attributes.view());
  PutIfAny(o, "MessageAttributes", m.message_attributes);
  return o;
}

// ---- Batches ------------------------------------------------------------------------------------

Json ToJson(const BatchError& e) {
  return JsonObject{
      {"Id", e.id}, {"SenderFault", e.sender_fault}, {"Code", e.code}, {"Message", e.message}};
}

// {"Successful": [...], "Failed": [...]}: both lists always, as AWS returns them.
Json BatchResponse(JsonArray successful, const std::vector<BatchError>& failed) {
  JsonArray f;
  for (const auto& e : failed) f.push_back(ToJson(e));
  return JsonObject{{"Successful", std::move(successful)}, {"Failed", std::move(f)}};
}

Json ToJson(const SendBatchResult& r) {
  JsonArray ok;
  for (const auto& [id, sent] : r.successful) {
    JsonObject entry = ToJson(sent);
    entry["Id"] = id;
    ok.push_back(std::move(entry));
  }
  return BatchResponse(std::move(ok), r.failed);
}

Json ToJson(const BatchResult& r) {
  JsonArray ok;
  for (const auto& id : r.successful) ok.push_back(JsonObject{{"Id", id}});
  return BatchResponse(std::move(ok), r.failed);
}

// The entries of a batch request, each a structure.
absl::StatusOr<std::vector<const JsonObject*>> BatchEntries(const JsonObject& o) {
  COURIER_ASSIGN_OR_RETURN(const JsonArray* list, RequiredArray(o, "Entries"));
  std::vector<const JsonObject*> out;
  for (const Json& e : *list) {
    COURIER_ASSIGN_OR_RETURN(out.emplace_back(), ObjectOf(e, "Entries"));
  }
  return out;
}

// DeleteMessageBatch / ChangeMessageVisibilityBatch entries.
absl::StatusOr<std::vector<HandleBatchEntry>> HandleEntries(const JsonObject& o,
                                                            bool with_timeout) {
  COURIER_ASSIGN_OR_RETURN(auto entries, BatchEntries(o));
  std::vector<HandleBatchEntry> out;
  for (const JsonObject* e : entries) {
    HandleBatchEntry& entry = out.emplace_back();
    COURIER_ASSIGN_OR_RETURN(entry.id, RequiredString(*e, "Id"));
    COURIER_ASSIGN_OR_RETURN(std::string handle, RequiredString(*e, "ReceiptHandle"));
    entry.receipt_handle = ReceiptHandle(handle);
    if (with_timeout) {
      COURIER_ASSIGN_OR_RETURN(int timeout, RequiredInt(*e, "VisibilityTimeout"));
      entry.visibility_timeout = absl::Seconds(timeout);
    }
  }
  return out;
}

// ---- Queues -------------------------------------------------------------------------------------

using AnyQueue = std::shared_ptr<SqsQueue>;  // either kind

// Reads QueueUrl, finds the queue and returns f(queue).
template <typename F>
absl::StatusOr<Json> WithQueue(Hub& hub, const JsonObject& request, F&& f) {
  COURIER_ASSIGN_OR_RETURN(std::string url, RequiredString(request, "QueueUrl"));
  COURIER_ASSIGN_OR_RETURN(AnyQueue queue, Sqs(hub).GetAnyQueue(url));
  return f(queue);
}

// An operation whose typed call returns only a Status answers {}.
absl::StatusOr<Json> Empty(const absl::Status& status) {
  if (!status.ok()) return status;
  return JsonObject();
}

// One page of `urls` (in order): the ones after NextToken, at most MaxResults; a NextToken only
// when MaxResults cut the list, as AWS does. `key` is the list's member name.
absl::StatusOr<Json> Page(Hub& hub, std::vector<std::string> urls, const JsonObject& request,
                          std::string_view key) {
  COURIER_ASSIGN_OR_RETURN(std::optional<int> max, OptionalInt(request, "MaxResults"));
  // The typed ListQueues holds AWS's 1-1,000 rule and message for MaxResults.
  if (max) COURIER_RETURN_IF_ERROR(Sqs(hub).ListQueues("", *max).status());
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> token, OptionalString(request, "NextToken"));
  auto begin = urls.begin();
  if (token) {
    std::string after;  // the token is the last URL of the previous page, base64'd
    if (!absl::Base64Unescape(*token, &after) || after.empty()) {
      return InvalidParameterValue("Invalid NextToken value.");
    }
    begin = std::upper_bound(urls.begin(), urls.end(), after);
  }
  const size_t left = static_cast<size_t>(urls.end() - begin);
  const size_t n = max ? std::min(left, static_cast<size_t>(*max)) : left;
  JsonObject out;
  if (n > 0) out[key] = ToJson(std::vector<std::string>(begin, begin + n));
  if (n < left) out["NextToken"] = absl::Base64Escape(*(begin + n - 1));
  return out;
}

// ---- Operations ---------------------------------------------------------------------------------

using Handler = absl::StatusOr<Json> (*)(Hub&, const JsonObject&, const Caller&);

absl::StatusOr<Json> CreateQueue(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "QueueName"));
  COURIER_ASSIGN_OR_RETURN(StringMap attributes, StringMapOf(r, "Attributes"));
  COURIER_ASSIGN_OR_RETURN(StringMap tags, StringMapOf(r, "tags"));  // lower-case in AWS's model
  COURIER_RETURN_IF_ERROR(CheckTags(tags));
  const bool existed = Sqs(hub).GetQueueUrl(name).ok();
  auto fifo = attributes.find("FifoQueue");
  if (fifo != attributes.end() && fifo->second == "true") {
    COURIER_ASSIGN_OR_RETURN(auto q, Sqs(hub).CreateFifoQueue(name, attributes));
    if (!existed && !tags.empty()) COURIER_RETURN_IF_ERROR(q->TagQueue(tags));
    return JsonObject{{"QueueUrl", q->url()}};
  }
  // SqsService::CreateQueue refuses a ".fifo" name with its own advice; SQS answers with the name
  // rule.
  COURIER_RETURN_IF_ERROR(CheckStandardQueueName(name));
  COURIER_ASSIGN_OR_RETURN(auto q, Sqs(hub).CreateQueue(name, attributes));
  // Tags count only for a new queue: CreateQueue of an existing one compares attributes only.
  if (!existed && !tags.empty()) COURIER_RETURN_IF_ERROR(q->TagQueue(tags));
  return JsonObject{{"QueueUrl", q->url()}};
}

absl::StatusOr<Json> DeleteQueue(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string url, RequiredString(r, "QueueUrl"));
  return Empty(Sqs(hub).DeleteQueue(url));
}

absl::StatusOr<Json> GetQueueUrl(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "QueueName"));
  COURIER_ASSIGN_OR_RETURN(auto owner, OptionalString(r, "QueueOwnerAWSAccountId"));
  // The hub holds one account's queues: another owner has none here.
  if (owner && *owner != hub.environment().account) return QueueDoesNotExist();
  COURIER_ASSIGN_OR_RETURN(std::string url, Sqs(hub).GetQueueUrl(name));
  return JsonObject{{"QueueUrl", url}};
}

absl::StatusOr<Json> ListQueues(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto prefix, OptionalString(r, "QueueNamePrefix"));
  return Page(hub, Sqs(hub).ListQueues(prefix.value_or("")), r, "QueueUrls");
}

absl::StatusOr<Json> GetQueueAttributes(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> names, StringList(r, "AttributeNames"));
  return WithQueue(hub, r, [&](auto& q) -> absl::StatusOr<Json> {
    COURIER_ASSIGN_OR_RETURN(StringMap attributes, q->GetQueueAttributes(names));
    JsonObject out;
    PutIfAny(out, "Attributes", attributes);
    return out;
  });
}

absl::StatusOr<Json> SetQueueAttributes(Hub& hub, const JsonObject& r, const Caller&) {
  if (Member(r, "Attributes") == nullptr) return MissingParameter("Attributes");
  COURIER_ASSIGN_OR_RETURN(StringMap attributes, StringMapOf(r, "Attributes"));
  return WithQueue(hub, r, [&](auto& q) { return Empty(q->SetQueueAttributes(attributes)); });
}

absl::StatusOr<Json> PurgeQueue(Hub& hub, const JsonObject& r, const Caller&) {
  return WithQueue(hub, r, [](auto& q) { return Empty(q->PurgeQueue()); });
}

absl::StatusOr<Json> TagQueue(Hub& hub, const JsonObject& r, const Caller&) {
  if (Member(r, "Tags") == nullptr) return MissingParameter("Tags");
  COURIER_ASSIGN_OR_RETURN(StringMap tags, StringMapOf(r, "Tags"));
  return WithQueue(hub, r, [&](auto& q) { return Empty(q->TagQueue(tags)); });
}

absl::StatusOr<Json> UntagQueue(Hub& hub, const JsonObject& r, const Caller&) {
  if (Member(r, "TagKeys") == nullptr) return MissingParameter("TagKeys");
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> keys, StringList(r, "TagKeys"));
  return WithQueue(hub, r, [&](auto& q) { return Empty(q->UntagQueue(keys)); });
}

absl::StatusOr<Json> ListQueueTags(Hub& hub, const JsonObject& r, const Caller&) {
  return WithQueue(hub, r, [](auto& q) -> absl::StatusOr<Json> {
    JsonObject out;
    PutIfAny(out, "Tags", q->ListQueueTags());
    return out;
  });
}

// SendMessage goes to whatever accepts messages under the queue's ARN (MessageSink): a Queue, a
// FifoQueue, or a test's stand-in.
absl::StatusOr<Json> SendMessage(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string url, RequiredString(r, "QueueUrl"));
  COURIER_ASSIGN_OR_RETURN(SendMessageRequest request, SendRequestOf(r));
  const std::string arn = QueueArnOf(hub, url);
  std::shared_ptr<MessageSink> sink = arn.empty() ? nullptr : hub.FindSink(arn);
  if (sink == nullptr) return QueueDoesNotExist();
  COURIER_ASSIGN_OR_RETURN(SendMessageResult sent, sink->SendMessage(std::move(request)));
  return ToJson(sent);
}

absl::StatusOr<Json> SendMessageBatch(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto entries, BatchEntries(r));
  std::vector<SendBatchEntry> typed;
  for (const JsonObject* e : entries) {
    SendBatchEntry& entry = typed.emplace_back();
    COURIER_ASSIGN_OR_RETURN(entry.id, RequiredString(*e, "Id"));
    COURIER_ASSIGN_OR_RETURN(entry.request, SendRequestOf(*e));
  }
  return WithQueue(hub, r, [&](auto& q) -> absl::StatusOr<Json> {
    COURIER_ASSIGN_OR_RETURN(auto result, q->SendMessageBatch(std::move(typed)));
    return ToJson(result);
  });
}

absl::StatusOr<Json> ReceiveMessage(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::optional<int> max, OptionalInt(r, "MaxNumberOfMessages"));
  COURIER_ASSIGN_OR_RETURN(std::optional<int> visibility, OptionalInt(r, "VisibilityTimeout"));
  COURIER_ASSIGN_OR_RETURN(std::optional<int> wait, OptionalInt(r, "WaitTimeSeconds"));
  // AttributeNames is the older name of MessageSystemAttributeNames; SDKs may send either.
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> system, StringList(r, "AttributeNames"));
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> newer,
                           StringList(r, "MessageSystemAttributeNames"));
  system.insert(system.end(), newer.begin(), newer.end());
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> attributes,
                           StringList(r, "MessageAttributeNames"));
  COURIER_ASSIGN_OR_RETURN(auto attempt, OptionalString(r, "ReceiveRequestAttemptId"));
  return WithQueue(hub, r, [&](auto& q) -> absl::StatusOr<Json> {
    ReceiveRequest request;
    request.max_number_of_messages = max.value_or(1);
    if (wait) request.wait_time = absl::Seconds(*wait);
    if (visibility) request.visibility_timeout = absl::Seconds(*visibility);
    request.message_system_attribute_names = system;
    request.message_attribute_names = attributes;
    request.receive_request_attempt_id = attempt;  // a standard queue ignores it, as SQS does
    COURIER_ASSIGN_OR_RETURN(std::vector<Message> messages, q->ReceiveMessage(request));
    JsonObject out;
    if (messages.empty()) return out;
    JsonArray list;
    for (const Message& m : messages) list.push_back(ToJson(m));
    out["Messages"] = std::move(list);
    return out;
  });
}

absl::StatusOr<Json> DeleteMessage(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string handle, RequiredString(r, "ReceiptHandle"));
  return WithQueue(hub, r, [&](auto& q) { return Empty(q->DeleteMessage(ReceiptHandle(handle))); });
}

absl::StatusOr<Json> DeleteMessageBatch(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto entries, HandleEntries(r, /*with_timeout=*/false));
  return WithQueue(hub, r, [&](auto& q) -> absl::StatusOr<Json> {
    COURIER_ASSIGN_OR_RETURN(auto result, q->DeleteMessageBatch(entries));
    return ToJson(result);
  });
}

absl::StatusOr<Json> ChangeMessageVisibility(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string handle, RequiredString(r, "ReceiptHandle"));
  COURIER_ASSIGN_OR_RETURN(int timeout, RequiredInt(r, "VisibilityTimeout"));
  return WithQueue(hub, r, [&](auto& q) {
    return Empty(q->ChangeMessageVisibility(ReceiptHandle(handle), absl::Seconds(timeout)));
  });
}

absl::StatusOr<Json> ChangeMessageVisibilityBatch(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto entries, HandleEntries(r, /*with_timeout=*/true));
  return WithQueue(hub, r, [&](auto& q) -> absl::StatusOr<Json> {
    COURIER_ASSIGN_OR_RETURN(auto result, q->ChangeMessageVisibilityBatch(entries));
    return ToJson(result);
  });
}

// ---- AddPermission / RemovePermission: statements of the queue's Policy attribute, as SQS
// keeps them (the typed API has no calls of their own) ----

// The queue's policy document, or SQS's empty default for it.
template <typename Q>
absl::StatusOr<JsonObject> PolicyOf(Q& q) {
  COURIER_ASSIGN_OR_RETURN(StringMap attributes, q->GetQueueAttributes({"Policy"}));
  auto it = attributes.find("Policy");
  if (it == attributes.end() || it->second.empty()) {
    return JsonObject{{"Version", "2012-10-17"},
                      {"Id", q->arn() + "/SQSDefaultPolicy"},
                      {"Statement", JsonArray()}};
  }
  COURIER_ASSIGN_OR_RETURN(Json policy, ParseJson(it->second));
  if (!policy.is_object()) return InvalidParameterValue("The queue's Policy is not an object.");
  JsonObject& o = policy.get_object();
  if (!o["Statement"].is_array()) o["Statement"] = JsonArray();  // one statement or none
  return o;
}

JsonArray& Statements(JsonObject& policy) { return policy["Statement"].get_array(); }

bool HasSid(const Json& statement, std::string_view sid) {
  const JsonObject* s = statement.if_object();
  const Json* v = s ? s->if_contains("Sid") : nullptr;
  return v && v->is_string() && v->get_string() == sid;
}

// One value as itself, several as a list: the form SQS writes its statements in.
Json OneOrList(const std::vector<std::string>& values) {
  return values.size() == 1 ? Json(values[0]) : ToJson(values);
}

absl::Status CheckPermissionActions(const std::vector<std::string>& actions) {
  // The actions AddPermission may grant (the batch versions come with their single ones).
  static const std::set<std::string, std::less<>> kActions = {"*",
                                                              "SendMessage",
                                                              "ReceiveMessage",
                                                              "DeleteMessage",
                                                              "GetQueueUrl",
                                                              "GetQueueAttributes",
                                                              "ChangeMessageVisibility",
                                                              "PurgeQueue",
                                                              "ListDeadLetterSourceQueues",
                                                              "ListQueueTags"};
  if (actions.empty()) return MissingParameter("Actions");
  for (const auto& a : actions) {
    if (!kActions.contains(a)) {
      return InvalidParameterValue(fmt::format(
          "Value SQS:{} for parameter ActionName is invalid. Reason: Please refer to the "
          "appropriate WSDL for a list of valid actions.",
          a));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> AddPermission(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string label, RequiredString(r, "Label"));
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> accounts, StringList(r, "AWSAccountIds"));
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> actions, StringList(r, "Actions"));
  if (accounts.empty()) return MissingParameter("AWSAccountIds");
  COURIER_RETURN_IF_ERROR(CheckPermissionActions(actions));
  return WithQueue(hub, r, [&](auto& q) -> absl::StatusOr<Json> {
    COURIER_ASSIGN_OR_RETURN(JsonObject policy, PolicyOf(q));
    for (const Json& s : Statements(policy)) {
      if (HasSid(s, label)) {
        return InvalidParameterValue(
            fmt::format("Value {} for parameter Label is invalid. Reason: Already exists.", label));
      }
    }
    std::vector<std::string> principals, grants;
    for (const auto& a : accounts) principals.push_back(fmt::format("arn:aws:iam::{}:root", a));
    for (const auto& a : actions) grants.push_back("SQS:" + a);
    Statements(policy).push_back(
        JsonObject{{"Sid", label},
                   {"Effect", "Allow"},
                   {"Principal", JsonObject{{"AWS", OneOrList(principals)}}},
                   {"Action", OneOrList(grants)},
                   {"Resource", q->arn()}});
    return Empty(q->SetQueueAttributes({{"Policy", ToJsonText(policy)}}));
  });
}

absl::StatusOr<Json> RemovePermission(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string label, RequiredString(r, "Label"));
  return WithQueue(hub, r, [&](auto& q) -> absl::StatusOr<Json> {
    COURIER_ASSIGN_OR_RETURN(JsonObject policy, PolicyOf(q));
    JsonArray& statements = Statements(policy);
    auto it = std::find_if(statements.begin(), statements.end(),
                           [&](const Json& s) { return HasSid(s, label); });
    if (it == statements.end()) {
      return InvalidParameterValue(fmt::format(
          "Value {} for parameter Label is invalid. Reason: can't find label on existing policy.",
          label));
    }
    statements.erase(it);
    // The last statement gone, the queue has no policy again.
    const std::string text = statements.empty() ? "" : ToJsonText(policy);
    return Empty(q->SetQueueAttributes({{"Policy", text}}));
  });
}

// ---- Dead-letter queues and move tasks ----

// The deadLetterTargetArn of a RedrivePolicy, or "".
std::string DeadLetterTarget(const StringMap& attributes) {
  auto it = attributes.find("RedrivePolicy");
  if (it == attributes.end()) return {};
  auto policy = ParseJson(it->second);
  const JsonObject* o = policy.ok() ? policy->if_object() : nullptr;
  const Json* arn = o ? o->if_contains("deadLetterTargetArn") : nullptr;
  return arn && arn->is_string() ? std::string(arn->get_string()) : std::string();
}

absl::StatusOr<Json> ListDeadLetterSourceQueues(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string url, RequiredString(r, "QueueUrl"));
  COURIER_ASSIGN_OR_RETURN(AnyQueue target, Sqs(hub).GetAnyQueue(url));
  std::vector<std::string> sources;
  for (const std::string& source : Sqs(hub).ListQueues()) {
    auto q = Sqs(hub).GetAnyQueue(source);
    if (!q.ok()) continue;  // deleted since the listing
    if (DeadLetterTarget((*q)->ConfiguredAttributes()) == target->arn()) sources.push_back(source);
  }
  JsonObject out{{"queueUrls", JsonArray()}};  // lower-case and always present, as in AWS
  COURIER_ASSIGN_OR_RETURN(Json page, Page(hub, std::move(sources), r, "queueUrls"));
  for (auto& [k, v] : page.get_object()) out[k] = v;
  return out;
}

absl::StatusOr<Json> StartMessageMoveTask(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string source, RequiredString(r, "SourceArn"));
  COURIER_ASSIGN_OR_RETURN(auto destination, OptionalString(r, "DestinationArn"));
  COURIER_ASSIGN_OR_RETURN(auto rate, OptionalInt(r, "MaxNumberOfMessagesPerSecond"));
  COURIER_ASSIGN_OR_RETURN(std::string handle,
                           Sqs(hub).StartMessageMoveTask(source, std::move(destination), rate));
  return JsonObject{{"TaskHandle", handle}};
}

absl::StatusOr<Json> ListMessageMoveTasks(Hub& hub, const JsonObject& r, const Caller&) {
  // The members that are numbers in AWS's model (the typed description has strings).
  static const std::set<std::string, std::less<>> kNumbers = {
      "ApproximateNumberOfMessagesMoved", "ApproximateNumberOfMessagesToMove",
      "MaxNumberOfMessagesPerSecond", "StartedTimestamp"};
  COURIER_ASSIGN_OR_RETURN(std::string source, RequiredString(r, "SourceArn"));
  COURIER_ASSIGN_OR_RETURN(std::optional<int> max, OptionalInt(r, "MaxResults"));
  COURIER_ASSIGN_OR_RETURN(auto tasks, Sqs(hub).ListMessageMoveTasks(source, max.value_or(1)));
  JsonArray results;
  for (const StringMap& task : tasks) {
    JsonObject o;
    for (const auto& [k, v] : task) {
      std::optional<int64_t> n = kNumbers.contains(k) ? ParseInt(v) : std::nullopt;
      o[k] = n ? Json(*n) : Json(v);
    }
    results.push_back(std::move(o));
  }
  return JsonObject{{"Results", std::move(results)}};
}

absl::StatusOr<Json> CancelMessageMoveTask(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string handle, RequiredString(r, "TaskHandle"));
  COURIER_ASSIGN_OR_RETURN(int64_t moved, Sqs(hub).CancelMessageMoveTask(handle));
  return JsonObject{{"ApproximateNumberOfMessagesMoved", moved}};
}

// Every operation of AWS's SQS API (AmazonSQS.<name>).
const std::map<std::string_view, Handler>& Operations() {
  static const auto* table = new std::map<std::string_view, Handler>{
      {"AddPermission", AddPermission},
      {"CancelMessageMoveTask", CancelMessageMoveTask},
      {"ChangeMessageVisibility", ChangeMessageVisibility},
      {"ChangeMessageVisibilityBatch", ChangeMessageVisibilityBatch},
      {"CreateQueue", CreateQueue},
      {"DeleteMessage", DeleteMessage},
      {"DeleteMessageBatch", DeleteMessageBatch},
      {"DeleteQueue", DeleteQueue},
      {"GetQueueAttributes", GetQueueAttributes},
      {"GetQueueUrl", GetQueueUrl},
      {"ListDeadLetterSourceQueues", ListDeadLetterSourceQueues},
      {"ListMessageMoveTasks", ListMessageMoveTasks},
      {"ListQueueTags", ListQueueTags},
      {"ListQueues", ListQueues},
      {"PurgeQueue", PurgeQueue},
      {"ReceiveMessage", ReceiveMessage},
      {"RemovePermission", RemovePermission},
      {"SendMessage", SendMessage},
      {"SendMessageBatch", SendMessageBatch},
      {"SetQueueAttributes", SetQueueAttributes},
      {"StartMessageMoveTask", StartMessageMoveTask},
      {"TagQueue", TagQueue},
      {"UntagQueue", UntagQueue},
  };
  return *table;
}

}  // namespace

absl::StatusOr<Json> InvokeSqs(Hub& hub, std::string_view operation, const Json& request,
                               const Caller& caller) {
  auto it = Operations().find(operation);
  if (it == Operations().end()) {
    return AwsErrorF("InvalidAction", "The action {} is not valid for this endpoint.", operation);
  }
  static const JsonObject kNoMembers;
  if (request.is_null()) return it->second(hub, kNoMembers, caller);
  if (!request.is_object()) {
    return InvalidParameterValue("The request must be a JSON object of the operation's members.");
  }
  return it->second(hub, request.get_object(), caller);
}

}  // namespace courier::queue_internal
