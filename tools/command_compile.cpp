// vkattn compile: the schedule of a graph as a listing, JSON or Graphviz, and the
// program after each compiler pass.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <vkattn/reference.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/vkattn.hpp>

#include "cli_options.hpp"
#include "device_context.hpp"
#include "commands.hpp"

namespace vkattn::cli {

const char* compile_help =
    "usage: vkattn compile GRAPH [--emit listing|json|dot] [--dump-passes DIR] [--unfused] [sizes]\n"
    "Compiles GRAPH and prints its schedule: dispatches, the ops each covers, FLOPs, bytes,\n"
    "barriers and the memory plan.\n"
    "  --emit listing|json|dot   the output form (listing); json is documented in\n"
    "                            docs/schedule-json.md, dot renders with `dot -Tsvg`\n"
    "  --dump-passes DIR         write the program after each pass to DIR/NN-PASS.txt\n"
    "  --unfused                 one dispatch per primitive op (no fusion, no views)\n"
    "  --device SEL              also load the schedule on a Vulkan device (index or part of\n"
    "                            its name) and show the kernel variant of each dispatch there\n";

namespace {

// Writes the program after each pass, numbered in pass order: 01-verify.txt, ...
class PassDumper : public PassObserver {
 public:
  explicit PassDumper(std::filesystem::path dir) : dir_(std::move(dir)) {}
  void after_pass(int index, std::string_view pass, const Program& program) override {
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%02d-", index);
    std::filesystem::path file = dir_ / (prefix + std::string(pass) + ".txt");
    std::ofstream out(file);
    out << "# after pass " << index << " of " << pass_names.size() << ": " << pass << "\n" << to_text(program);
    if (!out) throw std::runtime_error("cannot write " + file.string());
    written_.push_back(file.string());
  }
  const std::vector<std::string>& written() const { return written_; }

 private:
  std::filesystem::path dir_;
  std::vector<std::string> written_;
};

}  // namespace

int run_compile(const std::vector<std::string>& raw) {
  Arguments args(raw, with_graph_flags({"--emit", "--dump-passes", "--device"}), with_graph_switches({"--unfused"}));
  Graph graph = load_graph(args);
  std::string emit = args.text("--emit", "listing");
  if (emit != "listing" && emit != "json" && emit != "dot")
    throw UsageError("--emit is listing, json or dot, not '" + emit + "'");
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
  Schedule schedule = compile(graph, CompileOptions{.fuse = !args.has("--unfused")}, dumper.get());
  if (emit == "json")
    std::cout << schedule_to_json(schedule, &graph) << "\n";
  else if (emit == "dot")
    std::cout << schedule_to_dot(schedule, graph);
  else if (args.has("--device")) {
    std::unique_ptr<Context> opened = open_context(args);
    Context& context = *opened;
    Executable executable(context, schedule, random_bindings(graph, 1));
    const std::vector<std::string> variants = executable.variants();
    check_validation(context);
    std::cout << "loaded on " << context.device().name << "\n" << schedule_listing(schedule, &graph, &variants);
  } else {
    std::cout << schedule_listing(schedule, &graph);
  }
  if (dumper)
    for (const std::string& file : dumper->written()) std::cerr << "wrote " << file << "\n";
  return 0;
}

}  // namespace vkattn::cli
