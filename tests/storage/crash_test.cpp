// The crash test of durable storage (issue 15): a child process sends, receives, deletes and
// changes visibility on standard and FIFO queues over a SqliteStorage file (some of one queue's
// messages published to a topic it is subscribed to), and reports on a pipe
// each operation before it starts ("I", its intent) and after it returned OK ("A", acknowledged).
// The parent kills it with SIGKILL after a seeded random number of acknowledgements, many times
// on the same file. After each kill the parent, never the child, opens a copy of what the crash
// left (a fresh hub on SqliteStorage, Recover) and checks, against every line it read (a copy, so
// that the check's own receives and deletes do not reach the next round):
//   - every acknowledged send is there exactly once, or its delete was acknowledged;
//   - no acknowledged delete comes back, and nothing comes that no one sent;
//   - a message acknowledged in flight is not visible, and its receipt handle still deletes it;
//   - FIFO order holds within each message group;
//   - a re-send with an acknowledged deduplication id inside the 5-minute window is deduplicated
//     (the original's MessageId, nothing stored), also when the first send was before a crash.
// The one operation under way at the kill may or may not have happened; the check learns which
// from the copy and holds that from then on.
//
// Everything runs on manual clocks: the child's moves a few hundred milliseconds per operation,
// each round starting after the latest time the previous one reached. COURIER_CRASH_ROUNDS
// (default 20) and COURIER_CRASH_SEED (printed) make a long run or repeat one.
#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "courier/environment.h"
#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqlite_storage.h"
#include "courier/sqs.h"
#include "courier/sqs_queue.h"
#include "courier/status.h"
#include "courier/topic.h"

namespace courier {
namespace {

namespace fs = std::filesystem;

constexpr const char* kQueues[] = {"s0", "s1", "s2", "f0.fifo", "f1.fifo"};
constexpr int kQueueCount = 5;
constexpr int kGroups = 4;
constexpr int kTopicQueue = 2;  // s2, subscribed to the topic "news"
constexpr absl::Duration kDedupWindow = absl::Minutes(5);

bool IsFifo(int q) { return q >= 3; }

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

// ---- The child: works until it is killed, and says so on the pipe. No Catch2 here. ----------

class Child {
 public:
  Child(int fd, uint64_t seed, int round) : fd_(fd), rng_(seed), round_(round) {}

  [[noreturn]] void Run(const std::string& file, absl::Time start) {
    clock_ = std::make_shared<ManualClock>(start);
    Environment env = Environment::Deterministic(clock_);
    absl::StatusOr<std::shared_ptr<SqliteStorage>> storage = SqliteStorage::Open(file);
    if (!storage.ok()) Die(storage.status());
    env.storage = *storage;
    Hub hub(env);
    if (absl::Status s = hub.Recover(); !s.ok()) Die(s);
    for (int q = 0; q < kQueueCount; ++q) queues_[q] = Queue(hub, q);
    // Some of s2's messages come through a topic (raw delivery), which the records also keep.
    auto topic = Sns(hub).CreateTopic("news", {}, {});
    if (!topic.ok()) Die(topic.status());
    topic_ = *topic;
    if (auto s = Sns(hub).Subscribe(topic_->arn(), "sqs", queues_[kTopicQueue]->arn(),
                                    {{"RawMessageDelivery", "true"}});
        !s.ok()) {
      Die(s.status());
    }
    for (int i = 0;; ++i) Step(i);
  }

 private:
  struct Held {
    int q;
    std::string body;
    ReceiptHandle handle;
    absl::Time until;
  };
  struct Sent {
    int q;
    std::string group, dedup;
    absl::Time at;
  };

  std::shared_ptr<SqsQueue> Queue(Hub& hub, int q) {
    if (auto found = Sqs(hub).GetAnyQueue(kQueues[q]); found.ok()) return *found;
    const QueueAttributes attributes{.message_retention_period = absl::Hours(24 * 14)};
    if (IsFifo(q)) {
      auto made = Sqs(hub).CreateFifoQueue(kQueues[q], attributes);
      if (!made.ok()) Die(made.status());
      return *made;
    }
    auto made = Sqs(hub).CreateQueue(kQueues[q], attributes);
    if (!made.ok()) Die(made.status());
    return *made;
  }

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  void Step(int i) {
    clock_->Advance(absl::Milliseconds(Pick(800)));
    const absl::Time now = clock_->Now();
    std::erase_if(held_, [&](const Held& h) { return h.until <= now; });
    const int dice = Pick(100);
    if (dice < 35) {
      Send(i, now);
    } else if (dice < 60 || held_.empty()) {
      Receive(now);
    } else if (dice < 85) {
      Delete(now);
    } else {
      ChangeVisibility(now);
    }
  }

  void Send(int i, absl::Time now) {
    const int q = Pick(kQueueCount);
    SendMessageRequest request{.body = absl::StrCat("r", round_, "-", i)};
    std::string group = "-", dedup = "-";
    if (IsFifo(q)) {
      // One send in five repeats a deduplication id of this run still inside its window.
      std::erase_if(sent_, [&](const Sent& s) { return now - s.at >= absl::Minutes(4); });
      const Sent* again = nullptr;
      for (const Sent& s : sent_) {
        if (s.q == q) again = &s;
      }
      if (again != nullptr && Pick(5) == 0) {
        group = again->group;
        dedup = again->dedup;
      } else {
        group = absl::StrCat("g", Pick(kGroups));
        dedup = absl::StrCat("d", round_, "-", i);
      }
      request.message_group_id = group;
      request.message_deduplication_id = dedup;
    } else if (q == kTopicQueue && Pick(3) == 0) {
      Publish(request.body, now);
      return;
    } else if (Pick(4) == 0) {
      request.delay = absl::Seconds(Pick(4));
    }
    Say("I", now, {"send", kQueues[q], request.body, group, dedup});
    absl::StatusOr<SendMessageResult> r = queues_[q]->SendMessage(request);
    if (!r.ok()) Die(r.status());
    Say("A", now, {"send", kQueues[q], request.body, r->message_id.str()});
    if (IsFifo(q)) sent_.push_back({q, group, dedup, now});
  }

  // A send to s2 by way of the topic: acknowledged when Publish returns, by which time the
  // topic has delivered it to the queue.
  void Publish(const std::string& body, absl::Time now) {
    Say("I", now, {"send", kQueues[kTopicQueue], body, "-", "-"});
    absl::StatusOr<PublishResult> r = topic_->Publish({.message = body});
    if (!r.ok()) Die(r.status());
    Say("A", now, {"send", kQueues[kTopicQueue], body, r->message_id.str()});
  }

  void Receive(absl::Time now) {
    const int q = Pick(kQueueCount);
    const absl::Duration visibility = absl::Seconds(1 + Pick(60));
    Say("I", now, {"recv", kQueues[q]});
    absl::StatusOr<std::vector<Message>> got = queues_[q]->ReceiveMessage(
        {.max_number_of_messages = 1 + Pick(10),
         .wait_time = absl::ZeroDuration(),  // a manual clock that no one moves: never block
         .visibility_timeout = visibility});
    if (!got.ok()) Die(got.status());
    const absl::Time until = now + visibility;
    std::vector<std::string> words = {"recv", kQueues[q], std::to_string(absl::ToUnixNanos(until))};
    for (const Message& m : *got) {
      words.push_back(m.message_id.str());
      words.push_back(m.body);
      words.emplace_back(m.receipt_handle.value());
      held_.push_back({q, m.body, m.receipt_handle, until});
    }
    Say("A", now, words);
  }

  void Delete(absl::Time now) {
    const size_t k = static_cast<size_t>(Pick(static_cast<int>(held_.size())));
    const Held h = held_[k];
    held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(k));
    Say("I", now, {"del", kQueues[h.q], h.body});
    if (absl::Status s = queues_[h.q]->DeleteMessage(h.handle); !s.ok()) Die(s);
    Say("A", now, {"del", kQueues[h.q], h.body});
  }

  void ChangeVisibility(absl::Time now) {
    Held& h = held_[static_cast<size_t>(Pick(static_cast<int>(held_.size())))];
    const absl::Duration timeout = absl::Seconds(Pick(61));
    const std::string until = std::to_string(absl::ToUnixNanos(now + timeout));
    Say("I", now, {"cmv", kQueues[h.q], h.body, until});
    if (absl::Status s = queues_[h.q]->ChangeMessageVisibility(h.handle, timeout); !s.ok()) Die(s);
    Say("A", now, {"cmv", kQueues[h.q], h.body, until});
    h.until = now + timeout;  // at zero, dropped at the next step
  }

  // One line, "KIND NANOS WORD...", in one write: the parent reads whole lines only.
  void Say(const std::string& kind, absl::Time now, const std::vector<std::string>& words) {
    std::string line = absl::StrCat(kind, " ", absl::ToUnixNanos(now));
    for (const std::string& w : words) absl::StrAppend(&line, " ", w);
    line += '\n';
    for (size_t done = 0; done < line.size();) {
      const ssize_t n = write(fd_, line.data() + done, line.size() - done);
      if (n <= 0) _exit(4);
      done += static_cast<size_t>(n);
    }
  }

  [[noreturn]] void Die(const absl::Status& status) {
    Say("E", clock_ ? clock_->Now() : absl::UnixEpoch(), {std::string(status.message())});
    _exit(3);
  }

  int fd_;
  std::mt19937_64 rng_;
  int round_;
  std::shared_ptr<ManualClock> clock_;
  std::shared_ptr<SqsQueue> queues_[kQueueCount];
  std::shared_ptr<Topic> topic_;
  std::vector<Held> held_;
  std::vector<Sent> sent_;
};

// ---- The parent's model of what was acknowledged ----------------------------------------------

class Model {
 public:
  enum class State { kMaybeSent, kSent, kNever, kMaybeDeleted, kDeleted };
  struct Known {
    std::string queue, group, dedup, id;
    uint64_t order = 0;  // the send order
    State state = State::kMaybeSent;
    std::optional<std::string> handle;  // of its latest acknowledged receive
    absl::Time until;                   // the acknowledged end of its visibility
  };
  struct Dedup {
    std::string id, group;
    absl::Time first;
  };

  // Takes one line from the child.
  void Line(const std::string& text) {
    std::vector<std::string> w = absl::StrSplit(text, ' ');
    if (w.size() < 3) return Violation(absl::StrCat("a line cut short: ", text));
    const absl::Time t = absl::FromUnixNanos(std::stoll(w[1]));
    latest_ = std::max(latest_, t);
    if (w[0] == "E") return Violation(absl::StrCat("the child failed: ", text));
    if (w[0] == "I") {
      pending_ = w;
      if (w[2] == "send" && !known_.contains(w[4])) {
        known_[w[4]] = {.queue = w[3],
                        .group = w[5] == "-" ? "" : w[5],
                        .dedup = w[6] == "-" ? "" : w[6],
                        .order = ++sends_};
      }
      return;
    }
    pending_.reset();
    ++acks_;
    if (w[2] == "send") return AckSend(t, w);
    if (w[2] == "recv") return AckReceive(w);
    Known* k = Find(w[4]);
    if (k == nullptr) return;
    if (w[2] == "del") {
      k->state = State::kDeleted;
      k->handle.reset();
    } else if (w[2] == "cmv") {
      k->until = absl::FromUnixNanos(std::stoll(w[5]));
    }
  }

  // The child is dead: the operation it had begun may or may not have happened.
  void Killed() {
    if (!pending_) return;
    const std::vector<std::string>& w = *pending_;
    if ((w[2] == "del" || w[2] == "cmv") && known_.contains(w[4])) {
      Known& k = known_[w[4]];
      if (w[2] == "del" && k.state == State::kSent) k.state = State::kMaybeDeleted;
      k.handle.reset();  // its visibility is no longer known
    }
    pending_.reset();
  }

  std::map<std::string, Known>& known() { return known_; }
  const std::map<std::pair<std::string, std::string>, Dedup>& dedups() const { return dedups_; }
  absl::Time latest() const { return latest_; }
  int64_t acks() const { return acks_; }
  std::vector<std::string>& violations() { return violations_; }
  // What the checks covered, for the summary.
  struct Covered {
    int64_t stored = 0, dedups = 0, handles = 0, doubts = 0;
  } covered;
  void Violation(std::string what) { violations_.push_back(std::move(what)); }

 private:
  Known* Find(const std::string& body) {
    auto it = known_.find(body);
    if (it != known_.end()) return &it->second;
    Violation(absl::StrCat("an acknowledgement names a message never sent: ", body));
    return nullptr;
  }

  void AckSend(absl::Time t, const std::vector<std::string>& w) {
    Known* k = Find(w[4]);
    if (k == nullptr) return;
    k->id = w[5];
    const std::string& dedup = k->dedup;
    if (dedup.empty()) {
      k->state = State::kSent;
      return;
    }
    auto [it, fresh] = dedups_.try_emplace({w[3], dedup}, Dedup{w[5], k->group, t});
    if (fresh) {
      k->state = State::kSent;
    } else if (t - it->second.first < kDedupWindow) {
      k->state = State::kNever;  // deduplicated: this body is never stored
      if (w[5] != it->second.id) {
        Violation(absl::StrCat("a re-send of ", dedup, " was not deduplicated: ", w[5], ", first ",
                               it->second.id));
      }
    } else {
      it->second = Dedup{w[5], k->group, t};  // a new window
      k->state = State::kSent;
    }
  }

  void AckReceive(const std::vector<std::string>& w) {
    const absl::Time until = absl::FromUnixNanos(std::stoll(w[4]));
    for (size_t i = 5; i + 2 < w.size(); i += 3) {
      Known* k = Find(w[i + 1]);
      if (k == nullptr) continue;
      if (k->queue != w[3]) Violation(absl::StrCat(w[i + 1], " received from ", w[3]));
      if (k->state == State::kDeleted || k->state == State::kNever) {
        Violation(absl::StrCat("received ", w[i + 1], ", deleted or deduplicated before"));
      }
      k->state = State::kSent;  // it is there
      k->id = w[i];
      k->handle = w[i + 2];
      k->until = until;
    }
  }

  std::map<std::string, Known> known_;                           // by body (unique)
  std::map<std::pair<std::string, std::string>, Dedup> dedups_;  // by queue and id
  std::optional<std::vector<std::string>> pending_;              // an intent not yet acknowledged
  uint64_t sends_ = 0;
  int64_t acks_ = 0;
  absl::Time latest_ = absl::InfinitePast();
  std::vector<std::string> violations_;
};

// ---- The parent's check of a copy of the file -------------------------------------------------

void Check(const std::string& copy, Model& model) {
  const absl::Time now = model.latest();
  auto clock = std::make_shared<ManualClock>(now);
  Environment env = Environment::Deterministic(clock);
  // The check's own changes need not be durable (the copy is thrown away).
  absl::StatusOr<std::shared_ptr<SqliteStorage>> storage =
      SqliteStorage::Open(copy, {.commit_interval = absl::Hours(1)});
  if (!storage.ok())
    return model.Violation(absl::StrCat("reopening: ", storage.status().message()));
  env.storage = *storage;
  Hub hub(env);
  if (absl::Status s = hub.Recover(); !s.ok()) {
    return model.Violation(absl::StrCat("recovering: ", s.message()));
  }
  std::map<std::string, std::shared_ptr<SqsQueue>> queues;
  for (const char* name : kQueues) {
    if (auto q = Sqs(hub).GetAnyQueue(name); q.ok()) queues[name] = *q;
  }
  // Deduplication ids still inside their window.
  int n = 0;
  for (const auto& [key, d] : model.dedups()) {
    if (now - d.first >= kDedupWindow - absl::Seconds(1)) continue;
    auto q = queues.find(key.first);
    if (q == queues.end()) {
      model.Violation(absl::StrCat("queue ", key.first, " is gone"));
      continue;
    }
    auto r = q->second->SendMessage({.body = absl::StrCat("dedup-check-", n++),
                                     .message_group_id = d.group,
                                     .message_deduplication_id = key.second});
    ++model.covered.dedups;
    if (!r.ok() || r->message_id != d.id) {
      model.Violation(absl::StrCat("a re-send of ", key.second, " after the crash was not ",
                                   "deduplicated: ", r.ok() ? r->message_id.str() : "error"));
    }
  }
  // What is visible now must not be what was acknowledged in flight.
  for (auto& [name, q] : queues) {
    for (;;) {
      auto got = q->ReceiveMessage({.max_number_of_messages = 10,
                                    .wait_time = absl::ZeroDuration(),
                                    .visibility_timeout = absl::Minutes(10)});
      if (!got.ok() || got->empty()) break;
      for (const Message& m : *got) {
        auto k = model.known().find(m.body);
        if (k != model.known().end() && k->second.handle && k->second.until > now) {
          model.Violation(absl::StrCat(m.body, " was in flight, but is visible after the crash"));
        }
      }
    }
  }
  // An acknowledged receipt handle whose visibility has not run out still deletes its message.
  std::set<std::string> deleted_here;
  for (auto& [body, k] : model.known()) {
    if (k.state != Model::State::kSent || !k.handle || k.until <= now) continue;
    if (!queues.contains(k.queue)) continue;
    if (absl::Status s = queues[k.queue]->DeleteMessage(ReceiptHandle(*k.handle)); !s.ok()) {
      model.Violation(absl::StrCat("the handle of ", body, " stopped working: ", s.message()));
    }
    deleted_here.insert(body);
    ++model.covered.handles;
  }
  // Everything, in order: an hour on, no visibility or delay is left.
  clock->Advance(absl::Hours(1));
  std::map<std::string, int> seen;
  std::map<std::pair<std::string, std::string>, uint64_t> last_order;  // by queue and group
  for (auto& [name, q] : queues) {
    for (;;) {
      auto got = q->ReceiveMessage({.max_number_of_messages = 10,
                                    .wait_time = absl::ZeroDuration(),
                                    .visibility_timeout = absl::Hours(12)});
      if (!got.ok() || got->empty()) break;
      for (const Message& m : *got) {
        if (q->is_fifo()) (void)q->DeleteMessage(m.receipt_handle);  // the group's next one
        ++seen[m.body];
        ++model.covered.stored;
        auto it = model.known().find(m.body);
        if (it == model.known().end()) {
          model.Violation(
              absl::StrCat(m.body, " is stored, but no one sent it (a deduplicated ", "re-send?)"));
          continue;
        }
        Model::Known& k = it->second;
        if (k.queue != name) model.Violation(absl::StrCat(m.body, " is in ", name));
        if (k.state == Model::State::kDeleted) {
          model.Violation(absl::StrCat(m.body, ": an acknowledged delete came back"));
        }
        if (k.state == Model::State::kNever) {
          model.Violation(absl::StrCat(m.body, ": a deduplicated or lost send came back"));
        }
        if (deleted_here.contains(m.body)) {
          model.Violation(absl::StrCat(m.body, ": deleted by its old handle, yet still there"));
        }
        if (q->is_fifo()) {
          uint64_t& last = last_order[{name, k.group}];
          if (k.order < last) {
            model.Violation(absl::StrCat(m.body, " came after a later send of group ", k.group));
          }
          last = std::max(last, k.order);
        }
      }
    }
  }
  // What was acknowledged is there once; what was in doubt is now known.
  for (auto& [body, k] : model.known()) {
    const int times = seen.contains(body) ? seen[body] : 0;
    if (times > 1) model.Violation(absl::StrCat(body, " is stored ", times, " times"));
    if (deleted_here.contains(body)) continue;
    switch (k.state) {
      case Model::State::kSent:
        if (times == 0) model.Violation(absl::StrCat("an acknowledged send is lost: ", body));
        break;
      case Model::State::kMaybeSent:
        ++model.covered.doubts;
        k.state = times > 0 ? Model::State::kSent : Model::State::kNever;
        break;
      case Model::State::kMaybeDeleted:
        ++model.covered.doubts;
        k.state = times > 0 ? Model::State::kSent : Model::State::kDeleted;
        break;
      default:
        break;
    }
  }
}

// A fresh directory for the files, removed afterwards.
struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "courier-crash-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

// The thread count of this process: fork is safe only from a single-threaded one.
size_t Threads() {
  return static_cast<size_t>(std::distance(fs::directory_iterator("/proc/self/task"), {}));
}

TEST_CASE("Nothing acknowledged is lost when the process is killed at random moments",
          "[storage][crash]") {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer runs a thread of its own (the fork below must come from a process of one
  // thread) and stops a forked child that starts threads (the storage's writer). The test runs
  // in the other builds, AddressSanitizer's included.
  WARN("the crash test does not run under ThreadSanitizer");
  return;
#endif
  const int rounds = EnvInt("COURIER_CRASH_ROUNDS", 20);
  const uint64_t seed = std::getenv("COURIER_CRASH_SEED") != nullptr
                            ? std::strtoull(std::getenv("COURIER_CRASH_SEED"), nullptr, 10)
                            : std::random_device()();
  std::printf("crash test: COURIER_CRASH_SEED=%llu COURIER_CRASH_ROUNDS=%d\n",
              static_cast<unsigned long long>(seed), rounds);
  std::fflush(stdout);
  INFO("COURIER_CRASH_SEED=" << seed);
  std::mt19937_64 rng(seed);
  const TempDir dir;
  const std::string file = (dir.path / "hub.db").string(), copy = (dir.path / "copy.db").string();
  Model model;
  absl::Time start = ManualClock::DefaultStart();
  for (int round = 0; round < rounds; ++round) {
    INFO("round " << round);
    // fork is safe from a process with one thread: the child opens the storage (and so starts
    // its writer thread) itself, after the fork, and never returns into Catch2 (it is killed, or
    // calls _exit). The parent opens the file only once the child is dead.
    REQUIRE(Threads() == 1);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const uint64_t child_seed = rng();
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      Child(fds[1], child_seed, round).Run(file, start);
    }
    close(fds[1]);
    // Kill after this many acknowledgements have been read (the child may be further on).
    const int64_t kill_after = model.acks() + 1 + static_cast<int64_t>(rng() % 40);
    bool killed = false;
    std::string buffer;
    char chunk[4096];
    for (ssize_t n; (n = read(fds[0], chunk, sizeof chunk)) != 0;) {
      if (n < 0) {
        REQUIRE(errno == EINTR);
        continue;
      }
      buffer.append(chunk, static_cast<size_t>(n));
      for (size_t end; (end = buffer.find('\n')) != std::string::npos;) {
        const std::string line = buffer.substr(0, end);
        buffer.erase(0, end + 1);
        model.Line(line);
      }
      if (!killed && (model.acks() >= kill_after || !model.violations().empty())) {
        kill(pid, SIGKILL);
        killed = true;
      }
    }
    close(fds[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGKILL);
    model.Killed();
    // A copy of exactly what the crash left: the database and its write-ahead log.
    for (const char* suffix : {"", "-wal", "-shm"}) {
      fs::remove(copy + suffix);
      if (fs::exists(file + suffix)) fs::copy_file(file + suffix, copy + suffix);
    }
    Check(copy, model);
    std::vector<std::string>& v = model.violations();
    if (!v.empty()) {
      for (size_t i = 0; i < v.size() && i < 20; ++i) UNSCOPED_INFO(v[i]);
      FAIL(v.size() << " violations after " << model.acks() << " acknowledged operations");
    }
    start = model.latest() + absl::Seconds(1);  // later than anything the file holds
  }
  const Model::Covered& c = model.covered;
  std::printf(
      "crash test: %lld acknowledged operations in %d rounds; checked %lld stored messages, %lld "
      "deduplication ids, %lld receipt handles, %lld operations in doubt at a kill\n",
      static_cast<long long>(model.acks()), rounds, static_cast<long long>(c.stored),
      static_cast<long long>(c.dedups), static_cast<long long>(c.handles),
      static_cast<long long>(c.doubts));
  CHECK(model.acks() >= rounds);
}

}  // namespace
}  // namespace courier
