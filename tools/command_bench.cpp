// vkattn bench: device time of a compiled graph, per dispatch and in total.
#include <sstream>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <vkattn/reference.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/vkattn.hpp>

#include "chrome_trace.hpp"
#include "cli_options.hpp"
#include "device_context.hpp"
#include "commands.hpp"
#include "graph_bindings.hpp"
#include "statistics.hpp"
#include "text_output.hpp"

namespace vkattn::cli {

const char* bench_help =
    "usage: vkattn bench GRAPH [--unfused] [--runs N] [--json] [--trace FILE.json] [--device SEL]\n"
    "                    [--target NAME] [--storage f16|f32] [--input NAME=FILE.npy]... [sizes]\n"
    "Runs GRAPH on a Vulkan device with random weights and inputs (or those given) and reports the median\n"
    "device time (timestamp queries) of the whole run and of each dispatch, with GFLOP/s\n"
    "counted from the fused schedule's FLOPs (the same count for --unfused).\n"
    "  --unfused      run the one-dispatch-per-op schedule\n"
    "  --runs N       timed runs after one warm-up run (5)\n"
    "  --json         print JSON instead of a table\n"
    "  --trace FILE   write the timed runs' timeline as a Chrome trace (open it in\n"
    "                 ui.perfetto.dev or chrome://tracing)\n"
    "  --device SEL   a device index or part of its name (VKATTN_DEVICE; the preferred one)\n"
    "  --target NAME  compile for a named target within the device's limits (llvmpipe, nvidia,\n"
    "                 amd, intel, apple, generic; VKATTN_TARGET); default: the device's own\n"
    "  --storage f16  hold every float tensor in f16 on the device (f32: as declared)\n"
    "Inputs and weights (e.g. the document ids of packed sequences, whose values decide\n"
    "which key blocks an attention skips):\n";

int run_bench(const std::vector<std::string>& raw) {
  std::vector<std::string> flags{"--runs", "--device", "--trace", "--target", "--storage"};
  flags.insert(flags.end(), binding_flags.begin(), binding_flags.end());
  Arguments args(raw, with_graph_flags(flags), with_graph_switches({"--unfused", "--json"}));
  Graph graph = load_graph(args);
  const std::int64_t runs = args.integer("--runs", 5, 1, 100000);
  std::unique_ptr<Context> opened = open_context(args);
  Context& context = *opened;
  const Target target = target_for(args, context);
  const CompileOptions options = compile_options(args);
  const bool fuse = options.fuse;
  Schedule schedule = compile(graph, target, options);
  const double flops = fuse ? schedule.total_flops() : compile(graph, target, CompileOptions{.f16_storage = options.f16_storage}).total_flops();
  if (!context.device().timestamps)
    throw std::runtime_error(context.device().name + " has no timestamp queries on its compute queue; cannot bench");
  context.check_fits(schedule);  // before host memory goes to inputs and weights
  std::ostringstream notes;  // which tensors were random: not part of a benchmark's report
  TensorMap bindings = graph_bindings(graph, args, notes);
  Executable executable(context, schedule, bindings);
  executable.run(bindings);  // warm-up
  // What the device runs: a repeated body once per iteration, each timed on its own.
  const Schedule& ran = executable.schedule();
  std::vector<double> totals;
  std::vector<std::vector<double>> per_dispatch(ran.dispatches.size());
  std::vector<MeasuredRun> measured;
  for (std::int64_t r = 0; r < runs; ++r) {
    executable.run(bindings);
    totals.push_back(executable.last_run_ms());
    measured.push_back({executable.last_run_ms(), executable.timings()});
    for (std::size_t i = 0; i < per_dispatch.size(); ++i) per_dispatch[i].push_back(executable.timings()[i].milliseconds);
  }
  const double ms = median(totals);
  check_validation(context);
  if (args.has("--trace")) {
    const std::string file = args.text("--trace", "");
    write_text_file("--trace", file, chrome_trace(context.device().name, ran, measured) + "\n");
    std::cerr << "wrote the timeline of " << runs << " runs to " << file << "\n";
  }
  const double gflops = ms > 0 ? flops / (ms * 1e6) : 0.0;
  double bytes = 0;
  for (const Dispatch& d : ran.dispatches) bytes += d.bytes;
  const double gbytes_per_s = ms > 0 ? bytes / (ms * 1e6) : 0.0;

  if (args.has("--json")) {
    nlohmann::json doc{{"format", "vkattn.bench"},
                       {"version", 1},
                       {"device", context.device().name},
                       {"graph", std::string(graph.name())},
                       {"fused", fuse},
                       {"runs", runs},
                       {"ms_median", ms},
                       {"ms_min", *std::min_element(totals.begin(), totals.end())},
                       {"flops", flops},
                       {"gflops", gflops},
                       {"bytes", bytes},
                       {"gbytes_per_s", gbytes_per_s},
                       {"arena_bytes", ran.arena_bytes},
                       {"naive_bytes", schedule.memory.naive_bytes},
                       {"weight_bytes", ran.weight_bytes}};
    nlohmann::json dispatches = nlohmann::json::array();
    for (std::size_t i = 0; i < per_dispatch.size(); ++i) {
      const Dispatch& d = ran.dispatches[i];
      double t = median(per_dispatch[i]);
      dispatches.push_back({{"index", i},
                            {"kernel", std::string(kernel_name(d.kernel))},
                            {"label", std::string(d.label.view())},
                            {"ms_median", t},
                            {"gflops", t > 0 ? d.flops / (t * 1e6) : 0.0},
                            {"gbytes_per_s", t > 0 ? d.bytes / (t * 1e6) : 0.0}});
    }
    doc["dispatches"] = dispatches;
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  std::printf("%s on %s, %s, %s: %.3f ms, %.2f GFLOP/s (%.3g FLOP), %.2f GB/s (%.3g bytes)\n",
              std::string(graph.name()).c_str(), context.device().name.c_str(), fuse ? "fused" : "unfused",
              runs == 1 ? "one run" : ("median of " + std::to_string(runs) + " runs").c_str(), ms, gflops, flops,
              gbytes_per_s, bytes);
  std::printf("arena %.2f MiB (naive %.2f MiB), weights %.2f MiB\n", double(ran.arena_bytes) / 1048576.0,
              double(schedule.memory.naive_bytes) / 1048576.0, double(ran.weight_bytes) / 1048576.0);
  for (std::size_t i = 0; i < per_dispatch.size(); ++i) {
    const Dispatch& d = ran.dispatches[i];
    double t = median(per_dispatch[i]);
    std::printf("  #%-3zu %9.3f ms %8.2f GFLOP/s %7.2f GB/s  %s\n", i, t, t > 0 ? d.flops / (t * 1e6) : 0.0,
                t > 0 ? d.bytes / (t * 1e6) : 0.0, std::string(d.label.view()).c_str());
  }
  return 0;
}

}  // namespace vkattn::cli
