// A run's outputs against the CPU reference, in one call.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "vkattn/reference.hpp"

namespace vkattn {

DimSizes sizes_of_inputs(const Graph& graph, const TensorMap& bindings) {
  DimSizes sizes = dynamic_dims(graph);
  for (const Node& n : graph.nodes()) {
    if (n.op != Op::input) continue;
    auto found = bindings.find(n.name.view());
    if (found == bindings.end() || found->second.shape.rank != n.shape.rank) continue;
    for (int i = 0; i < n.shape.rank; ++i)
      if (n.shape.dynamic(i))
        for (DimSize& d : sizes)
          if (d.name == n.shape.symbols[std::size_t(i)]) d.size = found->second.shape[i];
  }
  return sizes;
}

bool OutputsCheck::ok() const {
  for (const OutputCheck& o : outputs)
    if (!o.ok) return false;
  return !outputs.empty();
}

double OutputsCheck::worst() const {
  double worst = 0;
  for (const OutputCheck& o : outputs) {
    if (std::isnan(o.error)) return o.error;
    worst = std::max(worst, o.error);
  }
  return worst;
}

std::string OutputsCheck::summary() const {
  std::string text;
  for (const OutputCheck& o : outputs) {
    char line[64];
    std::snprintf(line, sizeof line, "%.2g %s", o.error, o.ok ? "ok" : "FAILED");
    text += (text.empty() ? "" : "; ") + o.name + ": " + line;
  }
  return text;
}

OutputsCheck check_outputs(const Graph& graph, const TensorMap& bindings, const TensorMap& outputs, double tolerance) {
  const DimSizes sizes = sizes_of_inputs(graph, bindings);
  const ReferenceResult reference = run_reference(sizes.empty() ? graph : with_sizes(graph, sizes), bindings);
  OutputsCheck check;
  check.tolerance = tolerance;
  for (const auto& [name, expected] : reference.outputs) {
    auto found = outputs.find(name);
    if (found == outputs.end())
      throw BindingError("check_outputs: the outputs hold no '" + name + "'; pass what Executable::run returned");
    const double error = normalised_error(found->second, expected);
    check.outputs.push_back({name, error, error <= tolerance});
  }
  return check;
}

}  // namespace vkattn
