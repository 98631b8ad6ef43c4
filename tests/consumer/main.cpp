// A user's program against an installed vkattn: a graph compiled while the C++
// compiles (for a named target) and at run time, then run on the default Vulkan device
// when there is one and checked against the CPU reference.
#include <cstdio>
#include <vkattn/reference.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

constexpr va::Graph layer() {
  va::Graph g{"consumer_layer"};
  auto x = g.input("x", {1, 24, 32});
  g.output("y", va::encoder_layer(g, x, {.heads = 4, .ffn_hidden = 64, .mask = va::Mask::causal}));
  return g;
}

constexpr auto plan = va::compile<layer, va::targets::nvidia>();
static_assert(plan.dispatch_count() == 7);

int main() {
  va::Graph g = layer();
  if (!(plan.thaw() == va::compile(g, va::targets::nvidia))) {
    std::fprintf(stderr, "the compile-time and run-time schedules differ\n");
    return 1;
  }
  try {
    va::Context context;
    va::TensorMap bindings = va::random_bindings(g, 1);
    va::Executable exe(context, va::compile(g, context.target()), bindings);
    const double error = va::normalised_error(exe.run(bindings).at("y"), va::run_reference(g, bindings).outputs.at("y"));
    std::printf("ran on %s: normalised error %.2e\n", context.device().name.c_str(), error);
    return error < 1e-4 ? 0 : 1;
  } catch (const va::VulkanError& e) {
    std::printf("compiled; no Vulkan device to run on (%s)\n", e.what());
    return 0;
  }
}
