// `courier invoke`: services' operation tables (courier::Invoke) from JSON lines, one hub for
// the whole run. Every service linked into the program answers; the command names none. With
// --storage FILE the hub is durable (SqliteStorage): it recovers what FILE holds first, and a
// manual clock starts where the last run on FILE left it.
#include <absl/time/time.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.h"
#include "cli/durable_file.h"
#include "courier/hub.h"
#include "courier/key_provider.h"
#include "courier/service.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier::cli_internal {
namespace {

constexpr const char* kUsage =
    "usage: courier invoke [FILE] [--clock manual|system] [--account ID] [--region REGION]\n"
    "                      [--storage DB] [--keys KEYFILE]\n"
    "  Reads JSON lines from FILE (or stdin) and writes one JSON line for each:\n"
    "    {\"service\":\"sqs\",\"operation\":\"SendMessage\",\"request\":{...}}\n"
    "      -> {\"response\":{...}} or "
    "{\"error\":{\"code\":\"QueueDoesNotExist\",\"message\":...}}\n"
    "    {\"clock\":{\"advance_seconds\":30}}  (manual clock only) -> "
    "{\"response\":{\"now\":...}}\n"
    "  Blank lines are skipped; other members of a line are ignored.\n"
    "  --storage DB: a durable hub on the SQLite file DB (created if missing), recovered from\n"
    "  it first; the manual clock goes on from the time the last run on DB left it at.\n"
    "  --keys KEYFILE: the KMS keys of queues with a KmsMasterKeyId, from a key file\n"
    "  (courier/key_provider.h: lines 'key <uuid> <64 hex digits>', 'alias alias/<name> "
    "<uuid>').\n";

struct Options {
  std::optional<std::string> file;
  bool manual_clock = true;
  std::string account = "000000000000";
  std::string region = "us-east-1";
  std::optional<std::string> storage;
  std::optional<std::string> keys;
};

// Throws on a bad flag (main turns that into exit code 2).
Options ParseOptions(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 == args.size()) throw std::runtime_error(a + " needs a value");
      return args[++i];
    };
    if (a == "--clock") {
      const std::string clock = value();
      if (clock != "manual" && clock != "system") throw std::runtime_error("--clock manual|system");
      o.manual_clock = clock == "manual";
    } else if (a == "--account") {
      o.account = value();
    } else if (a == "--region") {
      o.region = value();
    } else if (a == "--storage") {
      o.storage = value();
    } else if (a == "--keys") {
      o.keys = value();
    } else if (a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a.starts_with("--") || o.file) {
      throw std::runtime_error("unexpected argument " + a + "\n" + kUsage);
    } else {
      o.file = a;
    }
  }
  return o;
}

Json ErrorLine(std::string_view code, std::string_view message) {
  return JsonObject{{"error", JsonObject{{"code", code}, {"message", message}}}};
}

Json ErrorLine(const absl::Status& status) {
  // A status not made by AwsError (none should reach here) keeps its whole message.
  const std::string_view code = ErrorName(status);
  if (code.empty()) return ErrorLine("InternalFailure", std::string(status.message()));
  return ErrorLine(code, ErrorMessage(status));
}

// One run: the hub, and the simulation that drives its clock when the clock is manual.
class Session {
 public:
  // Opens and recovers the durable file, if any; its errors are the storage's and the
  // recovery's (StorageLocked, StorageCorrupt, ...).
  absl::Status Start(const Options& o) {
    std::shared_ptr<SqliteStorage> storage;
    std::optional<absl::Time> resume;
    if (o.storage) {
      COURIER_ASSIGN_OR_RETURN(storage, OpenDurableFile(*o.storage, /*must_exist=*/false));
      COURIER_ASSIGN_OR_RETURN(resume, RecordedClock(*storage));
    }
    Environment env;
    if (o.manual_clock) {
      sim_ = std::make_unique<testing::Simulation>(resume.value_or(ManualClock::DefaultStart()));
      env = sim_->environment();
    } else {
      env = Environment::Default();
    }
    env.account = o.account;
    env.region = o.region;
    if (o.keys) {
      COURIER_ASSIGN_OR_RETURN(env.keys, LoadKeyFile(*o.keys, o.region, o.account));
    }
    if (storage) env.storage = storage;
    storage_ = storage;
    if (sim_) kept_ = sim_->Now();
    hub_ = std::make_unique<Hub>(std::move(env));
    if (storage) {
      COURIER_RETURN_IF_ERROR(hub_->Recover());
      if (sim_) sim_->RunFor(absl::ZeroDuration());  // what recovery resumed, as after a line
    }
    return absl::OkStatus();
  }

  // The output line for one input line.
  Json Line(std::string_view text) {
    auto parsed = ParseJson(text);
    if (!parsed.ok())
      return ErrorLine("SerializationException", std::string(parsed.status().message()));
    const JsonObject* line = parsed->if_object();
    if (line == nullptr) return ErrorLine("SerializationException", "A line must be an object.");
    if (const Json* clock = line->if_contains("clock")) return Step(*clock);
    const Json* service = line->if_contains("service");
    const Json* operation = line->if_contains("operation");
    if (service == nullptr || !service->is_string() || operation == nullptr ||
        !operation->is_string()) {
      return ErrorLine("SerializationException",
                       "A line needs \"service\" and \"operation\" strings, or \"clock\".");
    }
    const Json* request = line->if_contains("request");
    auto result = Invoke(*hub_, service->get_string(), operation->get_string(),
                         request ? *request : Json(JsonObject()));
    // Work the call posted (timers due now, executor tasks) runs before the next line.
    if (sim_) sim_->RunFor(absl::ZeroDuration());
    if (absl::Status kept = KeepClock(); !kept.ok()) return ErrorLine(kept);
    if (!result.ok()) return ErrorLine(result.status());
    return JsonObject{{"response", *std::move(result)}};
  }

 private:
  Json Step(const Json& clock) {
    if (!sim_) return ErrorLine("UnsupportedOperation", "Clock steps need --clock manual.");
    const JsonObject* o = clock.if_object();
    const Json* seconds = o ? o->if_contains("advance_seconds") : nullptr;
    if (seconds == nullptr || !seconds->is_number() || seconds->to_number<double>() < 0) {
      return ErrorLine("SerializationException",
                       "A clock step is {\"clock\":{\"advance_seconds\":N}} with N >= 0.");
    }
    sim_->RunFor(absl::Seconds(seconds->to_number<double>()));
    if (absl::Status kept = KeepClock(); !kept.ok()) return ErrorLine(kept);
    return JsonObject{
        {"response", JsonObject{{"now", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", sim_->Now(),
                                                         absl::UTCTimeZone())}}}};
  }

  // Records the manual clock's time in the durable file when it moved (a clock step, or a long
  // poll that the simulation ran on), so that the next run on the file starts there and not
  // before the records made meanwhile.
  absl::Status KeepClock() {
    if (!storage_ || !sim_ || sim_->Now() == kept_) return absl::OkStatus();
    kept_ = sim_->Now();
    return RecordClock(*storage_, kept_);
  }

  std::unique_ptr<testing::Simulation> sim_;
  std::shared_ptr<SqliteStorage> storage_;  // null without --storage
  absl::Time kept_;                         // the clock's time the file holds
  std::unique_ptr<Hub> hub_;
};

bool Blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

int RunInvoke(const std::vector<std::string>& args) {
  const Options options = ParseOptions(args);
  std::ifstream file;
  if (options.file && *options.file != "-") {
    file.open(*options.file);
    if (!file) throw std::runtime_error("cannot read " + *options.file);
  }
  std::istream& in = file.is_open() ? file : std::cin;
  Session session;
  if (absl::Status s = session.Start(options); !s.ok()) {
    std::fprintf(stderr, "courier invoke: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  for (std::string line; std::getline(in, line);) {
    if (Blank(line)) continue;
    const std::string out = ToJsonText(session.Line(line)) + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);  // a line at a time: a script may wait for each answer
  }
  return 0;
}

}  // namespace

COURIER_CLI_COMMAND("invoke", "JSON lines of AWS operations (sqs, ...) against one hub", RunInvoke);

}  // namespace courier::cli_internal
