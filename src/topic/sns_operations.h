// The SNS operation table: AWS's SNS API (its operation names, request members and response
// shapes, as the JSON form of the Query protocol names them) over the typed API of sns.h and
// topic.h.
//
// Every AWS-JSON ⇄ typed conversion of SNS lives in sns_operations.cc: Attributes as maps of
// strings, Tags as [{"Key","Value"}], MessageAttributes with BinaryValue base64-decoded, lists
// paged with NextToken (100 a page, as SNS does). The "sns" Service that courier::Invoke reaches
// forwards here.
//
// Example:
//   auto r = courier::topic_internal::InvokeSns(hub, "CreateTopic", Json{{"Name", "events"}}, {});
//   // r->at("TopicArn") == "arn:aws:sns:us-east-1:000000000000:events"
#ifndef COURIER_TOPIC_SNS_OPERATIONS_H_
#define COURIER_TOPIC_SNS_OPERATIONS_H_

#include <absl/status/statusor.h>

#include <string_view>

#include "courier/json.h"
#include "courier/service.h"

namespace courier {
class Hub;
}  // namespace courier

namespace courier::topic_internal {

// One SNS operation by its AWS name ("Publish"). Unknown operations fail with InvalidAction; a
// request of the wrong shape with InvalidParameter; everything else as the typed call fails.
// Thread-safe.
absl::StatusOr<Json> InvokeSns(Hub& hub, std::string_view operation, const Json& request,
                               const Caller& caller);

}  // namespace courier::topic_internal

#endif  // COURIER_TOPIC_SNS_OPERATIONS_H_
