// The human listing of a Schedule: a header with the totals and the memory plan, then
// one line per dispatch.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "vkattn/tensor.hpp"
#include "vkattn/schedule_text.hpp"

namespace vkattn {

namespace {

// `v` scaled by `base` until below it, with the matching unit: "3.15 MFLOP", "64.00 KiB".
std::string scaled(double v, double base, const char* const (&units)[5]) {
  int p = 0;
  while (v >= base && p < 4) {
    v /= base;
    ++p;
  }
  char text[32];
  std::snprintf(text, sizeof text, p == 0 ? "%.0f %s" : "%.2f %s", v, units[p]);
  return text;
}

std::string amount(double flops) {
  static const char* const units[5] = {"FLOP", "KFLOP", "MFLOP", "GFLOP", "TFLOP"};
  return scaled(flops, 1000, units);
}

std::string bytes_text(double bytes) {
  static const char* const units[5] = {"B", "KiB", "MiB", "GiB", "TiB"};
  return scaled(bytes, 1024, units);
}


// "1x16x32"; "scalar" for rank 0.
std::string compact(const Shape& shape) {
  if (shape.rank == 0) return "scalar";
  std::string text;
  for (int i = 0; i < shape.rank; ++i) {
    if (i > 0) text += "x";
    text += std::to_string(shape[i]);
  }
  return text;
}

std::string covered_ops(const Dispatch& d, const Graph* graph) {
  std::string named, unnamed;
  for (ValueId id : d.covers) {
    if (graph == nullptr || std::size_t(id) >= graph->size()) {
      named += named.empty() ? "%" : " %";
      named += std::to_string(id);
      continue;
    }
    const Node& node = graph->node(id);
    std::string& list = is_generated_name(node.name.view()) ? unnamed : named;
    if (!list.empty()) list += " ";
    list += is_generated_name(node.name.view()) ? op_name(node.op) : node.name.view();
  }
  if (named.empty()) return unnamed;
  if (unnamed.empty()) return named;
  return named + " [" + unnamed + "]";
}

}  // namespace

std::string specialization_text(const Dispatch& d) {
  static const std::vector<const char*> gemm{"TRANSPOSE_B", "A_VEC4", "B_VEC4", "HAS_BIAS", "HAS_RESIDUAL",
                                             "ACTIVATION", "ROWS"};
  static const std::vector<const char*> attention{"VEC4", "MASKS", "ALIGN", "HEAD_DIM", "VALUE_DIM", "ROWS"};
  static const std::vector<const char*> layer_norm{"HAS_RESIDUAL"};
  static const std::vector<const char*> elementwise{"OP"};
  static const std::vector<const char*> mask{"KIND"};
  static const std::vector<const char*> none;
  const std::vector<const char*>& names = d.kernel == Kernel::gemm              ? gemm
                                          : d.kernel == Kernel::flash_attention ? attention
                                          : d.kernel == Kernel::layer_norm      ? layer_norm
                                          : d.kernel == Kernel::elementwise     ? elementwise
                                          : d.kernel == Kernel::mask            ? mask
                                                                                : none;
  std::ostringstream out;
  out << kernel_name(d.kernel) << ".comp";
  for (std::size_t i = 0; i < d.specialization.size(); ++i) {
    out << " ";
    if (i < names.size()) out << names[i] << "=";
    out << d.specialization[i];
  }
  return out.str();
}

std::string schedule_listing(const Schedule& s, const Graph* graph, const std::vector<std::string>* variants) {
  std::ostringstream out;
  double bytes = 0;
  for (const Dispatch& d : s.dispatches) bytes += d.bytes;
  out << "schedule '" << s.graph_name.view() << "' (" << (s.fused ? "fused" : "unfused") << "): " << s.dispatches.size()
      << " dispatches, " << amount(s.total_flops()) << ", " << bytes_text(bytes) << " moved\n";
  const double naive = double(s.memory.naive_bytes);
  out << "memory plan: arena " << bytes_text(double(s.memory.peak_bytes)) << " at peak vs " << bytes_text(naive)
      << " naive (one allocation per value)";
  if (naive > 0) {
    char percent[16];
    std::snprintf(percent, sizeof percent, ", %.0f%%", 100.0 * double(s.memory.peak_bytes) / naive);
    out << percent;
  }
  out << "; weights " << bytes_text(double(s.weight_bytes)) << "\n";
  std::vector<std::string> shapes(s.dispatches.size());
  std::size_t shape_width = 16;
  for (std::size_t i = 0; i < s.dispatches.size(); ++i) {
    const Dispatch& d = s.dispatches[i];
    for (int b = 1; b < max_bindings; ++b) {
      int slot = d.slots[std::size_t(b)];
      if (slot < 0) continue;
      if (!shapes[i].empty()) shapes[i] += ", ";
      shapes[i] += compact(s.slots[std::size_t(slot)].shape);
    }
    shapes[i] += " -> ";
    shapes[i] += compact(s.slots[std::size_t(d.slots[0])].shape);
    shape_width = std::max(shape_width, shapes[i].size());
  }
  char line[512];
  std::snprintf(line, sizeof line, "%4s  %-15s  %-*s  %11s  %11s  %-7s  %s\n", "#", "kernel", int(shape_width),
                "inputs -> output", "FLOP", "bytes", "barrier", "covers");
  out << line;
  for (std::size_t i = 0; i < s.dispatches.size(); ++i) {
    const Dispatch& d = s.dispatches[i];
    std::snprintf(line, sizeof line, "%4zu  %-15s  %-*s  %11s  %11s  %-7s  ", i, std::string(kernel_name(d.kernel)).c_str(),
                  int(shape_width), shapes[i].c_str(), amount(d.flops).c_str(), bytes_text(d.bytes).c_str(),
                  d.barrier_after ? "yes" : "-");
    out << line << covered_ops(d, graph) << "\n";
    if (variants != nullptr && i < variants->size()) out << "      variant: " << (*variants)[i] << "\n";
  }
  return out.str();
}

}  // namespace vkattn
