// Fuzz target: graph JSON through graph_from_json, then compiled fused and unfused for
// several targets. A graph it accepts writes back to the same JSON; each schedule passes
// the schedule check, lists, and reads back from its own JSON unchanged.
#include "fuzz_target.hpp"
#include "vkattn/compile.hpp"
#include "vkattn/graph_json.hpp"
#include "vkattn/schedule_check.hpp"
#include "vkattn/schedule_text.hpp"
#include "vkattn/targets.hpp"

namespace vkattn::fuzz {

bool feed(std::span<const char> bytes) {
  Graph graph;
  try {
    graph = graph_from_json(std::string_view(bytes.data(), bytes.size()), "fuzz.json");
  } catch (const GraphJsonError&) {
    return false;
  }
  const std::string text = graph_to_json(graph);
  require(graph_from_json(text, "written") == graph, "a loaded graph writes back to the same graph");
  for (const Target& target : {targets::generic, targets::nvidia, targets::llvmpipe}) {
    for (bool fuse : {true, false}) {
      Schedule schedule;
      try {
        schedule = compile(graph, CompileOptions{.fuse = fuse, .target = target});
      } catch (const CompileError&) {
        continue;  // a graph the compiler refuses, by name
      }
      check_schedule(schedule);  // the compiler's own schedules are trusted only once checked
      (void)schedule_listing(schedule, &graph, {.constants = true});
      require(schedule_from_json(schedule_to_json(schedule, &graph)) == schedule,
              "a compiled schedule reads back from its JSON unchanged");
    }
  }
  return true;
}

}  // namespace vkattn::fuzz
