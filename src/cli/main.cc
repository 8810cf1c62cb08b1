// courier: command-line tools over the library (pattern tests, state machine runs, ...).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cli/command.h"

namespace courier::cli_internal {

std::map<std::string, Command, std::less<>>& Commands() {
  static auto* commands = new std::map<std::string, Command, std::less<>>();
  return *commands;
}

std::string TextOrFile(const std::string& arg) {
  if (arg.empty() || arg[0] != '@') return arg;
  std::ifstream in(arg.substr(1), std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + arg.substr(1));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace courier::cli_internal

int main(int argc, char** argv) {
  using courier::cli_internal::Commands;
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "help") {
    std::printf("usage: courier COMMAND [ARGS...]\n\ncommands:\n");
    for (const auto& [name, command] : Commands()) {
      std::printf("  %-20s %s\n", name.c_str(), command.summary.c_str());
    }
    return argc < 2 ? 2 : 0;
  }
  auto it = Commands().find(std::string_view(argv[1]));
  if (it == Commands().end()) {
    std::fprintf(stderr, "courier: unknown command '%s' (try courier --help)\n", argv[1]);
    return 2;
  }
  try {
    return it->second.run(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "courier %s: %s\n", argv[1], e.what());
    return 2;
  }
}
