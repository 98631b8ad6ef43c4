// The human listing of a Schedule: a header with the totals and the memory plan, then
// one line per dispatch.
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

}  // namespace

std::string schedule_listing(const Schedule& s, const Graph* graph) {
  std::ostringstream out;
  double bytes = 0;
  for (const Dispatch& d : s.dispatches) bytes += d.bytes;
  out << "schedule '" << s.graph_name.view() << "' (" << (s.fused ? "fused" : "unfused") << "): " << s.dispatches.size()
      << " dispatches, " << amount(s.total_flops()) << ", " << bytes_text(bytes) << " moved\n";
  out << "memory: arena " << bytes_text(double(s.memory.peak_bytes)) << " planned (" << bytes_text(double(s.memory.naive_bytes))
      << " if every value had its own allocation), weights " << bytes_text(double(s.weight_bytes)) << "\n";
  for (std::size_t i = 0; i < s.dispatches.size(); ++i) {
    const Dispatch& d = s.dispatches[i];
    out << "#" << i << " " << kernel_name(d.kernel) << " ";
    for (int b = 1; b < max_bindings; ++b) {
      int slot = d.slots[std::size_t(b)];
      if (slot < 0) continue;
      out << (b > 1 ? ", " : "") << s.slots[std::size_t(slot)].name.view() << to_string(s.slots[std::size_t(slot)].shape);
    }
    const TensorSlot& result = s.slots[std::size_t(d.slots[0])];
    out << " -> " << result.name.view() << to_string(result.shape) << "\n     covers";
    for (ValueId id : d.covers) {
      if (graph != nullptr && std::size_t(id) < graph->size())
        out << " " << graph->node(id).name.view();
      else
        out << " %" << id;
    }
    out << "\n     " << amount(d.flops) << ", " << bytes_text(d.bytes) << ", groups " << d.workgroups[0] << "x"
        << d.workgroups[1] << "x" << d.workgroups[2] << (d.barrier_after ? ", barrier after" : "") << "\n";
  }
  return out.str();
}

}  // namespace vkattn
