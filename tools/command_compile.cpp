// vkattn compile: the schedule of a graph as a listing or JSON.
#include <iostream>

#include <vkattn/schedule_text.hpp>
#include <vkattn/vkattn.hpp>

#include "cli_options.hpp"
#include "commands.hpp"

namespace vkattn::cli {

const char* compile_help =
    "usage: vkattn compile GRAPH [--emit listing|json] [--unfused] [sizes]\n"
    "Compiles GRAPH and prints its schedule: dispatches, what each covers, FLOPs, bytes,\n"
    "barriers and the memory plan.\n"
    "  --emit listing|json   the output form (listing)\n"
    "  --unfused             one dispatch per primitive op (no fusion, no views)\n";

int run_compile(const std::vector<std::string>& raw) {
  std::vector<std::string> valued = graph_flags;
  valued.push_back("--emit");
  Arguments args(raw, valued, {"--unfused"});
  Graph graph = load_graph(args);
  std::string emit = args.text("--emit", "listing");
  if (emit != "listing" && emit != "json") throw UsageError("--emit is listing or json, not '" + emit + "'");
  Schedule schedule = compile(graph, CompileOptions{.fuse = !args.has("--unfused")});
  std::cout << (emit == "json" ? schedule_to_json(schedule, &graph) + "\n" : schedule_listing(schedule, &graph));
  return 0;
}

}  // namespace vkattn::cli
