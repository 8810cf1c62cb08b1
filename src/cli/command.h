// Subcommands of the `courier` program register themselves with COURIER_CLI_COMMAND.
#ifndef COURIER_CLI_COMMAND_H_
#define COURIER_CLI_COMMAND_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace courier::cli_internal {

// A subcommand gets its arguments after the subcommand's name and returns the exit code.
using CommandFn = int (*)(const std::vector<std::string>& args);

struct Command {
  std::string summary;
  CommandFn run;
};

std::map<std::string, Command, std::less<>>& Commands();

struct CommandRegistrar {
  CommandRegistrar(const char* name, const char* summary, CommandFn run) {
    Commands()[name] = Command{summary, run};
  }
};

// Reads FILE for "@FILE", or returns the text itself.
std::string TextOrFile(const std::string& arg);

}  // namespace courier::cli_internal

#define COURIER_CLI_COMMAND(name, summary, fn) \
  static ::courier::cli_internal::CommandRegistrar fn##_registrar(name, summary, fn)

#endif  // COURIER_CLI_COMMAND_H_
