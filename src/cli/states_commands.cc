// `courier run`, `courier validate`, `courier render`: state machines from the command line.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/command.h"
#include "courier/asl_validation.h"
#include "courier/state_machine.h"
#include "courier/step_functions.h"
#include "courier/testing/case_handlers.h"
#include "courier/testing/simulation.h"

namespace courier::cli_internal {
namespace {

// A path to read, or (when no such file exists) the text itself; "@FILE" also reads FILE.
std::string FileOrText(const std::string& arg) {
  if (!arg.empty() && arg[0] == '@') return TextOrFile(arg);
  std::error_code ec;
  if (std::filesystem::is_regular_file(arg, ec)) return TextOrFile("@" + arg);
  return arg;
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  bool Has(const std::string& k) const { return options.contains(k); }
  std::string Get(const std::string& k, std::string fallback = {}) const {
    auto it = options.find(k);
    return it == options.end() ? fallback : it->second;
  }
};

Args Parse(const std::vector<std::string>& argv, const std::vector<std::string>& flags) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s.starts_with("--")) {
      std::string key = s.substr(2);
      if (size_t eq = key.find('='); eq != std::string::npos) {
        a.options[key.substr(0, eq)] = key.substr(eq + 1);
      } else if (std::find(flags.begin(), flags.end(), key) != flags.end() ||
                 i + 1 == argv.size()) {
        a.options[key] = "";
      } else {
        a.options[key] = argv[++i];
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

Json ParseOr(const std::string& text, const char* what) {
  auto v = ParseJson(text);
  if (!v.ok()) throw std::runtime_error(std::string("invalid JSON in ") + what);
  return *v;
}

// The fixed context object of --context (a case.json's "context" member is accepted too).
Json ReadContext(const Args& args) {
  Json ctx = ParseOr(FileOrText(args.Get("context")), "--context");
  if (ctx.is_object() && ctx.get_object().contains("description")) {
    const Json* inner = ctx.get_object().if_contains("context");
    return inner ? *inner : Json(nullptr);
  }
  return ctx;
}

struct RunResult {
  ExecutionDescription description;
  std::shared_ptr<Execution> execution;
  std::shared_ptr<StateMachine> machine;
};

// Runs one execution of `definition`; throws on setup errors.
RunResult RunOnce(Hub& hub, const std::string& definition, const Args& args,
                  testing::Simulation* sim) {
  Json handlers = args.Has("handlers") ? ParseOr(FileOrText(args.Get("handlers")), "--handlers")
                                       : Json(JsonObject());
  // A conformance case.json may be given as is: its "handlers" member is the map.
  if (handlers.is_object() && handlers.get_object().contains("description")) {
    const Json* inner = handlers.get_object().if_contains("handlers");
    handlers = inner ? *inner : Json(JsonObject());
  }
  auto stats = testing::RegisterCaseHandlers(hub, handlers, definition);
  if (!stats.ok()) throw std::runtime_error(std::string(stats.status().message()));
  std::string machine_name = "corpus", exec_name = "exec";
  if (args.Has("context")) {
    Json ctx = ReadContext(args);
    if (ctx.is_object()) {
      if (auto* sm = ctx.get_object().if_contains("StateMachine"); sm && sm->is_object()) {
        if (auto* n = sm->get_object().if_contains("Name"); n && n->is_string()) {
          machine_name = n->get_string();
        }
      }
      if (auto* ex = ctx.get_object().if_contains("Execution"); ex && ex->is_object()) {
        if (auto* n = ex->get_object().if_contains("Name"); n && n->is_string()) {
          exec_name = n->get_string();
        }
      }
    }
  }
  auto machine = StepFunctions(hub).CreateStateMachine(machine_name, definition);
  if (!machine.ok()) throw std::runtime_error(std::string(machine.status().message()));
  std::string input = args.Has("input") ? FileOrText(args.Get("input")) : "{}";
  auto exec = (*machine)->StartExecution({.name = exec_name, .input = input});
  if (!exec.ok()) throw std::runtime_error(std::string(exec.status().message()));
  if (sim) sim->RunUntilIdle();
  RunResult r{(*exec)->Await(), *exec, *machine};
  return r;
}

Json Summary(const RunResult& r) {
  JsonObject o;
  o["status"] = std::string(ExecutionStatusName(r.description.status));
  if (r.description.output) {
    o["output"] = *r.description.output;
  } else {
    std::optional<std::string> error = r.description.error, cause = r.description.cause;
    if (r.description.status == ExecutionStatus::kTimedOut) error = "States.Timeout";
    o["error"] = error ? Json(*error) : Json(nullptr);
    o["cause"] = cause ? Json(*cause) : Json(nullptr);
  }
  return o;
}

int Run(const std::vector<std::string>& argv) {
  Args args = Parse(argv, {"simulate"});
  if (args.positional.size() != 1) {
    std::fprintf(stderr,
                 "usage: courier run DEFINITION.json [--input INPUT.json] [--handlers "
                 "HANDLERS.json] [--context CTX.json] [--simulate]\n");
    return 2;
  }
  std::string definition = FileOrText(args.positional[0]);
  std::unique_ptr<testing::Simulation> sim;
  Environment env;
  if (args.Has("simulate")) {
    sim = std::make_unique<testing::Simulation>();
    env = sim->environment();
  } else {
    env = Environment::Default();
  }
  if (args.Has("context")) {
    // Execution.Id's account, so that $$.Execution.Id matches the given context.
    Json ctx = ReadContext(args);
    if (auto* ex = ctx.is_object() ? ctx.get_object().if_contains("Execution") : nullptr) {
      if (auto* id = ex->is_object() ? ex->get_object().if_contains("Id") : nullptr;
          id && id->is_string()) {
        std::vector<std::string> parts;
        std::stringstream ss{std::string(id->get_string())};
        for (std::string p; std::getline(ss, p, ':');) parts.push_back(p);
        if (parts.size() > 4) {
          env.region = parts[3];
          env.account = parts[4];
        }
      }
    }
  }
  Hub hub(env);
  RunResult r = RunOnce(hub, definition, args, sim.get());
  std::printf("%s\n", ToJsonText(Summary(r)).c_str());
  return r.description.status == ExecutionStatus::kSucceeded ? 0 : 1;
}

int Validate(const std::vector<std::string>& argv) {
  Args args = Parse(argv, {"json"});
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "usage: courier validate DEFINITION.json [--json]\n");
    return 2;
  }
  ValidationResult result = ValidateStateMachineDefinition(FileOrText(args.positional[0]));
  if (args.Has("json")) {
    JsonArray diags;
    for (const auto& d : result.diagnostics) {
      diags.push_back(JsonObject{{"severity", d.severity},
                                 {"code", d.code},
                                 {"message", d.message},
                                 {"location", d.location}});
    }
    std::printf("%s\n",
                ToJsonText(JsonObject{{"result", result.result}, {"diagnostics", std::move(diags)}})
                    .c_str());
  } else if (result.ok()) {
    std::printf("OK\n");
  } else {
    for (const auto& d : result.diagnostics) {
      std::printf("%s %s at %s: %s\n", d.severity.c_str(), d.code.c_str(), d.location.c_str(),
                  d.message.c_str());
    }
  }
  return result.ok() ? 0 : 1;
}

int Render(const std::vector<std::string>& argv) {
  Args args = Parse(argv, {});
  if (args.positional.size() != 1) {
    std::fprintf(stderr,
                 "usage: courier render DEFINITION.json [--format dot|mermaid|svg|png] "
                 "[--output FILE] [--input INPUT.json [--handlers HANDLERS.json]]\n"
                 "  with --input, runs one simulated execution and colours the states it "
                 "visited\n");
    return 2;
  }
  std::string definition = FileOrText(args.positional[0]);
  std::string format = args.Get("format", "dot");
  testing::Simulation sim;
  Hub hub(sim.environment());
  std::string text;
  if (args.Has("input")) {
    RunResult r = RunOnce(hub, definition, args, &sim);
    text = format == "mermaid" ? r.machine->ToMermaid(r.execution.get())
                               : r.machine->ToDot(r.execution.get());
  } else {
    auto machine = StepFunctions(hub).CreateStateMachine("graph", definition);
    if (!machine.ok()) {
      std::fprintf(stderr, "%s\n", std::string(machine.status().message()).c_str());
      return 1;
    }
    text = format == "mermaid" ? (*machine)->ToMermaid() : (*machine)->ToDot();
  }
  std::string output = args.Get("output");
  if (format == "svg" || format == "png") {
    if (output.empty()) {
      std::fprintf(stderr, "courier render: --format %s needs --output FILE\n", format.c_str());
      return 2;
    }
    std::string cmd = "dot -T" + format + " -o '" + output + "'";
    FILE* pipe = popen(cmd.c_str(), "w");
    if (!pipe) {
      std::fprintf(stderr, "courier render: cannot run Graphviz 'dot'\n");
      return 1;
    }
    std::fwrite(text.data(), 1, text.size(), pipe);
    int rc = pclose(pipe);
    if (rc != 0) {
      std::fprintf(stderr,
                   "courier render: Graphviz 'dot' failed (is Graphviz installed?); use "
                   "--format dot or mermaid\n");
      return 1;
    }
    return 0;
  }
  if (format != "dot" && format != "mermaid") {
    std::fprintf(stderr, "courier render: unknown format '%s'\n", format.c_str());
    return 2;
  }
  if (output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    std::ofstream out(output, std::ios::binary);
    out << text;
    if (!out) {
      std::fprintf(stderr, "courier render: cannot write %s\n", output.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace

COURIER_CLI_COMMAND("run", "run one state machine execution (ASL) and print its outcome", Run);
COURIER_CLI_COMMAND("validate", "validate an ASL definition (ValidateStateMachineDefinition)",
                    Validate);
COURIER_CLI_COMMAND("render", "draw an ASL definition as DOT, Mermaid, SVG or PNG", Render);

}  // namespace courier::cli_internal
