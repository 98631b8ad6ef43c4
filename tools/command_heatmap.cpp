// vkattn heatmap: the attention weights of one head, computed on the device with the
// user's weights and inputs, drawn as an SVG heatmap.
#include <fstream>
#include <iostream>
#include <sstream>

#include <vkattn/runtime.hpp>
#include <vkattn/vkattn.hpp>

#include "cli_options.hpp"
#include "device_context.hpp"
#include "commands.hpp"
#include "graph_bindings.hpp"
#include "heatmap_svg.hpp"
#include "text_output.hpp"

namespace vkattn::cli {

const char* heatmap_help =
    "usage: vkattn heatmap GRAPH --head H|all --out FILE.svg [--batch B] [--attention NAME]\n"
    "                      [--scale log|linear] [--tokens a,b,...] [--key-tokens a,b,...]\n"
    "                      [--weights FILE.safetensors] [--input NAME=FILE.npy]... [--seed N]\n"
    "                      [--device SEL] [sizes]\n"
    "Runs GRAPH on a Vulkan device with the attention probabilities of one attention\n"
    "kept as an output, and draws one head (or every head, as a grid) of batch element B:\n"
    "row i, column j is how much query i attends to key j (softmax over each row).\n"
    "  --head H|all        the head to draw (0-based), or all heads side by side\n"
    "  --out FILE.svg      where to write the SVG\n"
    "  --batch B           the batch element (0); for a preset the batch holds B+1 sequences\n"
    "  --attention NAME    which softmax: its value name (default: the first in the graph,\n"
    "                      e.g. self_attn.probs; the listing of --unfused shows them all)\n"
    "  --scale log|linear  colour scale, shared by all heads and stated in the legend: log\n"
    "                      (default) spans the 3 decades below the largest weight, so wide\n"
    "                      rows keep their structure; linear runs from 0 to the largest.\n"
    "                      Weights of exactly 0 (masked keys) have their own colour\n"
    "  --tokens a,b,...    labels of the queries (and of the keys when they are as many)\n"
    "  --key-tokens a,...  labels of the keys (cross-attention)\n"
    "Maps up to 64 x 64 are vector cells with a tooltip each; larger ones (up to 2048 per\n"
    "side) are embedded as a PNG, so the file stays small.\n";

namespace {

}  // namespace

int run_heatmap(const std::vector<std::string>& raw) {
  std::vector<std::string> valued = binding_flags;
  valued.insert(valued.end(), {"--head", "--out", "--attention", "--tokens", "--key-tokens", "--device", "--scale"});
  valued = with_graph_flags(valued);
  Arguments args(raw, valued, with_graph_switches({}));
  if (!args.has("--head")) throw UsageError("--head H (or --head all) is required");
  if (!args.has("--out")) throw UsageError("--out FILE.svg is required");
  const bool all_heads = args.text("--head", "") == "all";
  const std::int64_t head = all_heads ? 0 : args.integer("--head", 0, 0);
  const std::string scale_text = args.text("--scale", "log");
  if (scale_text != "log" && scale_text != "linear")
    throw UsageError("--scale is log or linear, not '" + scale_text + "'");
  const std::int64_t batch = args.integer("--batch", 0, 0);
  const std::string out_file = args.text("--out", "");
  check_writable("--out", out_file);  // before the graph is compiled and run

  // --batch picks the batch element. A preset is sized to hold it; a graph JSON file
  // has its own batch, so the flag is not passed on as a size.
  const bool preset = !args.positional().empty() && !is_graph_file(args.positional()[0]);
  std::vector<std::string> for_graph;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == "--batch" && i + 1 < raw.size()) {
      if (preset) for_graph.insert(for_graph.end(), {"--batch", std::to_string(batch + 1)});
      ++i;
      continue;
    }
    for_graph.push_back(raw[i]);
  }
  // A repeated body's attention is one per iteration: written out, each has its name.
  Graph graph = unroll_repeats(load_graph(Arguments(for_graph, valued, with_graph_switches({}))));

  std::string wanted = args.text("--attention", "");
  std::string names;
  const Node* softmax = nullptr;
  for (const Node& n : graph.nodes()) {
    if (n.op != Op::softmax) continue;
    if (!names.empty()) names += ", ";
    names += n.name.view();
    if (!softmax && (wanted.empty() || n.name.view() == wanted)) softmax = &n;
  }
  if (!softmax) {
    if (names.empty()) throw std::runtime_error("graph '" + std::string(graph.name()) + "' has no softmax to draw");
    throw UsageError("--attention " + wanted + ": no softmax of that name (the graph's: " + names + ")");
  }
  const Shape shape = softmax->shape;  // [batch, heads, queries, keys]
  const std::string probs_name(softmax->name.view());
  if (shape.rank != 4)
    throw std::runtime_error("softmax '" + probs_name + "' has shape " + to_string(shape) +
                             "; a heatmap needs attention weights [batch, heads, queries, keys]");
  if (head >= shape[1])
    throw UsageError("--head " + std::to_string(head) + ": '" + probs_name + "' has heads 0 to " +
                     std::to_string(shape[1] - 1));
  if (batch >= shape[0])
    throw UsageError("--batch " + std::to_string(batch) + ": '" + probs_name + "' has batch elements 0 to " +
                     std::to_string(shape[0] - 1));
  const std::size_t rows = std::size_t(shape[2]), columns = std::size_t(shape[3]);
  if (rows > 2048 || columns > 2048)
    throw UsageError("a " + std::to_string(rows) + " x " + std::to_string(columns) +
                     " heatmap is too large to draw (at most 2048 per side); choose a shorter --seq");

  Heatmap map;
  map.rows = rows;
  map.columns = columns;
  map.scale = scale_text == "log" ? HeatmapScale::log : HeatmapScale::linear;
  if (args.has("--tokens")) {
    map.row_labels = comma_list(args.text("--tokens", ""));
    if (map.row_labels.size() != rows)
      throw UsageError("--tokens has " + std::to_string(map.row_labels.size()) + " tokens but there are " +
                       std::to_string(rows) + " queries");
    if (!args.has("--key-tokens") && columns == rows) map.column_labels = map.row_labels;
  }
  if (args.has("--key-tokens")) {
    map.column_labels = comma_list(args.text("--key-tokens", ""));
    if (map.column_labels.size() != columns)
      throw UsageError("--key-tokens has " + std::to_string(map.column_labels.size()) + " tokens but there are " +
                       std::to_string(columns) + " keys");
  }

  // The probabilities become an output, so the compiler keeps them materialised.
  const std::string output_name = "heatmap." + probs_name;
  graph.output(output_name, graph.find(probs_name));
  if (graph.failed()) throw std::runtime_error(std::string(graph.error()));
  std::unique_ptr<Context> opened = open_context(args);
  Context& context = *opened;
  Schedule schedule = compile(graph, context.target());
  context.check_fits(schedule);  // before host memory goes to inputs and weights
  TensorMap bindings = graph_bindings(graph, args, std::cerr);
  Executable executable(context, schedule, bindings);
  const Tensor probabilities = executable.run(bindings).at(output_name);
  check_validation(context);

  const std::int64_t first = all_heads ? 0 : head, last = all_heads ? shape[1] - 1 : head;
  for (std::int64_t h = first; h <= last; ++h) {
    const std::size_t base = (std::size_t(batch) * std::size_t(shape[1]) + std::size_t(h)) * rows * columns;
    map.panels.push_back({"head " + std::to_string(h),
                          {probabilities.values.begin() + std::ptrdiff_t(base),
                           probabilities.values.begin() + std::ptrdiff_t(base + rows * columns)}});
  }
  const std::string heads_text = all_heads ? "all " + std::to_string(shape[1]) + " heads" : "head " + std::to_string(head);
  map.title = std::string(graph.name()) + ": " + probs_name + ", " + heads_text + ", batch " + std::to_string(batch);
  write_text_file("--out", out_file, heatmap_svg(map));
  std::cout << "wrote " << out_file << ": " << rows << " queries x " << columns << " keys of " << probs_name << ", "
            << heads_text << ", batch " << batch << ", " << scale_text << " scale"
            << (rows * columns > heatmap_vector_cells ? ", as a raster" : "") << " (" << context.device().name
            << ")\n";
  return 0;
}

}  // namespace vkattn::cli
