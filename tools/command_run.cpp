// vkattn run: one run of a graph on a Vulkan device, with the user's weights and
// inputs, outputs to .npy, and a check against the CPU reference.
#include <cmath>
#include <cstdio>
#include <iostream>

#include <vkattn/reference.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/tensor_files.hpp>
#include <vkattn/vkattn.hpp>

#include "cli_options.hpp"
#include "device_context.hpp"
#include "commands.hpp"
#include "graph_bindings.hpp"
#include "text_output.hpp"

namespace vkattn::cli {

const char* run_help =
    "usage: vkattn run GRAPH [--weights FILE.safetensors [--weights-prefix P]] [--input NAME=FILE.npy]...\n"
    "                        [--output NAME=FILE.npy]... [--seed N] [--check] [--unfused]\n"
    "                        [--device SEL] [--target NAME] [--storage f16|f32] [--output-dtype f16|f32]\n"
    "                        [sizes]\n"
    "Runs GRAPH on a Vulkan device and prints each output's shape and statistics, and the\n"
    "device time of a second run (the first, whose time is shown beside it, includes the\n"
    "driver's work on first use, such as compiling pipelines). A graph with dynamic\n"
    "dimensions runs at the sizes of its inputs (--input files, or --seq under --cache).\n"
    "  --output NAME=FILE.npy       write an output as .npy in its dtype (repeatable)\n"
    "  --output-dtype f16|f32       write every --output in this dtype instead\n"
    "  --check                      compare every output with the CPU reference (double\n"
    "                               precision) and print the normalised error\n"
    "                               ||device - reference|| / ||reference||; exit 1 above\n"
    "                               1e-4 (f32) or 5e-3 (held in f16), or on any NaN or\n"
    "                               infinity\n"
    "  --unfused                    run the one-dispatch-per-op schedule\n"
    "  --device SEL                 a device index or part of its name (VKATTN_DEVICE)\n"
    "  --target NAME                compile for a named target within the device's limits\n"
    "                               (llvmpipe, nvidia, amd, intel, apple, generic; VKATTN_TARGET)\n"
    "  --storage f16|f32            f16: hold every float tensor in f16 on the device (inputs\n"
    "                               and outputs converted at the boundary); f32: as declared\n";

namespace {

struct Statistics {
  double mean = 0, min = 0, max = 0;
  std::size_t non_finite = 0;
};

Statistics statistics(const Tensor& t) {
  Statistics s{0, INFINITY, -INFINITY, 0};
  std::size_t finite = 0;
  for (double v : t.values) {
    if (!std::isfinite(v)) {
      ++s.non_finite;
      continue;
    }
    s.mean += v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
    ++finite;
  }
  s.mean = finite ? s.mean / double(finite) : NAN;
  return s;
}

}  // namespace

int run_run(const std::vector<std::string>& raw) {
  std::vector<std::string> valued = binding_flags;
  valued.insert(valued.end(), {"--output", "--device", "--target", "--storage", "--output-dtype"});
  Arguments args(raw, with_graph_flags(valued),
                 with_graph_switches({"--check", "--unfused"}));
  Graph graph = load_graph(args);
  std::vector<Assignment> outputs;
  for (const std::string& text : args.all("--output")) {
    Assignment a = parse_assignment("--output", text);
    bool known = false;
    std::string list;
    for (const Node& n : graph.nodes())
      if (n.op == Op::output) {
        known = known || n.name.view() == a.name;
        if (!list.empty()) list += ", ";
        list += n.name.view();
      }
    if (!known) throw UsageError("--output " + a.name + ": the graph has no output '" + a.name + "' (its outputs: " + list + ")");
    outputs.push_back(a);
  }
  const CompileOptions options = compile_options(args);
  const bool fuse = options.fuse;
  const std::string output_dtype = args.text("--output-dtype", "");
  if (!output_dtype.empty() && output_dtype != "f16" && output_dtype != "f32")
    throw UsageError("--output-dtype is f16 or f32, not '" + output_dtype + "'");
  for (const Assignment& a : outputs) check_writable("--output " + a.name, a.file);  // before anything runs
  if (!output_dtype.empty() && outputs.empty())
    throw UsageError("--output-dtype sets the dtype of --output files; give --output NAME=FILE.npy too");
  std::unique_ptr<Context> opened = open_context(args);
  Context& context = *opened;
  CompileOptions for_device = options;
  for_device.target = target_for(args, context);
  context.check_fits(compile(graph, for_device));  // before host memory goes to inputs and weights
  TensorMap bindings = graph_bindings(graph, args, std::cerr);
  // A graph with dynamic dimensions runs at the sizes its inputs have (1 to the bounds).
  Executable executable(context, graph, for_device, bindings);
  TensorMap results = executable.run(bindings);
  const double first_ms = executable.last_run_ms();
  executable.run(bindings);  // again: the device time without the driver's first-use work
  const Schedule& schedule = executable.schedule();
  check_validation(context);
  std::printf("%s on %s, %s: %s", std::string(graph.name()).c_str(), context.device().name.c_str(),
              fuse ? "fused" : "unfused", count_of(schedule.dispatches.size(), "dispatch", "dispatches").c_str());
  if (executable.last_run_ms() > 0)
    std::printf(", %.3f ms of device time (the first run took %.3f ms: drivers make pipelines on first use)",
                executable.last_run_ms(), first_ms);
  std::printf("\n");

  bool passed = true;
  ReferenceResult reference;
  if (args.has("--check")) reference = run_reference(with_sizes(graph, sizes_of_inputs(graph, bindings)), bindings);
  for (const auto& [name, tensor] : results) {
    Statistics s = statistics(tensor);
    std::printf("  %s %s %s: mean %.6g, min %.6g, max %.6g", name.c_str(), std::string(dtype_name(tensor.dtype)).c_str(),
                to_string(tensor.shape).c_str(), s.mean, s.min, s.max);
    if (s.non_finite) std::printf(", %zu non-finite", s.non_finite);
    if (args.has("--check")) {
      const double error = normalised_error(tensor, reference.outputs.at(name));
      // An output held in f16 on the device carries f16 rounding from every tensor before it.
      const int slot = schedule.find_slot(name, SlotRole::output);
      const bool half = slot >= 0 && schedule.slots[std::size_t(slot)].element == DType::f16;
      const double tolerance = half ? 5e-3 : 1e-4;
      // Any NaN or infinity fails the check, even where the reference has one too.
      const bool ok = error <= tolerance && s.non_finite == 0;  // false for a NaN error
      passed = passed && ok;
      std::printf("; normalised error vs reference %.3g (%s, tolerance %.0e", error, ok ? "ok" : "FAILED", tolerance);
      if (s.non_finite) std::printf("; %zu non-finite values", s.non_finite);
      std::printf(")");
    }
    std::printf("\n");
  }
  for (const Assignment& a : outputs) {
    // An output is written in its own dtype unless --output-dtype says otherwise.
    const Tensor& t = results.at(a.name);
    const bool half = output_dtype.empty() ? t.dtype == DType::f16 : output_dtype == "f16";
    write_npy(a.file, t, half ? FileElement::f16 : FileElement::f32);
    std::printf("wrote %s to %s (%s)\n", a.name.c_str(), a.file.c_str(), half ? "f16" : "f32");
  }
  if (!passed) std::fprintf(stderr, "vkattn run: the device result differs from the CPU reference\n");
  return passed ? 0 : 1;
}

}  // namespace vkattn::cli
