// vkattn compile: the schedule of a graph as a listing, JSON or Graphviz, and the
// program after each compiler pass.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <vkattn/codegen/render.hpp>
#include <vkattn/graph_json.hpp>
#include <vkattn/reference.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/vkattn.hpp>

#include "cli_options.hpp"
#include "device_context.hpp"
#include "commands.hpp"
#include "text_output.hpp"

namespace vkattn::cli {

const char* compile_help =
    "usage: vkattn compile GRAPH [--emit listing|json|dot|graph|glsl] [--dump-passes DIR] [--unfused]\n"
    "                      [--target NAME] [--device SEL] [--storage f16|f32] [--constants] [sizes]\n"
    "Compiles GRAPH and prints its schedule: the target, dispatches, the ops each covers,\n"
    "FLOPs, bytes, barriers, the memory plan, and each dispatch's kernel variant and why.\n"
    "  --emit listing|json|dot|graph|glsl\n"
    "                            the output form (listing); json is the schedule\n"
    "                            (docs/schedule-json.md), dot renders with `dot -Tsvg`,\n"
    "                            graph is the graph itself as graph JSON (docs/graph-json.md),\n"
    "                            glsl the generated source of each dispatch that has some\n"
    "                            (score programs, pointwise kernels)\n"
    "  --dump-passes DIR         write the program after each pass to DIR/NN-PASS.txt\n"
    "  --unfused                 one dispatch per primitive op (no fusion, no views)\n"
    "  --target NAME             compile for a named target: llvmpipe, nvidia, amd, intel,\n"
    "                            apple, generic (VKATTN_TARGET); with --device, its choices\n"
    "                            within that device's limits\n"
    "  --device SEL              compile for a Vulkan device (index or part of its name) and\n"
    "                            load the schedule there. With neither flag: the default\n"
    "                            device's target, or generic when there is no device\n"
    "  --constants               a line per dispatch with its specialization constants\n"
    "  --storage f16|f32         f16: every float tensor held in f16 on the device\n";

namespace {

// Each dispatch's generated GLSL, as the kernel template includes it.
std::string generated_sources(const Schedule& schedule) {
  std::string text;
  for (std::size_t i = 0; i < schedule.dispatches.size(); ++i) {
    const Dispatch& d = schedule.dispatches[i];
    if (d.program < 0) continue;
    const Expression& program = schedule.programs.at(std::size_t(d.program));
    const ShaderInfo& shader = shader_info(d.shader);
    text += "// ---- dispatch " + std::to_string(i) + " (" + std::string(d.label.view()) + "): " +
            std::string(shader.name) + ", included by shaders/" + std::string(shader.source) +
            " as vkattn_generated.glsl\n";
    text += render_generated(d.kernel, program);
  }
  if (text.empty()) text = "// no dispatch of this schedule has generated code\n";
  return text;
}

// Writes the program after each pass, numbered in pass order: 01-verify.txt, ...
class PassDumper : public PassObserver {
 public:
  explicit PassDumper(std::filesystem::path dir) : dir_(std::move(dir)) {}
  void after_pass(int index, std::string_view pass, const Program& program) override {
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%02d-", index);
    std::filesystem::path file = dir_ / (prefix + std::string(pass) + ".txt");
    write_text_file("--dump-passes", file.string(),
                    "# after pass " + std::to_string(index) + " of " + std::to_string(pass_names.size()) + ": " +
                        std::string(pass) + "\n" + to_text(program));
    written_.push_back(file.string());
  }
  const std::vector<std::string>& written() const { return written_; }

 private:
  std::filesystem::path dir_;
  std::vector<std::string> written_;
};

}  // namespace

int run_compile(const std::vector<std::string>& raw) {
  Arguments args(raw, with_graph_flags({"--emit", "--dump-passes", "--device", "--target", "--storage"}),
                 with_graph_switches({"--unfused", "--constants"}));
  Graph graph = load_graph(args);
  std::string emit = args.text("--emit", "listing");
  if (emit != "listing" && emit != "json" && emit != "dot" && emit != "graph" && emit != "glsl")
    throw UsageError("--emit is listing, json, dot, graph or glsl, not '" + emit + "'");
  if (emit == "graph") {  // the graph itself, as graph JSON: a preset as the start of one's own graph
    std::cout << graph_to_json(graph) << "\n";
    return 0;
  }
  std::unique_ptr<PassDumper> dumper;
  if (args.has("--dump-passes")) {
    std::filesystem::path dir = args.text("--dump-passes", "");
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error || !std::filesystem::is_directory(dir))
      throw std::runtime_error("--dump-passes: cannot create the directory " + dir.string() +
                               (error ? ": " + error.message() : std::string()));
    dumper = std::make_unique<PassDumper>(dir);
  }
  const CompileOptions options = compile_options(args);
  const ListingOptions listing{.constants = args.has("--constants")};
  std::unique_ptr<Context> context;
  Target target = targets::generic;
  if (args.has("--device")) {
    context = open_context(args);
    target = target_for(args, *context);
  } else if (const Target* named = requested_target(args)) {
    target = *named;
  } else {
    try {
      context = open_context(args);
      target = context->target();
    } catch (const std::exception& e) {
      std::cerr << "vkattn compile: no Vulkan device (" << e.what() << "); compiling for the generic target\n";
    }
  }
  Schedule schedule = compile(graph, target, options, dumper.get());
  if (args.has("--device")) {  // proves the schedule loads there
    Executable executable(*context, schedule, random_bindings(graph, 1));
    check_validation(*context);
    std::cerr << "loaded on " << context->device().name << "\n";
  }
  if (emit == "json")
    std::cout << schedule_to_json(schedule, &graph) << "\n";
  else if (emit == "dot")
    std::cout << schedule_to_dot(schedule, graph);
  else if (emit == "glsl")
    std::cout << generated_sources(schedule);
  else
    std::cout << schedule_listing(schedule, &graph, listing);
  if (dumper)
    for (const std::string& file : dumper->written()) std::cerr << "wrote " << file << "\n";
  return 0;
}

}  // namespace vkattn::cli
