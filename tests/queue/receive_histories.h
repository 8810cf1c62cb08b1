// The queue stress tests' check of what became of each message, from what their threads
// recorded: its receives are numbered 1, 2, ... and none comes before the visibility timeout of
// the one before it ended (as lowered by any visibility change made with that one's handle); it
// was deleted with one of its handles, or drained at the end as the receive after its last
// (and then not deleted with its latest handle); nothing was received or drained that was not
// sent, and everything sent was received or drained.
#ifndef COURIER_TESTS_QUEUE_RECEIVE_HISTORIES_H_
#define COURIER_TESTS_QUEUE_RECEIVE_HISTORIES_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "queue/stress_threads.h"

namespace courier::testing {

// `receives`: body -> receive number -> the receive; `at(id)` the Received it names (with
// `receive`, `clock_before`, `clock_after` and `timeout`); `logs`: every thread's Log (with
// `changes`, each naming a receive `of` with `clock_before` and `timeout`, and `deleted`);
// `drained`: (body, receive number) of what the queue held at the end. Each fault goes to
// `violation`. Returns how many messages are gone (deleted or drained).
template <typename At, typename Log, typename Violation>
size_t CheckReceiveHistories(const std::map<std::string, std::map<uint32_t, ReceiveId>>& receives,
                             const At& at, const std::vector<Log>& logs,
                             const std::vector<std::pair<std::string, uint32_t>>& drained,
                             const std::set<std::string>& sent, const Violation& violation) {
  std::map<ReceiveId, int64_t> visible_from;  // no earlier on the clock may the next receive be
  for (const auto& [body, by_number] : receives) {
    for (const auto& [n, id] : by_number) visible_from[id] = at(id).clock_before + at(id).timeout;
  }
  std::map<ReceiveId, bool> deleted;
  for (const Log& log : logs) {
    for (const auto& ch : log.changes) {
      auto from = visible_from.find(ch.of);
      if (from == visible_from.end()) {
        violation("a visibility change with the handle of a receive not recorded once");
        continue;
      }
      from->second = std::min(from->second, ch.clock_before + ch.timeout);
    }
    for (const ReceiveId& id : log.deleted) deleted[id] = true;
  }
  std::map<std::string, uint32_t> drained_at;
  for (const auto& [body, n] : drained) {
    if (!drained_at.emplace(body, n).second) violation(body + ": drained twice");
  }
  size_t gone = 0;
  for (const auto& [body, by_number] : receives) {
    if (!sent.contains(body)) violation(body + ": received, never sent");
    uint32_t expect = 1;
    std::optional<ReceiveId> previous;
    bool deleted_by_latest = false, deleted_by_any = false;
    for (const auto& [n, id] : by_number) {
      if (n != expect) {
        violation(body + ": receive " + std::to_string(n) + " after receive " +
                  std::to_string(expect - 1));
      }
      expect = n + 1;
      if (previous && at(id).clock_after < visible_from.at(*previous)) {
        violation(body + ": receive " + std::to_string(n) + " at " +
                  std::to_string(at(id).clock_after) + " ns, before the timeout of receive " +
                  std::to_string(at(*previous).receive) + " ended (" +
                  std::to_string(visible_from.at(*previous)) + " ns)");
      }
      previous = id;
      if (deleted.contains(id)) {
        deleted_by_any = true;
        deleted_by_latest = n == by_number.rbegin()->first;
      }
    }
    auto left = drained_at.find(body);
    if (left != drained_at.end()) {
      if (left->second != expect) {
        violation(body + ": drained as receive " + std::to_string(left->second) +
                  " after receive " + std::to_string(expect - 1));
      }
      if (deleted_by_latest) violation(body + ": deleted with its latest handle, still there");
      ++gone;
    } else if (deleted_by_any) {
      ++gone;
    } else {
      violation(body + ": lost (neither deleted nor left in the queue)");
    }
  }
  for (const auto& [body, n] : drained_at) {
    if (!receives.contains(body)) {
      if (!sent.contains(body)) violation(body + ": drained, never sent");
      if (n != 1) {
        violation(body + ": drained as receive " + std::to_string(n) + ", never received");
      }
      ++gone;
    }
  }
  for (const std::string& body : sent) {
    if (!receives.contains(body) && !drained_at.contains(body)) {
      violation(body + ": never received");
    }
  }
  return gone;
}

}  // namespace courier::testing

#endif  // COURIER_TESTS_QUEUE_RECEIVE_HISTORIES_H_
