// vkattn: compile and run attention graphs from the command line.
#include <cstring>
#include <iostream>
#include <new>

#include <vkattn/vkattn.hpp>

#include "cli_options.hpp"
#include "commands.hpp"
#include "graph_bindings.hpp"

namespace {

const char* usage =
    "usage: vkattn COMMAND [options]\n"
    "  devices         list the Vulkan devices and their capabilities\n"
    "  compile GRAPH   print the compiled schedule (listing, JSON or Graphviz), dump passes\n"
    "  run GRAPH       run on a device with your weights and inputs; check against the CPU\n"
    "  bench GRAPH     per-dispatch device times, GFLOP/s, GB/s; a Perfetto trace\n"
    "  heatmap GRAPH   draw one head's attention weights as an SVG heatmap\n"
    "  decode GRAPH    prefill, then step over a KV cache: time to first token, time per step\n"
    "  generate MODEL  greedy decoding of a Hugging Face model folder from a prompt's token ids\n"
    "  pipeline-stats  what the device's shader compiler makes of each pipeline: registers,\n"
    "                  spills, shared memory, occupancy (AMD's ACO without a GPU: RADV)\n"
    "  help [COMMAND]  this list, or a command's options (as 'vkattn COMMAND --help')\n"
    "  --version       the version of vkattn\n"
    "Run 'vkattn COMMAND --help' for a command's options.\n";

struct Command {
  const char* name;
  const char* const* help;
  int (*run)(const std::vector<std::string>&);
  bool takes_graph;     // --help also explains GRAPH and its sizes
  bool takes_bindings;  // and --weights, --input, --seed
};

const Command commands[] = {{"devices", &vkattn::cli::devices_help, vkattn::cli::run_devices, false, false},
                            {"compile", &vkattn::cli::compile_help, vkattn::cli::run_compile, true, false},
                            {"run", &vkattn::cli::run_help, vkattn::cli::run_run, true, true},
                            {"bench", &vkattn::cli::bench_help, vkattn::cli::run_bench, true, true},
                            {"heatmap", &vkattn::cli::heatmap_help, vkattn::cli::run_heatmap, true, true},
                            {"decode", &vkattn::cli::decode_help, vkattn::cli::run_decode, true, false},
                            {"generate", &vkattn::cli::generate_help, vkattn::cli::run_generate, false, false},
                            {"pipeline-stats", &vkattn::cli::pipeline_stats_help, vkattn::cli::run_pipeline_stats,
                             false, false}};

void print_help(const Command& c) {
  std::cout << *c.help << (c.takes_bindings ? vkattn::cli::binding_help : "")
            << (c.takes_graph ? vkattn::cli::graph_help : "");
}

const Command* find_command(const char* name) {
  for (const Command& c : commands)
    if (std::strcmp(name, c.name) == 0) return &c;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    (argc < 2 ? std::cerr : std::cout) << usage;
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "version") == 0) {
    std::cout << "vkattn " << VKATTN_VERSION << "\n";
    return 0;
  }
  if (std::strcmp(argv[1], "help") == 0) {
    if (argc == 2) {
      std::cout << usage;
      return 0;
    }
    if (const Command* c = find_command(argv[2])) {
      print_help(*c);
      return 0;
    }
    std::cerr << "vkattn help: unknown command '" << argv[2] << "'\n" << usage;
    return 2;
  }
  const Command* c = find_command(argv[1]);
  if (c == nullptr) {
    std::cerr << "vkattn: unknown command '" << argv[1] << "'\n" << usage;
    return 2;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      print_help(*c);
      return 0;
    }
  try {
    return c->run(args);
  } catch (const vkattn::cli::UsageError& e) {
    // The mistake and where the options are, not the whole help.
    std::cerr << "vkattn " << c->name << ": " << e.what() << "\n(see 'vkattn " << c->name << " --help')\n";
    return 2;
  } catch (const std::bad_alloc&) {
    // Sizes are checked against host memory before large allocations; this is the rest.
    std::cerr << "vkattn " << c->name << ": out of host memory (an allocation failed); make the graph smaller\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "vkattn " << c->name << ": " << e.what() << "\n";
    return 1;
  }
}
