// vkattn: compile and run attention graphs from the command line.
#include <cstring>
#include <iostream>

#include <vkattn/vkattn.hpp>

#include "cli_options.hpp"
#include "commands.hpp"

namespace {

const char* usage =
    "usage: vkattn COMMAND [options]\n"
    "  compile GRAPH   print the compiled schedule (listing or JSON)\n"
    "  bench GRAPH     measure the schedule on a Vulkan device\n"
    "Run 'vkattn COMMAND --help' for a command's options.\n";

struct Command {
  const char* name;
  const char* const* help;
  int (*run)(const std::vector<std::string>&);
};

const Command commands[] = {{"compile", &vkattn::cli::compile_help, vkattn::cli::run_compile},
                            {"bench", &vkattn::cli::bench_help, vkattn::cli::run_bench}};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    (argc < 2 ? std::cerr : std::cout) << usage;
    return argc < 2 ? 2 : 0;
  }
  for (const Command& c : commands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    std::vector<std::string> args(argv + 2, argv + argc);
    for (const std::string& a : args)
      if (a == "--help" || a == "-h") {
        std::cout << *c.help << vkattn::cli::graph_help;
        return 0;
      }
    try {
      return c.run(args);
    } catch (const vkattn::cli::UsageError& e) {
      std::cerr << "vkattn " << c.name << ": " << e.what() << "\n" << *c.help;
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "vkattn " << c.name << ": " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "vkattn: unknown command '" << argv[1] << "'\n" << usage;
  return 2;
}
