// The human listing of a Schedule: a header with the totals and the memory plan, then
// one line per dispatch.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "vkattn/codegen/render.hpp"
#include "vkattn/tensor.hpp"
#include "vkattn/schedule_text.hpp"
#include "vkattn/unroll_repeats.hpp"

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

std::string count_of(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string specialization_text(const Dispatch& d) {
  const ShaderInfo& shader = shader_info(d.shader);
  std::ostringstream out;
  out << shader.source;
  for (std::size_t i = 0; i < d.specialization.size(); ++i) {
    out << " ";
    if (i < shader.constant_names.size()) out << shader.constant_names[i] << "=";
    out << d.specialization[i];
  }
  for (int b = 0; b < max_bindings; ++b) {
    if (d.slots[std::size_t(b)] < 0) continue;
    out << (b == 0 ? " | " : ", ") << b << ": ";
    switch (d.access[std::size_t(b)]) {
      case Access::texel_vec4: out << "texel rgba32f"; break;
      case Access::texel_scalar: out << "texel r32f"; break;
      default: out << "storage"; break;
    }
  }
  return out.str();
}

std::string variant_text(const Dispatch& d) {
  std::string text(shader_info(d.shader).name);  // appended piece by piece: g++ 12 misreports operator+ here
  if (d.element == DType::f16) text.append(" f16");
  if (!d.config.empty()) text.append(" ").append(d.config.view());
  if (!d.reason.empty()) text.append(" \u2014 ").append(d.reason.view());
  return text;
}

std::string target_text(const Target& t) {
  std::ostringstream out;
  out << t.name.view() << " (" << vendor_name(t.vendor) << ", " << device_type_name(t.device_type) << "; subgroup "
      << t.subgroup_min;
  if (t.subgroup_max != t.subgroup_min) out << "-" << t.subgroup_max;
  out << (t.subgroup_arithmetic ? ", arithmetic" : "") << (t.subgroup_shuffle ? ", shuffle" : "") << "; "
      << t.shared_memory_bytes / 1024 << " KiB shared, " << t.max_invocations << " invocations"
      << (t.storage_16bit ? "; 16-bit storage" : "") << (t.f16_arithmetic ? ", f16 arithmetic" : "")
      << (t.cooperative_matrix ? ", cooperative matrices" : "") << ")";
  return out.str();
}

std::string schedule_listing(const Schedule& s, const Graph* graph, const ListingOptions& options) {
  std::ostringstream out;
  double bytes = 0;
  for (std::size_t i = 0; i < s.dispatches.size(); ++i) bytes += s.dispatches[i].bytes * s.executions(i);
  out << "schedule '" << s.graph_name.view() << "' (" << (s.fused ? "fused" : "unfused") << "): " << count_of(s.dispatches.size(), "dispatch", "dispatches");
  if (!s.repeats.empty()) out << " (" << s.executed_dispatch_count() << " run, repeated bodies once per iteration)";
  out << ", " << amount(s.total_flops()) << ", " << bytes_text(bytes) << " moved\n";
  out << "target: " << target_text(s.target) << "\n";
  const double naive = double(s.memory.naive_bytes);
  out << "memory plan: arena " << bytes_text(double(s.memory.peak_bytes)) << " at peak vs " << bytes_text(naive)
      << " naive (one allocation per value)";
  if (naive > 0) {
    char percent[16];
    std::snprintf(percent, sizeof percent, ", %.0f%%", 100.0 * double(s.memory.peak_bytes) / naive);
    out << percent;
  }
  if (s.repeats.empty()) out << "; weights " << bytes_text(double(s.weight_bytes)) << "\n";
  else out << "; weights " << bytes_text(double(unroll_repeats(s).weight_bytes)) << " (every iteration's)\n";
  // Dynamic dimensions: the shapes below are one run's sizes; memory is planned for
  // the bounds; state tensors persist from run to run.
  std::string dynamic, states;
  for (const TensorSlot& slot : s.slots) {
    if (slot.role == SlotRole::state)
      states += (states.empty() ? "" : ", ") + std::string(slot.name.view()) + " " + compact(slot.shape);
    if (slot.role != SlotRole::input) continue;
    for (int i = 0; i < slot.shape.rank; ++i) {
      if (!slot.shape.dynamic(i)) continue;
      const std::string name(slot.shape.symbols[std::size_t(i)].text().view());
      const std::string entry = name + " = " + std::to_string(slot.shape[i]) + " of at most " +
                                std::to_string(slot.shape.bounds[std::size_t(i)]);
      if (dynamic.find(name + " = ") == std::string::npos) dynamic += (dynamic.empty() ? "" : ", ") + entry;
    }
  }
  if (!dynamic.empty()) out << "dynamic: " << dynamic << " (memory planned for the bounds)\n";
  if (!states.empty()) out << "state (kept from run to run): " << states << "\n";
  std::vector<std::string> shapes(s.dispatches.size());
  std::size_t shape_width = 16;
  for (std::size_t i = 0; i < s.dispatches.size(); ++i) {
    const Dispatch& d = s.dispatches[i];
    std::string written = d.slots[0] >= 0 ? compact(s.slots[std::size_t(d.slots[0])].shape) : std::string("?");
    for (int b = 1; b < max_bindings; ++b) {
      const int slot = d.slots[std::size_t(b)];
      if (slot < 0) continue;
      std::string& side = s.writes(d, b) ? written : shapes[i];  // further outputs follow the result
      if (!side.empty()) side += ", ";
      side += compact(s.slots[std::size_t(slot)].shape);
    }
    shapes[i] += " -> " + written;
    shape_width = std::max(shape_width, shapes[i].size());
  }
  char line[512];
  std::snprintf(line, sizeof line, "%4s  %-15s  %-*s  %11s  %11s  %-7s  %s\n", "#", "kernel", int(shape_width),
                "inputs -> output", "FLOP", "bytes", "barrier", "covers");
  out << line;
  for (std::size_t i = 0; i < s.dispatches.size(); ++i) {
    const Dispatch& d = s.dispatches[i];
    for (const RepeatRange& r : s.repeats)
      if (int(i) == r.first)
        out << "      repeat \u00d7 " << r.iterations << ": dispatches " << r.first << "-" << r.first + r.count - 1
            << " once per iteration, with each iteration's weights and states ({i} = 0.." << r.iterations - 1
            << "); the carried value alternates between '" << s.slots[std::size_t(r.carried_in)].name.view()
            << "' and '" << s.slots[std::size_t(r.carried_out)].name.view() << "'\n";
    std::snprintf(line, sizeof line, "%4zu  %-15s  %-*s  %11s  %11s  %-7s  ", i, std::string(kernel_name(d.kernel)).c_str(),
                  int(shape_width), shapes[i].c_str(), amount(d.flops).c_str(), bytes_text(d.bytes).c_str(),
                  d.barrier_after ? "yes" : "-");
    out << line << covered_ops(d, graph) << "\n";
    out << "      variant: " << variant_text(d) << "\n";
    if (d.program >= 0 && std::size_t(d.program) < s.programs.size()) {
      const Expression& e = s.programs[std::size_t(d.program)];
      if (d.kernel == Kernel::flash_attention) {
        out << "      score program: visible " << (e.visible >= 0 ? expression_text(e, e.visible) : std::string("always"))
            << "; score " << expression_text(e, e.value) << "\n";
      } else if (d.kernel == Kernel::gemm) {
        if (e.prologue >= 0) out << "      prologue: " << expression_text(e, e.prologue) << "\n";
        if (e.value >= 0) out << "      epilogue: " << expression_text(e, e.value) << "\n";
      } else {
        out << "      generated: " << expression_text(e, e.value) << "\n";
        for (const ExprOutput& further : e.outputs) {
          const int slot = further.binding > 0 && further.binding < max_bindings ? d.slots[std::size_t(further.binding)] : -1;
          out << "      also writes '" << (slot >= 0 ? s.slots[std::size_t(slot)].name.view() : std::string_view("?"))
              << "' = " << expression_text(e, further.node) << "\n";
        }
      }
    }
    if (options.constants) out << "      constants: " << specialization_text(d) << "\n";
    for (const RepeatRange& r : s.repeats)
      if (int(i) == r.first + r.count - 1) out << "      end of repeat \u00d7 " << r.iterations << "\n";
  }
  if (!s.remarks.empty()) {
    out << "remarks (fusions declined):\n";
    for (const Remark& r : s.remarks) out << "  " << r.value.view() << ": " << r.text.view() << "\n";
  }
  return out.str();
}

}  // namespace vkattn
