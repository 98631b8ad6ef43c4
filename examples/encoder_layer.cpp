// The main example: a post-norm Transformer encoder layer written with the DSL,
// shape-checked while the C++ compiles, run on the default Vulkan device (or the one
// VKATTN_DEVICE names), and compared with the CPU reference.
#include <cmath>
#include <cstdio>
#include <limits>
#include <vkattn/reference.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

constexpr va::Graph encoder_layer(std::int64_t batch, std::int64_t seq, std::int64_t model) {
  va::Graph g{"encoder_layer"};
  auto x = g.input("x", {batch, seq, model});  // [batch, sequence, model]
  g.output("y", va::encoder_layer(g, x, {.heads = 8, .ffn_hidden = 4 * model, .mask = va::Mask::causal}));
  return g;
}

// Compiled while the C++ compiles: a shape mistake above is a compile error naming its
// line, and the schedule can be asserted on.
constexpr auto plan = va::compile<[] { return encoder_layer(1, 1024, 512); }>();
static_assert(plan.dispatch_count() == 7, "QKV, attention, out-proj+residual, norm, FF1+relu, FF2+residual, norm");

int main() {
  try {
    va::Graph graph = encoder_layer(1, 128, 256);
    va::Context context;
    const va::DeviceInfo& device = context.device();
    std::printf("device: %s (%s, Vulkan %s, subgroup size %u)\n", device.name.c_str(),
                std::string(va::device_type_name(device.type)).c_str(), device.api_version.c_str(), device.subgroup_size);

    va::TensorMap bindings = va::random_bindings(graph, 1);
    va::Executable executable(context, va::compile(graph), bindings);
    executable.run(bindings);  // warm-up: some drivers finish compiling pipelines on first use
    executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
    va::TensorMap outputs = executable.run(bindings);

    std::printf("graph '%s': %zu values, %zu dispatches (fused; %zu unfused)\n", std::string(graph.name()).c_str(),
                graph.size(), executable.schedule().dispatches.size(), va::lower_unfused(graph).dispatches.size());
    double total = 0;
    for (const auto& timing : executable.timings()) {
      std::printf("  %8.3f ms  %s\n", timing.milliseconds, timing.label.c_str());
      total += timing.milliseconds;
    }
    if (!executable.timings().empty()) std::printf("  %8.3f ms  total device time\n", total);

    const va::Tensor& y = outputs.at("y");
    va::ReferenceResult reference = va::run_reference(graph, bindings);
    const va::Tensor& expected = reference.outputs.at("y");
    double difference = 0, magnitude = 0;
    for (std::size_t i = 0; i < y.values.size(); ++i) {
      difference += (y.values[i] - expected.values[i]) * (y.values[i] - expected.values[i]);
      magnitude += expected.values[i] * expected.values[i];
    }
    std::printf("output y %s: normalised error against the CPU reference %.2e\n", va::to_string(y.shape).c_str(),
                std::sqrt(difference / magnitude));
    return std::sqrt(difference / magnitude) < 1e-4 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "encoder_layer: %s\n", e.what());
    return 1;
  }
}
