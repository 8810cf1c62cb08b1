// The progress tests' final accounting: every message sent was deleted exactly once, or is
// still in the queue and was drained once, and nothing else came out of it.
#ifndef COURIER_TESTS_QUEUE_MESSAGE_ACCOUNTING_H_
#define COURIER_TESTS_QUEUE_MESSAGE_ACCOUNTING_H_

#include <catch2/catch.hpp>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace courier::testing {

// Counts of each string.
inline std::map<std::string, int> Counts(const std::vector<std::string>& all) {
  std::map<std::string, int> counts;
  for (const std::string& s : all) ++counts[s];
  return counts;
}

// The strings of `counts` that occur more than once, for a failure message.
inline std::string Repeated(const std::map<std::string, int>& counts) {
  std::string out;
  int shown = 0;
  for (const auto& [s, n] : counts) {
    if (n > 1 && shown++ < 10) out += " " + s + " (" + std::to_string(n) + "x)";
  }
  return out;
}

// `sent_bodies`: each body sent, once (a map keyed by body); `sent_count`: how many sends.
// `deleted`: the bodies deleted; `drained`: those received from the queue at the end, after
// every thread is done. Checks the queue's counts are 0 afterwards.
template <typename Queue, typename SentBodies>
void CheckAccounted(Queue& q, const SentBodies& sent_bodies, size_t sent_count,
                    const std::vector<std::string>& deleted,
                    const std::vector<std::string>& drained) {
  const std::map<std::string, int> deleted_counts = Counts(deleted);
  const std::map<std::string, int> drained_counts = Counts(drained);
  {
    INFO("deleted more than once:" << Repeated(deleted_counts));
    CHECK(deleted_counts.size() == deleted.size());
  }
  {
    INFO("drained more than once:" << Repeated(drained_counts));
    CHECK(drained_counts.size() == drained.size());
  }
  std::vector<std::string> lost, twice;
  for (const auto& [body, unused] : sent_bodies) {
    const bool del = deleted_counts.contains(body), left = drained_counts.contains(body);
    if (!del && !left) lost.push_back(body);
    if (del && left) twice.push_back(body);
  }
  for (const auto& [body, n] : drained_counts) {
    if (!sent_bodies.contains(body)) FAIL_CHECK("drained but never sent: " << body);
  }
  {
    INFO("lost: " << lost.size() << (lost.empty() ? "" : ", first " + lost.front()));
    CHECK(lost.empty());
  }
  {
    INFO("deleted and still in the queue: " << twice.size()
                                            << (twice.empty() ? "" : ", first " + twice.front()));
    CHECK(twice.empty());
  }
  CHECK(deleted.size() + drained.size() == sent_count);
  auto counts = q.GetQueueAttributes().value();
  CHECK(counts["ApproximateNumberOfMessages"] == "0");
  CHECK(counts["ApproximateNumberOfMessagesNotVisible"] == "0");
  CHECK(counts["ApproximateNumberOfMessagesDelayed"] == "0");
}

}  // namespace courier::testing

#endif  // COURIER_TESTS_QUEUE_MESSAGE_ACCOUNTING_H_
