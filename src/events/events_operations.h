// The module's operation tables, with AWS's JSON request and response shapes: "events"
// (EventsService and EventBus: events.h, event_bus.h), "scheduler" (scheduler.h) and "schemas"
// (schemas.h).
#ifndef COURIER_EVENTS_EVENTS_OPERATIONS_H_
#define COURIER_EVENTS_EVENTS_OPERATIONS_H_

#include <absl/status/statusor.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/event_bus.h"
#include "courier/json.h"
#include "courier/service.h"
#include "courier/status.h"

namespace courier {
class Hub;
}  // namespace courier

namespace courier::events_internal {

absl::StatusOr<Json> InvokeEvents(Hub& hub, std::string_view operation, const Json& request,
                                  const Caller& caller);
absl::StatusOr<Json> InvokeScheduler(Hub& hub, std::string_view operation, const Json& request,
                                     const Caller& caller);
absl::StatusOr<Json> InvokeSchemas(Hub& hub, std::string_view operation, const Json& request,
                                   const Caller& caller);

// What both tables (events, scheduler) share: the dispatch and the members they both read.

using Operation = absl::StatusOr<Json> (*)(Hub&, const JsonObject&, const Caller&);
using OperationTable = std::map<std::string, Operation, std::less<>>;
// UnknownOperationException for an operation not in `table`, SerializationException for a
// request that is not an object (null is taken as {}).
absl::StatusOr<Json> Dispatch(const OperationTable& table, Hub& hub, std::string_view operation,
                              const Json& request, const Caller& caller);

// Tags as [{"Key": k, "Value": v}, ...].
absl::StatusOr<EventsTagMap> TagsOf(const JsonObject& r, std::string_view name);
Json TagsJson(const EventsTagMap& tags);

// A page of a list: `limit_member` (1-100) items from NextToken's offset.
struct Page {
  size_t begin = 0, end = 0;
  std::optional<std::string> next_token;
};
absl::StatusOr<Page> PageOf(const JsonObject& r, size_t count, std::string_view limit_member);

// {member: [to_json(item)...], "NextToken": ...}, one page of `items`.
template <typename T, typename F>
absl::StatusOr<Json> PagedList(const JsonObject& r, std::string_view member,
                               const std::vector<T>& items, F to_json,
                               std::string_view limit_member = "Limit") {
  COURIER_ASSIGN_OR_RETURN(Page page, PageOf(r, items.size(), limit_member));
  JsonArray list;
  for (size_t i = page.begin; i < page.end; ++i) list.push_back(to_json(items[i]));
  JsonObject out{{member, std::move(list)}};
  if (page.next_token) out["NextToken"] = *page.next_token;
  return out;
}

}  // namespace courier::events_internal

#endif  // COURIER_EVENTS_EVENTS_OPERATIONS_H_
