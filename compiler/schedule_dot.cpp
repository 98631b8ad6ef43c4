// The schedule as a Graphviz digraph: the graph's ops as nodes, its data flow as
// edges, and each dispatch as a cluster around the ops it covers.
#include <sstream>

#include "vkattn/schedule_text.hpp"
#include "vkattn/tensor.hpp"

namespace vkattn {

namespace {

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// Fill colours per kernel, light enough for black text.
const char* kernel_colour(Kernel kernel) {
  switch (kernel) {
    case Kernel::gemm: return "#dbe8fb";
    case Kernel::flash_attention: return "#fde2c8";
    case Kernel::layer_norm: return "#dcefd9";
    case Kernel::softmax: return "#f6dcef";
    case Kernel::gather: return "#eeeeee";
    default: return "#f3f0d0";
  }
}

}  // namespace

std::string schedule_to_dot(const Schedule& s, const Graph& graph) {
  std::vector<int> dispatch_of(graph.size(), -1);
  for (std::size_t i = 0; i < s.dispatches.size(); ++i)
    for (ValueId id : s.dispatches[i].covers)
      if (std::size_t(id) < graph.size() && dispatch_of[std::size_t(id)] < 0) dispatch_of[std::size_t(id)] = int(i);

  std::ostringstream title;
  title << graph.name() << (s.fused ? " (fused)" : " (unfused)") << ": " << count_of(s.dispatches.size(), "dispatch", "dispatches");
  std::ostringstream out;
  out << "digraph " << quoted(graph.name()) << " {\n"
      << "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11, label=" << quoted(title.str())
      << ", labelloc=t];\n"
      << "  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\", fillcolor=white];\n"
      << "  edge [color=\"#555555\"];\n";
  auto node_line = [&](std::size_t id) {
    const Node& n = graph.node(ValueId(id));
    std::string label(n.name.view());
    label += "\n";
    label += op_name(n.op);
    label += " ";
    label += to_string(n.shape);
    out << "n" << id << " [label=" << quoted(label);
    switch (n.op) {
      case Op::input: out << ", shape=ellipse, fillcolor=\"#fff7c0\""; break;
      case Op::weight: out << ", shape=note, fillcolor=\"#f0f0f0\""; break;
      case Op::output: out << ", shape=doubleoctagon, fillcolor=\"#fff7c0\""; break;
      default:
        if (dispatch_of[id] < 0) out << ", style=\"rounded,dashed\", tooltip=\"a view: no dispatch of its own\"";
    }
    out << "];\n";
  };
  for (std::size_t i = 0; i < s.dispatches.size(); ++i) {
    const Dispatch& d = s.dispatches[i];
    out << "  subgraph cluster_dispatch_" << i << " {\n    label=\"#" << i << " " << shader_info(d.shader).name << " "
        << d.config.view() << (d.barrier_after ? " | barrier" : "");
    if (s.executions(i) > 1) out << " | \u00d7 " << s.executions(i);  // a repeated body's
    out << "\"; style=\"rounded,filled\"; fillcolor=" << quoted(kernel_colour(d.kernel)) << "; color=\"#7a7a7a\";\n";
    for (std::size_t id = 0; id < graph.size(); ++id)
      if (dispatch_of[id] == int(i)) {
        out << "    ";
        node_line(id);
      }
    out << "  }\n";
  }
  for (std::size_t id = 0; id < graph.size(); ++id)
    if (dispatch_of[id] < 0) {
      out << "  ";
      node_line(id);
    }
  for (std::size_t id = 0; id < graph.size(); ++id) {
    const Node& n = graph.node(ValueId(id));
    for (int k = 0; k < n.input_count(); ++k)
      if (n.inputs[std::size_t(k)] >= 0) out << "  n" << n.inputs[std::size_t(k)] << " -> n" << id << ";\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace vkattn
