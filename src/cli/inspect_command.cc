// `courier inspect FILE`: what a durable file holds, for a person who wants to look without
// writing code: its queues with their message counts, topics with their subscriptions, event
// buses with their rules, archives with their events, schedules, and state machines with their
// executions by status.
//
// The file's records rebuild a hub in memory (Hub::Recover), and the hub is asked, so the counts
// are the services' own. The file is never written: the records are copied out of it first, and
// the hub records into the copy. Nothing runs: the hub's executor is a manual one that no one
// runs, and its manual clock stands at the latest time the records name (or --at), so a message
// counts as in flight when its visibility had not run out by then.
#include <absl/strings/str_join.h>
#include <absl/time/time.h>
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.h"
#include "cli/durable_file.h"
#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/key_provider.h"
#include "courier/scheduler.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/sqs_queue.h"
#include "courier/state_machine.h"
#include "courier/status.h"
#include "courier/step_functions.h"

namespace courier::cli_internal {
namespace {

constexpr const char* kUsage =
    "usage: courier inspect FILE [--json] [--at TIME] [--keys KEYFILE]\n"
    "  Prints what the durable file FILE (courier invoke --storage, SqliteStorage) holds: queues\n"
    "  with their kind, ARN and messages (visible, in flight, delayed), topics with their\n"
    "  subscriptions, event buses with their rules, archives with their events, schedules, and\n"
    "  state machines with their executions by status. The counts are as of the latest time\n"
    "  the records name, or\n"
    "  TIME (RFC 3339, 2026-01-01T00:00:00Z). The file is not changed. KEYFILE: the KMS keys\n"
    "  of queues with a KmsMasterKeyId (a key file, as courier invoke --keys takes).\n";

struct Options {
  std::string file;
  bool json = false;
  std::optional<absl::Time> at;
  std::optional<std::string> keys;  // a key file, for queues encrypted under KMS keys
};

Options ParseOptions(const std::vector<std::string>& args) {
  Options o;
  bool have_file = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      o.json = true;
    } else if (a == "--at") {
      if (i + 1 == args.size()) throw std::runtime_error("--at needs a value");
      absl::Time t;
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full, args[++i], &t, &error)) {
        throw std::runtime_error("--at: " + error);
      }
      o.at = t;
    } else if (a == "--keys") {
      if (i + 1 == args.size()) throw std::runtime_error("--keys needs a value");
      o.keys = args[++i];
    } else if (a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a.starts_with("--") || have_file) {
      throw std::runtime_error("unexpected argument " + a + "\n" + kUsage);
    } else {
      o.file = a;
      have_file = true;
    }
  }
  if (!have_file) throw std::runtime_error(std::string("a FILE is needed\n") + kUsage);
  return o;
}

// Reads the file's logs as the services replay them, into memory, noting the latest time a
// record names. Appends go nowhere: the hub reading the file changes nothing in it.
class CopyingStorage final : public Storage {
 public:
  explicit CopyingStorage(std::shared_ptr<Storage> file) : file_(std::move(file)) {}
  bool durable() const override { return false; }
  bool keeps_records() const override { return true; }
  uint64_t Submit(std::string_view, std::span<const std::string>) override { return 0; }
  absl::Status Await(uint64_t, uint64_t) override { return absl::OkStatus(); }
  absl::Status Replay(std::string_view log,
                      absl::FunctionRef<void(std::string_view)> visit) override {
    return file_->Replay(log, [&](std::string_view record) {
      Note(record);
      const std::string copy(record);
      copy_->Append(log, std::span<const std::string>(&copy, 1)).IgnoreError();
      visit(record);
    });
  }
  std::shared_ptr<RecordingStorage> copy() const { return copy_; }
  std::optional<absl::Time> latest() const { return latest_; }

 private:
  // The records are JSON objects; these members are times at which something happened (a
  // queue created, a message sent or received, an execution's event), as opposed to deadlines
  // still to come (a visibility's end).
  void Note(std::string_view record) {
    absl::StatusOr<Json> parsed = ParseJson(record);
    if (!parsed.ok() || !parsed->is_object()) return;
    for (const char* key :
         {"created", "modified", "at", "sent", "enqueued", "received", "start", "stop"}) {
      const Json* v = parsed->get_object().if_contains(key);
      if (v == nullptr || !v->is_int64()) continue;
      const absl::Time t = absl::FromUnixNanos(v->get_int64());
      if (!latest_ || t > *latest_) latest_ = t;
    }
  }

  std::shared_ptr<Storage> file_;
  std::shared_ptr<RecordingStorage> copy_ = std::make_shared<RecordingStorage>();
  std::optional<absl::Time> latest_;
};

// A hub on a manual clock at `now` and an executor that is never run.
Environment StillEnvironment(absl::Time now, std::shared_ptr<Storage> storage,
                             std::shared_ptr<KeyProvider> keys) {
  Environment env;
  if (keys != nullptr) env.keys = std::move(keys);
  env.clock = std::make_shared<ManualClock>(now);
  env.executor = std::make_shared<ManualExecutor>();
  env.storage = std::move(storage);
  return env;
}

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

int64_t Count(const QueueAttributeMap& attributes, std::string_view name) {
  auto it = attributes.find(name);
  return it == attributes.end() ? 0 : std::stoll(it->second);
}

// What the file holds, as a JSON document (the text form is printed from it).
absl::StatusOr<Json> Inspect(const Options& o) {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<SqliteStorage> file,
                           OpenDurableFile(o.file, /*must_exist=*/true));
  std::shared_ptr<KeyProvider> keys;
  if (o.keys) {
    COURIER_ASSIGN_OR_RETURN(keys, LoadKeyFile(*o.keys));
  }
  // First pass: the records copied out and their latest time learnt, by recovering once.
  auto reader = std::make_shared<CopyingStorage>(file);
  {
    Hub first(StillEnvironment(ManualClock::DefaultStart(), reader, keys));
    COURIER_RETURN_IF_ERROR(first.Recover());
  }
  // `courier invoke`'s manual clock may have gone on past the last record.
  std::optional<absl::Time> latest = reader->latest();
  COURIER_ASSIGN_OR_RETURN(std::optional<absl::Time> clock, RecordedClock(*file));
  if (clock && (!latest || *clock > *latest)) latest = clock;
  file.reset();  // the file is free again as soon as it has been read
  const absl::Time now = o.at.value_or(latest.value_or(ManualClock::DefaultStart()));
  Hub hub(StillEnvironment(now, reader->copy(), keys));
  COURIER_RETURN_IF_ERROR(hub.Recover());

  JsonArray queues;
  SqsService& sqs = Sqs(hub);
  for (const std::string& url : sqs.ListQueues()) {
    COURIER_ASSIGN_OR_RETURN(std::shared_ptr<SqsQueue> q, sqs.GetAnyQueue(url));
    COURIER_ASSIGN_OR_RETURN(QueueAttributeMap a,
                             q->GetQueueAttributes({"ApproximateNumberOfMessages",
                                                    "ApproximateNumberOfMessagesNotVisible",
                                                    "ApproximateNumberOfMessagesDelayed"}));
    queues.push_back(JsonObject{
        {"name", q->name()},
        {"kind", q->is_fifo() ? "fifo" : "standard"},
        {"arn", q->arn()},
        {"url", url},
        {"messages", JsonObject{{"visible", Count(a, "ApproximateNumberOfMessages")},
                                {"in_flight", Count(a, "ApproximateNumberOfMessagesNotVisible")},
                                {"delayed", Count(a, "ApproximateNumberOfMessagesDelayed")}}}});
  }
  JsonArray topics;
  SnsService& sns = Sns(hub);
  for (const std::string& arn : sns.ListTopics()) {
    int64_t confirmed = 0, pending = 0;
    COURIER_ASSIGN_OR_RETURN(std::vector<SubscriptionSummary> subscriptions,
                             sns.ListSubscriptionsByTopic(arn));
    for (const SubscriptionSummary& s : subscriptions) {
      ++(s.subscription_arn == "PendingConfirmation" ? pending : confirmed);
    }
    topics.push_back(
        JsonObject{{"arn", arn},
                   {"subscriptions", JsonObject{{"confirmed", confirmed}, {"pending", pending}}}});
  }
  JsonArray buses;
  EventsService& events = Events(hub);
  for (const EventBusDescription& d : events.ListEventBuses()) {
    COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, events.GetEventBus(d.name));
    int64_t enabled = 0, disabled = 0;
    for (const RuleDescription& r : bus->ListRules())
      ++(r.state == "DISABLED" ? disabled : enabled);
    buses.push_back(
        JsonObject{{"name", d.name},
                   {"arn", d.arn},
                   {"rules", JsonObject{{"enabled", enabled}, {"disabled", disabled}}}});
  }
  JsonArray archives;
  for (const ArchiveDescription& a : events.ListArchives()) {
    archives.push_back(JsonObject{{"name", a.name},
                                  {"source", a.event_source_arn},
                                  {"events", a.event_count},
                                  {"bytes", a.size_bytes}});
  }
  JsonArray schedules;
  for (const ScheduleDescription& d : Scheduler(hub).ListSchedules()) {
    schedules.push_back(JsonObject{{"group", d.spec.group},
                                   {"name", d.name},
                                   {"expression", d.spec.expression},
                                   {"state", d.spec.state}});
  }
  JsonArray machines;
  for (const std::shared_ptr<StateMachine>& m : StepFunctions(hub).ListStateMachines()) {
    std::map<std::string, int64_t> by_status;
    for (const ExecutionDescription& e : m->ListExecutions()) {
      ++by_status[std::string(ExecutionStatusName(e.status))];
    }
    JsonObject executions;
    for (const auto& [status, n] : by_status) executions[status] = n;
    machines.push_back(
        JsonObject{{"name", m->name()},
                   {"type", m->type() == StateMachineType::kExpress ? "EXPRESS" : "STANDARD"},
                   {"arn", m->arn()},
                   {"executions", std::move(executions)}});
  }
  return JsonObject{{"file", o.file},
                    {"as_of", TimeText(now)},
                    {"queues", std::move(queues)},
                    {"topics", std::move(topics)},
                    {"event_buses", std::move(buses)},
                    {"archives", std::move(archives)},
                    {"schedules", std::move(schedules)},
                    {"state_machines", std::move(machines)}};
}

void PrintText(const Json& doc) {
  const JsonObject& o = doc.get_object();
  std::printf("%s, as of %s\n", o.at("file").get_string().c_str(),
              o.at("as_of").get_string().c_str());
  const JsonArray& queues = o.at("queues").get_array();
  std::printf("queues: %zu\n", queues.size());
  for (const Json& q : queues) {
    const JsonObject& m = q.at("messages").get_object();
    std::printf("  %s (%s) %s\n    messages: %lld visible, %lld in flight, %lld delayed\n",
                q.at("name").get_string().c_str(), q.at("kind").get_string().c_str(),
                q.at("arn").get_string().c_str(),
                static_cast<long long>(m.at("visible").to_number<int64_t>()),
                static_cast<long long>(m.at("in_flight").to_number<int64_t>()),
                static_cast<long long>(m.at("delayed").to_number<int64_t>()));
  }
  auto count = [](const Json& v, std::string_view key) {
    return static_cast<long long>(v.at(key).to_number<int64_t>());
  };
  const JsonArray& topics = o.at("topics").get_array();
  std::printf("topics: %zu\n", topics.size());
  for (const Json& t : topics) {
    const Json& s = t.at("subscriptions");
    std::printf("  %s\n    subscriptions: %lld confirmed, %lld pending\n",
                t.at("arn").get_string().c_str(), count(s, "confirmed"), count(s, "pending"));
  }
  const JsonArray& buses = o.at("event_buses").get_array();
  std::printf("event buses: %zu\n", buses.size());
  for (const Json& b : buses) {
    const Json& r = b.at("rules");
    std::printf("  %s %s\n    rules: %lld enabled, %lld disabled\n",
                b.at("name").get_string().c_str(), b.at("arn").get_string().c_str(),
                count(r, "enabled"), count(r, "disabled"));
  }
  const JsonArray& archives = o.at("archives").get_array();
  std::printf("archives: %zu\n", archives.size());
  for (const Json& a : archives) {
    std::printf("  %s of %s\n    events: %lld (%lld bytes)\n", a.at("name").get_string().c_str(),
                a.at("source").get_string().c_str(), count(a, "events"), count(a, "bytes"));
  }
  const JsonArray& schedules = o.at("schedules").get_array();
  std::printf("schedules: %zu\n", schedules.size());
  for (const Json& s : schedules) {
    std::printf("  %s/%s %s %s\n", s.at("group").get_string().c_str(),
                s.at("name").get_string().c_str(), s.at("expression").get_string().c_str(),
                s.at("state").get_string().c_str());
  }
  const JsonArray& machines = o.at("state_machines").get_array();
  std::printf("state machines: %zu\n", machines.size());
  for (const Json& m : machines) {
    std::vector<std::string> counts;
    for (const auto& [status, n] : m.at("executions").get_object()) {
      counts.push_back(fmt::format("{} {}", n.to_number<int64_t>(), std::string_view(status)));
    }
    std::printf("  %s (%s) %s\n    executions: %s\n", m.at("name").get_string().c_str(),
                m.at("type").get_string().c_str(), m.at("arn").get_string().c_str(),
                counts.empty() ? "none" : absl::StrJoin(counts, ", ").c_str());
  }
}

int RunInspect(const std::vector<std::string>& args) {
  const Options options = ParseOptions(args);
  absl::StatusOr<Json> doc = Inspect(options);
  if (!doc.ok()) {
    std::fprintf(stderr, "courier inspect: %s\n", std::string(doc.status().message()).c_str());
    return 1;
  }
  if (options.json) {
    std::printf("%s\n", ToJsonText(*doc).c_str());
  } else {
    PrintText(*doc);
  }
  return 0;
}

}  // namespace

COURIER_CLI_COMMAND("inspect",
                    "what a durable file holds: queues, topics, buses, schedules, executions",
                    RunInspect);

}  // namespace courier::cli_internal
